"""baeum (배움, "learning"): a readable, fast CPU neural-network engine that speaks Keras.

Layers of the package, bottom to top:

* ``baeum.ops``       — the fast C++ kernels as NumPy-in / NumPy-out functions
* ``baeum.reference`` — the NumPy twin of every op (the definition of "correct")
"""
from baeum._config import (
    __version__,
    get_num_threads,
    set_num_threads,
    show_config,
)
from baeum import ops, reference

__all__ = [
    "__version__",
    "get_num_threads",
    "set_num_threads",
    "show_config",
    "ops",
    "reference",
]
