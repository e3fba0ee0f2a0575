"""The math of Keras's preprocessing / augmentation layers, as plain NumPy.

Transform matrices are Keras's 8-parameter rows ``[a0 a1 a2 b0 b1 b2 c0 c1]`` (output pixel
(x, y) reads the input at (a0·x + a1·y + a2, b0·x + b1·y + b2)); they are consumed by
``sampling_forward`` (baeum.ops / baeum.reference). Each function mirrors the Keras layer
named in its docstring; the layers in baeum.layers.preprocessing draw the random numbers
and call these. Derivations: docs/augmentation.md.
"""
import numpy as np


def rotation_transforms(angles, height, width):
    """RandomRotation: rotate by `angles` (radians, counter-clockwise) about the image centre.

    [cos θ, −sin θ, x_off, sin θ, cos θ, y_off, 0, 0] with
    x_off = ((W−1) − (cos θ·(W−1) − sin θ·(H−1)))/2, y_off = ((H−1) − (sin θ·(W−1) + cos θ·(H−1)))/2,
    so the centre ((W−1)/2, (H−1)/2) maps to itself."""
    a = np.asarray(angles, dtype=np.float32)
    cos, sin = np.cos(a), np.sin(a)
    h, w = np.float32(height - 1), np.float32(width - 1)
    x_off = (w - (cos * w - sin * h)) / 2
    y_off = (h - (sin * w + cos * h)) / 2
    zero = np.zeros_like(a)
    return np.stack([cos, -sin, x_off, sin, cos, y_off, zero, zero], axis=1).astype(np.float32)


def translation_transforms(dx, dy):
    """RandomTranslation: shift right by dx and down by dy pixels: [1, 0, −dx, 0, 1, −dy, 0, 0]."""
    dx = np.asarray(dx, dtype=np.float32)
    dy = np.asarray(dy, dtype=np.float32)
    one, zero = np.ones_like(dx), np.zeros_like(dx)
    return np.stack([one, zero, -dx, zero, one, -dy, zero, zero], axis=1).astype(np.float32)


def zoom_transforms(zx, zy, height, width):
    """RandomZoom: [zx, 0, (W−1)/2·(1−zx), 0, zy, (H−1)/2·(1−zy), 0, 0] — scale the sampling grid
    about the centre (zoom factor z > 1 reads a larger area: the image appears zoomed out)."""
    zx = np.asarray(zx, dtype=np.float32)
    zy = np.asarray(zy, dtype=np.float32)
    zero = np.zeros_like(zx)
    x_off = (np.float32(width) - 1) / 2 * (1 - zx)
    y_off = (np.float32(height) - 1) / 2 * (1 - zy)
    return np.stack([zx, zero, x_off, zero, zy, y_off, zero, zero], axis=1).astype(np.float32)


def resize_transform(in_h, in_w, out_h, out_w):
    """Bilinear resize with half-pixel centres (jax.image.resize, antialias=False, as Keras's
    ops.image.resize): x_in = (x + ½)·in_w/out_w − ½; sampled with fill_mode='nearest'."""
    sx, sy = in_w / out_w, in_h / out_h
    return np.array([sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5, 0, 0], np.float32)


def center_crop_box(in_h, in_w, height, width):
    """RandomCrop's inference window: the largest centred window with the target aspect
    ratio (Keras's get_random_transformation, training=False). Returns (h0, w0, ch, cw)."""
    ch = max(min(in_h, int(float(in_w * height) / width)), 1)
    cw = max(min(in_w, int(float(in_h * width) / height)), 1)
    return int(float(in_h - ch) / 2), int(float(in_w - cw) / 2), ch, cw


def flip_forward(x, flips, mode):
    """RandomFlip: images with flips[n] True are mirrored left-right ('horizontal'),
    top-bottom ('vertical') or both ('horizontal_and_vertical': Keras uses one draw for both
    axes, so an image is either unchanged or rotated by 180°). An involution, so the
    backward is the same function applied to dy."""
    y = np.array(x, copy=True)
    idx = np.flatnonzero(flips)
    if mode in ("horizontal", "horizontal_and_vertical"):
        y[idx] = y[idx, :, ::-1]
    if mode in ("vertical", "horizontal_and_vertical"):
        y[idx] = y[idx, ::-1]
    return y


def crop_forward(x, h0, w0, height, width):
    """Slice (N, H, W, C) → (N, height, width, C) starting at (h0, w0)."""
    return np.ascontiguousarray(x[:, h0:h0 + height, w0:w0 + width])


def crop_backward(dy, h0, w0, input_size):
    """Scatter dy into zeros of the input's size (the cropped-away pixels get no gradient)."""
    n, height, width, c = dy.shape
    dx = np.zeros((n,) + tuple(input_size) + (c,), dy.dtype)
    dx[:, h0:h0 + height, w0:w0 + width] = dy
    return dx


def contrast_forward(x, factors, value_range):
    """RandomContrast: per image n and channel, m = mean over (H, W);
    y = clip((x − m)·f_n + m, low, high). Returns (y, u) with u the unclipped value."""
    m = x.mean(axis=(1, 2), keepdims=True)
    u = (x - m) * np.reshape(factors, (-1, 1, 1, 1)).astype(x.dtype) + m
    return np.clip(u, value_range[0], value_range[1]), u


def contrast_backward(dy, u, factors, value_range):
    """g = dy·[low ≤ u ≤ high]; u = f·x + (1 − f)·mean(x), so dx = f·g + (1 − f)·mean_HW(g)."""
    g = dy * ((u >= value_range[0]) & (u <= value_range[1]))
    f = np.reshape(factors, (-1, 1, 1, 1)).astype(dy.dtype)
    return f * g + (1 - f) * g.mean(axis=(1, 2), keepdims=True)


def brightness_forward(x, deltas, value_range):
    """RandomBrightness: y = clip(x + δ_n, low, high), δ_n = factor draw · (high − low)."""
    u = x + np.reshape(deltas, (-1, 1, 1, 1)).astype(x.dtype)
    return np.clip(u, value_range[0], value_range[1]), u


def brightness_backward(dy, u, value_range):
    """dx = dy·[low ≤ x + δ ≤ high]."""
    return dy * ((u >= value_range[0]) & (u <= value_range[1]))


def normalization_forward(x, mean, variance, invert=False, epsilon=1e-7):
    """Keras Normalization: (x − mean)/max(√var, ε); invert: mean + x·max(√var, ε)."""
    std = np.maximum(np.sqrt(variance), epsilon)
    return mean + x * std if invert else (x - mean) / std


def normalization_backward(dy, variance, invert=False, epsilon=1e-7):
    std = np.maximum(np.sqrt(variance), epsilon)
    return dy * std if invert else dy / std


def adapt_moments(batches, reduce_axis):
    """Normalization.adapt: mean and (biased) variance over `reduce_axis`, combined across
    batches as Keras does (running mean; variance by the lack-of-fit sum of squares)."""
    total_mean = total_var = None
    count = 0
    for b in batches:
        b = np.asarray(b, dtype=np.float64)
        bm, bv = b.mean(axis=reduce_axis), b.var(axis=reduce_axis)
        bc = int(np.prod([b.shape[d] for d in reduce_axis])) if reduce_axis else 1
        if total_mean is None:
            total_mean, total_var, count = bm, bv, bc
            continue
        count += bc
        wb = bc / count
        wa = 1.0 - wb
        new_mean = total_mean * wa + bm * wb
        total_var = (total_var + (total_mean - new_mean) ** 2) * wa + (bv + (bm - new_mean) ** 2) * wb
        total_mean = new_mean
    return total_mean, total_var
