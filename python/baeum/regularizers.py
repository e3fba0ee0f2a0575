"""Weight regularizers (Keras ``keras.regularizers``), KERAS_SEMANTICS.md §10.

  L1(l1=0.01):              penalty = l1 * sum|w|            gradient = l1 * sign(w)
  L2(l2=0.01):              penalty = l2 * sum w^2           gradient = 2 * l2 * w
  L1L2(l1=0.0, l2=0.0):     the sum of both (both default to 0.0 in Keras 3; tf.keras 2
                            used 0.01)

Keras's L2 has NO 1/2 factor (textbooks often write l2/2 * ||w||^2; PyTorch's
``weight_decay`` adds ``wd * w`` to the gradient, which equals L2(l2=wd / 2)).
The sign of 0 is 0, so the L1 gradient at w = 0 is 0 (the subgradient Keras's autodiff
uses). The model adds ``penalty`` once to each batch loss (not divided by batch size) and
``gradient(w)`` to the weight's gradient.

  OrthogonalRegularizer(factor=0.01, mode="rows"): mean |cosine| between rows (or
                            columns) of a 2-D weight, times factor.

Strings: "l1", "l2", "L1", "L2", "L1L2", "l1l2", "orthogonal_regularizer" ("l1_l2" is NOT a valid string in Keras
3; the function ``regularizers.l1_l2(...)`` is).
"""
import inspect
import math

import numpy as np


def _factor(value, name, who):
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.floating,
                                                             np.integer))
          and math.isfinite(value) and value >= 0)
    if not ok:
        raise ValueError(f"{who}: {name} must be a non-negative finite number, received "
                         f"{name}={value!r}.")
    return float(value)


def _array(x):
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise TypeError(f"regularizer: expected a numeric weight array, received dtype "
                        f"{x.dtype}.")
    return x


class Regularizer:
    """Base class: ``__call__(x) -> float`` penalty, ``gradient(x) -> ndarray``."""

    def __call__(self, x):
        return 0.0

    def gradient(self, x):
        x = _array(x)
        return np.zeros(x.shape, dtype=x.dtype if x.dtype.kind == "f" else np.float32)

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _grad_dtype(x):
    return x.dtype if x.dtype.kind == "f" else np.float32


class L1L2(Regularizer):
    """``l1 * sum|w| + l2 * sum w^2``; both factors default to 0.0 (Keras 3)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1", "L1L2")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2", "L1L2")

    def __call__(self, x):
        x = _array(x).astype(np.float64)
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.sum(np.abs(x)))
        if self.l2:
            penalty += self.l2 * float(np.sum(x * x))
        return penalty

    def gradient(self, x):
        x = _array(x)
        g = self.l1 * np.sign(x) + (2.0 * self.l2) * x.astype(np.float64)
        return g.astype(_grad_dtype(x))

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum|w|`` (default l1=0.01); gradient ``l1 * sign(w)`` (0 at w = 0)."""

    def __init__(self, l1=0.01):
        self.l1 = _factor(0.01 if l1 is None else l1, "l1", "L1")

    def __call__(self, x):
        return self.l1 * float(np.sum(np.abs(_array(x).astype(np.float64))))

    def gradient(self, x):
        x = _array(x)
        return (self.l1 * np.sign(x)).astype(_grad_dtype(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum w^2`` (default l2=0.01, no 1/2 factor); gradient ``2 * l2 * w``."""

    def __init__(self, l2=0.01):
        self.l2 = _factor(0.01 if l2 is None else l2, "l2", "L2")

    def __call__(self, x):
        x = _array(x).astype(np.float64)
        return self.l2 * float(np.sum(x * x))

    def gradient(self, x):
        x = _array(x)
        return ((2.0 * self.l2) * x.astype(np.float64)).astype(_grad_dtype(x))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (``mode="rows"``) or columns (``"columns"``) of a 2-D weight
    towards orthogonality (Keras ``OrthogonalRegularizer(factor=0.01, mode="rows")``).

    ``N`` = the rows of ``w`` scaled to unit length (``w_i / max(||w_i||, 1e-7)``),
    ``P = N N^T`` (size ``n x n``), penalty ``= factor * 0.5 * sum_{i != j} |P_ij|
    / (n (n - 1) / 2)``, i.e. the mean absolute cosine over pairs, times ``factor``.
    Columns mode applies the same to ``w^T``. With fewer than 2 rows there are no
    pairs: baeum returns 0 (Keras divides by zero and returns NaN).
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _factor(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError("OrthogonalRegularizer: mode must be 'rows' or 'columns', "
                             f"received mode={mode!r}.")
        self.mode = mode

    def _rows(self, x):
        x = _array(x)
        if x.ndim != 2:
            raise ValueError("OrthogonalRegularizer: the weight must be 2-D, received "
                             f"shape {x.shape}.")
        x = x.astype(np.float64)
        return x if self.mode == "rows" else x.T

    @staticmethod
    def _unit(rows):
        norm = np.maximum(np.sqrt(np.sum(rows * rows, axis=1, keepdims=True)), 1e-7)
        return rows / norm, norm

    def __call__(self, x):
        rows = self._rows(x)
        n = rows.shape[0]
        if n < 2:
            return 0.0
        unit, _ = self._unit(rows)
        p = unit @ unit.T
        np.fill_diagonal(p, 0.0)
        return self.factor * 0.5 * float(np.sum(np.abs(p))) / (n * (n - 1) / 2.0)

    def gradient(self, x):
        """dL/dN = 2c sign(P) N (diagonal excluded, c = factor / (n (n-1))); then back
        through the normalisation: dL/dw_i = (g_i - (g_i . N_i) N_i) / ||w_i|| (or
        g_i / 1e-7 where the norm is clamped)."""
        x_arr = _array(x)
        rows = self._rows(x_arr)
        n = rows.shape[0]
        grad = np.zeros_like(rows)
        if n >= 2:
            unit, norm = self._unit(rows)
            s = np.sign(unit @ unit.T)
            np.fill_diagonal(s, 0.0)
            g = (2.0 * self.factor / (n * (n - 1))) * (s @ unit)
            clamped = norm <= 1e-7
            radial = np.where(clamped, 0.0, np.sum(g * unit, axis=1, keepdims=True))
            grad = (g - radial * unit) / norm
        if self.mode == "columns":
            grad = grad.T
        return np.ascontiguousarray(grad).astype(_grad_dtype(x_arr))

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras exports the classes under these function-style names too.
l1, l2, l1_l2, l1l2 = L1, L2, L1L2, L1L2
orthogonal_regularizer = OrthogonalRegularizer

ALL_OBJECTS_DICT = {"Regularizer": Regularizer, "regularizer": Regularizer, "L1": L1,
                    "l1": L1, "L2": L2, "l2": L2, "L1L2": L1L2, "l1l2": L1L2,
                    "OrthogonalRegularizer": OrthogonalRegularizer,
                    "orthogonal_regularizer": OrthogonalRegularizer}


def serialize(regularizer):
    if regularizer is None:
        return None
    return {"module": "keras.regularizers", "class_name": type(regularizer).__name__,
            "config": regularizer.get_config(), "registered_name": None}


def _unknown(identifier):
    hint = (" ('l1_l2' is not a valid string in Keras 3 either: use 'l1l2' or "
            "regularizers.l1_l2(l1=..., l2=...))" if identifier == "l1_l2" else "")
    return ValueError(f"Could not interpret regularizer identifier: {identifier!r}{hint}. "
                      "Valid names: l1, l2, l1l2, L1, L2, L1L2, orthogonal_regularizer.")


def deserialize(config):
    cls = ALL_OBJECTS_DICT.get(config.get("class_name"))
    if cls is None:
        raise _unknown(config.get("class_name"))
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """Resolve a regularizer: None, a name ('l1', 'l2', 'l1l2'), a config dict, a class,
    an instance or a callable ``w -> penalty``."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = ALL_OBJECTS_DICT.get(identifier)
        if cls is None:
            raise _unknown(identifier)
        return cls()
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise _unknown(identifier)


__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "get", "serialize", "deserialize"]
