"""Image resampling under per-image projective transforms: the readable definition.

Keras's ``ops.image.affine_transform`` (NumPy backend: ``scipy.ndimage.map_coordinates`` on
the input padded by ``np.pad`` in the fill mode) as plain NumPy, plus its transpose.

Images are NHWC. ``transforms`` (N, 8) holds ``[a0, a1, a2, b0, b1, b2, c0, c1]`` per image:
the output pixel (x, y) reads the input at

    k  = c0·x + c1·y + 1
    xs = (a0·x + a1·y + a2) / k,   ys = (b0·x + b1·y + b2) / k

and the input is continued beyond its edges by ``fill_mode``::

    reflect  (d c b a | a b c d | d c b a)     wrap     (a b c d | a b c d | a b c d)
    nearest  (a a a a | a b c d | d d d d)     constant (v v v v | a b c d | v v v v)

Bilinear interpolation blends the four pixels around (xs, ys) of that extended image;
nearest interpolation takes the pixel at (⌊xs + ½⌋, ⌊ys + ½⌋). Derivation of the backward:
docs/augmentation.md.
"""
import numpy as np

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def _resolve(i, n, fill_mode):
    """Input index for extended integer indices ``i`` along an axis of size n (−1 = fill)."""
    i = np.asarray(i, dtype=np.int64)
    inside = (i >= 0) & (i < n)
    if fill_mode == "constant":
        return np.where(inside, i, -1)
    if fill_mode == "nearest":
        return np.clip(i, 0, n - 1)
    if fill_mode == "wrap":
        return np.mod(i, n)
    k = np.mod(i, 2 * n)  # reflect: period 2n, second half mirrored
    return np.where(k >= n, 2 * n - 1 - k, k)


def _clamp(v):
    return np.where(np.isnan(v), -1e9, np.clip(v, -1e9, 1e9))


def sample_points(transform, oh, ow):
    """(ys, xs) float64 arrays of shape (oh, ow): where each output pixel reads the input."""
    a0, a1, a2, b0, b1, b2, c0, c1 = (float(np.float32(v)) for v in transform)
    y, x = np.meshgrid(np.arange(oh, dtype=np.float64), np.arange(ow, dtype=np.float64), indexing="ij")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        k = c0 * x + c1 * y + 1.0
        xs = (a0 * x + a1 * y + a2) / k
        ys = (b0 * x + b1 * y + b2) / k
    return _clamp(ys), _clamp(xs)


def _taps(transform, h, w, oh, ow, interpolation, fill_mode):
    """[(yi, xi, weight)] index/weight arrays of shape (oh, ow) for each tap (−1 = fill)."""
    ys, xs = sample_points(transform, oh, ow)
    if interpolation == "nearest":
        yi = _resolve(np.floor(ys + 0.5), h, fill_mode)
        xi = _resolve(np.floor(xs + 0.5), w, fill_mode)
        return [(yi, xi, np.ones((oh, ow)))]
    y0, x0 = np.floor(ys), np.floor(xs)
    fy, fx = ys - y0, xs - x0
    ya, yb = _resolve(y0, h, fill_mode), _resolve(y0 + 1, h, fill_mode)
    xa, xb = _resolve(x0, w, fill_mode), _resolve(x0 + 1, w, fill_mode)
    return [(ya, xa, (1 - fy) * (1 - fx)), (ya, xb, (1 - fy) * fx),
            (yb, xa, fy * (1 - fx)), (yb, xb, fy * fx)]


def _check(interpolation, fill_mode):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}.")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}.")


def sampling_forward(inp, transforms, *, output_size=None, interpolation="bilinear",
                     fill_mode="reflect", fill_value=0.0, out=None):
    """out[n, y, x, :] = Σ_taps weight · E_n(yi, xi, :) with E_n the fill-extended image n.

    inp (N, H, W, C); transforms (N, 8); output_size (OH, OW), default (H, W)."""
    _check(interpolation, fill_mode)
    inp = np.asarray(inp, dtype=np.float64)
    transforms = np.asarray(transforms, dtype=np.float32).reshape(-1, 8)
    n, h, w, c = inp.shape
    oh, ow = (h, w) if output_size is None else output_size
    result = np.zeros((n, oh, ow, c))
    for i in range(n):
        for yi, xi, wt in _taps(transforms[i], h, w, oh, ow, interpolation, fill_mode):
            valid = (yi >= 0) & (xi >= 0)
            vals = np.where(valid[..., None], inp[i][np.where(valid, yi, 0), np.where(valid, xi, 0)], fill_value)
            result[i] += wt[..., None] * vals
    if out is None:
        return result.astype(np.float32)
    out[...] = result
    return out


def sampling_backward(dout, transforms, *, input_size, interpolation="bilinear", fill_mode="reflect",
                      dinp=None):
    """dinp += Sᵀ·dout: each output pixel adds weight·dout to every input pixel it read.

    dout (N, OH, OW, C); input_size (H, W). Returns dinp (N, H, W, C); fill cells get
    nothing (fill_value is a constant)."""
    _check(interpolation, fill_mode)
    dout = np.asarray(dout, dtype=np.float64)
    transforms = np.asarray(transforms, dtype=np.float32).reshape(-1, 8)
    n, oh, ow, c = dout.shape
    h, w = input_size
    grad = np.zeros((n, h, w, c))
    for i in range(n):
        for yi, xi, wt in _taps(transforms[i], h, w, oh, ow, interpolation, fill_mode):
            valid = (yi >= 0) & (xi >= 0)
            np.add.at(grad[i], (yi[valid], xi[valid]), wt[valid][:, None] * dout[i][valid])
    if dinp is None:
        return grad.astype(np.float32)
    dinp += grad
    return dinp
