"""Preprocessing and augmentation layers (Keras semantics, NHWC).

Rescaling and Normalization act always. The Random* layers act only when training=True
(identity at inference, as Keras), except RandomCrop, which at inference returns the centre
window resized to (height, width). Random draws come from the layer's own generator when
`seed=` is given, else from baeum.utils' global generator (so set_random_seed makes runs
repeatable); each call stores its draws in ctx, and backward is exact for what forward did.
Math: baeum.reference.preprocessing and ops.sampling_*; derivations: docs/augmentation.md.
"""
import math

import numpy as np

from baeum import ops
from baeum.layers.base import Layer, _fmt_shape
from baeum.reference import preprocessing as P
from baeum.utils import _rng

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")


def _range_factor(factor, name, layer, bounds=(-1.0, 1.0), base=False):
    """Keras's factor parsing: a number f → (−|f|, |f|) (base layers: (max(−|f|, lo), |f|)),
    a pair → sorted; values outside `bounds` raise."""
    lo, hi = bounds
    msg = (f"{type(layer).__name__} {layer.name!r}: `{name}` must be a number or a pair "
           f"(lower, upper) in [{lo:g}, {hi:g}], received {name}={factor!r}.")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in factor):
            raise ValueError(msg)
        if base:  # BaseImagePreprocessingLayer's check
            bad = factor[0] > hi or factor[1] < lo
        else:
            bad = any(v < lo or v > hi for v in factor)
        if bad:
            raise ValueError(msg)
        return tuple(float(v) for v in sorted(factor))
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor < lo or factor > hi:
            raise ValueError(msg)
        f = abs(float(factor))
        return (max(-f, lo) if base else -f, f)
    raise ValueError(msg)


def _value_range(value_range, layer):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: value_range must be a pair (low, high), "
                         f"received {value_range!r}.")
    return tuple(float(v) for v in sorted(value_range))


class _ImageLayer(Layer):
    """Base of the image layers: 4-D NHWC input check and the per-layer random generator."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"{type(self).__name__} {self.name!r}: only data_format='channels_last' "
                                      "(NHWC) is supported.")
        if seed is not None:
            _rng._check_seed(seed, f"{type(self).__name__} {self.name!r}", upper=None)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _generator(self):
        return self._rng if self._rng is not None else _rng.global_generator()

    def build(self, input_shape):
        if len(input_shape) != 4:
            shape = _fmt_shape(tuple(input_shape))
            hint = ""
            if len(input_shape) == 3:
                hint = (f" Fix: add a channel axis, e.g. x.reshape(-1, {input_shape[1]}, {input_shape[2]}, 1) "
                        f"or a Reshape(({input_shape[1]}, {input_shape[2]}, 1)) layer in front.")
            elif len(input_shape) == 2 and input_shape[1] and math.isqrt(input_shape[1]) ** 2 == input_shape[1]:
                side = math.isqrt(input_shape[1])
                hint = (f" Fix: if each row is a flattened {side}×{side} grayscale image, use "
                        f"x.reshape(-1, {side}, {side}, 1) or a Reshape(({side}, {side}, 1)) layer in front.")
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects a batch of images of shape "
                f"(samples, height, width, channels), received input shape {shape}.{hint}"
            )

    def get_config(self):
        config = super().get_config()
        config.update(seed=self.seed, data_format="channels_last")
        return config


class Rescaling(Layer):
    """y = x·scale + offset (Keras `Rescaling`), in training and inference."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset
        self._scale = np.asarray(scale, np.float32)
        self._offset = np.asarray(offset, np.float32)

    def forward(self, x, ctx, training):
        return (x * self._scale + self._offset).astype(np.float32, copy=False)

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        return (dy * self._scale).astype(np.float32, copy=False)

    def get_config(self):
        config = super().get_config()
        tolist = lambda v: np.asarray(v).tolist() if isinstance(v, np.ndarray) else v  # noqa: E731
        config.update(scale=tolist(self.scale), offset=tolist(self.offset))
        return config


class Normalization(Layer):
    """(x − mean)/max(√variance, 1e-7) per index of `axis` (Keras `Normalization`); invert=True
    maps back. mean/variance are given, or learned by adapt(data) into non-trainable weights
    mean, variance, count (Keras's layout: params = 2·features + 1)."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = () if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
        self.input_mean, self.input_variance, self.invert = mean, variance, bool(invert)
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization {self.name!r}: pass both mean and variance, or neither "
                             f"(then call adapt(data)). Received mean={mean!r}, variance={variance!r}.")
        if mean is not None and np.shape(mean) != np.shape(variance):
            raise ValueError(f"Normalization {self.name!r}: mean and variance must have the same shape, "
                             f"received {np.shape(mean)} and {np.shape(variance)}.")
        if mean is not None and np.ndim(mean) > len(self.axis):
            raise ValueError(f"Normalization {self.name!r}: mean has rank {np.ndim(mean)}, more than the "
                             f"number of axes {self.axis}.")

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"Normalization {self.name!r}: axis {self.axis} is out of range for inputs "
                             f"of shape {_fmt_shape(tuple(input_shape))}.")
        self._keep = tuple(sorted(a % ndim for a in self.axis))
        if 0 in self._keep:
            raise ValueError(
                f"Normalization {self.name!r}: axis {self.axis} keeps the batch axis, whose size is not "
                f"fixed (inputs {_fmt_shape(tuple(input_shape))}). Fix: axis=None for one scalar mean, or "
                "reshape 1-D data to (samples, 1)."
            )
        self._reduce = tuple(d for d in range(ndim) if d not in self._keep)
        self._bshape = tuple(input_shape[d] if d in self._keep else 1 for d in range(ndim))
        shape = tuple(input_shape[d] for d in self._keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", shape, "zeros", trainable=False)
            self.adapt_variance = self.add_weight("variance", shape, "ones", trainable=False)
            self.count = self.add_weight("count", (), "zeros", trainable=False)
        else:
            mean, var = np.asarray(self.input_mean, np.float32), np.asarray(self.input_variance, np.float32)
            if mean.ndim:  # align the given values with the kept axes, right to left
                expand = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expand[self._keep[-i]] = mean.shape[-i]
                mean, var = mean.reshape(expand), var.reshape(expand)
            try:
                self._mean = np.ascontiguousarray(np.broadcast_to(mean, self._bshape))
                self._var = np.ascontiguousarray(np.broadcast_to(var, self._bshape))
            except ValueError:
                raise ValueError(f"Normalization {self.name!r}: mean of shape {np.shape(self.input_mean)} "
                                 f"does not broadcast to {self._bshape}.") from None

    def _moments(self):
        if self.input_mean is not None:
            return self._mean, self._var
        return (self.adapt_mean.value.reshape(self._bshape), self.adapt_variance.value.reshape(self._bshape))

    def adapt(self, data):
        """Learn mean and variance from an array, or an iterable of batches (Keras's formula)."""
        if self.input_mean is not None:
            raise ValueError(f"Normalization {self.name!r} was given mean and variance; adapt() has nothing to learn.")
        batches = [np.asarray(data)] if isinstance(data, np.ndarray) else [np.asarray(b) for b in data]
        if not batches:
            raise ValueError(f"Normalization {self.name!r}: adapt() received no data.")
        first = batches[0].shape
        if not self.built:
            self._maybe_build(first)
        for b in batches:
            self._check_input(b.shape)
        mean, var = P.adapt_moments(batches, self._reduce)
        self.adapt_mean.assign(np.reshape(mean, self.adapt_mean.shape))
        self.adapt_variance.assign(np.reshape(var, self.adapt_variance.shape))

    def forward(self, x, ctx, training):
        mean, var = self._moments()
        return P.normalization_forward(x, mean, var, self.invert).astype(np.float32, copy=False)

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        return P.normalization_backward(dy, self._moments()[1], self.invert).astype(np.float32, copy=False)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, invert=self.invert,
                      mean=None if self.input_mean is None else np.asarray(self.input_mean).tolist(),
                      variance=None if self.input_variance is None else np.asarray(self.input_variance).tolist())
        return config


class RandomFlip(_ImageLayer):
    """Flip each image with probability ½ (Keras `RandomFlip`); 'horizontal_and_vertical'
    uses one draw for both axes, as Keras."""

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in self._MODES:
            raise ValueError(f"RandomFlip {self.name!r}: mode must be one of {self._MODES}, received {mode!r}.")
        self.mode = mode

    def draw(self, shape):
        return self._generator().uniform(size=shape[0]) <= 0.5

    def forward(self, x, ctx, training):
        ctx["flips"] = None
        if not training:
            return x
        ctx["flips"] = flips = self.draw(x.shape)
        return P.flip_forward(x, flips, self.mode)

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        return dy if ctx["flips"] is None else P.flip_forward(dy, ctx["flips"], self.mode)

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


class _AffineLayer(_ImageLayer):
    """Shared by RandomTranslation / RandomRotation / RandomZoom: draw one transform per
    image, resample with ops.sampling_forward; backward = ops.sampling_backward."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        kind = f"{type(self).__name__} {self.name!r}"
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"{kind}: unknown fill_mode {fill_mode!r}; expected one of {_FILL_MODES}.")
        if interpolation not in _INTERPOLATIONS:
            raise NotImplementedError(f"{kind}: unknown interpolation {interpolation!r}; "
                                      f"expected one of {_INTERPOLATIONS}.")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def forward(self, x, ctx, training):
        ctx["transforms"] = None
        if not training:
            return x
        ctx["transforms"] = t = self.draw(x.shape)
        return ops.sampling_forward(x, t, interpolation=self.interpolation, fill_mode=self.fill_mode,
                                    fill_value=self.fill_value)

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        t = ctx["transforms"]
        if t is None:
            return dy
        return ops.sampling_backward(dy, t, input_size=dy.shape[1:3], interpolation=self.interpolation,
                                     fill_mode=self.fill_mode)

    def get_config(self):
        config = super().get_config()
        config.update(fill_mode=self.fill_mode, interpolation=self.interpolation, fill_value=self.fill_value)
        return config


class RandomTranslation(_AffineLayer):
    """Shift each image by U(height_factor)·H rows and U(width_factor)·W columns (Keras
    `RandomTranslation`; positive = down / right)."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _range_factor(height_factor, "height_factor", self)
        self._w = _range_factor(width_factor, "width_factor", self)

    def draw(self, shape):
        n, h, w = shape[:3]
        g = self._generator()
        dy = g.uniform(self._h[0], self._h[1], n).astype(np.float32) * h
        dx = g.uniform(self._w[0], self._w[1], n).astype(np.float32) * w
        return P.translation_transforms(dx, dy)

    def get_config(self):
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config


class RandomRotation(_AffineLayer):
    """Rotate each image by U(factor)·2π radians about its centre, counter-clockwise for
    positive angles (Keras `RandomRotation`)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = _range_factor(factor, "factor", self, base=True)

    def draw(self, shape):
        n, h, w = shape[:3]
        lower, upper = self.factor[0] * 2.0 * math.pi, self.factor[1] * 2.0 * math.pi
        return P.rotation_transforms(self._generator().uniform(lower, upper, n), h, w)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomZoom(_AffineLayer):
    """Zoom each image about its centre by 1 + U(height_factor) vertically and 1 +
    U(width_factor) horizontally (width_factor=None: the same draw, keeping the aspect
    ratio). Positive factors zoom out (Keras `RandomZoom`)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _range_factor(height_factor, "height_factor", self)
        self._w = None if width_factor is None else _range_factor(width_factor, "width_factor", self)

    def draw(self, shape):
        n, h, w = shape[:3]
        g = self._generator()
        zy = g.uniform(1.0 + self._h[0], 1.0 + self._h[1], n)
        zx = zy if self._w is None else g.uniform(1.0 + self._w[0], 1.0 + self._w[1], n)
        return P.zoom_transforms(zx, zy, h, w)

    def get_config(self):
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config


class RandomCrop(_ImageLayer):
    """Keras `RandomCrop`: in training, when the image is larger than (height, width) on both
    axes, one random window per batch; otherwise (inference, or a small image) the largest
    centred window with the target aspect ratio, resized bilinearly to (height, width).
    Output (None, height, width, channels)."""

    def __init__(self, height, width, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        for name, v in (("height", height), ("width", width)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"RandomCrop {self.name!r}: {name} must be a positive integer, received {v!r}.")
        self.height, self.width = int(height), int(width)

    def build(self, input_shape):
        super().build(input_shape)
        if input_shape[1] is None or input_shape[2] is None:
            raise ValueError(f"RandomCrop {self.name!r} needs a known height and width, received input shape "
                             f"{_fmt_shape(tuple(input_shape))}.")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[3])

    def draw(self, shape, training):
        """(h0, w0, crop_h, crop_w) of the window this call reads."""
        _, h, w = shape[:3]
        if training and h > self.height and w > self.width:
            g = self._generator()
            h0 = min(int(g.uniform(0, h - self.height + 1)), h - self.height)
            w0 = min(int(g.uniform(0, w - self.width + 1)), w - self.width)
            return h0, w0, self.height, self.width
        return P.center_crop_box(h, w, self.height, self.width)

    def forward(self, x, ctx, training):
        ctx["box"] = box = self.draw(x.shape, training)
        ctx["input_hw"] = x.shape[1:3]
        h0, w0, ch, cw = box
        y = P.crop_forward(x, h0, w0, ch, cw)
        if (ch, cw) != (self.height, self.width):
            y = ops.sampling_forward(y, P.resize_transform(ch, cw, self.height, self.width),
                                     output_size=(self.height, self.width), fill_mode="nearest")
        return y

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        h0, w0, ch, cw = ctx["box"]
        if (ch, cw) != (self.height, self.width):
            dy = ops.sampling_backward(dy, P.resize_transform(ch, cw, self.height, self.width),
                                       input_size=(ch, cw), fill_mode="nearest")
        return P.crop_backward(dy, h0, w0, ctx["input_hw"])

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width)
        return config


class RandomContrast(_ImageLayer):
    """Per image, y = clip((x − mean)·f + mean, value_range) with the mean over height and
    width per channel, f ~ U(1 − lower, 1 + upper) (Keras `RandomContrast`). Keras parses a
    number `factor` as (lower, upper) = (0, factor), so RandomContrast(0.2) draws f in
    [1.0, 1.2] (its docstring says [0.8, 1.2]; the code wins); pass (0.2, 0.2) for [0.8, 1.2]."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _range_factor(factor, "factor", self, bounds=(0.0, 1.0), base=True)
        self.value_range = _value_range(value_range, self)

    def draw(self, shape):
        return self._generator().uniform(1.0 - self.factor[0], 1.0 + self.factor[1], shape[0]).astype(np.float32)

    def forward(self, x, ctx, training):
        ctx["factors"] = None
        if not training:
            return x
        ctx["factors"] = f = self.draw(x.shape)
        y, ctx["u"] = P.contrast_forward(x, f, self.value_range)
        return y.astype(np.float32, copy=False)

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        if ctx["factors"] is None:
            return dy
        return P.contrast_backward(dy, ctx["u"], ctx["factors"], self.value_range).astype(np.float32, copy=False)

    def get_config(self):
        config = super().get_config()
        config.update(factor=self.factor, value_range=self.value_range)
        return config


class RandomBrightness(_ImageLayer):
    """Per image, y = clip(x + δ, value_range) with δ = U(factor)·(high − low) (Keras
    `RandomBrightness`; a number factor f means U(−f, f))."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _range_factor(factor, "factor", self)
        self.value_range = _value_range(value_range, self)

    def draw(self, shape):
        u = self._generator().uniform(self.factor[0], self.factor[1], shape[0])
        return (u * (self.value_range[1] - self.value_range[0])).astype(np.float32)

    def forward(self, x, ctx, training):
        ctx["deltas"] = None
        if not training:
            return x
        ctx["deltas"] = d = self.draw(x.shape)
        y, ctx["u"] = P.brightness_forward(x, d, self.value_range)
        return y.astype(np.float32, copy=False)

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        if ctx["deltas"] is None:
            return dy
        return P.brightness_backward(dy, ctx["u"], self.value_range).astype(np.float32, copy=False)

    def get_config(self):
        config = super().get_config()
        config.update(factor=self.factor, value_range=self.value_range)
        return config
