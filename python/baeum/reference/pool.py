"""Max / average / global pooling in plain NumPy loops (NHWC, Keras semantics).

Twins of baeum.ops.pool, same signatures. Derivations: docs/pooling_norm.md.

Geometry (Keras ``compute_pooling_output_shape``): for an input length n, window k, stride s:
``valid``: out = (n − k)//s + 1; ``same``: out = ceil(n/s) and the padding
total = max(0, (out − 1)·s + k − n) is split pad_before = total//2, the odd cell at the END.
Padded cells are never part of a window: max pooling ignores them, average pooling divides
by the number of REAL cells in the window (Keras excludes padding from the count).
"""
import numpy as np


def _store(value, out):
    if out is None:
        return np.asarray(value, dtype=np.float32)
    out[...] = value
    return out


def _pair(v):
    return (int(v), int(v)) if np.isscalar(v) else tuple(int(a) for a in v)


def pool_geometry(n, k, s, padding):
    """(output length, padding before) of one spatial axis."""
    if padding == "valid":
        return (n - k) // s + 1, 0
    out = -(-n // s)
    total = max(0, (out - 1) * s + k - n)
    return out, total // 2


def _windows(shape, pool_size, strides, padding):
    """Yield (i, j, rows, cols) for every output cell: the real input rows/cols it covers."""
    _, h, w, _ = shape
    (kh, kw), (sh, sw) = pool_size, strides
    oh, pt = pool_geometry(h, kh, sh, padding)
    ow, pl = pool_geometry(w, kw, sw, padding)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * sh - pt, j * sw - pl
            yield i, j, range(max(r0, 0), min(r0 + kh, h)), range(max(c0, 0), min(c0 + kw, w))


def _out_shape(shape, pool_size, strides, padding):
    n, h, w, c = shape
    return (n, pool_geometry(h, pool_size[0], strides[0], padding)[0],
            pool_geometry(w, pool_size[1], strides[1], padding)[0], c)


def _args(pool_size, strides, padding):
    pool_size = _pair(pool_size)
    return pool_size, pool_size if strides is None else _pair(strides), padding.lower()


def max_pool2d_forward(inp, pool_size, strides=None, padding="valid", *, out=None, argmax=None):
    """y[n,i,j,c] = max of x[n,h,w,c] over the window's real cells; argmax = h·W + w of the
    first maximum in row-major window order (a NaN wins, as np.argmax). Returns (out, argmax)."""
    x = np.asarray(inp, dtype=np.float64)  # exact for float32 inputs; keeps float64 for FD
    pool_size, strides, padding = _args(pool_size, strides, padding)
    shape = _out_shape(x.shape, pool_size, strides, padding)
    y = np.zeros(shape)
    a = np.full(shape, -1, np.int32)
    W = x.shape[2]
    for i, j, rows, cols in _windows(x.shape, pool_size, strides, padding):
        if len(rows) == 0 or len(cols) == 0:
            continue
        win = x[:, rows.start:rows.stop, cols.start:cols.stop, :]  # (N, kh', kw', C)
        flat = win.reshape(x.shape[0], len(rows) * len(cols), x.shape[3])
        k = np.argmax(flat, axis=1)  # (N, C) position inside the window
        y[:, i, j, :] = np.take_along_axis(flat, k[:, None, :], axis=1)[:, 0, :]
        a[:, i, j, :] = (rows.start + k // len(cols)) * W + cols.start + k % len(cols)
    if argmax is not None:
        argmax[...] = a
        a = argmax
    return _store(y, out), a


def max_pool2d_backward(dout, argmax, inp_shape, *, dinp=None):
    """dx[n, h, w, c] = Σ of dout[n, i, j, c] over the output cells whose argmax is h·W + w."""
    dy = np.asarray(dout, dtype=np.float64)
    n, h, w, c = inp_shape
    dx = np.zeros((n, h * w, c))
    for b in range(n):
        for i in range(dy.shape[1]):
            for j in range(dy.shape[2]):
                for ch in range(c):
                    k = argmax[b, i, j, ch]
                    if k >= 0:
                        dx[b, k, ch] += dy[b, i, j, ch]
    return _store(dx.reshape(inp_shape), dinp)


def avg_pool2d_forward(inp, pool_size, strides=None, padding="valid", *, out=None):
    """y[n,i,j,c] = mean of x[n,h,w,c] over the window's real cells (padding excluded)."""
    x = np.asarray(inp, dtype=np.float64)
    pool_size, strides, padding = _args(pool_size, strides, padding)
    y = np.zeros(_out_shape(x.shape, pool_size, strides, padding))
    for i, j, rows, cols in _windows(x.shape, pool_size, strides, padding):
        if len(rows) and len(cols):
            y[:, i, j, :] = x[:, rows.start:rows.stop, cols.start:cols.stop, :].mean(axis=(1, 2))
    return _store(y, out)


def avg_pool2d_backward(dout, inp_shape, pool_size, strides=None, padding="valid", *, dinp=None):
    """Each real cell of window (i, j) receives dout[n, i, j, c] / (number of real cells)."""
    dy = np.asarray(dout, dtype=np.float64)
    pool_size, strides, padding = _args(pool_size, strides, padding)
    dx = np.zeros(inp_shape)
    for i, j, rows, cols in _windows(inp_shape, pool_size, strides, padding):
        count = len(rows) * len(cols)
        if count:
            dx[:, rows.start:rows.stop, cols.start:cols.stop, :] += dy[:, i:i + 1, j:j + 1, :] / count
    return _store(dx, dinp)


# ---- 1-D: (N, steps, C) is the 2-D case with one row ----------------------------------------
def _one(v):
    return int(v) if np.isscalar(v) else int(tuple(v)[0])


def _args1(pool_size, strides):
    k = _one(pool_size)
    return (1, k), (1, k if strides is None else _one(strides))


def max_pool1d_forward(inp, pool_size=2, strides=None, padding="valid", *, out=None, argmax=None):
    """MaxPooling1D over axis 1 of (N, steps, C); argmax holds the step index."""
    x = np.asarray(inp, dtype=np.float64)  # exact for float32 inputs; keeps float64 for FD
    k, s = _args1(pool_size, strides)
    y, a = max_pool2d_forward(x[:, None], k, s, padding,
                              out=np.empty(_out_shape(x[:, None].shape, k, s, padding.lower())))
    if argmax is not None:
        argmax[...] = a[:, 0]
    return _store(y[:, 0], out), (a[:, 0] if argmax is None else argmax)


def max_pool1d_backward(dout, argmax, inp_shape, *, dinp=None):
    n, t, c = inp_shape
    dx = max_pool2d_backward(np.asarray(dout)[:, None], np.asarray(argmax)[:, None], (n, 1, t, c),
                             dinp=np.zeros((n, 1, t, c)))
    return _store(dx[:, 0], dinp)


def avg_pool1d_forward(inp, pool_size, strides=None, padding="valid", *, out=None):
    """AveragePooling1D over axis 1 of (N, steps, C), padding excluded from the count."""
    k, s = _args1(pool_size, strides)
    x = np.asarray(inp, dtype=np.float64)[:, None]
    y = avg_pool2d_forward(x, k, s, padding, out=np.empty(_out_shape(x.shape, k, s, padding.lower())))
    return _store(y[:, 0], out)


def avg_pool1d_backward(dout, inp_shape, pool_size, strides=None, padding="valid", *, dinp=None):
    n, t, c = inp_shape
    k, s = _args1(pool_size, strides)
    dx = avg_pool2d_backward(np.asarray(dout)[:, None], (n, 1, t, c), k, s, padding,
                             dinp=np.zeros((n, 1, t, c)))
    return _store(dx[:, 0], dinp)


# ---- global pooling: over every axis between the batch and the channels ----------------------
def _global_shape(shape, keepdims):
    return (shape[0],) + ((1,) * (len(shape) - 2) if keepdims else ()) + (shape[-1],)


def global_avg_pool_forward(inp, *, keepdims=False, out=None):
    """GlobalAveragePooling1D/2D: mean over axes 1..ndim−2 → (N, C) (or keepdims)."""
    x = np.asarray(inp, dtype=np.float64)
    axes = tuple(range(1, x.ndim - 1))
    return _store(x.mean(axis=axes).reshape(_global_shape(x.shape, keepdims)), out)


def global_avg_pool_backward(dout, inp_shape, *, dinp=None):
    """Each position receives dout / (number of positions)."""
    dy = np.asarray(dout, dtype=np.float64)
    n, c = inp_shape[0], inp_shape[-1]
    cells = int(np.prod(inp_shape[1:-1]))
    dx = np.broadcast_to(dy.reshape(n, *([1] * (len(inp_shape) - 2)), c) / cells, inp_shape)
    return _store(dx, dinp)


def global_max_pool_forward(inp, *, keepdims=False, out=None, argmax=None):
    """GlobalMaxPooling1D/2D: max over axes 1..ndim−2; argmax = flat position (first max).
    Returns (out, argmax), both of the output's shape."""
    x = np.asarray(inp, dtype=np.float64)  # exact for float32 inputs; keeps float64 for FD
    n, c = x.shape[0], x.shape[-1]
    flat = x.reshape(n, int(np.prod(x.shape[1:-1])), c)
    k = np.argmax(flat, axis=1).astype(np.int32)
    y = np.take_along_axis(flat, k[:, None, :], axis=1)[:, 0, :]
    shape = _global_shape(x.shape, keepdims)
    if argmax is not None:
        argmax[...] = k.reshape(shape)
    return _store(y.reshape(shape), out), (k.reshape(shape) if argmax is None else argmax)


def global_max_pool_backward(dout, argmax, inp_shape, *, dinp=None):
    """The whole gradient of each (n, c) goes to its argmax position."""
    dy = np.asarray(dout, dtype=np.float64)
    n, c = inp_shape[0], inp_shape[-1]
    dx = np.zeros((n, int(np.prod(inp_shape[1:-1])), c))
    k = np.asarray(argmax).reshape(n, c)
    for b in range(n):
        for ch in range(c):
            dx[b, k[b, ch], ch] += dy.reshape(n, c)[b, ch]
    return _store(dx.reshape(inp_shape), dinp)
