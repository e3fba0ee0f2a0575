"""baeum.optimizers — Keras 3 optimizers over one fused C++ step (baeum.ops.optimizer_step).

    opt = baeum.optimizers.get("adam")          # or Adam(learning_rate=1e-3, ...)
    opt.apply_flat(params, grads, segments)     # what Model.fit calls once per step
    opt.apply_gradients([(g, w), ...])          # Keras's API for custom loops

Each class's docstring gives its update rule and how PyTorch differs; docs/optim.md walks
through them.
"""
from baeum.optimizers import schedules
from baeum.optimizers.adam import Adam, AdamW, Nadam
from baeum.optimizers.base import Optimizer
from baeum.optimizers.rmsprop import Adagrad, RMSprop
from baeum.optimizers.sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "Nadam", "schedules",
           "get", "serialize", "deserialize"]

ALL_OBJECTS_DICT = {c.__name__.lower(): c for c in (SGD, RMSprop, Adagrad, Adam, AdamW, Nadam)}
# Keras 3 optimizers baeum does not have (yet): asking for one is NotImplementedError.
_KERAS_ONLY = {"adamax", "adadelta", "adafactor", "ftrl", "lion", "muon", "lossscaleoptimizer"}


def serialize(optimizer):
    """Keras's nested-object form: {module, class_name, config, registered_name}."""
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """An optimizer from serialize()'s dict (class names are case-insensitive)."""
    name = config.get("class_name", "")
    custom = custom_objects or {}
    cls = custom.get(name) or ALL_OBJECTS_DICT.get(str(name).lower())
    if cls is None:
        raise ValueError(f"Could not interpret optimizer identifier: {name!r}. Valid names: "
                         f"{', '.join(repr(k) for k in ALL_OBJECTS_DICT)}.")
    return cls.from_config(dict(config.get("config", {})), custom_objects=custom_objects)


def get(identifier):
    """An optimizer from a name ('adam', 'SGD', ... case-insensitive, default arguments),
    a serialize() dict, or an instance (returned unchanged). None → None."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = ALL_OBJECTS_DICT.get(identifier.lower())
        if cls is not None:
            return cls()
        if identifier.lower() in _KERAS_ONLY:
            raise NotImplementedError(
                f"Optimizer {identifier!r} exists in Keras but is not implemented in baeum yet. "
                f"Available: {', '.join(repr(k) for k in ALL_OBJECTS_DICT)}.")
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Valid names: "
                     f"{', '.join(repr(k) for k in ALL_OBJECTS_DICT)} (any case), an "
                     "optimizer instance, or a config dict.")
