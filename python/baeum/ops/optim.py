"""The fused optimizer step: one C++ call updates every trainable variable (multi-tensor)."""
import numpy as np

from baeum import _core
from baeum.ops._checks import _as_float, _as_input
from baeum.reference.optim import KINDS, optimizer_slot_names

__all__ = ["optimizer_step", "optimizer_slot_names"]

_OP = "optimizer_step"


def _opt_float(v, name):
    """None/0 → 0.0 (off); otherwise a non-negative real number."""
    if v is None:
        return 0.0
    f = _as_float(v, name, _OP)
    if not f >= 0:
        raise ValueError(f"{_OP}: {name} must be >= 0 or None, got {v!r}.")
    return f


def _check_buffer(a, name, n, others=()):
    """A float32 C-contiguous writable (n,) array updated in place (never copied)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{_OP}: {name} must be a numpy.ndarray (updated in place), got "
                        f"{type(a).__name__}.")
    if a.dtype != np.float32:
        raise TypeError(f"{_OP}: {name} must be float32, got {a.dtype}. Fix: allocate it "
                        f"with np.zeros({n}, dtype=np.float32) (a converted copy would lose "
                        "the update).")
    if a.shape != (n,):
        raise ValueError(f"{_OP}: {name} has shape {a.shape}, expected ({n},) like params.")
    if not a.flags.c_contiguous:
        raise ValueError(f"{_OP}: {name} must be C-contiguous (it is updated in place, never "
                         "copied). Fix: np.ascontiguousarray(...) once, when you allocate it.")
    if not a.flags.writeable:
        raise ValueError(f"{_OP}: {name} is read-only.")
    for o in others:
        if np.may_share_memory(a, o):
            raise ValueError(f"{_OP}: {name} overlaps another buffer (params, grads or a slot); "
                             "each needs its own memory.")


def _check_segments(segments, n, op=_OP):
    """segments as int64 C-contiguous (V, 2) rows (offset, size), inside [0, n), disjoint."""
    seg = np.asarray(segments)
    if seg.dtype.kind not in "iu":
        raise ValueError(
            f"{op}: segments must be an integer (V, 2) array of (offset, size), got dtype "
            f"{seg.dtype}. Fix: np.asarray(segments, dtype=np.int64).")
    if seg.size == 0:
        seg = seg.reshape(0, 2)
    if seg.ndim != 2 or seg.shape[1] != 2:
        raise ValueError(f"{op}: segments must have shape (V, 2) of (offset, size), got "
                         f"shape {seg.shape}.")
    seg = np.ascontiguousarray(seg, dtype=np.int64)
    off, size = seg[:, 0], seg[:, 1]
    bad = np.flatnonzero((off < 0) | (size < 0) | (off > n) | (size > n - off))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{op}: segment {i} (offset {off[i]}, size {size[i]}) is outside "
                         f"params of length {n}. Fix: every row needs 0 <= offset and "
                         f"offset + size <= {n}.")
    nz = np.flatnonzero(size > 0)
    order = nz[np.argsort(off[nz], kind="stable")]
    ends = np.maximum.accumulate(off[order] + size[order])
    clash = np.flatnonzero(off[order][1:] < ends[:-1])
    if clash.size:
        i = int(order[clash[0] + 1])
        raise ValueError(f"{op}: segment {i} (offset {off[i]}, size {size[i]}) overlaps an "
                         "earlier segment; each variable must own its own elements.")
    return seg


_VALIDATED = {}  # option tuple -> validated scalars: an optimizer repeats the same options every step


def _validate_options(kind, weight_decay, clipnorm, clipvalue, global_clipnorm, momentum, nesterov,
                      rho, centered, beta_1, beta_2, amsgrad, epsilon):
    if kind not in KINDS:
        raise ValueError(f"{_OP}: unknown kind {kind!r}; valid: {', '.join(KINDS)}.")
    wd = _opt_float(weight_decay, "weight_decay")
    if kind == "adamw" and weight_decay is None:
        raise ValueError(f"{_OP}: 'adamw' needs weight_decay (Keras default 0.004).")
    clips = [_opt_float(v, k) for k, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                          ("global_clipnorm", global_clipnorm))]
    if sum(c > 0 for c in clips) > 1:
        raise ValueError(f"{_OP}: only one of clipnorm, clipvalue and global_clipnorm can be "
                         f"set; got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                         f"global_clipnorm={global_clipnorm}.")
    rest = (_as_float(momentum, "momentum", _OP), bool(nesterov), _as_float(rho, "rho", _OP),
            bool(centered), _as_float(beta_1, "beta_1", _OP), _as_float(beta_2, "beta_2", _OP),
            bool(amsgrad), _as_float(epsilon, "epsilon", _OP))
    return wd, tuple(clips), rest


def optimizer_step(kind, params, grads, slots, segments, *, lr, step, weight_decay=None,
                   clipnorm=None, clipvalue=None, global_clipnorm=None, momentum=0.0,
                   nesterov=False, rho=0.9, centered=False, epsilon=1e-7, beta_1=0.9,
                   beta_2=0.999, amsgrad=False, u_product=None):
    """One Keras 3 optimizer step over all trainable variables, in place, in one C++ call.

    kind: 'sgd', 'rmsprop', 'adagrad', 'adam', 'adamw' (Adam + weight_decay, which is then
    required) or 'nadam'.
    params: float32 C-contiguous writable (n,) — every variable packed flat; updated in place.
    grads: (n,) gradients (any real dtype; converted once). Never modified: clipping is
    applied on the fly.
    slots: list of float32 C-contiguous writable (n,) arrays, updated in place, in the order
    ``optimizer_slot_names(kind, momentum=, centered=, amsgrad=)`` gives.
    segments: int (V, 2) rows (offset, size), one per variable (clipnorm is per variable);
    disjoint and inside params. Elements outside every segment are left alone.
    lr: this step's learning rate; step: t = iterations + 1 (>= 1).
    weight_decay/clipnorm/clipvalue/global_clipnorm: None (or 0) = off; at most one clip.
    momentum, nesterov (sgd); rho, momentum, centered (rmsprop); beta_1, beta_2, amsgrad
    (adam); epsilon (all but sgd); u_product (nadam): μ_1···μ_t including this step.
    Options that ``kind`` does not use are ignored. Returns None.

    Order and equations (Keras's, see reference.optimizer_step): clip → p ← p − p·wd·lr →
    rule. E.g. Adam: α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ), p ← p − α·m/(√v + ε) — ε on the uncorrected
    √v, unlike PyTorch's ε on √v̂. NumPy twin: baeum.reference.optimizer_step.
    """
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"{_OP}: step must be an integer >= 1 (iterations + 1), got {step!r}.")
    key = (kind, weight_decay, clipnorm, clipvalue, global_clipnorm, momentum, nesterov, rho,
           centered, beta_1, beta_2, amsgrad, epsilon)
    try:
        fixed = _VALIDATED.get(key)
    except TypeError:  # unhashable option values: validate (and explain) below
        fixed, key = None, None
    if fixed is None:
        fixed = _validate_options(*key) if key is not None else _validate_options(
            kind, weight_decay, clipnorm, clipvalue, global_clipnorm, momentum, nesterov, rho,
            centered, beta_1, beta_2, amsgrad, epsilon)
        if key is not None and len(_VALIDATED) < 64:
            _VALIDATED[key] = fixed
    wd, clips, rest = fixed
    if kind == "nadam" and u_product is None:
        raise ValueError(f"{_OP}: nadam needs u_product = μ_1···μ_t (see the docstring).")
    args = (_as_float(lr, "lr", _OP), int(step), wd, *clips, *rest,
            1.0 if u_product is None else _as_float(u_product, "u_product", _OP))
    # Fast path (every training step): the binding checks every buffer and segment itself
    # before touching memory. Only when it refuses do the checks below run, to convert what
    # can be converted and to explain the rest.
    if (type(params) is np.ndarray and type(grads) is np.ndarray and type(segments) is np.ndarray
            and type(slots) is list):
        try:
            _core.optimizer_step(kind, params, grads, slots, segments, *args)
            return
        except (TypeError, ValueError):
            pass
    if not isinstance(params, np.ndarray) or params.ndim != 1:
        raise ValueError(f"{_OP}: params must be a 1-D float32 numpy array (all variables "
                         f"packed flat), got {type(params).__name__} "
                         f"{getattr(params, 'shape', '')}.")
    n = params.shape[0]
    grads = _as_input(grads, "grads", _OP, ndim=1)
    if grads.shape[0] != n:
        raise ValueError(f"{_OP}: grads has shape {grads.shape}, params has shape "
                         f"{params.shape}; they must match element for element.")
    _check_buffer(params, "params", n, others=(grads,))
    names = optimizer_slot_names(kind, momentum=momentum, centered=centered, amsgrad=amsgrad)
    slots = list(slots)
    if len(slots) != len(names):
        raise ValueError(f"{_OP}: {kind!r} with these options needs {len(names)} slot arrays "
                         f"{names}, got {len(slots)}.")
    for j, s in enumerate(slots):
        _check_buffer(s, f"slot {j} ({names[j]!r})", n, others=[params, grads] + slots[:j])
    seg = _check_segments(segments, n)
    _core.optimizer_step(kind, params, grads, slots, seg, *args)
