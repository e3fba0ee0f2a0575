"""Matrix products."""
import numpy as np

from baeum import _core
from baeum.ops._checks import _as_float, _as_input, _check_out


def matmul(a, b, *, transpose_a=False, transpose_b=False, alpha=1.0, beta=0.0, out=None):
    """alpha · op(a) · op(b) + beta · out, in float32 (op(x) = xᵀ when transpose_x).

    a, b: 2-D arrays of any real dtype/layout. op(a) is M×K, op(b) is K×N.
    out: optional float32 C-contiguous M×N array, written in place. With out=None a new
    array is returned and beta must be 0 (there is no C to scale).
    Transposes cost nothing extra: the kernel's packing reads the stored layout directly.
    NumPy twin: baeum.reference.matmul.
    """
    if out is not None and type(a) is np.ndarray and type(b) is np.ndarray and type(out) is np.ndarray:
        # Fast path for the training loop: _core.gemm checks dtype, layout, shapes, overlap and
        # writability itself; anything it refuses goes through the checks below, which convert
        # what can be converted and explain what cannot.
        try:
            _core.gemm(a, b, out, bool(transpose_a), bool(transpose_b), alpha, beta)
            return out
        except (TypeError, ValueError):
            pass
    op = "matmul"
    a = _as_input(a, "a", op, ndim=2)
    b = _as_input(b, "b", op, ndim=2)
    alpha = _as_float(alpha, "alpha", op)
    beta = _as_float(beta, "beta", op)
    m, k = (a.shape[1], a.shape[0]) if transpose_a else a.shape
    kb, n = (b.shape[1], b.shape[0]) if transpose_b else b.shape
    if k != kb:
        ta = ".T" if transpose_a else ""
        tb = ".T" if transpose_b else ""
        raise ValueError(
            f"matmul: a{ta} is {m}x{k} but b{tb} is {kb}x{n}; the inner dimensions must match. "
            "Fix: check the shapes, or set transpose_a/transpose_b."
        )
    if out is None:
        if beta != 0.0:
            raise ValueError("matmul: beta != 0 needs an out= array to scale and add to.")
        out = np.empty((m, n), dtype=np.float32)
    else:
        _check_out(out, (m, n), op)  # overlap with a, b: checked by _core.gemm
    _core.gemm(a, b, out, bool(transpose_a), bool(transpose_b), alpha, beta)
    return out
