"""Matrix products, in plain NumPy."""
import numpy as np


def matmul(a, b, *, transpose_a=False, transpose_b=False, alpha=1.0, beta=0.0, out=None):
    """alpha · op(a) · op(b) + beta · out  (op(x) = xᵀ when transpose_x).

    Computed in float64 and returned as float32, so it is at least as accurate as the
    kernel it checks. With out given, out is updated in place and returned.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if transpose_a:
        a = a.T
    if transpose_b:
        b = b.T
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape}")
    c = alpha * (a @ b)
    if out is None:
        if beta != 0.0:
            raise ValueError("matmul: beta != 0 needs an out= array")
        return c.astype(np.float32)
    if beta != 0.0:
        c = c + beta * out.astype(np.float64)
    out[...] = c
    return out
