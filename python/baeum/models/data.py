"""Turning user data into float32 arrays once, and refusing bad data before training starts."""
import numpy as np


def _is_pandas(obj):
    return type(obj).__module__.split(".")[0] == "pandas"


def to_array(data, what, allow_none=False):
    """NumPy array of float32 from arrays of any real/bool dtype, lists, or pandas objects.

    The caller's data is never modified: a new array is made only when a conversion is
    needed (float32 C-contiguous input is used as it is, read-only).
    """
    if data is None:
        if allow_none:
            return None
        raise ValueError(f"{what} is None. Fix: pass a NumPy array, a list or a pandas DataFrame.")
    columns = None
    if _is_pandas(data):
        columns = list(getattr(data, "columns", [getattr(data, "name", None)]))
        dtypes = list(data.dtypes) if hasattr(data, "columns") else [data.dtype]
        bad = [c for c, dt in zip(columns, dtypes) if getattr(dt, "kind", "O") not in "fiub"]
        if bad:
            raise ValueError(
                f"{what} has non-numeric column(s) {bad}. Fix: encode them first "
                "(e.g. pd.get_dummies(df) or df[col].map({...})), or drop them."
            )
        data = data.to_numpy()
    arr = np.asarray(data)
    if arr.dtype.kind not in "fiub":
        raise ValueError(
            f"{what} must hold numbers, received dtype {arr.dtype}"
            + (" (strings or mixed objects)" if arr.dtype.kind in "OUS" else "")
            + ". Fix: convert text/categorical columns to numbers first."
        )
    if arr.ndim == 0:
        raise ValueError(f"{what} must be an array with a batch dimension, received a scalar.")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if arr.dtype.kind == "f":
        finite = np.isfinite(out)
        if not finite.all():
            idx = np.argwhere(~finite)[0]
            row = int(idx[0])
            col = tuple(int(i) for i in idx[1:])
            where = f"row {row}" + (f", column {col[0] if len(col) == 1 else col}" if col else "")
            if columns is not None and len(col) == 1:
                where += f" ({columns[col[0]]!r})"
            bad = out[tuple(idx)]
            raise ValueError(
                f"{what} contains {'NaN' if np.isnan(bad) else 'inf'} at {where} "
                f"({int((~finite).sum())} non-finite value(s) in all). "
                "Fix: fill or drop missing values (e.g. df.fillna(...) / df.dropna()) before training."
            )
    if out is arr:
        out = out.view()
        out.flags.writeable = False  # a guard: baeum never writes into the caller's data
    return out


def unpack_validation_data(validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val), "
            f"received {type(validation_data).__name__}"
            + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else "") + "."
        )
    vx, vy = validation_data[0], validation_data[1]
    vsw = validation_data[2] if len(validation_data) == 3 else None
    return vx, vy, vsw


def class_weights_to_sample_weights(class_weight, y):
    """Keras: the class of each sample (argmax of one-hot, else the rounded label) → its weight."""
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else np.rint(y.reshape(len(y))).astype(np.int64)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be a dict or 'balanced', received {class_weight!r}.")
        classes, counts = np.unique(labels, return_counts=True)
        # scikit-learn's rule: n_samples / (n_classes * count(class))
        class_weight = {int(c): len(labels) / (len(classes) * n) for c, n in zip(classes, counts)}
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be a dict {{class: weight}} or 'balanced', received {type(class_weight).__name__}.")
    weights = np.ones(len(labels), np.float32)
    for c, w in class_weight.items():
        weights[labels == int(c)] = float(w)
    return weights
