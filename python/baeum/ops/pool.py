"""Max / average / global pooling on NHWC images and (N, steps, C) sequences.

Keras semantics (KERAS_SEMANTICS.md §1.2): strides default to the pool size; 'same' pads the
odd cell at the end; padded cells never win a max and are NOT counted in an average.
Kernels: csrc/baeum/pool.cpp. NumPy twins: baeum.reference.pool. Derivations:
docs/pooling_norm.md.
"""
import numpy as np

from baeum import _core
from baeum.ops._checks import _as_input, _check_out


def _ints(v, n, what, op):
    """An int or a tuple of n ints, each >= 1."""
    t = (v,) * n if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else tuple(v) \
        if isinstance(v, (tuple, list)) else None
    if t is None or len(t) != n or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) or a < 1
                                       for a in t):
        raise ValueError(f"{op}: {what} must be a positive int or a tuple of {n} positive ints, received {v!r}.")
    return tuple(int(a) for a in t)


def _padding(padding, op):
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same', received {padding!r}.")
    return p


def pool_geometry(n, k, s, padding):
    """(output length, padding before) of one axis of length n, window k, stride s (Keras)."""
    if padding == "valid":
        return (n - k) // s + 1, 0
    out = -(-n // s)
    return out, max(0, (out - 1) * s + k - n) // 2


def _geometry2d(shape, pool_size, strides, padding, op):
    ks = _ints(pool_size, 2, "pool_size", op)
    ss = ks if strides is None else _ints(strides, 2, "strides", op)
    p = _padding(padding, op)
    (oh, pt), (ow, pl) = (pool_geometry(shape[1], ks[0], ss[0], p), pool_geometry(shape[2], ks[1], ss[1], p))
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{op}: a {ks[0]}x{ks[1]} pool (strides {ss}) does not fit the {shape[1]}x{shape[2]} input "
            f"with padding='{p}' (output would be {oh}x{ow}). Fix: use padding='same' or a smaller pool_size.")
    return ks, ss, (oh, ow), (pt, pl)


def _image(inp, op):
    x = _as_input(inp, "inp", op)
    if x.ndim != 4:
        raise ValueError(f"{op}: inp must be 4-D (samples, height, width, channels), got shape {x.shape}.")
    return x


def _inp_shape(inp_shape, nd, op):
    s = tuple(int(d) for d in inp_shape)
    if len(s) != nd or any(d < 0 for d in s):
        raise ValueError(f"{op}: inp_shape must be {nd} non-negative sizes, received {inp_shape!r}.")
    return s


def _argmax_buffer(argmax, shape, op):
    if argmax is None:
        return np.empty(shape, np.int32)
    if (not isinstance(argmax, np.ndarray) or argmax.dtype != np.int32 or argmax.shape != tuple(shape)
            or not argmax.flags.c_contiguous or not argmax.flags.writeable):
        raise ValueError(f"{op}: argmax must be a writable C-contiguous int32 array of shape {tuple(shape)}.")
    return argmax


def _argmax_in(argmax, shape, op):
    a = np.asarray(argmax)
    if a.dtype.kind not in "iu" or a.shape != tuple(shape):
        raise ValueError(f"{op}: argmax must be the integer array of shape {tuple(shape)} returned by the "
                         f"forward pass, received {a.dtype} {a.shape}.")
    return np.ascontiguousarray(a, dtype=np.int32)


def max_pool2d_forward(inp, pool_size, strides=None, padding="valid", *, out=None, argmax=None):
    """MaxPooling2D: (N, H, W, C) → (N, OH, OW, C) and argmax (int32, same shape) holding the
    winning input position h·W + w (first maximum in row-major window order; NaN wins).
    Returns (out, argmax)."""
    op = "max_pool2d_forward"
    x = _image(inp, op)
    ks, ss, (oh, ow), (pt, pl) = _geometry2d(x.shape, pool_size, strides, padding, op)
    shape = (x.shape[0], oh, ow, x.shape[3])
    out = np.empty(shape, np.float32) if out is None else _check_out(out, shape, op, inputs=(x,))
    argmax = _argmax_buffer(argmax, shape, op)
    _core.maxpool_forward(x, out, argmax, ks[0], ks[1], ss[0], ss[1], pt, pl)
    return out, argmax


def max_pool2d_backward(dout, argmax, inp_shape, *, dinp=None):
    """dinp (overwritten, shape inp_shape) = dout scattered to the argmax positions (summed
    where windows overlap). Deterministic: one thread per image."""
    op = "max_pool2d_backward"
    s = _inp_shape(inp_shape, 4, op)
    dy = _as_input(dout, "dout", op, ndim=4)
    if dy.shape[0] != s[0] or dy.shape[3] != s[3]:
        raise ValueError(f"{op}: dout has shape {dy.shape} but the input was {s}; batch and channels must match.")
    a = _argmax_in(argmax, dy.shape, op)
    dinp = np.empty(s, np.float32) if dinp is None else _check_out(dinp, s, op, inputs=(dy,))
    _core.maxpool_backward(dy, a, dinp)
    return dinp


def avg_pool2d_forward(inp, pool_size, strides=None, padding="valid", *, out=None):
    """AveragePooling2D: mean over each window's real cells (padding excluded from the count)."""
    op = "avg_pool2d_forward"
    x = _image(inp, op)
    ks, ss, (oh, ow), (pt, pl) = _geometry2d(x.shape, pool_size, strides, padding, op)
    shape = (x.shape[0], oh, ow, x.shape[3])
    out = np.empty(shape, np.float32) if out is None else _check_out(out, shape, op, inputs=(x,))
    _core.avgpool_forward(x, out, ks[0], ks[1], ss[0], ss[1], pt, pl)
    return out


def avg_pool2d_backward(dout, inp_shape, pool_size, strides=None, padding="valid", *, dinp=None):
    """dinp (overwritten): each real cell of window (i, j) gets dout[:, i, j] / (real cells)."""
    op = "avg_pool2d_backward"
    s = _inp_shape(inp_shape, 4, op)
    ks, ss, (oh, ow), (pt, pl) = _geometry2d(s, pool_size, strides, padding, op)
    dy = _as_input(dout, "dout", op, ndim=4)
    if dy.shape != (s[0], oh, ow, s[3]):
        raise ValueError(f"{op}: dout has shape {dy.shape}, expected {(s[0], oh, ow, s[3])} for input {s}.")
    dinp = np.empty(s, np.float32) if dinp is None else _check_out(dinp, s, op, inputs=(dy,))
    _core.avgpool_backward(dy, dinp, ks[0], ks[1], ss[0], ss[1], pt, pl)
    return dinp


# ---- 1-D: (N, steps, C) viewed as (N, 1, steps, C) -------------------------------------------
def _seq(inp, op):
    x = _as_input(inp, "inp", op)
    if x.ndim != 3:
        raise ValueError(f"{op}: inp must be 3-D (samples, steps, channels), got shape {x.shape}.")
    return x


def _one(v, what, op):
    return _ints(v, 1, what, op)[0] if isinstance(v, (tuple, list)) else _ints(v, 1, what, op)[0]


def _args1(pool_size, strides, op):
    k = _one(pool_size, "pool_size", op)
    return (1, k), (1, k if strides is None else _one(strides, "strides", op))


def _view4(buf, shape3):
    return None if buf is None else buf.reshape(shape3[0], 1, shape3[1], shape3[2])


def _check3(buf, shape, op, name, inputs=()):
    if buf is None:
        return None
    try:
        return _check_out(buf, shape, op, inputs)
    except (TypeError, ValueError) as e:
        raise type(e)(str(e).replace(f"{op}: out", f"{op}: {name}", 1)) from None


def max_pool1d_forward(inp, pool_size=2, strides=None, padding="valid", *, out=None, argmax=None):
    """MaxPooling1D over the steps axis of (N, steps, C); argmax holds the winning step.
    Returns (out, argmax)."""
    op = "max_pool1d_forward"
    x = _seq(inp, op)
    k, s = _args1(pool_size, strides, op)
    _, _, (_, ow), _ = _geometry2d((x.shape[0], 1, x.shape[1], x.shape[2]), k, s, padding, op)
    shape = (x.shape[0], ow, x.shape[2])
    out = np.empty(shape, np.float32) if out is None else _check3(out, shape, op, "out", (x,))
    argmax = _argmax_buffer(argmax, shape, op)
    max_pool2d_forward(x[:, None], k, s, padding, out=_view4(out, shape), argmax=_view4(argmax, shape))
    return out, argmax


def max_pool1d_backward(dout, argmax, inp_shape, *, dinp=None):
    op = "max_pool1d_backward"
    s = _inp_shape(inp_shape, 3, op)
    dy = _as_input(dout, "dout", op, ndim=3)
    a = _argmax_in(argmax, dy.shape, op)
    dinp = np.empty(s, np.float32) if dinp is None else _check3(dinp, s, op, "dinp", (dy,))
    max_pool2d_backward(dy[:, None], a[:, None], (s[0], 1, s[1], s[2]), dinp=_view4(dinp, s))
    return dinp


def avg_pool1d_forward(inp, pool_size, strides=None, padding="valid", *, out=None):
    """AveragePooling1D over the steps axis (padding excluded from the count)."""
    op = "avg_pool1d_forward"
    x = _seq(inp, op)
    k, s = _args1(pool_size, strides, op)
    _, _, (_, ow), _ = _geometry2d((x.shape[0], 1, x.shape[1], x.shape[2]), k, s, padding, op)
    shape = (x.shape[0], ow, x.shape[2])
    out = np.empty(shape, np.float32) if out is None else _check3(out, shape, op, "out", (x,))
    avg_pool2d_forward(x[:, None], k, s, padding, out=_view4(out, shape))
    return out


def avg_pool1d_backward(dout, inp_shape, pool_size, strides=None, padding="valid", *, dinp=None):
    op = "avg_pool1d_backward"
    s = _inp_shape(inp_shape, 3, op)
    k, st = _args1(pool_size, strides, op)
    dy = _as_input(dout, "dout", op, ndim=3)
    dinp = np.empty(s, np.float32) if dinp is None else _check3(dinp, s, op, "dinp", (dy,))
    avg_pool2d_backward(dy[:, None], (s[0], 1, s[1], s[2]), k, st, padding, dinp=_view4(dinp, s))
    return dinp


# ---- global pooling: one window covering every position between batch and channels ---------
def _flat_positions(x, op):
    if x.ndim < 3:
        raise ValueError(f"{op}: inp must be (samples, ..., channels) with at least one spatial/step "
                         f"axis, got shape {x.shape}.")
    cells = int(np.prod(x.shape[1:-1], dtype=np.int64))
    if cells == 0:
        raise ValueError(f"{op}: inp {x.shape} has no positions to pool over.")
    return cells


def _global_shape(shape, keepdims):
    return (shape[0],) + ((1,) * (len(shape) - 2) if keepdims else ()) + (shape[-1],)


def global_avg_pool_forward(inp, *, keepdims=False, out=None):
    """GlobalAveragePooling1D/2D: mean over axes 1..ndim−2 → (N, C), or (N, 1, …, 1, C)."""
    op = "global_avg_pool_forward"
    x = _as_input(inp, "inp", op)
    cells = _flat_positions(x, op)
    n, c = x.shape[0], x.shape[-1]
    shape = _global_shape(x.shape, keepdims)
    out = np.empty(shape, np.float32) if out is None else _check_out(out, shape, op, inputs=(x,))
    _core.avgpool_forward(x.reshape(n, 1, cells, c), out.reshape(n, 1, 1, c), 1, cells, 1, 1, 0, 0)
    return out


def global_avg_pool_backward(dout, inp_shape, *, dinp=None):
    op = "global_avg_pool_backward"
    s = tuple(int(d) for d in inp_shape)
    cells = int(np.prod(s[1:-1], dtype=np.int64))
    dy = _as_input(dout, "dout", op)
    if dy.size != s[0] * s[-1] or dy.shape[0] != s[0]:
        raise ValueError(f"{op}: dout has shape {dy.shape}, expected {_global_shape(s, False)} (or keepdims).")
    dinp = np.empty(s, np.float32) if dinp is None else _check_out(dinp, s, op, inputs=(dy,))
    _core.avgpool_backward(dy.reshape(s[0], 1, 1, s[-1]), dinp.reshape(s[0], 1, cells, s[-1]), 1, cells, 1, 1, 0, 0)
    return dinp


def global_max_pool_forward(inp, *, keepdims=False, out=None, argmax=None):
    """GlobalMaxPooling1D/2D: max over axes 1..ndim−2; argmax (out's shape) = flat position.
    Returns (out, argmax)."""
    op = "global_max_pool_forward"
    x = _as_input(inp, "inp", op)
    cells = _flat_positions(x, op)
    n, c = x.shape[0], x.shape[-1]
    shape = _global_shape(x.shape, keepdims)
    out = np.empty(shape, np.float32) if out is None else _check_out(out, shape, op, inputs=(x,))
    argmax = _argmax_buffer(argmax, shape, op)
    _core.maxpool_forward(x.reshape(n, 1, cells, c), out.reshape(n, 1, 1, c), argmax.reshape(n, 1, 1, c),
                          1, cells, 1, 1, 0, 0)
    return out, argmax


def global_max_pool_backward(dout, argmax, inp_shape, *, dinp=None):
    op = "global_max_pool_backward"
    s = tuple(int(d) for d in inp_shape)
    cells = int(np.prod(s[1:-1], dtype=np.int64))
    dy = _as_input(dout, "dout", op)
    if dy.size != s[0] * s[-1] or dy.shape[0] != s[0]:
        raise ValueError(f"{op}: dout has shape {dy.shape}, expected {_global_shape(s, False)} (or keepdims).")
    a = _argmax_in(argmax, dy.shape, op)
    dinp = np.empty(s, np.float32) if dinp is None else _check_out(dinp, s, op, inputs=(dy,))
    _core.maxpool_backward(dy.reshape(s[0], 1, 1, s[-1]), a.reshape(s[0], 1, 1, s[-1]),
                           dinp.reshape(s[0], 1, cells, s[-1]))
    return dinp
