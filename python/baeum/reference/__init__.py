"""baeum.reference — the NumPy twin of every op in baeum.ops, with the same signature.

This is the definition of "correct" and the first thing to read: each function is the
plain math, with no speed tricks. Tests compare baeum.ops against it.
"""
from baeum.reference.linalg import matmul
from baeum.reference.optim import optimizer_slot_names, optimizer_step
from baeum.reference.losses import sigmoid_binary_crossentropy, softmax_cross_entropy, sparse_softmax_cross_entropy

__all__ = [
    "matmul",
    "optimizer_step", "optimizer_slot_names",
    "sigmoid_binary_crossentropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy",
]
