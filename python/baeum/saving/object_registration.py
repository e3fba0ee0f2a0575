"""Custom-object registration (Keras ``keras.saving.register_keras_serializable``).

A class (or function) registered here is found by name when a saved model is loaded,
without passing ``custom_objects=``. The registered name is ``"<package>><name>"``
(Keras's form, e.g. ``"Custom>MyDense"``); it is written to the saved config as
``registered_name``. This module imports nothing from baeum, so any module may use it.
"""
import inspect
import threading

_GLOBAL_CUSTOM_OBJECTS = {}   # registered name -> object
_GLOBAL_CUSTOM_NAMES = {}     # object -> registered name
_scope = threading.local()    # stack of dicts pushed by CustomObjectScope


def register_keras_serializable(package="Custom", name=None):
    """Decorator: register a class or function for saving/loading.

        @baeum.saving.register_keras_serializable(package="MyLayers")
        class Scale(baeum.layers.Layer):
            ...
            def get_config(self): ...

    A class must define ``get_config``. Registering the same name again replaces the
    earlier object (a notebook cell run twice)."""
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"register_keras_serializable: package must be a string without '>', "
                         f"received {package!r}.")

    def decorator(arg):
        class_name = name if name is not None else getattr(arg, "__name__", None)
        if not class_name:
            raise ValueError(f"register_keras_serializable: cannot infer a name for {arg!r}; "
                             "pass name=.")
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError(f"Cannot register a class that does not have a get_config() "
                             f"method: {arg.__name__}.")
        registered_name = f"{package}>{class_name}"
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj):
    """The registered name of ``obj`` (``"Package>Name"``) or its ``__name__``."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return getattr(obj, "__name__", type(obj).__name__)


def _scoped_objects():
    merged = {}
    for d in getattr(_scope, "stack", []):
        merged.update(d)
    return merged


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Look ``name`` up in: ``custom_objects``, the active ``custom_object_scope``s, the
    global registry (by registered name, then by bare class name), ``module_objects``."""
    for table in (custom_objects or {}, _scoped_objects()):
        if name in table:
            return table[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def get_custom_objects():
    """The global registry dict (registered name -> object); Keras allows adding to it."""
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """``with custom_object_scope({"MyLayer": MyLayer}): load_model(...)``."""

    def __init__(self, *custom_objects):
        self.custom_objects = {}
        for d in custom_objects:
            self.custom_objects.update(d or {})

    def __enter__(self):
        if not hasattr(_scope, "stack"):
            _scope.stack = []
        _scope.stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scope.stack.pop()


custom_object_scope = CustomObjectScope
