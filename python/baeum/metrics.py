"""Stateful metrics with Keras 3 semantics (``keras.metrics``).

A metric accumulates over an epoch: ``update_state(y_true, y_pred, sample_weight=None)``
per batch, ``result()`` for the value so far (a Python float), ``reset_state()`` at the start
of each epoch / evaluate. ``metric.name`` is the key that appears in History / logs.

Mean-type metrics (accuracies, mse, ...) keep ``total += Σ v·w`` and ``count += Σ w`` and
report ``total / count``: weighted metrics divide by Σw (unlike the loss's default
"sum_over_batch_size", which divides by the number of samples). Confusion metrics
(Precision, Recall, AUC) keep weighted TP/FP/TN/FN counts over every element seen.
"""
import inspect
import re

import numpy as np

from baeum import losses as _losses

EPSILON = 1e-7  # keras.backend.epsilon()


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _f32(x, name="y"):
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"metric: {name} must hold real numbers, got dtype {arr.dtype}.")
    return arr.astype(np.float32)


class Metric:
    """Base class. Subclasses implement update_state / result / reset_state."""

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = "float32"
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        """Keras: update with this batch, then return the running result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


# --- mean-type metrics -----------------------------------------------------------------

def _samplewise(values, sample_weight):
    """Keras reduce_to_samplewise_values: per-sample values (N,) and weights."""
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        values, sw = _losses.squeeze_or_expand_to_same_rank(values, sw)
        if values.ndim > sw.ndim:  # reduce values to the weight's rank
            values = values.mean(axis=tuple(range(sw.ndim, values.ndim)))
        try:
            sw = np.broadcast_to(sw, values.shape)
        except ValueError:
            raise ValueError(
                f"sample_weight of shape {np.shape(sample_weight)} does not match values of "
                f"shape {values.shape}. Fix: pass one weight per sample."
            ) from None
        values = values * sw
        if sw.ndim > 1:
            sw = sw.mean(axis=tuple(range(1, sw.ndim)))
    else:
        sw = None
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)))
    return values, sw


class Mean(Metric):
    """Weighted mean of the values seen: Σ v·w / Σ w (per-sample values averaged first)."""

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values, sw = _samplewise(values, sample_weight)
        self.total += float(np.sum(values))
        if sw is not None:
            self.count += float(np.sum(sw))
        else:
            self.count += float(values.shape[0]) if values.ndim >= 1 else 1.0

    def result(self):
        return self.total / self.count if self.count != 0 else 0.0  # divide_no_nan


class Sum(Metric):
    """Weighted sum of the values seen."""

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values, _ = _samplewise(values, sample_weight)
        self.total += float(np.sum(values))

    def result(self):
        return self.total


class MeanMetricWrapper(Mean):
    """Mean over samples of fn(y_true, y_pred, **kwargs) (per-sample values)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


# per-sample functions (Keras keras.metrics.*_accuracy)

def accuracy(y_true, y_pred):
    yt, yp = _losses.squeeze_or_expand_to_same_rank(_f32(y_true), _f32(y_pred))
    return (yt == yp).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1[(ŷ > threshold) == y] elementwise (strict >), averaged per sample by Mean."""
    yt, yp = _losses.squeeze_or_expand_to_same_rank(_f32(y_true), _f32(y_pred))
    return (yt == (yp > np.float32(threshold))).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    """1[argmax ŷ == argmax y] (first maximum wins ties)."""
    yt, yp = _f32(y_true), _f32(y_pred)
    if yt.shape != yp.shape:
        raise ValueError(
            f"categorical_accuracy: y_true {yt.shape} and y_pred {yp.shape} differ; it needs "
            "one-hot targets. For integer labels use SparseCategoricalAccuracy."
        )
    return (np.argmax(yt, -1) == np.argmax(yp, -1)).astype(np.float32)


def _sparse_labels(y_true, yp):
    yt = np.asarray(y_true)
    if yt.ndim == yp.ndim and yt.shape[-1:] == (1,):
        yt = yt[..., 0]
    if yt.shape != yp.shape[:-1]:
        raise ValueError(
            f"sparse accuracy: y_true has shape {np.shape(y_true)}, expected integer labels of "
            f"shape {yp.shape[:-1]} for y_pred {yp.shape}. For one-hot targets use "
            "CategoricalAccuracy."
        )
    return yt.astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1[argmax ŷ == y], labels (N,) or (N, 1)."""
    yp = _f32(y_pred)
    return (_sparse_labels(y_true, yp) == np.argmax(yp, -1)).astype(np.float32)


def _in_top_k(labels, yp, k):
    """TF/Keras in_top_k: the label's score is >= the k-th largest (ties count as in)."""
    c = yp.shape[-1]
    yp2 = yp.reshape(-1, c)
    labels = labels.reshape(-1).astype(np.int64)
    if k >= c:
        return np.ones(labels.shape, np.float32)
    kth = np.partition(yp2, c - k, axis=-1)[:, c - k]
    return (yp2[np.arange(len(labels)), labels] >= kth).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    yt, yp = _f32(y_true), _f32(y_pred)
    return _in_top_k(np.argmax(yt, -1), yp, k).reshape(yt.shape[:-1])


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    yp = _f32(y_pred)
    labels = _sparse_labels(y_true, yp)
    return _in_top_k(labels, yp, k).reshape(labels.shape)


class Accuracy(MeanMetricWrapper):
    """Exact equality y == ŷ (rarely what you want; 'accuracy' in compile resolves by shapes)."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(_losses.mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(_losses.mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(_losses.mean_absolute_percentage_error, name, dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(_losses.mean_squared_logarithmic_error, name, dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0):
        super().__init__(_losses.binary_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0, axis=-1):
        super().__init__(_losses.categorical_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 axis=-1):
        super().__init__(_losses.sparse_categorical_crossentropy, name, dtype,
                         from_logits=from_logits, axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt(Σ w·(y − ŷ)² / Σ w) over every element seen (mean per sample first)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        yt, yp = _losses.squeeze_or_expand_to_same_rank(_f32(y_true), _f32(y_pred))
        super().update_state(np.square(yp - yt), sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


# --- confusion-matrix metrics ----------------------------------------------------------

def _confusion_update(counts, thresholds, y_true, y_pred, sample_weight, class_id=None):
    """Add weighted TP/FP/TN/FN at each threshold (predicted positive iff ŷ > t)."""
    yt, yp = _losses.squeeze_or_expand_to_same_rank(_f32(y_true, "y_true"), _f32(y_pred))
    if yt.shape != yp.shape:
        raise ValueError(f"confusion metric: y_true {np.shape(y_true)} and y_pred "
                         f"{np.shape(y_pred)} must have the same shape.")
    if sample_weight is None:
        w = np.ones(yp.shape)
    else:
        sw = np.asarray(sample_weight, dtype=np.float64)
        _, sw = _losses.squeeze_or_expand_to_same_rank(yp, sw)
        if sw.ndim < yp.ndim:  # (N,) weights against (N, D) predictions
            sw = sw.reshape(sw.shape + (1,) * (yp.ndim - sw.ndim))
        w = np.broadcast_to(sw, yp.shape)
    if class_id is not None:
        yt, yp, w = yt[..., class_id], yp[..., class_id], w[..., class_id]
    yt, yp, w = yt.ravel() != 0, yp.ravel(), w.ravel()
    # idx[i] = number of thresholds strictly below yp[i]: yp[i] > t_j  <=>  j < idx[i]
    idx = np.searchsorted(thresholds, yp, side="left")
    nt = len(thresholds)
    pos_w = np.bincount(idx, weights=w * yt, minlength=nt + 1)
    neg_w = np.bincount(idx, weights=w * ~yt, minlength=nt + 1)
    # predicted positive at threshold j: all samples with idx > j
    tp = np.cumsum(pos_w[::-1])[::-1][1:]
    fp = np.cumsum(neg_w[::-1])[::-1][1:]
    counts["tp"] += tp
    counts["fp"] += fp
    counts["fn"] += pos_w.sum() - tp
    counts["tn"] += neg_w.sum() - fp


def _divide_no_nan(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.where(b != 0, a / np.where(b != 0, b, 1.0), 0.0)


class _ConfusionMetric(Metric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        if top_k is not None:
            raise NotImplementedError(f"{type(self).__name__}: top_k is not supported yet.")
        self._scalar = thresholds is None or np.isscalar(thresholds)
        t = [0.5] if thresholds is None else np.atleast_1d(thresholds).tolist()
        self.thresholds = np.asarray(t, dtype=np.float32)
        self.class_id = class_id
        super().__init__(name, dtype)

    def reset_state(self):
        n = len(self.thresholds)
        self.counts = {k: np.zeros(n) for k in ("tp", "fp", "tn", "fn")}

    def update_state(self, y_true, y_pred, sample_weight=None):
        _confusion_update(self.counts, self.thresholds, y_true, y_pred, sample_weight,
                          self.class_id)

    def _out(self, r):
        return float(r[0]) if self._scalar else r

    def get_config(self):
        t = float(self.thresholds[0]) if self._scalar else self.thresholds.tolist()
        return {**super().get_config(), "thresholds": t, "class_id": self.class_id}


class Precision(_ConfusionMetric):
    """TP / (TP + FP) over all elements seen (0 when undefined); positive iff ŷ > 0.5."""

    def result(self):
        c = self.counts
        return self._out(_divide_no_nan(c["tp"], c["tp"] + c["fp"]))


class Recall(_ConfusionMetric):
    """TP / (TP + FN) over all elements seen (0 when undefined); positive iff ŷ > 0.5."""

    def result(self):
        c = self.counts
        return self._out(_divide_no_nan(c["tp"], c["tp"] + c["fn"]))


class AUC(Metric):
    """Area under the ROC (or PR) curve from confusion counts at fixed thresholds (Keras).

    Thresholds: [−ε, 1/(n−1), …, (n−2)/(n−1), 1+ε] (n = num_thresholds). ROC: x = FPR,
    y = TPR; area = Σ (x_j − x_{j+1}) · (y_j + y_{j+1})/2 ("interpolation"; "minoring" /
    "majoring" use min / max of the two heights). PR with "interpolation" uses the Davis &
    Goadrich interpolation, as Keras does.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        if multi_label or label_weights is not None:
            raise NotImplementedError("AUC: multi_label / label_weights are not supported yet.")
        curve = curve.upper()
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}.")
        summation_method = summation_method.lower()
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError("AUC: summation_method must be 'interpolation', 'minoring' or "
                             f"'majoring', got {summation_method!r}.")
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}.")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = num_thresholds
        self.thresholds = np.asarray([0.0 - EPSILON] + inner + [1.0 + EPSILON], np.float32)
        self.curve, self.summation_method = curve, summation_method
        self.from_logits = bool(from_logits)
        self.multi_label, self.num_labels, self.label_weights = multi_label, num_labels, None
        super().__init__(name, dtype)

    def reset_state(self):
        n = self.num_thresholds
        self.counts = {k: np.zeros(n) for k in ("tp", "fp", "tn", "fn")}

    def update_state(self, y_true, y_pred, sample_weight=None):
        yp = _f32(y_pred)
        if self.from_logits:
            yp = (1.0 / (1.0 + np.exp(-yp.astype(np.float64)))).astype(np.float32)
        _confusion_update(self.counts, self.thresholds, y_true, yp, sample_weight)

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.counts["tp"], self.counts["fp"], self.counts["fn"]
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        ok = (p[:-1] > 0) & (p[1:] > 0)
        safe_p_ratio = np.where(ok, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        inc = _divide_no_nan(prec_slope * (dtp + intercept * np.log(safe_p_ratio)),
                             np.maximum(tp[1:] + fn[1:], 0))
        return float(np.sum(inc))

    def result(self):
        c = self.counts
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        recall = _divide_no_nan(c["tp"], c["tp"] + c["fn"])
        if self.curve == "ROC":
            x, y = _divide_no_nan(c["fp"], c["fp"] + c["tn"]), recall
        else:
            x, y = recall, _divide_no_nan(c["tp"], c["tp"] + c["fp"])
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(np.sum((x[:-1] - x[1:]) * heights))

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "curve": self.curve, "summation_method": self.summation_method,
                "from_logits": self.from_logits}


# --- get -------------------------------------------------------------------------------

_CLASSES = [Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
            MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
            RootMeanSquaredError, BinaryCrossentropy, CategoricalCrossentropy,
            SparseCategoricalCrossentropy, Precision, Recall, AUC]
_TABLE = {**{c.__name__: c for c in _CLASSES}, **{_snake(c.__name__): c for c in _CLASSES},
          "mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
          "MAE": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
          "MAPE": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError,
          "MSLE": MeanSquaredLogarithmicError, "rmse": RootMeanSquaredError,
          "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "auc": AUC}
_FUNCTIONS = {accuracy: Accuracy, binary_accuracy: BinaryAccuracy,
              categorical_accuracy: CategoricalAccuracy,
              sparse_categorical_accuracy: SparseCategoricalAccuracy,
              top_k_categorical_accuracy: TopKCategoricalAccuracy,
              sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy}
_ACCURACY_BY_LOSS = {"binary_crossentropy": BinaryAccuracy,
                     "categorical_crossentropy": CategoricalAccuracy,
                     "sparse_categorical_crossentropy": SparseCategoricalAccuracy}


def _by_shapes(y_true_shape, y_pred_shape, binary, sparse, categorical):
    """Keras compile rule (§9.1): binary if y_pred's last dim is 1, else sparse if y_true
    has lower rank or a last dim of 1 while y_pred's is > 1, else categorical."""
    yt, yp = tuple(y_true_shape), tuple(y_pred_shape)
    if yp[-1:] == (1,):
        return binary
    if len(yt) < len(yp) or (yt[-1:] == (1,) and len(yp) and yp[-1] > 1):
        return sparse
    return categorical


def _by_loss(loss, what):
    try:
        lobj = _losses.get(loss)
    except ValueError:  # e.g. 'crossentropy' itself needs shapes
        lobj = None
    for name, cls in _ACCURACY_BY_LOSS.items():
        if lobj is not None and type(lobj) is type(_losses.get(name)):
            return cls
    raise ValueError(
        f"metric {what!r} is resolved from the target and output shapes; pass y_true_shape= "
        "and y_pred_shape= (or a crossentropy loss=), or name the metric explicitly, e.g. "
        "'binary_accuracy', 'categorical_accuracy', 'sparse_categorical_accuracy'."
    )


def get(identifier, *, y_true_shape=None, y_pred_shape=None, loss=None):
    """Resolve a metric like Keras compile: a Metric instance (as is), a Metric class, a
    string, or a function fn(y_true, y_pred) -> per-sample values (averaged).

    'accuracy'/'acc' (and 'crossentropy'/'ce') resolve by shapes (KERAS_SEMANTICS §9.1);
    without shapes, 'accuracy' falls back to the loss (binary/categorical/sparse CE).
    A string's metric is named by that string (the log key), e.g. 'acc' -> 'acc'.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        key = identifier
        if key.lower() in ("accuracy", "acc"):
            if y_true_shape is not None and y_pred_shape is not None:
                cls = _by_shapes(y_true_shape, y_pred_shape, BinaryAccuracy,
                                 SparseCategoricalAccuracy, CategoricalAccuracy)
            else:
                cls = _by_loss(loss, identifier)
        elif key in ("crossentropy", "ce"):
            if y_true_shape is None or y_pred_shape is None:
                raise ValueError(f"metric {key!r} needs y_true_shape= and y_pred_shape=.")
            cls = _by_shapes(y_true_shape, y_pred_shape, BinaryCrossentropy,
                             SparseCategoricalCrossentropy, CategoricalCrossentropy)
        elif key in _TABLE:
            cls = _TABLE[key]
        else:
            raise ValueError(
                f"Unknown metric {identifier!r}. Valid names: "
                f"{sorted(set(_TABLE) | {'accuracy', 'acc', 'crossentropy', 'ce'})}."
            )
        metric = cls()
        metric.name = identifier
        return metric
    if identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric):
    return {"class_name": type(metric).__name__, "config": metric.get_config()}
