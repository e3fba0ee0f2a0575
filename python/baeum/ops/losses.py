"""Fused, numerically stable cross-entropies: per-sample loss and d(loss)/d(logits) in one call.

All three take LOGITS (pre-activation) of shape (N, C) and return ``(loss, dlogits)``:

* ``loss[i]``      — the per-sample loss (N,), as Keras's ``from_logits=True`` formula;
* ``dlogits[i]``   — ``dloss[i] · ∂loss[i]/∂logits[i]`` (N, C); ``dloss`` defaults to ones.

Pass ``dloss`` = d(reduced value)/d(loss[i]) (e.g. ``sample_weight / N`` for Keras's
"sum_over_batch_size") and ``dlogits`` is the gradient of the reduced loss directly.
Derivation: docs/losses.md. NumPy twins: baeum.reference.softmax_cross_entropy, ...
"""
import numpy as np

from baeum import _core
from baeum.ops._checks import _as_float, _as_input, _check_out


def _fast(kernel, logits, target, label_smoothing, dloss, out, dlogits):
    """Training-loop fast path: the binding checks every shape and dtype itself; outputs are
    allocated here, so they cannot overlap the inputs. None means: take the checked path."""
    if (out is None and dlogits is None and type(logits) is np.ndarray and logits.ndim == 2
            and type(target) is np.ndarray and type(dloss) is np.ndarray
            and type(label_smoothing) is float and 0.0 <= label_smoothing <= 1.0):
        n, c = logits.shape
        out, dlogits = np.empty(n, np.float32), np.empty((n, c), np.float32)
        try:
            kernel(logits, target, out, dlogits, dloss, label_smoothing)
            return out, dlogits
        except (TypeError, ValueError):
            pass
    return None


def _outputs(op, n, c, dloss, out, dlogits, inputs):
    if dloss is None:
        dloss = np.ones(n, dtype=np.float32)
    else:
        dloss = _as_input(dloss, "dloss", op, ndim=1)
        if dloss.shape[0] != n:
            raise ValueError(f"{op}: dloss has shape {dloss.shape}, expected ({n},).")
    if out is None:
        out = np.empty(n, dtype=np.float32)
    else:
        _check_out(out, (n,), op, inputs=inputs)
    if dlogits is None:
        dlogits = np.empty((n, c), dtype=np.float32)
    else:
        _check_out(dlogits, (n, c), op, inputs=inputs + (out,))
    return dloss, out, dlogits


def _logits_and_target(op, logits, target, label_smoothing):
    logits = _as_input(logits, "logits", op, ndim=2)
    target = _as_input(target, "target", op)
    if target.shape != logits.shape:
        raise ValueError(
            f"{op}: target has shape {target.shape} but logits have shape {logits.shape}; "
            "they must match. Fix: one-hot encode integer labels (baeum.utils.to_categorical) "
            "or use sparse_softmax_cross_entropy."
        )
    ls = _as_float(label_smoothing, "label_smoothing", op)
    if not 0.0 <= ls <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {ls}.")
    return logits, target, ls


def softmax_cross_entropy(logits, target, *, label_smoothing=0.0, dloss=None, out=None,
                          dlogits=None):
    """Softmax + categorical cross-entropy over the last axis, fused.

    t' = target·(1 − ls) + ls/C (Keras label smoothing);
    loss[i] = −Σ_c t'_ic · log_softmax(logits_i)_c      (a SUM over classes, as Keras);
    dlogits[i] = dloss[i] · (softmax(logits_i) · Σ_c t'_ic − t'_i).
    Stable for any finite logits (max-subtracted log-sum-exp; no clipping).
    """
    fast = _fast(_core.softmax_cross_entropy, logits, target, label_smoothing, dloss, out, dlogits)
    if fast is not None:
        return fast
    op = "softmax_cross_entropy"
    logits, target, ls = _logits_and_target(op, logits, target, label_smoothing)
    n, c = logits.shape
    dloss, out, dlogits = _outputs(op, n, c, dloss, out, dlogits, (logits, target))
    _core.softmax_cross_entropy(logits, target, out, dlogits, dloss, ls)
    return out, dlogits


def sparse_softmax_cross_entropy(logits, labels, *, dloss=None, out=None, dlogits=None):
    """Softmax + cross-entropy with integer labels (N,), fused.

    loss[i] = logsumexp(logits_i) − logits_i[labels_i];
    dlogits[i] = dloss[i] · (softmax(logits_i) − onehot(labels_i)).
    Labels must be integers in [0, C); anything else raises ValueError.
    """
    op = "sparse_softmax_cross_entropy"
    logits = _as_input(logits, "logits", op, ndim=2)
    n, c = logits.shape
    labels = _as_labels(labels, c, op)
    if labels.shape != (n,):
        raise ValueError(
            f"{op}: labels have shape {labels.shape}, expected ({n},) for logits {logits.shape}."
        )
    dloss, out, dlogits = _outputs(op, n, c, dloss, out, dlogits, (logits,))
    _core.sparse_softmax_cross_entropy(logits, labels, out, dlogits, dloss)
    return out, dlogits


def sigmoid_binary_crossentropy(logits, target, *, label_smoothing=0.0, dloss=None, out=None,
                                dlogits=None):
    """Sigmoid + binary cross-entropy, fused; per-sample MEAN over the last axis (Keras).

    t' = target·(1 − ls) + ls/2;  ℓ(z, t') = max(z, 0) − z·t' + log(1 + e^{−|z|});
    loss[i] = mean_d ℓ(logits[i, d], t'[i, d]);
    dlogits[i, d] = dloss[i] · (σ(logits[i, d]) − t'[i, d]) / D.
    """
    fast = _fast(_core.sigmoid_binary_crossentropy, logits, target, label_smoothing, dloss, out, dlogits)
    if fast is not None:
        return fast
    op = "sigmoid_binary_crossentropy"
    logits, target, ls = _logits_and_target(op, logits, target, label_smoothing)
    n, d = logits.shape
    dloss, out, dlogits = _outputs(op, n, d, dloss, out, dlogits, (logits, target))
    _core.sigmoid_binary_crossentropy(logits, target, out, dlogits, dloss, ls)
    return out, dlogits


def _as_labels(labels, num_classes, op):
    """Integer class labels as a C-contiguous int64 array, range-checked against num_classes."""
    arr = np.asarray(labels)
    if arr.dtype.kind == "f":
        if arr.size and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
            raise ValueError(
                f"{op}: labels must be integer class indices, got non-integer values "
                f"(e.g. {arr[~(np.isfinite(arr) & (arr == np.round(arr)))].ravel()[0]!r}). "
                "Fix: pass class indices 0..C-1; for one-hot or probability targets use "
                "CategoricalCrossentropy."
            )
    elif arr.dtype.kind not in "iub":
        raise TypeError(f"{op}: labels must be integers, got dtype {arr.dtype}.")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= num_classes:
            bad = lo if lo < 0 else hi
            hint = (" Labels look 1-based (max == C): subtract 1."
                    if hi == num_classes and lo >= 1 else "")
            raise ValueError(
                f"{op}: labels must be in [0, {num_classes}) for {num_classes} classes, got "
                f"{bad}.{hint} Fix: map labels to 0..{num_classes - 1}, or give the output "
                f"layer as many units as there are classes."
            )
    return arr
