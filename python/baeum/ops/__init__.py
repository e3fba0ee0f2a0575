"""baeum.ops — the fast C++ kernels as NumPy-in / NumPy-out functions.

Conventions (tested in tests/kernels):

* Inputs may be any real dtype and any layout (float64, ints, bool, Fortran order, slices,
  negative strides, read-only); they are converted once to float32 C-contiguous.
* ``out=`` must already be a writable float32 C-contiguous array of the right shape that
  does not overlap the inputs; it is never silently copied (a copy would lose the result).
* Shape mismatches raise ValueError naming both shapes and the fix.
* Every kernel releases the GIL.

Each function has a NumPy twin with the same signature in ``baeum.reference``.
"""
from baeum.ops.linalg import matmul
from baeum.ops.optim import optimizer_slot_names, optimizer_step
from baeum.ops.losses import sigmoid_binary_crossentropy, softmax_cross_entropy, sparse_softmax_cross_entropy

__all__ = [
    "matmul",
    "optimizer_step", "optimizer_slot_names",
    "sigmoid_binary_crossentropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy",
]
