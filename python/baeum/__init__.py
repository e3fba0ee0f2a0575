"""baeum (배움, "learning"): a readable, fast CPU neural-network engine that speaks Keras.

A `tensorflow.keras` course notebook runs after changing its imports::

    import baeum as keras                      # instead of: from tensorflow import keras
    from baeum.models import Sequential        # instead of: from tensorflow.keras.models import ...
    from baeum.layers import Dense, Dropout

Layers of the package, bottom to top:

* ``baeum.ops``       — the fast C++ kernels as NumPy-in / NumPy-out functions
* ``baeum.reference`` — the NumPy twin of every op (the definition of "correct")
* ``baeum.layers``, ``baeum.models``, ``baeum.optimizers``, ``baeum.losses``, ``baeum.metrics``,
  ``baeum.callbacks``, ``baeum.initializers``, ``baeum.regularizers``, ``baeum.activations``,
  ``baeum.utils``, ``baeum.datasets`` — the Keras surface
"""
from baeum._config import (
    __version__,
    get_num_threads,
    set_num_threads,
    show_config,
)
from baeum import ops, reference
from baeum import activations, initializers, regularizers, losses, metrics, optimizers, callbacks
from baeum import utils, datasets, layers, models
from baeum.layers import Input
from baeum.models import Model, Sequential

__all__ = [
    "__version__", "get_num_threads", "set_num_threads", "show_config",
    "ops", "reference", "activations", "initializers", "regularizers", "losses", "metrics",
    "optimizers", "callbacks", "utils", "datasets", "layers", "models",
    "Input", "Model", "Sequential",
]
