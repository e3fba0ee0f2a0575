"""Convolution layers: Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D (Keras semantics,
channels_last). The math is in baeum.reference.conv, the speed in baeum.ops.conv."""
import math
import sys

import numpy as np

from baeum import ops
from baeum.layers.base import Layer, _fmt_shape
from baeum.layers.core import PreactivationOutput, _resolve_activation
from baeum.reference.conv import conv1d_padding, conv_geometry, conv_transpose_geometry


def _tuple(v, rank, name, layer):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        t = (int(v),) * rank
    else:
        try:
            t = tuple(int(i) for i in v)
        except (TypeError, ValueError):
            t = ()
    if len(t) != rank or min(t) < 1:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: {name} must be a positive int or a tuple of "
                         f"{rank} positive ints, received {v!r}.")
    return t


def _probe_free_refs():
    probe = [np.empty(1, np.float32)]
    for b in probe:  # the list slot, the loop variable and getrefcount's argument
        return sys.getrefcount(b)


_FREE_REFS = _probe_free_refs()


class _BufferPool:
    """Output/gradient buffers of one layer, reused from step to step.

    Why: a fresh multi-MB np.empty per call is fresh memory — every page faults and is
    cleared by the kernel, then the convolution writes it again (≈ 3% of a deck-003 training
    step in `perf`). A pooled buffer is handed out again only when the pool holds the only
    reference to it (sys.getrefcount): a buffer still on a tape (ctx), in use by another
    call of a shared layer, returned to and kept by the caller, or viewed by any array
    (a view references its base) is never reused, so per-call semantics are unchanged."""

    limit = 8

    def __init__(self):
        self._bufs = []

    def empty(self, shape):
        shape = tuple(int(d) for d in shape)
        for b in self._bufs:
            if b.shape == shape and sys.getrefcount(b) <= _FREE_REFS:
                return b
        b = np.empty(shape, np.float32)
        if len(self._bufs) >= self.limit:  # forget the oldest free one (others stay with their users)
            free = [i for i, c in enumerate(self._bufs) if sys.getrefcount(c) <= _FREE_REFS + 1]
            self._bufs.pop(free[0] if free else 0)
        self._bufs.append(b)
        return b

    def __deepcopy__(self, memo):  # copies of a layer never share buffers
        return _BufferPool()


class _Conv(PreactivationOutput, Layer):
    """Shared by every convolution layer: arguments, weights, shape checks, fused forward."""

    rank = 2
    _paddings = ("valid", "same")
    _kernel_arg = "kernel"  # DepthwiseConv2D calls its initializer/regularizer depthwise_*

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        from baeum import initializers, regularizers

        kind = type(self).__name__
        if filters is not None and (isinstance(filters, bool) or not isinstance(filters, (int, np.integer))
                                    or filters <= 0):
            raise ValueError(f"{kind} {self.name!r}: filters must be a positive integer, received {filters!r}.")
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"{kind} {self.name!r}: only data_format='channels_last' (NHWC) is supported. "
                                      "Fix: transpose NCHW data with np.transpose(x, (0, 2, 3, 1)).")
        if kernel_constraint is not None or bias_constraint is not None:
            raise NotImplementedError(f"{kind} {self.name!r}: weight constraints are not supported yet.")
        self.filters = None if filters is None else int(filters)
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size", self)
        self.strides = _tuple(strides, self.rank, "strides", self)
        self.dilation_rate = _tuple(dilation_rate, self.rank, "dilation_rate", self)
        if not isinstance(padding, str) or padding.lower() not in self._paddings:
            raise ValueError(f"{kind} {self.name!r}: padding must be one of {self._paddings}, received {padding!r}.")
        self.padding = padding.lower()
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{kind} {self.name!r}: strides > 1 together with dilation_rate > 1 is not supported "
                             f"(Keras), received strides={self.strides}, dilation_rate={self.dilation_rate}.")
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{kind} {self.name!r}: groups must be a positive integer, received {groups!r}.")
        self.groups = int(groups)
        if self.filters is not None and self.filters % self.groups:
            raise ValueError(f"{kind} {self.name!r}: filters ({self.filters}) must be divisible by groups "
                             f"({self.groups}).")
        self.activation = _resolve_activation(activation, self.name)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._needs_preact = ops.activation_needs_input(self.activation)

    # ---- shapes ---------------------------------------------------------------------------
    def _rank_error(self, input_shape):
        kind, got = type(self).__name__, tuple(input_shape)
        want = "(batch, steps, channels)" if self.rank == 1 else "(batch, height, width, channels)"
        fix = ""
        if self.rank == 2 and len(got) == 2 and got[1] is not None:
            side = math.isqrt(got[1])
            fix = (f" Fix: reshape the flat images, e.g. x.reshape(-1, {side}, {side}, 1)." if side * side == got[1]
                   else " Fix: reshape the flat images, e.g. x.reshape(-1, height, width, channels).")
        elif len(got) == self.rank + 1:
            fix = " Fix: add the channel axis, e.g. x[..., None]" + (
                f" (or x.reshape(-1, {got[1]}, {got[2]}, 1))." if self.rank == 2 else ".")
        raise ValueError(f"{kind} {self.name!r} expects {self.rank + 2}-D input {want}, received input of shape "
                         f"{_fmt_shape(got)}.{fix}")

    def _check_rank(self, input_shape):
        if len(input_shape) != self.rank + 2:
            self._rank_error(input_shape)
        if input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the channel dimension (last axis) must be "
                             f"known, received {_fmt_shape(input_shape)}.")

    def _check_input(self, shape):
        shape = tuple(shape)
        if len(shape) != self.rank + 2:
            self._rank_error((None,) + shape[1:])
        if self.input_shape is not None and self.rank == 2:
            want, got = tuple(self.input_shape[1:]), shape[1:]
            if want != got and (want[2], want[0], want[1]) == got:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} expects channels-last inputs {_fmt_shape(self.input_shape)}"
                    f", received {_fmt_shape((None,) + got)}, which looks channels-first (NCHW). "
                    "Fix: np.transpose(x, (0, 2, 3, 1)).")
        super()._check_input(shape)

    def _spatial_out(self, input_shape):
        """Output spatial sizes (None where unknown); ValueError if an output would be < 1."""
        sizes = tuple(input_shape[1:-1])
        out = []
        for i, n in enumerate(sizes):
            if n is None:
                out.append(None)
                continue
            k, s, d = self.kernel_size[i], self.strides[i], self.dilation_rate[i]
            if self.rank == 1:
                pad = conv1d_padding(n, k, s, d, self.padding)
                (_, o), _, _ = conv_geometry((1, n), (1, k), (1, s), (1, d), pad)
            else:
                (o, _), _, _ = conv_geometry((n, n), (k, k), (s, s), (d, d), self.padding)
            if o < 1:
                keff = (k - 1) * d + 1
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: input size {_fmt_shape(input_shape)} is too small for "
                    f"kernel_size={self.kernel_size} (dilated extent {keff}) with strides={self.strides} and "
                    f"padding={self.padding!r}: axis {i + 1} would have {n} → {o} cells. Fix: padding='same', a "
                    "smaller kernel_size/strides, or fewer downsampling layers before this one.")
            out.append(o)
        return tuple(out)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return (input_shape[0],) + self._spatial_out(input_shape) + (self._out_channels(input_shape[-1]),)

    def _out_channels(self, cin):
        return self.filters

    # ---- weights ----------------------------------------------------------------------------
    def _kernel_shape(self, cin):
        if cin % self.groups:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the input has {cin} channels, which is not "
                             f"divisible by groups={self.groups}.")
        return tuple(self.kernel_size) + (cin // self.groups, self.filters)

    def build(self, input_shape):
        self._check_rank(input_shape)
        self._spatial_out(input_shape)
        cin = int(input_shape[-1])
        self.kernel = self.add_weight("kernel", self._kernel_shape(cin), self.kernel_initializer,
                                      self.kernel_regularizer)
        self.bias = (self.add_weight("bias", (self._out_channels(cin),), self.bias_initializer,
                                     self.bias_regularizer) if self.use_bias else None)

    # ---- computation --------------------------------------------------------------------------
    def _geo(self):
        return dict(strides=self.strides, padding=self.padding, dilation_rate=self.dilation_rate, groups=self.groups)

    def _ops(self):
        return ops.conv2d_forward, ops.conv2d_backward

    def _pool(self):
        pool = self.__dict__.get("_buffers")
        if pool is None:
            pool = self.__dict__["_buffers"] = _BufferPool()
        return pool

    def forward(self, x, ctx, training):
        fwd, _ = self._ops()
        b = None if self.bias is None else self.bias.value
        pre = out = None
        if isinstance(x, np.ndarray) and x.ndim == self.rank + 2:
            shape = (x.shape[0],) + self.compute_output_shape((None,) + x.shape[1:])[1:]
            out = self._pool().empty(shape)
            if self._needs_preact or "keep_preact" in ctx:
                pre = self._pool().empty(shape)
        elif self._needs_preact or "keep_preact" in ctx:
            shape = (x.shape[0],) + self.compute_output_shape((None,) + x.shape[1:])[1:]
            pre = np.empty(shape, np.float32)
        y = fwd(x, self.kernel.value, b, activation=self.activation, preact=pre, out=out, **self._geo())
        ctx["x"], ctx["y"], ctx["pre"] = x, y, pre
        return y

    def backward(self, dy, ctx, need_dx=True, from_preact=False):
        _, bwd = self._ops()
        x = ctx["x"]
        dinp = self._pool().empty(x.shape) if need_dx else None
        bwd(dy, x, self.kernel.value, ctx["y"], ctx["pre"], "linear" if from_preact else self.activation,
            dkernel=self.kernel.grad, dbias=None if self.bias is None else self.bias.grad, dinp=dinp, **self._geo())
        return dinp

    def get_config(self):
        from baeum import initializers, regularizers

        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                      padding=self.padding, data_format="channels_last", dilation_rate=self.dilation_rate,
                      groups=self.groups, activation=self.activation, use_bias=self.use_bias,
                      kernel_initializer=initializers.serialize(self.kernel_initializer),
                      bias_initializer=initializers.serialize(self.bias_initializer),
                      kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
                      bias_regularizer=regularizers.serialize(self.bias_regularizer),
                      activity_regularizer=regularizers.serialize(self.activity_regularizer))
        return config


class Conv2D(_Conv):
    """2-D convolution (Keras `Conv2D`): y = activation(conv(x, kernel) + bias), x (N,H,W,C),
    kernel (kh, kw, C/groups, filters). One fused C++ call per forward/backward (im2col
    row blocks + GEMM, bias and activation on store). Math: baeum.reference.conv2d_*."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, **kwargs)


class Conv1D(_Conv):
    """1-D convolution (Keras `Conv1D`) on (N, steps, C), kernel (k, C/groups, filters);
    padding 'valid', 'same' or 'causal' (left pad (k−1)·dilation: y[t] sees x[≤ t])."""

    rank = 1
    _paddings = ("valid", "same", "causal")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, **kwargs)

    def _geo(self):
        return dict(strides=self.strides[0], padding=self.padding, dilation_rate=self.dilation_rate[0],
                    groups=self.groups)

    def _ops(self):
        return ops.conv1d_forward, ops.conv1d_backward


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution (Keras `Conv2DTranspose`): the gradient of a Conv2D with
    respect to its input, used to upsample. kernel (kh, kw, filters, C); output size per
    Keras (valid: n·s + max(k − s, 0), same: n·s; with output_padding (n−1)·s + k − 2·pad + op)."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1, **kwargs)
        self.output_padding = None if output_padding is None else tuple(
            int(v) for v in ((output_padding,) * 2 if isinstance(output_padding, (int, np.integer))
                             else output_padding))
        if self.output_padding is not None and (
                len(self.output_padding) != 2
                or any(not 0 <= o < s for o, s in zip(self.output_padding, self.strides))):
            raise ValueError(f"Conv2DTranspose {self.name!r}: output_padding must be >= 0 and smaller than the "
                             f"strides {self.strides}, received {output_padding!r}.")

    def _spatial_out(self, input_shape):
        sizes = input_shape[1:3]
        (h, w), _ = conv_transpose_geometry(tuple(1 if n is None else n for n in sizes), self.kernel_size,
                                            self.strides, self.dilation_rate, self.padding, self.output_padding)
        return tuple(None if n is None else o for n, o in zip(sizes, (h, w)))

    def _kernel_shape(self, cin):
        return tuple(self.kernel_size) + (self.filters, cin)

    def _geo(self):
        return dict(strides=self.strides, padding=self.padding, output_padding=self.output_padding,
                    dilation_rate=self.dilation_rate)

    def _ops(self):
        return ops.conv2d_transpose_forward, ops.conv2d_transpose_backward

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        config["output_padding"] = self.output_padding
        return config


class DepthwiseConv2D(_Conv):
    """Depthwise 2-D convolution (Keras `DepthwiseConv2D`): each input channel c is convolved
    with its own depth_multiplier kernels into output channels c·DM + m; kernel
    (kh, kw, C, depth_multiplier), bias (C·depth_multiplier)."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(None, kernel_size, strides, padding, data_format, dilation_rate, 1, activation=activation,
                         use_bias=use_bias, kernel_initializer=depthwise_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=depthwise_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=depthwise_constraint, bias_constraint=bias_constraint, **kwargs)
        if isinstance(depth_multiplier, bool) or not isinstance(depth_multiplier, (int, np.integer)) \
                or depth_multiplier < 1:
            raise ValueError(f"DepthwiseConv2D {self.name!r}: depth_multiplier must be a positive integer, "
                             f"received {depth_multiplier!r}.")
        self.depth_multiplier = int(depth_multiplier)

    def _out_channels(self, cin):
        return cin * self.depth_multiplier

    def _kernel_shape(self, cin):
        return tuple(self.kernel_size) + (cin, self.depth_multiplier)

    def _geo(self):
        return dict(strides=self.strides, padding=self.padding, dilation_rate=self.dilation_rate)

    def _ops(self):
        return ops.depthwise_conv2d_forward, ops.depthwise_conv2d_backward

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "groups"):
            del config[key]
        config["depth_multiplier"] = self.depth_multiplier
        for old, new in (("kernel_initializer", "depthwise_initializer"),
                         ("kernel_regularizer", "depthwise_regularizer")):
            config[new] = config.pop(old)
        return config


# Keras aliases
Convolution1D, Convolution2D, Convolution2DTranspose = Conv1D, Conv2D, Conv2DTranspose
