"""Batch and layer normalization in plain NumPy (float64 math, float32 results).

Twins of baeum.ops.norm, same signatures. Keras formulas (KERAS_SEMANTICS.md §1.3):
biased variance, ε = 1e-3, moving ← moving·momentum + batch·(1 − momentum).
Derivations: docs/pooling_norm.md.
"""
import numpy as np


def _store(value, out):
    if out is None:
        return np.asarray(value, dtype=np.float32)
    out[...] = value
    return out


def _bn_axes(ndim, axis):
    axis = axis % ndim
    return axis, tuple(a for a in range(ndim) if a != axis)


def _bcast(v, ndim, axis):
    shape = [1] * ndim
    shape[axis] = -1
    return np.asarray(v, dtype=np.float64).reshape(shape)


def batch_norm_forward(inp, gamma, beta, moving_mean, moving_variance, *, axis=-1, momentum=0.99,
                       epsilon=1e-3, training=False, out=None):
    """training: μ, σ² (biased) over every axis but `axis`; y = γ(x − μ)/sqrt(σ² + ε) + β;
    moving_mean / moving_variance ← moving·momentum + batch·(1 − momentum) IN PLACE.
    inference: the same with the moving statistics (not updated).
    Returns (out, save_mean, save_invstd) — the μ and 1/sqrt(σ² + ε) used, for the backward.
    An empty training batch normalises nothing and leaves the moving statistics alone."""
    x = np.asarray(inp, dtype=np.float64)
    ax, red = _bn_axes(x.ndim, axis)
    c = x.shape[ax]
    g = np.ones(c) if gamma is None else np.asarray(gamma, np.float64)
    b = np.zeros(c) if beta is None else np.asarray(beta, np.float64)
    if training and x.size:
        mean = x.mean(axis=red)
        var = ((x - _bcast(mean, x.ndim, ax)) ** 2).mean(axis=red)
        m32 = np.float32(momentum)
        moving_mean[...] = moving_mean * m32 + mean.astype(np.float32) * (np.float32(1) - m32)
        moving_variance[...] = moving_variance * m32 + var.astype(np.float32) * (np.float32(1) - m32)
    else:
        mean = np.asarray(moving_mean, np.float64).copy()
        var = np.asarray(moving_variance, np.float64).copy()
    invstd = 1.0 / np.sqrt(var + epsilon)
    y = (x - _bcast(mean, x.ndim, ax)) * _bcast(invstd * g, x.ndim, ax) + _bcast(b, x.ndim, ax)
    return _store(y, out), mean.astype(np.float32), invstd.astype(np.float32)


def batch_norm_backward(dout, inp, save_mean, save_invstd, gamma, *, axis=-1, training=True,
                        dgamma=None, dbeta=None, dinp=None):
    """x̂ = (x − μ)·invstd; dβ += Σ dy; dγ += Σ dy·x̂ (over every axis but `axis`);
    training:  dx = γ·invstd/M · (M·dy − Σ dy − x̂·Σ dy·x̂),  M = number of reduced elements
    inference: dx = γ·invstd·dy. Writes dinp when given; returns dinp."""
    dy = np.asarray(dout, dtype=np.float64)
    x = np.asarray(inp, dtype=np.float64)
    ax, red = _bn_axes(x.ndim, axis)
    c = x.shape[ax]
    g = np.ones(c) if gamma is None else np.asarray(gamma, np.float64)
    mu = _bcast(save_mean, x.ndim, ax)
    inv = _bcast(save_invstd, x.ndim, ax)
    xhat = (x - mu) * inv
    s1 = dy.sum(axis=red)
    s2 = (dy * xhat).sum(axis=red)
    if dbeta is not None:
        dbeta += s1
    if dgamma is not None:
        dgamma += s2
    if dinp is None:
        return None
    if training:
        m = max(x.size // max(c, 1), 1)  # (an empty batch has nothing to differentiate)
        dx = _bcast(g, x.ndim, ax) * inv / m * (m * dy - _bcast(s1, x.ndim, ax) - xhat * _bcast(s2, x.ndim, ax))
    else:
        dx = _bcast(g, x.ndim, ax) * inv * dy
    return _store(dx, dinp)


def _ln_axes(ndim, axis):
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    return tuple(sorted(a % ndim for a in axes))


def layer_norm_forward(inp, gamma, beta, *, axis=-1, epsilon=1e-3, out=None):
    """μ, σ² (biased) over `axis` (int or tuple) per sample; y = γ(x − μ)/sqrt(σ² + ε) + β,
    γ and β shaped like the normalised axes. Returns (out, save_mean, save_invstd), the
    statistics with the normalised axes kept as size 1."""
    x = np.asarray(inp, dtype=np.float64)
    axes = _ln_axes(x.ndim, axis)
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    invstd = 1.0 / np.sqrt(var + epsilon)
    shape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]
    g = 1.0 if gamma is None else np.asarray(gamma, np.float64).reshape(shape)
    b = 0.0 if beta is None else np.asarray(beta, np.float64).reshape(shape)
    y = g * (x - mean) * invstd + b
    return _store(y, out), mean.astype(np.float32), invstd.astype(np.float32)


def layer_norm_backward(dout, inp, save_mean, save_invstd, gamma, *, axis=-1, dgamma=None, dbeta=None,
                        dinp=None):
    """g = dy·γ; dx = invstd·(g − mean(g) − x̂·mean(g·x̂)) over the normalised axes;
    dγ += Σ_samples dy·x̂; dβ += Σ_samples dy. Writes dinp when given; returns dinp."""
    dy = np.asarray(dout, dtype=np.float64)
    x = np.asarray(inp, dtype=np.float64)
    axes = _ln_axes(x.ndim, axis)
    other = tuple(a for a in range(x.ndim) if a not in axes)
    shape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]
    mean = np.asarray(save_mean, np.float64)
    invstd = np.asarray(save_invstd, np.float64)
    xhat = (x - mean) * invstd
    if dbeta is not None:
        dbeta += dy.sum(axis=other).reshape(dbeta.shape)
    if dgamma is not None:
        dgamma += (dy * xhat).sum(axis=other).reshape(dgamma.shape)
    if dinp is None:
        return None
    g = dy * (1.0 if gamma is None else np.asarray(gamma, np.float64).reshape(shape))
    dx = invstd * (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True))
    return _store(dx, dinp)
