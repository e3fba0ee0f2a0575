"""Batch normalization and layer normalization (Keras formulas), forward and fused backward.

Keras semantics (KERAS_SEMANTICS.md §1.3): biased batch variance, ε = 1e-3,
moving ← moving·momentum + batch·(1 − momentum) (the biased variance goes into the moving
variance too). Kernels: csrc/baeum/norm.cpp (the channel / feature axis must be last there;
other axes are moved last with one copy). NumPy twins: baeum.reference.norm.
Derivations: docs/pooling_norm.md.
"""
import numpy as np

from baeum import _core
from baeum.ops._checks import _as_float, _as_input, _check_out


def _vec(v, n, name, op):
    if v is None:
        return None
    a = _as_input(v, name, op)
    if a.size != n:
        raise ValueError(f"{op}: {name} has shape {a.shape}, expected ({n},) (one value per normalised feature).")
    return a.reshape(n)


def _state(v, n, name, op):
    """moving_mean / moving_variance: updated in place, so never converted or copied."""
    if (not isinstance(v, np.ndarray) or v.dtype != np.float32 or v.size != n or not v.flags.c_contiguous
            or not v.flags.writeable):
        raise ValueError(f"{op}: {name} must be a writable float32 C-contiguous array of {n} values "
                         f"(it is updated in place), received {getattr(v, 'dtype', type(v).__name__)} "
                         f"{getattr(v, 'shape', '')}.")
    return v.reshape(n)


def _grad(v, n, name, op):
    if v is None:
        return None
    return _state(v, n, name, op)


def _axis(ndim, axis, op):
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for a {ndim}-D input.")
    return axis % ndim


def _to_last(x, axis):
    """(R, C) view (or copy, when `axis` is not last) of x with the channel axis last."""
    if axis == x.ndim - 1:
        return x.reshape(-1, x.shape[-1]) if x.ndim != 1 else x.reshape(1, -1)
    return np.ascontiguousarray(np.moveaxis(x, axis, -1)).reshape(-1, x.shape[axis])


def _from_last(y2, shape, axis):
    moved = tuple(s for i, s in enumerate(shape) if i != axis) + (shape[axis],)
    return np.moveaxis(y2.reshape(moved), -1, axis)


def batch_norm_forward(inp, gamma, beta, moving_mean, moving_variance, *, axis=-1, momentum=0.99,
                       epsilon=1e-3, training=False, out=None):
    """training: normalise with the batch mean and biased variance over every axis but `axis`
    and update moving_mean / moving_variance in place (Keras momentum rule); inference: use
    the moving statistics. gamma / beta may be None (scale / center False).
    Returns (out, save_mean, save_invstd) for batch_norm_backward."""
    op = "batch_norm_forward"
    x = _as_input(inp, "inp", op)
    if x.ndim < 1:
        raise ValueError(f"{op}: inp must have at least one axis.")
    ax = _axis(x.ndim, axis, op)
    c = x.shape[ax]
    g, b = _vec(gamma, c, "gamma", op), _vec(beta, c, "beta", op)
    mm = _state(moving_mean, c, "moving_mean", op)
    mv = _state(moving_variance, c, "moving_variance", op)
    eps, mom = _as_float(epsilon, "epsilon", op), _as_float(momentum, "momentum", op)
    if out is not None:
        _check_out(out, x.shape, op, inputs=(x,))
    x2 = _to_last(x, ax)
    last = ax == x.ndim - 1
    y2 = out.reshape(x2.shape) if (out is not None and last) else np.empty(x2.shape, np.float32)
    save_mean, save_invstd = np.empty(c, np.float32), np.empty(c, np.float32)
    _core.batchnorm_forward(x2, g, b, mm, mv, y2, save_mean, save_invstd, eps, mom, bool(training))
    y = y2.reshape(x.shape) if last else _from_last(y2, x.shape, ax)
    if out is not None and not last:
        out[...] = y
        y = out
    elif out is None and not last:
        y = np.ascontiguousarray(y)
    return (out if out is not None else y), save_mean, save_invstd


def batch_norm_backward(dout, inp, save_mean, save_invstd, gamma, *, axis=-1, training=True,
                        dgamma=None, dbeta=None, dinp=None):
    """dβ += Σ dy, dγ += Σ dy·x̂ (when given); dinp (written, when given):
    training γ·invstd/M·(M·dy − Σdy − x̂·Σdy·x̂), inference γ·invstd·dy. Returns dinp."""
    op = "batch_norm_backward"
    dy = _as_input(dout, "dout", op)
    x = _as_input(inp, "inp", op)
    if dy.shape != x.shape:
        raise ValueError(f"{op}: dout has shape {dy.shape} but inp has shape {x.shape}; they must match.")
    ax = _axis(x.ndim, axis, op)
    c = x.shape[ax]
    sm, si = _vec(save_mean, c, "save_mean", op), _vec(save_invstd, c, "save_invstd", op)
    g = _vec(gamma, c, "gamma", op)
    dg, db = _grad(dgamma, c, "dgamma", op), _grad(dbeta, c, "dbeta", op)
    if dinp is not None:
        _check_out(dinp, x.shape, op, inputs=(x, dy))
    last = ax == x.ndim - 1
    x2, dy2 = _to_last(x, ax), _to_last(dy, ax)
    dx2 = None if dinp is None else (dinp.reshape(x2.shape) if last else np.empty(x2.shape, np.float32))
    _core.batchnorm_backward(dy2, x2, sm, si, g, dg, db, dx2, bool(training))
    if dinp is not None and not last:
        dinp[...] = _from_last(dx2, x.shape, ax)
    return dinp


def _ln_axes(ndim, axis, op):
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if not axes or any(not -ndim <= a < ndim for a in axes):
        raise ValueError(f"{op}: axis {axis!r} is out of range for a {ndim}-D input.")
    axes = tuple(sorted({int(a) % ndim for a in axes}))
    return axes


def _ln_layout(x, axes):
    """(R, D) array with the normalised axes last (a view when they already are)."""
    other = tuple(a for a in range(x.ndim) if a not in axes)
    d = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    trailing = axes == tuple(range(x.ndim - len(axes), x.ndim))
    if trailing:
        return x.reshape(-1, d), trailing, other
    return np.ascontiguousarray(np.transpose(x, other + axes)).reshape(-1, d), trailing, other


def _ln_back(y2, shape, axes, other):
    moved = tuple(shape[a] for a in other + axes)
    return np.transpose(y2.reshape(moved), np.argsort(other + axes))


def _stat_shape(shape, axes):
    return tuple(1 if a in axes else s for a, s in enumerate(shape))


def layer_norm_forward(inp, gamma, beta, *, axis=-1, epsilon=1e-3, out=None):
    """Per sample, normalise over `axis` (int or tuple; biased variance, ε = 1e-3 as Keras):
    y = γ(x − μ)/sqrt(σ² + ε) + β. Returns (out, save_mean, save_invstd); the statistics have
    the input's shape with the normalised axes set to 1."""
    op = "layer_norm_forward"
    x = _as_input(inp, "inp", op)
    axes = _ln_axes(x.ndim, axis, op)
    x2, trailing, other = _ln_layout(x, axes)
    d = x2.shape[1]
    g, b = _vec(gamma, d, "gamma", op), _vec(beta, d, "beta", op)
    eps = _as_float(epsilon, "epsilon", op)
    if out is not None:
        _check_out(out, x.shape, op, inputs=(x,))
    y2 = out.reshape(x2.shape) if (out is not None and trailing) else np.empty(x2.shape, np.float32)
    r = x2.shape[0]
    sm, si = np.empty(r, np.float32), np.empty(r, np.float32)
    _core.layernorm_forward(x2, g, b, y2, sm, si, eps)
    if trailing:
        y = y2.reshape(x.shape)
    else:
        y = _ln_back(y2, x.shape, axes, other)
        if out is not None:
            out[...] = y
        y = out if out is not None else np.ascontiguousarray(y)
    st = _stat_shape(x.shape, axes)
    return y, sm.reshape(st), si.reshape(st)


def layer_norm_backward(dout, inp, save_mean, save_invstd, gamma, *, axis=-1, dgamma=None, dbeta=None,
                        dinp=None):
    """g = dy·γ; dinp = invstd·(g − mean(g) − x̂·mean(g·x̂)) (written, when given);
    dγ += Σ_samples dy·x̂, dβ += Σ_samples dy (when given). Returns dinp."""
    op = "layer_norm_backward"
    dy = _as_input(dout, "dout", op)
    x = _as_input(inp, "inp", op)
    if dy.shape != x.shape:
        raise ValueError(f"{op}: dout has shape {dy.shape} but inp has shape {x.shape}; they must match.")
    axes = _ln_axes(x.ndim, axis, op)
    x2, trailing, other = _ln_layout(x, axes)
    dy2 = _ln_layout(dy, axes)[0]
    r, d = x2.shape
    sm, si = _vec(save_mean, r, "save_mean", op), _vec(save_invstd, r, "save_invstd", op)
    g = _vec(gamma, d, "gamma", op)
    dg, db = _grad(dgamma, d, "dgamma", op), _grad(dbeta, d, "dbeta", op)
    if dinp is not None:
        _check_out(dinp, x.shape, op, inputs=(x, dy))
    dx2 = None if dinp is None else (dinp.reshape(x2.shape) if trailing else np.empty(x2.shape, np.float32))
    _core.layernorm_backward(dy2, x2, sm, si, g, dg, db, dx2)
    if dinp is not None and not trailing:
        dinp[...] = _ln_back(dx2, x.shape, axes, other)
    return dinp
