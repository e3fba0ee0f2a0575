"""Image resampling under per-image projective transforms (Keras ``affine_transform``).

Equations and the backward derivation: docs/augmentation.md; C++: csrc/baeum/sampling.cpp;
NumPy twin: baeum.reference.sampling (same signatures).
"""
import numpy as np

from baeum import _core
from baeum.ops._checks import _as_float, _as_input, _check_out

_FILL = {"reflect": 0, "wrap": 1, "constant": 2, "nearest": 3}
_INTERP = {"nearest": 0, "bilinear": 1}


def _modes(interpolation, fill_mode, op):
    if interpolation not in _INTERP:
        raise ValueError(f"{op}: interpolation must be one of {tuple(_INTERP)}, received {interpolation!r}.")
    if fill_mode not in _FILL:
        raise ValueError(f"{op}: fill_mode must be one of {tuple(_FILL)}, received {fill_mode!r}.")
    return _INTERP[interpolation], _FILL[fill_mode]


def _images(x, name, op):
    x = _as_input(x, name, op)
    if x.ndim != 4:
        raise ValueError(
            f"{op}: {name} must be a 4-D batch of images (samples, height, width, channels), "
            f"received shape {x.shape}. Fix: a single image needs x[None]; grayscale needs x[..., None]."
        )
    return x


def _transforms(t, n, op):
    t = _as_input(t, "transforms", op)
    if t.shape == (8,):
        t = np.ascontiguousarray(np.broadcast_to(t, (n, 8)))
    if t.shape != (n, 8):
        raise ValueError(f"{op}: transforms must have shape ({n}, 8) (one [a0 a1 a2 b0 b1 b2 c0 c1] "
                         f"per image), received {t.shape}.")
    return t


def _size(size, default, name, op):
    if size is None and default is not None:
        return default
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"{op}: {name} must be (height, width), received {size!r}.") from None
    if h < 0 or w < 0:
        raise ValueError(f"{op}: {name} must be non-negative, received {size!r}.")
    return h, w


def sampling_forward(inp, transforms, *, output_size=None, interpolation="bilinear",
                     fill_mode="reflect", fill_value=0.0, out=None):
    """out[n, y, x] = inp_n sampled at ((a0·x + a1·y + a2)/k, (b0·x + b1·y + b2)/k),
    k = c0·x + c1·y + 1, with the input continued by `fill_mode` beyond its edges.

    inp (N, H, W, C); transforms (N, 8) (or one (8,) for all); output_size (OH, OW),
    default (H, W). Returns out (N, OH, OW, C)."""
    op = "sampling_forward"
    ip, fm = _modes(interpolation, fill_mode, op)
    inp = _images(inp, "inp", op)
    n, h, w, c = inp.shape
    t = _transforms(transforms, n, op)
    oh, ow = _size(output_size, (h, w), "output_size", op)
    if n and oh * ow and not h * w:
        raise ValueError(f"{op}: images of shape {inp.shape[1:]} have no pixels to sample.")
    if out is None:
        out = np.empty((n, oh, ow, c), np.float32)
    else:
        _check_out(out, (n, oh, ow, c), op, inputs=(inp, t))
    _core.sampling_forward(inp, t, out, ip, fm, _as_float(fill_value, "fill_value", op))
    return out


def sampling_backward(dout, transforms, *, input_size, interpolation="bilinear", fill_mode="reflect",
                      dinp=None):
    """dinp += Sᵀ·dout (each output pixel adds weight·dout to every input pixel it read).

    dout (N, OH, OW, C); input_size (H, W). dinp (N, H, W, C) is accumulated into when
    given, else a new zero-initialised array is returned."""
    op = "sampling_backward"
    ip, fm = _modes(interpolation, fill_mode, op)
    dout = _images(dout, "dout", op)
    n, oh, ow, c = dout.shape
    t = _transforms(transforms, n, op)
    h, w = _size(input_size, None, "input_size", op)
    if n and oh * ow and not h * w:
        raise ValueError(f"{op}: input_size {input_size} has no pixels.")
    if dinp is None:
        dinp = np.zeros((n, h, w, c), np.float32)
    else:
        _check_out(dinp, (n, h, w, c), op, inputs=(dout, t))
    _core.sampling_backward(dout, t, dinp, ip, fm)
    return dinp
