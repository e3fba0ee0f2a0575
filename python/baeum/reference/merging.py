"""Merge layers' math (Keras `layers/merging/*`): NumPy, the definition the layers call.

Shapes: every input is (N, …); elementwise merges broadcast like NumPy (a dimension of 1
against any size), so backward sums each gradient back over the broadcast dimensions.

    add:       y = Σ_i x_i                     dx_i = dy
    subtract:  y = x_0 − x_1                   dx_0 = dy, dx_1 = −dy
    multiply:  y = Π_i x_i                     dx_i = dy · Π_{j≠i} x_j
    average:   y = (1/n) Σ_i x_i               dx_i = dy / n
    maximum:   y = max_i x_i                   dx_i = dy where x_i is the first maximum (ties go to
    minimum:   y = min_i x_i                   the earliest input, as Keras's pairwise fold does)
    concatenate(axis): y = [x_0 | x_1 | …]     dx_i = the slice of dy that x_i filled
    dot(axes, normalize): y[n, a, b] = Σ_k x̂_0[n, a, k] · x̂_1[n, k, b] (contracted axes moved
        last / first), x̂ = x / sqrt(max(Σ_k x², 1e-12)) when normalize else x;
        dx̂_0 = dy · x̂_1ᵀ, dx̂_1 = x̂_0ᵀ · dy; through the normalisation
        dx = (dx̂ − x̂ (x̂·dx̂)) / ||x|| (dx̂ / sqrt(1e-12) where Σx² ≤ 1e-12).
"""
import numpy as np

OPS = ("add", "subtract", "multiply", "average", "maximum", "minimum")
_L2_EPS = 1e-12


def _unbroadcast(g, shape):
    """Sum g over the dimensions along which an input of `shape` was broadcast."""
    if g.shape == tuple(shape):
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def merge_forward(op, xs):
    """Elementwise merge of the list xs (op in OPS)."""
    if op not in OPS:
        raise ValueError(f"merge_forward: unknown op {op!r}; valid: {OPS}.")
    if op == "subtract":
        return xs[0] - xs[1]
    if op in ("maximum", "minimum"):
        out = xs[0]
        f = np.maximum if op == "maximum" else np.minimum
        for x in xs[1:]:
            out = f(out, x)
        return out
    out = xs[0]
    for x in xs[1:]:
        out = out * x if op == "multiply" else out + x
    if op == "average":
        out = out / len(xs)
    return out


def merge_backward(op, dy, xs):
    """[d loss / d x_i] for y = merge_forward(op, xs)."""
    n = len(xs)
    if op in ("add", "average"):
        g = dy / n if op == "average" else dy
        return [_unbroadcast(g, x.shape) for x in xs]
    if op == "subtract":
        return [_unbroadcast(dy, xs[0].shape), _unbroadcast(-dy, xs[1].shape)]
    if op == "multiply":
        out = []
        for i in range(n):
            g = dy
            for j, x in enumerate(xs):
                if j != i:
                    g = g * x
            out.append(_unbroadcast(g, xs[i].shape))
        return out
    if op in ("maximum", "minimum"):
        stacked = np.stack(np.broadcast_arrays(*xs))
        first = (np.argmax if op == "maximum" else np.argmin)(stacked, axis=0)
        return [_unbroadcast(np.where(first == i, dy, 0).astype(dy.dtype), x.shape) for i, x in enumerate(xs)]
    raise ValueError(f"merge_backward: unknown op {op!r}; valid: {OPS}.")


def concatenate_forward(xs, axis=-1):
    return np.concatenate(xs, axis=axis)


def concatenate_backward(dy, xs, axis=-1):
    bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return [np.ascontiguousarray(g) for g in np.split(dy, bounds, axis=axis)]


def _l2_normalize(x, axis):
    sq = np.sum(x * x, axis=axis, keepdims=True)
    inv = 1.0 / np.sqrt(np.maximum(sq, _L2_EPS))
    return x * inv, inv, sq > _L2_EPS


def _l2_normalize_backward(dxh, xh, inv, above, axis):
    proj = np.sum(xh * dxh, axis=axis, keepdims=True)
    return np.where(above, (dxh - xh * proj) * inv, dxh * inv)


def _dot_core(x0, x1, a0, a1):
    n = x0.shape[0]
    m0 = np.moveaxis(x0, a0, -1)
    m1 = np.moveaxis(x1, a1, 1)
    k = m0.shape[-1]
    y = np.matmul(m0.reshape(n, -1, k), m1.reshape(n, k, -1))
    shape = (n,) + m0.shape[1:-1] + m1.shape[2:]
    return y.reshape(shape if len(shape) > 1 else (n, 1)), m0, m1


def dot_forward(x0, x1, axes, normalize=False):
    """Batch dot of x0 (N, …) and x1 (N, …) contracting axis axes[0] of x0 with axes[1] of x1
    (axes ≥ 1, already made positive); (N,) results become (N, 1) as in Keras."""
    a0, a1 = axes
    if normalize:
        x0 = _l2_normalize(x0, a0)[0]
        x1 = _l2_normalize(x1, a1)[0]
    return _dot_core(x0, x1, a0, a1)[0]


def dot_backward(dy, x0, x1, axes, normalize=False):
    a0, a1 = axes
    if normalize:
        xh0, inv0, ab0 = _l2_normalize(x0, a0)
        xh1, inv1, ab1 = _l2_normalize(x1, a1)
    else:
        xh0, xh1 = x0, x1
    _, m0, m1 = _dot_core(xh0, xh1, a0, a1)
    n, k = x0.shape[0], m0.shape[-1]
    m0f, m1f = m0.reshape(n, -1, k), m1.reshape(n, k, -1)
    g = dy.reshape(n, m0f.shape[1], m1f.shape[2])
    d0 = np.moveaxis(np.matmul(g, np.swapaxes(m1f, 1, 2)).reshape(m0.shape), -1, a0)
    d1 = np.moveaxis(np.matmul(np.swapaxes(m0f, 1, 2), g).reshape(m1.shape), 1, a1)
    if normalize:
        d0 = _l2_normalize_backward(d0, xh0, inv0, ab0, a0)
        d1 = _l2_normalize_backward(d1, xh1, inv1, ab1, a1)
    return [np.ascontiguousarray(d0), np.ascontiguousarray(d1)]
