"""Fused cross-entropies in plain NumPy (float64 math): the twins of baeum.ops.losses.

Each returns ``(loss, dlogits)``: the per-sample loss (N,) and
``dloss[:, None] · ∂loss/∂logits`` (N, C). See docs/losses.md for the derivations.
"""
import numpy as np


def _log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def _finish(loss, grad, dloss, out, dlogits):
    n = loss.shape[0]
    dloss = np.ones(n) if dloss is None else np.asarray(dloss, dtype=np.float64)
    grad = grad * dloss[:, None]
    if out is None:
        out = np.empty(n, dtype=np.float32)
    if dlogits is None:
        dlogits = np.empty(grad.shape, dtype=np.float32)
    out[...] = loss
    dlogits[...] = grad
    return out, dlogits


def softmax_cross_entropy(logits, target, *, label_smoothing=0.0, dloss=None, out=None,
                          dlogits=None):
    """loss = −Σ_c t' log softmax(z);  dlogits = dloss·(softmax(z)·Σt' − t'),  t' = t(1−ls)+ls/C."""
    z = np.asarray(logits, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    c = z.shape[-1]
    t = t * (1.0 - label_smoothing) + label_smoothing / c if c else t
    logp = _log_softmax(z) if c else z
    loss = -(t * logp).sum(axis=-1)
    grad = np.exp(logp) * t.sum(axis=-1, keepdims=True) - t
    return _finish(loss, grad, dloss, out, dlogits)


def sparse_softmax_cross_entropy(logits, labels, *, dloss=None, out=None, dlogits=None):
    """loss = −log softmax(z)[label];  dlogits = dloss·(softmax(z) − onehot(label))."""
    z = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    n, c = z.shape
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        raise ValueError(f"sparse_softmax_cross_entropy: labels must be in [0, {c})")
    onehot = np.zeros((n, c))
    onehot[np.arange(n), labels] = 1.0
    logp = _log_softmax(z)
    loss = -(onehot * logp).sum(axis=-1)
    grad = np.exp(logp) - onehot
    return _finish(loss, grad, dloss, out, dlogits)


def sigmoid_binary_crossentropy(logits, target, *, label_smoothing=0.0, dloss=None, out=None,
                                dlogits=None):
    """loss = mean_d [max(z,0) − z t' + log(1+e^{−|z|})];  dlogits = dloss·(σ(z) − t')/D."""
    z = np.asarray(logits, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    d = z.shape[-1]
    elem = np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))
    loss = elem.mean(axis=-1) if d else np.zeros(z.shape[0])
    sig = np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))
    grad = (sig - t) / max(d, 1)
    return _finish(loss, grad, dloss, out, dlogits)
