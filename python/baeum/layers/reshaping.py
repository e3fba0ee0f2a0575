"""Image reshaping layers: Keras `UpSampling2D`, `ZeroPadding2D`, `Cropping2D` (channels_last).

Each is a linear map of the input, so each backward is the transposed map: upsampling sums
the gradient over the copies of a pixel (nearest) or applies the transposed interpolation
matrices (bilinear); padding slices the gradient; cropping pads it with zeros.
"""
import numpy as np

from baeum.layers.base import Layer
from baeum.layers.pooling import _check_rank, _data_format, _tuple


def _pairs(value, layer, what):
    """int → ((v, v), (v, v)); (a, b) → ((a, a), (b, b)); ((t, b), (l, r)) as is."""
    kind = f"{type(layer).__name__} {layer.name!r}"
    try:
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            p = ((int(value),) * 2,) * 2
        elif len(value) == 2 and all(isinstance(v, (int, np.integer)) for v in value):
            p = ((int(value[0]),) * 2, (int(value[1]),) * 2)
        elif len(value) == 2 and all(len(v) == 2 for v in value):
            p = tuple((int(v[0]), int(v[1])) for v in value)
        else:
            raise TypeError
    except TypeError:
        raise ValueError(f"{kind}: {what} must be an int, a tuple of 2 ints, or a tuple of 2 tuples of 2 ints "
                         f"((top, bottom), (left, right)), received {value!r}.") from None
    if any(v < 0 for pair in p for v in pair):
        raise ValueError(f"{kind}: {what} must be non-negative, received {value!r}.")
    return p


def _bilinear_matrix(n, scale):
    """(n·scale, n) matrix of half-pixel-centre bilinear weights (TF/JAX resize): output row
    i samples the input at (i + ½)/scale − ½, clamped to [0, n − 1]."""
    src = np.clip((np.arange(n * scale) + 0.5) / scale - 0.5, 0, n - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = src - lo
    m = np.zeros((n * scale, n))
    rows = np.arange(n * scale)
    np.add.at(m, (rows, lo), 1 - frac)
    np.add.at(m, (rows, hi), frac)
    return m


class UpSampling2D(Layer):
    """Repeat rows and columns `size` times (Keras `UpSampling2D`): (N, H, W, C) →
    (N, H·sh, W·sw, C). interpolation 'nearest' (copies) or 'bilinear' (half-pixel centres,
    as Keras's image resize)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        _data_format(data_format, self)
        self.size = _tuple(size, 2, "size", self)
        if interpolation not in ("nearest", "bilinear"):
            raise NotImplementedError(f"UpSampling2D {self.name!r}: interpolation {interpolation!r} is not "
                                      "supported; use 'nearest' or 'bilinear'.")
        self.interpolation = interpolation

    def build(self, input_shape):
        _check_rank(self, input_shape, 2)

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, 2)
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.size[0], None if w is None else w * self.size[1], c)

    def forward(self, x, ctx, training):
        n, h, w, c = x.shape
        sh, sw = self.size
        ctx["shape"] = x.shape
        if self.interpolation == "nearest":
            return np.ascontiguousarray(
                np.broadcast_to(x[:, :, None, :, None, :], (n, h, sh, w, sw, c)).reshape(n, h * sh, w * sw, c))
        ah = _bilinear_matrix(h, sh).astype(np.float32)
        aw = _bilinear_matrix(w, sw).astype(np.float32)
        ctx["ah"], ctx["aw"] = ah, aw
        return np.ascontiguousarray(np.einsum("ih,nhwc,jw->nijc", ah, x, aw, optimize=True), dtype=np.float32)

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        n, h, w, c = ctx["shape"]
        sh, sw = self.size
        if self.interpolation == "nearest":
            return dy.reshape(n, h, sh, w, sw, c).sum(axis=(2, 4), dtype=np.float32)
        return np.ascontiguousarray(np.einsum("ih,nijc,jw->nhwc", ctx["ah"], dy, ctx["aw"], optimize=True),
                                    dtype=np.float32)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, data_format="channels_last", interpolation=self.interpolation)
        return config


class ZeroPadding2D(Layer):
    """Add rows/columns of zeros (Keras `ZeroPadding2D`): padding int, (h, w) symmetric, or
    ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _data_format(data_format, self)
        self.padding = _pairs(padding, self, "padding")

    def build(self, input_shape):
        _check_rank(self, input_shape, 2)

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, 2)
        n, h, w, c = input_shape
        (t, b), (l, r) = self.padding
        return (n, None if h is None else h + t + b, None if w is None else w + l + r, c)

    def forward(self, x, ctx, training):
        (t, b), (l, r) = self.padding
        return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        (t, b), (l, r) = self.padding
        return np.ascontiguousarray(dy[:, t:dy.shape[1] - b, l:dy.shape[2] - r, :])

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding, data_format="channels_last")
        return config


class Cropping2D(Layer):
    """Remove rows/columns at the borders (Keras `Cropping2D`): cropping int, (h, w)
    symmetric, or ((top, bottom), (left, right))."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _data_format(data_format, self)
        self.cropping = _pairs(cropping, self, "cropping")

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, 2)
        n, h, w, c = input_shape
        (t, b), (l, r) = self.cropping
        for size, a, z, what in ((h, t, b, "height"), (w, l, r, "width")):
            if size is not None and a + z >= size:
                raise ValueError(f"Cropping2D {self.name!r}: cropping {a}+{z} from a {what} of {size} leaves "
                                 f"nothing (input shape {tuple(input_shape)}). Fix: crop less.")
        return (n, None if h is None else h - t - b, None if w is None else w - l - r, c)

    def forward(self, x, ctx, training):
        (t, b), (l, r) = self.cropping
        ctx["shape"] = x.shape
        return np.ascontiguousarray(x[:, t:x.shape[1] - b, l:x.shape[2] - r, :])

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        (t, b), (l, r) = self.cropping
        dx = np.zeros(ctx["shape"], np.float32)
        dx[:, t:dx.shape[1] - b, l:dx.shape[2] - r, :] = dy
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(cropping=self.cropping, data_format="channels_last")
        return config
