"""Checks that run before training starts, so bad input fails at once with a clear message."""
import numpy as np


def batch_size_arg(batch_size, what):
    if batch_size is None:
        return 32  # Keras's default
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"{what}: batch_size must be a positive integer, received {batch_size!r}.")
    return int(batch_size)


def verbose_arg(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, received {verbose!r}.")
    return int(verbose)


def should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


def _loss_kind(loss):
    name = type(loss).__name__
    fn_name = getattr(loss, "name", "")
    for kind in ("SparseCategoricalCrossentropy", "CategoricalCrossentropy", "BinaryCrossentropy"):
        if name == kind:
            return kind
    return {"sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
            "categorical_crossentropy": "CategoricalCrossentropy",
            "binary_crossentropy": "BinaryCrossentropy"}.get(fn_name, name)


def fused_output_activation(model):
    """'sigmoid' / 'softmax' when the output activation and the loss have a fused, stable
    gradient (computed from the logits); None otherwise."""
    out = model.layers[-1] if model.layers else None
    act = getattr(out, "output_activation", None)
    if act not in ("sigmoid", "softmax") or not hasattr(out, "logits"):
        return None
    if getattr(model.loss, "from_logits", False):
        return None
    kind = _loss_kind(model.loss)
    if act == "sigmoid" and kind == "BinaryCrossentropy":
        return act
    if act == "softmax" and kind in ("CategoricalCrossentropy", "SparseCategoricalCrossentropy"):
        return act
    return None


def check_targets(model, y, pred_shape, what):
    """Targets must match the output shape; the only reshaping done is (N,) → (N, 1)."""
    out = tuple(pred_shape[1:])
    got = tuple(y.shape[1:])
    kind = _loss_kind(model.loss) if not isinstance(model.loss, str) else model.loss
    sparse = kind in ("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy")
    if len(got) == len(out) and all(o is None or o == g for g, o in zip(got, out)):
        return y  # None: a variable length (e.g. the time axis of input_shape=[None, 1])
    if got == () and out == (1,):
        return y.reshape(-1, 1)
    if sparse and got in ((), (1,)) and len(out) == 1:
        return y
    if kind in ("crossentropy", "ce") and got in ((), (1,)):
        return y
    if kind == "CategoricalCrossentropy" and got in ((), (1,)) and len(out) == 1 and out[0] > 1:
        raise ValueError(
            f"{what}: the loss is categorical_crossentropy, which needs one-hot targets of shape "
            f"(N, {out[0]}), but y has shape {y.shape} (integer labels). Fix: use "
            "loss='sparse_categorical_crossentropy', or convert y with baeum.utils.to_categorical(y)."
        )
    raise ValueError(
        f"{what}: y has shape {y.shape} but the model outputs shape (None, {', '.join(map(str, out))}). "
        f"Targets must match the output, except (N,) for (N, 1). Fix: check the last layer's units "
        f"({out[-1] if out else '?'}) against your targets, or reshape y."
    )


def check_labels_for_loss(model, y, pred_shape, what):
    kind = _loss_kind(model.loss)
    out = model.layers[-1] if model.layers else None
    if getattr(out, "output_activation", None) == "softmax" and pred_shape[-1] == 1:
        raise ValueError(
            f"{what}: layer {out.name!r} applies softmax to a single unit, which always outputs 1.0, "
            "so nothing can be learned. Fix: for two classes use Dense(1, activation='sigmoid') with "
            "binary_crossentropy, or Dense(n_classes, activation='softmax')."
        )
    if kind == "SparseCategoricalCrossentropy":
        n_classes = pred_shape[-1]
        labels = y.reshape(-1)
        if labels.size and not np.all(labels == np.round(labels)):
            raise ValueError(f"{what}: sparse_categorical_crossentropy needs integer class labels; y has fractions. "
                             "Fix: for one-hot or soft targets use categorical_crossentropy.")
        if y.ndim == 2 and y.shape[1] == n_classes and n_classes > 1:
            raise ValueError(f"{what}: y looks one-hot (shape {y.shape}) but the loss is "
                             "sparse_categorical_crossentropy. Fix: use categorical_crossentropy, or pass "
                             "integer labels y.argmax(axis=1).")
        lo, hi = (labels.min(), labels.max()) if labels.size else (0, 0)
        if lo < 0 or hi >= n_classes:
            hint = (" The labels look 1-based: subtract 1 (y - 1)." if lo >= 1 and hi == n_classes
                    else " Negative labels are not classes." if lo < 0 else "")
            raise ValueError(
                f"{what}: sparse labels must be in [0, {n_classes - 1}] for a {n_classes}-unit output, "
                f"received values from {lo:g} to {hi:g}.{hint} Fix: remap the labels, or give the last "
                f"Dense layer as many units as there are classes."
            )
    elif kind == "CategoricalCrossentropy" and y.size:
        if y.min() < 0 or y.max() > 1:
            raise ValueError(f"{what}: categorical_crossentropy needs one-hot (or probability) targets in "
                             f"[0, 1]; y ranges from {y.min():g} to {y.max():g}. Fix: "
                             "baeum.utils.to_categorical(labels) or loss='sparse_categorical_crossentropy'.")
    elif kind == "BinaryCrossentropy" and y.size:
        if y.min() < 0 or y.max() > 1:
            raise ValueError(f"{what}: binary_crossentropy needs targets in [0, 1]; y ranges from "
                             f"{y.min():g} to {y.max():g}. Fix: for more than two classes use "
                             "Dense(n_classes, activation='softmax') with sparse_categorical_crossentropy.")
