"""Argument checks shared by every op: convert inputs once, refuse bad outputs loudly."""
import numpy as np

F32 = np.dtype(np.float32)


def _as_input(x, name, op, ndim=None):
    """x as a float32 C-contiguous array (copied only when it is not one already)."""
    if type(x) is np.ndarray and x.dtype == F32 and x.flags.c_contiguous and (ndim is None or x.ndim == ndim):
        return x  # fast path: the common case in a training loop costs ~0.2 µs
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"{op}: {name} must hold real numbers, got dtype {arr.dtype}. "
            f"Fix: convert it first, e.g. np.asarray({name}, dtype=np.float32)."
        )
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{op}: {name} must be {ndim}-D, got shape {arr.shape}.")
    return np.asarray(arr, dtype=np.float32, order="C")  # (ascontiguousarray would make 0-d 1-d)


def _check_out(out, shape, op, inputs=()):
    """Validate a caller-provided output buffer; it is written in place, never copied.

    Overlap with `inputs` is checked here; kernels whose bindings check overlap themselves
    (bindings/common.h require_disjoint) pass no inputs and save the ~0.2 µs per array."""
    if (type(out) is np.ndarray and out.dtype == F32 and out.shape == tuple(shape)
            and out.flags.c_contiguous and out.flags.writeable and not inputs):
        return out
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{op}: out must be a numpy.ndarray, got {type(out).__name__}.")
    if out.dtype != np.float32:
        raise TypeError(
            f"{op}: out must be float32, got {out.dtype}. "
            f"Fix: out = np.empty({tuple(shape)}, dtype=np.float32)."
        )
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"{op}: out has shape {out.shape}, expected {tuple(shape)}.")
    if not out.flags.c_contiguous:
        raise ValueError(
            f"{op}: out must be C-contiguous (it is written in place, never copied). "
            "Fix: pass np.empty(shape, dtype=np.float32) or np.ascontiguousarray(out)."
        )
    if not out.flags.writeable:
        raise ValueError(f"{op}: out is read-only.")
    for x in inputs:
        if np.may_share_memory(out, x):
            raise ValueError(f"{op}: out overlaps an input; pass a separate output array.")
    return out


def _as_float(v, name, op):
    if type(v) is float:
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be a real number, got {v!r}.") from None
    return f
