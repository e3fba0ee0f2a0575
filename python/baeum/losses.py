"""Losses with Keras 3 semantics (``keras.losses``), plus the gradients the trainer needs.

Every loss object is called like Keras (``loss(y_true, y_pred, sample_weight=None)``) and
also gives what the model uses each training step:

* ``loss.value_and_grad(y_true, y_pred, sample_weight=None) -> (value, grad)``: the reduced
  Keras value and ``d value / d y_pred`` (float32, y_pred's shape).
* ``loss.value_and_grad_logits(y_true, logits, activation, sample_weight=None)``: the same
  but with respect to the output layer's PRE-activation, through a fused, stable C++ kernel
  for sigmoid+BinaryCrossentropy and softmax+(Sparse)CategoricalCrossentropy; ``None`` when
  the pair has no fused path (the model then uses value_and_grad).

Pipeline (Keras ``Loss.__call__``): cast to float32 → align ranks ((N,) vs (N,1) only) →
per-sample values ``L`` (mean over the last axis; the cross-entropies over classes are SUMS)
→ ``L·w`` → reduction. Default ``"sum_over_batch_size"`` divides by the number of entries of
``L``, NOT by Σw (Keras; PyTorch-style weighted mean is ``"mean_with_sample_weight"``).
``reduction="none"`` returns per-sample values from ``__call__``; its ``value_and_grad``
value is their sum (what Keras's fit does with an unreduced loss).

Fused-path values: the logits formula (what TF-Keras computes when the output comes from a
sigmoid/softmax). It equals Keras's clipped probability formula to float32 round-off while
every probability stays in [1e-7, 1-1e-7]; when saturated it gives the true (larger) loss
instead of capping each term at −log(1e-7) ≈ 16.12, and a non-zero gradient. docs/losses.md.
"""
import inspect
import re

import numpy as np

from baeum import ops

EPSILON = 1e-7  # keras.backend.epsilon()
# Keras clips in float32: the bounds are the float32 numbers 1e-7 and 1 − 1e-7.
_LO = float(np.float32(EPSILON))
_HI = float(np.float32(1.0) - np.float32(EPSILON))
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none")


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _f64(x, name="y"):
    """Keras casts to the loss dtype (float32) first; we then do the math in float64.

    float64 inputs are kept as they are (so finite-difference tests can see small steps).
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"loss: {name} must hold real numbers, got dtype {arr.dtype}.")
    if arr.dtype != np.float64:
        arr = arr.astype(np.float32)
    return arr.astype(np.float64)


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras's rank alignment: only a trailing size-1 axis is dropped or added."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def standardize_reduction(reduction):
    if reduction is None:
        return "none"
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid reduction {reduction!r}. Expected one of {list(REDUCTIONS) + [None]}."
        )
    return reduction


def _coefficients(shape, sample_weight, mask, reduction):
    """Per-entry factors c (shape `shape`) with reduced value = Σ c·L, as Keras reduces.

    Also returns the weights w that multiply L for reduction="none" (c == w then).
    """
    sw = None if sample_weight is None else _f64(sample_weight, "sample_weight")
    if mask is not None:  # Keras apply_mask: masked entries get weight 0, others total/valid
        m = mask.astype(np.float64)
        if reduction in ("mean", "sum_over_batch_size"):
            m = m * (m.size / (m.sum() + EPSILON))
        if sw is not None:
            m, sw = squeeze_or_expand_to_same_rank(m, sw)
            sw = sw * m
        else:
            sw = m
    if sw is None:
        w, divisor_sw = np.ones(shape), None
    else:
        vals, sw = squeeze_or_expand_to_same_rank(np.zeros(shape), sw)
        if sw.ndim < vals.ndim:  # (N,) weights on (N, T) losses: one weight per sample, as
            sw = sw.reshape(sw.shape + (1,) * (vals.ndim - sw.ndim))  # tf.keras did
        try:
            w = np.broadcast_to(sw, np.broadcast_shapes(vals.shape, sw.shape))
        except ValueError:
            raise ValueError(
                f"sample_weight of shape {np.shape(sample_weight)} does not match the "
                f"per-sample losses of shape {shape}. Fix: pass one weight per sample, "
                f"shape {shape}."
            ) from None
        if w.size != int(np.prod(shape)):
            raise ValueError(
                f"sample_weight of shape {np.shape(sample_weight)} would broadcast the "
                f"per-sample losses {shape} to {w.shape}. Fix: pass shape {shape}."
            )
        w, divisor_sw = w.reshape(shape), sw
    size = int(np.prod(shape))
    if reduction in ("sum", "none"):
        return w
    if reduction == "mean_with_sample_weight" and divisor_sw is not None:
        divisor = float(np.sum(divisor_sw))
    else:
        divisor = float(size)
    return w / divisor if divisor != 0.0 else np.zeros(shape)  # divide_no_nan


def _activation_name(activation):
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", getattr(activation, "name", None))


class Loss:
    """Base class: ``__call__`` = Keras; subclasses implement ``_fn`` on aligned float64 arrays."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        if dtype not in (None, "float32", np.float32):
            raise NotImplementedError(f"{type(self).__name__}: only dtype float32 is supported.")
        self.dtype = "float32"

    # --- subclass hooks -------------------------------------------------------------
    def _align(self, y_true, y_pred):
        yt, yp = squeeze_or_expand_to_same_rank(_f64(y_true, "y_true"), _f64(y_pred, "y_pred"))
        if yt.shape != yp.shape:
            raise ValueError(
                f"{type(self).__name__}: y_true has shape {np.shape(y_true)} but y_pred has "
                f"shape {np.shape(y_pred)}; they must match (only (N,) vs (N, 1) is aligned "
                "automatically). Fix: reshape the targets to the model output's shape."
            )
        return yt, yp

    def _fn(self, yt, yp, grad):
        """-> (per-sample L, dL/dyp or None, mask or None). yt, yp: aligned float64."""
        raise NotImplementedError

    # --- Keras API --------------------------------------------------------------------
    def call(self, y_true, y_pred):
        """Per-sample losses (float32), before weighting and reduction."""
        yt, yp = self._align(y_true, y_pred)
        return self._fn(yt, yp, False)[0].astype(np.float32)

    def __call__(self, y_true, y_pred, sample_weight=None):
        value, _ = self._value(y_true, y_pred, sample_weight, grad=False)
        return value

    def value_and_grad(self, y_true, y_pred, sample_weight=None):
        """(reduced value: float, d value / d y_pred: float32 array of y_pred's shape)."""
        value, g = self._value(y_true, y_pred, sample_weight, grad=True)
        if self.reduction == "none":
            value = float(np.sum(value, dtype=np.float64))
        return value, g.astype(np.float32)

    def value_and_grad_logits(self, y_true, logits, activation, sample_weight=None):
        """Fused loss(activation(logits)) and its gradient w.r.t. logits, or None."""
        return None

    def _value(self, y_true, y_pred, sample_weight, grad):
        shape = np.shape(y_pred)
        yt, yp = self._align(y_true, y_pred)
        L, dL, mask = self._fn(yt, yp, grad)
        c = _coefficients(L.shape, sample_weight, mask, self.reduction)
        if self.reduction == "none":
            value = (L * c).astype(np.float32)
        else:
            value = float(np.sum(L * c)) if L.size else 0.0
        if not grad:
            return value, None
        return value, (dL * c[..., None]).reshape(shape)  # float64 here

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


# --- regression losses -----------------------------------------------------------------

class MeanSquaredError(Loss):
    """L = mean((y − ŷ)²) over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name, reduction, dtype)

    def _fn(self, yt, yp, grad):
        d = yp - yt
        return np.mean(d * d, axis=-1), (2.0 * d / d.shape[-1] if grad else None), None


class MeanAbsoluteError(Loss):
    """L = mean(|y − ŷ|); gradient sign(ŷ − y)/D (0 where equal)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name, reduction, dtype)

    def _fn(self, yt, yp, grad):
        d = yp - yt
        return np.mean(np.abs(d), axis=-1), (np.sign(d) / d.shape[-1] if grad else None), None


class MeanAbsolutePercentageError(Loss):
    """L = 100 · mean(|(y − ŷ) / max(|y|, ε)|), ε = 1e-7."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(name, reduction, dtype)

    def _fn(self, yt, yp, grad):
        den = np.maximum(np.abs(yt), _LO)
        L = 100.0 * np.mean(np.abs((yt - yp) / den), axis=-1)
        return L, (100.0 * np.sign(yp - yt) / den / yp.shape[-1] if grad else None), None


class MeanSquaredLogarithmicError(Loss):
    """L = mean((log(max(ŷ, ε) + 1) − log(max(y, ε) + 1))²)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(name, reduction, dtype)

    def _fn(self, yt, yp, grad):
        a = np.log(np.maximum(yp, _LO) + 1.0)
        d = a - np.log(np.maximum(yt, _LO) + 1.0)
        L = np.mean(d * d, axis=-1)
        if not grad:
            return L, None, None
        return L, 2.0 * d / (np.maximum(yp, _LO) + 1.0) * (yp >= _LO) / yp.shape[-1], None


class Huber(Loss):
    """e = ŷ − y; 0.5e² if |e| ≤ δ else δ|e| − 0.5δ²; mean over the last axis."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(name, reduction, dtype)
        self.delta = float(delta)

    def _fn(self, yt, yp, grad):
        e = yp - yt
        small = np.abs(e) <= self.delta
        L = np.mean(np.where(small, 0.5 * e * e, self.delta * np.abs(e) - 0.5 * self.delta ** 2),
                    axis=-1)
        if not grad:
            return L, None, None
        return L, np.where(small, e, self.delta * np.sign(e)) / e.shape[-1], None

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class LogCosh(Loss):
    """L = mean(log cosh(ŷ − y)), computed as x + softplus(−2x) − log 2."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(name, reduction, dtype)

    def _fn(self, yt, yp, grad):
        x = yp - yt
        L = np.mean(x + np.logaddexp(0.0, -2.0 * x) - np.log(2.0), axis=-1)
        return L, (np.tanh(x) / x.shape[-1] if grad else None), None


def _hinge_labels(yt):
    """Keras: if every label is 0 or 1 they are mapped to −1/+1."""
    if yt.size and np.all((yt == 0) | (yt == 1)):
        return 2.0 * yt - 1.0
    return yt


class Hinge(Loss):
    """L = mean(max(1 − y·ŷ, 0)); {0,1} labels become {−1,+1} first (Keras)."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(name, reduction, dtype)

    def _fn(self, yt, yp, grad):
        y = _hinge_labels(yt)
        h = 1.0 - y * yp
        L = np.mean(np.maximum(h, 0.0), axis=-1)
        return L, (-y * (h > 0) / yp.shape[-1] if grad else None), None


class SquaredHinge(Loss):
    """L = mean(max(1 − y·ŷ, 0)²); {0,1} labels become {−1,+1} first (Keras)."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(name, reduction, dtype)

    def _fn(self, yt, yp, grad):
        y = _hinge_labels(yt)
        h = np.maximum(1.0 - y * yp, 0.0)
        return np.mean(h * h, axis=-1), (-2.0 * y * h / yp.shape[-1] if grad else None), None


class KLDivergence(Loss):
    """L = Σ y·log(y/ŷ) over the last axis, with y and ŷ clipped to [ε, 1] (Keras)."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name, reduction, dtype)

    def _fn(self, yt, yp, grad):
        t = np.clip(yt, _LO, 1.0)
        p = np.clip(yp, _LO, 1.0)
        L = np.sum(t * np.log(t / p), axis=-1)
        return L, (-t / p * ((yp >= _LO) & (yp <= 1.0)) if grad else None), None


class CategoricalHinge(Loss):
    """pos = Σ y·ŷ, neg = max((1 − y)·ŷ) over the last axis; L = max(neg − pos + 1, 0)."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(name, reduction, dtype)

    def _fn(self, yt, yp, grad):
        pos = np.sum(yt * yp, axis=-1)
        other = (1.0 - yt) * yp
        neg = np.max(other, axis=-1) if yp.shape[-1] else np.zeros(pos.shape)
        L = np.maximum(neg - pos + 1.0, 0.0)
        if not grad:
            return L, None, None
        # d neg / d ŷ: (1 − y) at the (first) arg-max of (1 − y)·ŷ
        at_max = np.eye(yp.shape[-1])[np.argmax(other, axis=-1)]
        g = ((1.0 - yt) * at_max - yt) * (L > 0)[..., None]
        return L, g, None


class Poisson(Loss):
    """L = mean(ŷ − y·log(ŷ + ε)) over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(name, reduction, dtype)

    def _fn(self, yt, yp, grad):
        L = np.mean(yp - yt * np.log(yp + _LO), axis=-1)
        return L, ((1.0 - yt / (yp + _LO)) / yp.shape[-1] if grad else None), None


class CosineSimilarity(Loss):
    """L = −Σ ŷ_n·y_n over the last axis, x_n = x / sqrt(max(Σx², 1e-12)) (Keras l2_normalize).

    Keras's loss is the NEGATIVE cosine similarity (−1 = perfectly aligned), so minimising
    it aligns ŷ with y.
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(name, reduction, dtype)
        self.axis = _check_axis(axis, "CosineSimilarity")

    def _fn(self, yt, yp, grad):
        a = yt / np.sqrt(np.maximum(np.sum(yt * yt, axis=-1, keepdims=True), 1e-12))
        sq = np.sum(yp * yp, axis=-1, keepdims=True)
        n = np.sqrt(np.maximum(sq, 1e-12))
        u = yp / n
        L = -np.sum(a * u, axis=-1)
        if not grad:
            return L, None, None
        # d u / d ŷ = (I − u uᵀ)/n while ‖ŷ‖² > 1e-12 (else n is the constant 1e-6)
        proj = np.where(sq > 1e-12, np.sum(a * u, axis=-1, keepdims=True) * u, 0.0)
        return L, -(a - proj) / n, None

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# --- cross-entropies -------------------------------------------------------------------

def _check_label_smoothing(ls, cls):
    ls = float(ls)
    if not 0.0 <= ls <= 1.0:
        raise ValueError(f"{cls}: label_smoothing must be in [0, 1], got {ls}.")
    return ls


def _check_axis(axis, cls):
    if axis != -1:
        raise NotImplementedError(
            f"{cls}: only axis=-1 (classes last) is supported, got axis={axis}. "
            "Fix: move the class axis last (np.moveaxis) before calling the loss."
        )
    return axis


class _CrossEntropy(Loss):
    """Shared logits path: the fused C++ kernels, on rows of the last axis."""

    _activation = None  # the output activation this loss fuses with
    from_logits = False

    def _kernel(self, yt2, z2, dloss):
        raise NotImplementedError

    def _logits_value(self, yt, z, sample_weight, grad):
        """Value (and d/d logits) with z = logits, yt aligned to z (kernel does the math)."""
        rows = z.shape[:-1]
        z2 = z.reshape(-1, z.shape[-1]) if z.ndim else z.reshape(1, 1)
        mask = self._mask(yt)
        c = _coefficients(rows, sample_weight, mask, self.reduction)
        L, dz = self._kernel(yt, z2, c.reshape(-1).astype(np.float32))
        L = L.astype(np.float64).reshape(rows)
        if mask is not None:
            L = np.where(mask, L, 0.0)
        if self.reduction == "none" and not grad:
            return (L * c).astype(np.float32), None
        value = float(np.sum(L * c)) if L.size else 0.0
        return value, (dz.reshape(z.shape) if grad else None)

    def _mask(self, yt):
        return None

    def _value(self, y_true, y_pred, sample_weight, grad):
        if not self.from_logits:
            return super()._value(y_true, y_pred, sample_weight, grad)
        shape = np.shape(y_pred)
        yt, z = self._align(y_true, y_pred)
        value, dz = self._logits_value(yt, z, sample_weight, grad)
        return value, (dz.reshape(shape) if grad else None)

    def _fn(self, yt, yp, grad):
        if self.from_logits:  # per-sample values for call(): kernel without gradient
            rows = yp.shape[:-1]
            L, _ = self._kernel(yt, yp.reshape(-1, yp.shape[-1]), np.zeros(int(np.prod(rows)), np.float32))
            mask = self._mask(yt)
            L = L.astype(np.float64).reshape(rows)
            return (np.where(mask, L, 0.0) if mask is not None else L), None, mask
        return self._prob_fn(yt, yp, grad)

    def value_and_grad_logits(self, y_true, logits, activation, sample_weight=None):
        if self.from_logits or _activation_name(activation) != self._activation:
            return None
        fast = self._fast_logits(y_true, logits, sample_weight)
        if fast is not None:
            return fast
        shape = np.shape(logits)
        yt, z = self._align(y_true, logits)
        value, dz = self._logits_value(yt, z, sample_weight, True)
        return value, dz.reshape(shape).astype(np.float32, copy=False)

    def _fast_logits(self, y_true, logits, sample_weight):
        """The training loop's case — 2-D float32 logits, targets already in the kernel's
        shape, no weights or mask, the default reduction — without the general alignment and
        weighting machinery (~10 µs a step at batch 10). Same kernel, same numbers: every row
        gets the factor 1/N of sum_over_batch_size."""
        if (sample_weight is not None or self.reduction not in ("sum_over_batch_size", "mean")
                or type(logits) is not np.ndarray or logits.ndim != 2 or logits.dtype != np.float32
                or type(y_true) is not np.ndarray or y_true.dtype != np.float32
                or getattr(self, "ignore_class", None) is not None):
            return None
        n = logits.shape[0]
        if n == 0 or y_true.shape != self._kernel_target_shape(logits.shape):
            return None
        dloss = self.__dict__.get("_fast_dloss")
        if dloss is None or dloss.shape[0] != n:  # 1/N per row, reused while N is unchanged
            dloss = self._fast_dloss = np.full(n, 1.0 / n, np.float32)
        L, dz = self._kernel(y_true, logits, dloss)
        return float(L.sum(dtype=np.float64)) / n, dz

    def _kernel_target_shape(self, logits_shape):
        return logits_shape

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class BinaryCrossentropy(_CrossEntropy):
    """t' = y(1 − ls) + ls/2; probs: p = clip(ŷ, 1e-7, 1 − 1e-7), −[t' log p + (1 − t') log(1 − p)];
    logits: max(z, 0) − z t' + log(1 + e^{−|z|}). Mean over the last axis.

    The gradient of the probability formula is 0 where ŷ was clipped (as Keras's graph
    gives); the fused sigmoid path has none of that (see module docstring).
    """

    _activation = "sigmoid"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(name, reduction, dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_label_smoothing(label_smoothing, "BinaryCrossentropy")
        self.axis = _check_axis(axis, "BinaryCrossentropy")

    def _kernel(self, yt, z2, dloss):
        t2 = yt.reshape(z2.shape)
        return ops.sigmoid_binary_crossentropy(z2, t2, label_smoothing=self.label_smoothing,
                                               dloss=dloss)

    def _prob_fn(self, yt, yp, grad):
        ls = self.label_smoothing
        t = yt * (1.0 - ls) + 0.5 * ls
        p = np.clip(yp, _LO, _HI)
        L = -np.mean(t * np.log(p) + (1.0 - t) * np.log(1.0 - p), axis=-1)
        if not grad:
            return L, None, None
        inside = (yp >= _LO) & (yp <= _HI)
        return L, (-(t / p) + (1.0 - t) / (1.0 - p)) * inside / yp.shape[-1], None

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing, "axis": self.axis}


def _not_integer_labels(yt, yp, cls):
    if yt.ndim < yp.ndim or (yt.shape[-1:] == (1,) and yp.shape[-1] > 1):
        raise ValueError(
            f"{cls}: y_true has shape {yt.shape} (integer class labels?) but y_pred has shape "
            f"{yp.shape}; categorical crossentropy needs one-hot targets of y_pred's shape. "
            "Fix: one-hot encode them (baeum.utils.to_categorical(y, num_classes)) or use "
            "SparseCategoricalCrossentropy / loss='sparse_categorical_crossentropy'."
        )


class CategoricalCrossentropy(_CrossEntropy):
    """t' = y(1 − ls) + ls/C; probs: ŷ ← ŷ/Σŷ, clip to [1e-7, 1 − 1e-7], −Σ t' log ŷ;
    logits: −Σ t' log_softmax(z). A SUM over classes (PyTorch's CrossEntropyLoss takes
    logits and integer labels instead)."""

    _activation = "softmax"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(name, reduction, dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_label_smoothing(label_smoothing, "CategoricalCrossentropy")
        self.axis = _check_axis(axis, "CategoricalCrossentropy")

    def _align(self, y_true, y_pred):
        yt, yp = _f64(y_true, "y_true"), _f64(y_pred, "y_pred")
        if yp.ndim == 0:
            raise ValueError("CategoricalCrossentropy: y_pred must have a class axis.")
        _not_integer_labels(yt, yp, "CategoricalCrossentropy")
        return super()._align(yt, yp)

    def _kernel(self, yt, z2, dloss):
        return ops.softmax_cross_entropy(z2, yt.reshape(z2.shape),
                                         label_smoothing=self.label_smoothing, dloss=dloss)

    def _prob_fn(self, yt, yp, grad):
        c = yp.shape[-1]
        t = yt * (1.0 - self.label_smoothing) + self.label_smoothing / c
        s = np.sum(yp, axis=-1, keepdims=True)
        q = yp / s
        qc = np.clip(q, _LO, _HI)
        L = -np.sum(t * np.log(qc), axis=-1)
        if not grad:
            return L, None, None
        gq = -t / qc * ((q >= _LO) & (q <= _HI))  # dL/dq, zero where clipped
        return L, (gq - np.sum(gq * q, axis=-1, keepdims=True)) / s, None

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(_CrossEntropy):
    """Integer labels (N,) or (N, 1): −log ŷ[label] with Keras's renormalise + clip on
    probabilities, or logsumexp(z) − z[label] from logits. No label_smoothing (Keras).
    ignore_class: those labels contribute 0 and are left out of the mean."""

    _activation = "softmax"

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None, axis=-1):
        super().__init__(name, reduction, dtype)
        self.from_logits = bool(from_logits)
        self.ignore_class = None if ignore_class is None else int(ignore_class)
        self.axis = _check_axis(axis, "SparseCategoricalCrossentropy")

    def _align(self, y_true, y_pred):
        yt, yp = np.asarray(y_true), _f64(y_pred, "y_pred")
        if yp.ndim == 0:
            raise ValueError("SparseCategoricalCrossentropy: y_pred must have a class axis.")
        c = yp.shape[-1]
        if yt.shape == yp.shape and c > 1:
            raise ValueError(
                f"SparseCategoricalCrossentropy: y_true has the same shape as y_pred {yp.shape}"
                " (one-hot targets?), but sparse crossentropy takes integer class labels of "
                f"shape {yp.shape[:-1]}. Fix: use CategoricalCrossentropy / "
                "loss='categorical_crossentropy', or pass y.argmax(-1)."
            )
        if yt.ndim == yp.ndim and yt.shape[-1:] == (1,):
            yt = yt[..., 0]
        if yt.shape != yp.shape[:-1]:
            raise ValueError(
                f"SparseCategoricalCrossentropy: y_true has shape {np.shape(y_true)}, expected "
                f"{yp.shape[:-1]} (or {yp.shape[:-1] + (1,)}) for y_pred of shape {yp.shape}."
            )
        if self.ignore_class is None:
            return ops.losses._as_labels(yt, c, "SparseCategoricalCrossentropy"), yp
        # Labels stay int64 with ignore_class kept in place; _mask finds those entries and
        # they are replaced by 0 (as Keras does) only where a class index is needed.
        ignored = yt == self.ignore_class
        labels = ops.losses._as_labels(np.where(ignored, 0, yt), c,
                                      "SparseCategoricalCrossentropy")
        return np.where(ignored, self.ignore_class, labels).astype(np.int64), yp

    def _mask(self, labels):
        if self.ignore_class is None:
            return None
        return labels != self.ignore_class

    def _class_index(self, labels):
        mask = self._mask(labels)
        return labels if mask is None else np.where(mask, labels, 0)

    def _kernel_target_shape(self, logits_shape):
        return logits_shape[:1]

    def _kernel(self, labels, z2, dloss):
        return ops.sparse_softmax_cross_entropy(z2, self._class_index(labels).reshape(-1),
                                                dloss=dloss)

    def _prob_fn(self, labels, yp, grad):
        c = yp.shape[-1]
        t = np.eye(c)[self._class_index(labels)] if labels.size else np.zeros(yp.shape)
        s = np.sum(yp, axis=-1, keepdims=True)
        q = yp / s
        qc = np.clip(q, _LO, _HI)
        mask = self._mask(labels)
        L = -np.sum(t * np.log(qc), axis=-1)
        if mask is not None:
            L = np.where(mask, L, 0.0)
        if not grad:
            return L, None, mask
        gq = -t / qc * ((q >= _LO) & (q <= _HI))
        return L, (gq - np.sum(gq * q, axis=-1, keepdims=True)) / s, mask

    def get_config(self):
        return {**super().get_config(), "ignore_class": self.ignore_class, "axis": self.axis}


class LossFunctionWrapper(Loss):
    """Wraps a user function fn(y_true, y_pred, **kwargs) -> per-sample losses.

    __call__ works like Keras; value_and_grad needs an analytic gradient, which a plain
    function does not have, so it raises NotImplementedError.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction, dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def _align(self, y_true, y_pred):
        return squeeze_or_expand_to_same_rank(_f64(y_true, "y_true"), _f64(y_pred, "y_pred"))

    def _fn(self, yt, yp, grad):
        if grad:
            raise NotImplementedError(
                f"loss {self.name!r}: a plain Python loss function has no gradient in baeum. "
                "Fix: use a built-in loss (baeum.losses.*) or subclass baeum.losses.Loss and "
                "implement _fn(y_true, y_pred, grad) returning the gradient."
            )
        return np.asarray(self.fn(yt, yp, **self._fn_kwargs), dtype=np.float64), None, None


# --- function forms (per-sample values, like keras.losses.mean_squared_error) -----------

def mean_squared_error(y_true, y_pred):
    return MeanSquaredError().call(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError().call(y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    return MeanAbsolutePercentageError().call(y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    return MeanSquaredLogarithmicError().call(y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    return Huber(delta=delta).call(y_true, y_pred)


def log_cosh(y_true, y_pred):
    return LogCosh().call(y_true, y_pred)


def hinge(y_true, y_pred):
    return Hinge().call(y_true, y_pred)


def squared_hinge(y_true, y_pred):
    return SquaredHinge().call(y_true, y_pred)


def kl_divergence(y_true, y_pred):
    return KLDivergence().call(y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    return CategoricalHinge().call(y_true, y_pred)


def poisson(y_true, y_pred):
    return Poisson().call(y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    return CosineSimilarity(axis=axis).call(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return BinaryCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    return SparseCategoricalCrossentropy(from_logits, ignore_class, axis=axis).call(y_true, y_pred)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy

_CLASSES = [MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
            MeanSquaredLogarithmicError, Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge,
            KLDivergence, Poisson, CosineSimilarity, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy]
_FUNCTIONS = {  # function name / alias -> class
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "huber": Huber, "huber_loss": Huber, "log_cosh": LogCosh, "logcosh": LogCosh,
    "hinge": Hinge, "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge,
    "poisson": Poisson, "cosine_similarity": CosineSimilarity,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "KLD": KLDivergence,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "BCE": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_BY_FUNCTION = {f: _FUNCTIONS[f.__name__] for f in (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, huber, log_cosh, hinge, squared_hinge, categorical_hinge,
    kl_divergence, poisson, cosine_similarity, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy)}


def _crossentropy_by_shapes(y_true_shape, y_pred_shape):
    """Keras compile's rule for loss='crossentropy'/'ce' (same as metrics 'accuracy')."""
    if y_true_shape is None or y_pred_shape is None:
        raise ValueError(
            "loss 'crossentropy' is resolved from the target and output shapes; pass "
            "y_true_shape= and y_pred_shape=, or name the loss explicitly "
            "('binary_crossentropy', 'categorical_crossentropy', ...)."
        )
    if tuple(y_pred_shape)[-1:] == (1,):
        return BinaryCrossentropy()
    if len(y_true_shape) < len(y_pred_shape) or (
            tuple(y_true_shape)[-1:] == (1,) and tuple(y_pred_shape)[-1] > 1):
        return SparseCategoricalCrossentropy()
    return CategoricalCrossentropy()


def get(identifier, *, y_true_shape=None, y_pred_shape=None):
    """Resolve a loss: a Loss instance (returned as is), a Loss class, a name string
    ('mse', 'binary_crossentropy', 'BinaryCrossentropy', ...), a baeum loss function, or
    any callable fn(y_true, y_pred) (wrapped; no gradient). Always returns a Loss.
    Strings naming a function keep that string as the loss's name (Keras compile).
    """
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        cls = _lookup(identifier.get("class_name"))
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier in ("crossentropy", "ce"):
            return _crossentropy_by_shapes(y_true_shape, y_pred_shape)
        cls = _lookup(identifier)
        return cls() if identifier == cls.__name__ else cls(name=identifier)
    if inspect.isclass(identifier) and issubclass(identifier, Loss):
        return identifier()
    if identifier in _BY_FUNCTION:
        return _BY_FUNCTION[identifier](name=identifier.__name__)
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


_TABLE = {**_FUNCTIONS, **{c.__name__: c for c in _CLASSES}}
VALID_NAMES = sorted(_TABLE) + ["crossentropy", "ce"]  # every string get() accepts


def _lookup(name):
    if name not in _TABLE:
        raise ValueError(f"Unknown loss {name!r}. Valid names: {VALID_NAMES}.")
    return _TABLE[name]


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config):
    return get(config)
