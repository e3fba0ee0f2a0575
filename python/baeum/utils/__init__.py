"""Keras-named utilities: ``set_random_seed``, ``to_categorical``, ``normalize``, ``Progbar``.

``baeum.utils._rng`` holds the global generator the rest of baeum draws from
(``global_generator()``, ``next_seed()``).
"""
import random as _py_random

import numpy as np

from baeum.utils import _rng
from baeum.utils.progbar import Progbar
from baeum.saving.object_registration import (  # noqa: E402  (Keras: keras.utils.*)
    custom_object_scope, get_custom_objects, get_registered_name, get_registered_object,
    register_keras_serializable)


def set_random_seed(seed):
    """Seed everything random in one call (Keras ``keras.utils.set_random_seed``).

    Seeds Python's ``random``, NumPy's global ``np.random`` and baeum's own global
    generator (``baeum.utils._rng``), which covers weight initialisation, shuffling,
    the validation split and dropout. ``seed`` must be an int in [0, 2**32 - 1].
    """
    seed = _rng._check_seed(seed, "set_random_seed")
    _py_random.seed(seed)
    np.random.seed(seed)
    _rng.seed_global(seed)


def to_categorical(x, num_classes=None):
    """Class indices -> one-hot float32 matrix (Keras ``keras.utils.to_categorical``).

    ``x`` of shape ``(N,)`` or ``(N, 1)`` (any shape ``S`` or ``S + (1,)``) holding
    integer class ids in ``[0, num_classes)``; returns shape ``S + (num_classes,)``.
    ``num_classes=None`` -> ``max(x) + 1``. Floats are accepted only when they are whole
    numbers (``2.0``). Keras returns float64 for NumPy input; baeum returns float32,
    its working dtype.
    """
    arr = np.asarray(x)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"to_categorical: expected integer class ids, received dtype {arr.dtype}. "
            "Fix: pass labels such as np.array([0, 2, 1])."
        )
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(
                "to_categorical: labels must be whole numbers, received non-integer values "
                f"such as {arr[arr != np.round(arr)].ravel()[:3].tolist()}. Fix: pass the "
                "class ids (e.g. np.argmax(probabilities, axis=-1)), not scores."
            )
    arr = arr.astype(np.int64)
    shape = arr.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = arr.reshape(-1)
    if flat.size and flat.min() < 0:
        raise ValueError(
            f"to_categorical: labels must be >= 0, received {int(flat.min())}. "
            "Fix: map the classes to 0..C-1 first."
        )
    if num_classes is None:
        if flat.size == 0:
            raise ValueError("to_categorical: cannot infer num_classes from empty labels; "
                             "pass num_classes=.")
        num_classes = int(flat.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise ValueError(
            f"to_categorical: num_classes must be a positive int, received {num_classes!r}."
        )
    num_classes = int(num_classes)
    if flat.size and flat.max() >= num_classes:
        raise ValueError(
            f"to_categorical: label {int(flat.max())} is out of range for "
            f"num_classes={num_classes} (labels must be in [0, {num_classes - 1}]). "
            f"Fix: num_classes={int(flat.max()) + 1} or leave num_classes=None."
        )
    out = np.zeros((flat.size, num_classes), dtype=np.float32)
    out[np.arange(flat.size), flat] = 1.0
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Scale ``x`` to unit ``order``-norm along ``axis`` (Keras ``keras.utils.normalize``):
    ``x / ||x||_order`` (a zero norm is replaced by 1, so all-zero rows stay zero).
    float32 result."""
    arr = np.asarray(x, dtype=np.float64)
    norm = np.linalg.norm(arr, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1.0
    return (arr / norm).astype(np.float32)


__all__ = ["set_random_seed", "to_categorical", "normalize", "Progbar", "register_keras_serializable",
           "get_custom_objects", "get_registered_name", "get_registered_object", "custom_object_scope"]
