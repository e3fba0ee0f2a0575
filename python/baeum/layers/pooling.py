"""Pooling layers (Keras `MaxPooling1D/2D`, `AveragePooling1D/2D`, `Global*Pooling1D/2D`).

channels_last only: images (samples, height, width, channels), sequences (samples, steps,
channels). Keras semantics: strides default to pool_size; 'same' pads the odd cell at the
end; average pooling does not count padded cells. Math: baeum.reference.pool; kernels:
baeum.ops.pool (csrc/baeum/pool.cpp).
"""
import numpy as np

from baeum import ops
from baeum.layers.base import Layer
from baeum.ops.pool import pool_geometry

_LAYOUT = {1: "(samples, steps, channels)", 2: "(samples, height, width, channels)"}


def _tuple(v, rank, what, layer):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = (int(v),) * rank
    try:
        t = tuple(int(a) for a in v)
    except TypeError:
        t = ()
    if len(t) != rank or any(a < 1 for a in t):
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: {what} must be a positive int or a tuple of "
                         f"{rank} positive ints, received {v!r}.")
    return t


def _data_format(data_format, layer):
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(
            f"{type(layer).__name__} {layer.name!r}: only data_format='channels_last' is supported "
            f"(received {data_format!r}). Fix: transpose NCHW data with np.transpose(x, (0, 2, 3, 1)).")


def _check_rank(layer, input_shape, rank):
    """A clear error when the data does not have the layer's layout."""
    want = rank + 2
    if len(input_shape) == want:
        return
    kind, name = type(layer).__name__, layer.name
    got = tuple(input_shape)
    msg = (f"{kind} {name!r} expects {want}-D inputs {_LAYOUT[rank]}, received shape "
           f"{tuple('None' if d is None else d for d in got)}.")
    if rank == 2 and len(got) == 3:
        msg += " Fix: add the channel axis, e.g. x[..., None] (a grayscale image has 1 channel)."
    elif rank == 2 and len(got) == 2 and got[1] is not None and int(np.sqrt(got[1])) ** 2 == got[1]:
        side = int(np.sqrt(got[1]))
        msg += f" Fix: reshape flat images, e.g. x.reshape(-1, {side}, {side}, 1)."
    elif rank == 1 and len(got) == 2:
        msg += " Fix: add the channel axis, e.g. x[..., None]."
    else:
        msg += " Fix: reshape the data to that layout (or use the layer for the other rank)."
    raise ValueError(msg)


class _Pooling(Layer):
    """Shared by the four windowed pooling layers (rank 1 or 2, max or average)."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        _data_format(data_format, self)
        self.pool_size = _tuple(pool_size, self.rank, "pool_size", self)
        self.strides = self.pool_size if strides is None else _tuple(strides, self.rank, "strides", self)
        p = padding.lower() if isinstance(padding, str) else padding
        if p not in ("valid", "same"):
            raise ValueError(f"{type(self).__name__} {self.name!r}: padding must be 'valid' or 'same', "
                             f"received {padding!r}.")
        self.padding = p

    def build(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        self.compute_output_shape(input_shape)  # fails now if the pool does not fit

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        spatial = list(input_shape[1:-1])
        out = []
        for n, k, s in zip(spatial, self.pool_size, self.strides):
            if n is None:
                out.append(None)
                continue
            o = pool_geometry(n, k, s, self.padding)[0]
            if o < 1:
                size = "x".join(str(d) for d in spatial)
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: pool_size {self.pool_size} with strides "
                    f"{self.strides} and padding='{self.padding}' does not fit the {size} input "
                    f"(output size {o} < 1). Fix: use padding='same', a smaller pool_size, or a "
                    "larger input.")
            out.append(o)
        return (input_shape[0],) + tuple(out) + (input_shape[-1],)

    def _op_args(self):
        if self.rank == 1:
            return self.pool_size[0], self.strides[0], self.padding
        return self.pool_size, self.strides, self.padding

    def forward(self, x, ctx, training):
        ctx["shape"] = x.shape
        if self.mode == "max":
            f = ops.max_pool2d_forward if self.rank == 2 else ops.max_pool1d_forward
            y, ctx["argmax"] = f(x, *self._op_args())
            return y
        f = ops.avg_pool2d_forward if self.rank == 2 else ops.avg_pool1d_forward
        return f(x, *self._op_args())

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        if self.mode == "max":
            f = ops.max_pool2d_backward if self.rank == 2 else ops.max_pool1d_backward
            return f(dy, ctx["argmax"], ctx["shape"])
        f = ops.avg_pool2d_backward if self.rank == 2 else ops.avg_pool1d_backward
        return f(dy, ctx["shape"], *self._op_args())

    def get_config(self):
        config = super().get_config()
        ps, st = (self.pool_size[0], self.strides[0]) if self.rank == 1 else (self.pool_size, self.strides)
        config.update(pool_size=ps, strides=st, padding=self.padding, data_format="channels_last")
        return config


class MaxPooling2D(_Pooling):
    """Max over pool_size windows of (samples, height, width, channels) (Keras `MaxPooling2D`)."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """Mean over windows (padded cells not counted) (Keras `AveragePooling2D`; pool_size required)."""

    mode = "avg"


class MaxPooling1D(_Pooling):
    """Max over windows along the steps axis of (samples, steps, channels) (Keras `MaxPooling1D`)."""

    rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
    """Mean over windows along the steps axis (Keras `AveragePooling1D`; pool_size required)."""

    rank = 1
    mode = "avg"


class _GlobalPooling(Layer):
    rank = 2
    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        _data_format(data_format, self)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        if any(d == 0 for d in input_shape[1:-1]):
            raise ValueError(f"{type(self).__name__} {self.name!r}: input {tuple(input_shape)} has no positions "
                             "to pool over.")

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        return (input_shape[0],) + ((1,) * self.rank if self.keepdims else ()) + (input_shape[-1],)

    def forward(self, x, ctx, training):
        ctx["shape"] = x.shape
        if self.mode == "max":
            y, ctx["argmax"] = ops.global_max_pool_forward(x, keepdims=self.keepdims)
            return y
        return ops.global_avg_pool_forward(x, keepdims=self.keepdims)

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        if self.mode == "max":
            return ops.global_max_pool_backward(dy, ctx["argmax"], ctx["shape"])
        return ops.global_avg_pool_backward(dy, ctx["shape"])

    def get_config(self):
        config = super().get_config()
        config.update(data_format="channels_last", keepdims=self.keepdims)
        return config


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width → (samples, channels) (Keras `GlobalMaxPooling2D`)."""


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width → (samples, channels) (Keras `GlobalAveragePooling2D`)."""

    mode = "avg"


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over steps → (samples, channels) (Keras `GlobalMaxPooling1D`)."""

    rank = 1


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over steps → (samples, channels) (Keras `GlobalAveragePooling1D`; masks not supported)."""

    rank = 1
    mode = "avg"
