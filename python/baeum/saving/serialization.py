"""Objects <-> JSON-able dicts in Keras 3's nested form.

``serialize_keras_object(layer)`` gives ``{"module", "class_name", "config",
"registered_name"[, "build_config"]}`` (Keras ``serialization_lib``); built-in baeum objects
carry Keras's module names (``keras.layers``, ``keras``, ...) and ``registered_name`` None,
so the config reads like a Keras one. ``deserialize_keras_object`` finds the class by
name — ``custom_objects``, then the registry (``register_keras_serializable``), then
``baeum.layers`` / ``baeum.models`` — and calls its ``from_config``. No per-layer code:
a new layer with a complete ``get_config`` works as soon as it is exported from
``baeum.layers``.
"""
import inspect

import numpy as np

from baeum.saving import object_registration as reg

_MODULES = {  # baeum module -> the Keras module name written to configs
    "baeum.layers": "keras.layers", "baeum.models": "keras", "baeum.optimizers": "keras.optimizers",
    "baeum.losses": "keras.losses", "baeum.metrics": "keras.metrics",
    "baeum.initializers": "keras.initializers", "baeum.regularizers": "keras.regularizers",
    "baeum.optimizers.schedules": "keras.optimizers.schedules",
}


def to_jsonable(value):
    """Tuples -> lists, NumPy scalars/arrays -> Python numbers/lists, recursively."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.dtype):
        return str(value)
    return value


def _keras_module(cls):
    mod = cls.__module__
    for prefix in sorted(_MODULES, key=len, reverse=True):
        if mod == prefix or mod.startswith(prefix + "."):
            return _MODULES[prefix]
    return mod


def _is_builtin(cls):
    return cls.__module__.startswith("baeum.") and cls not in reg._GLOBAL_CUSTOM_NAMES


def serialize_keras_object(obj):
    """A layer, model, loss, metric, optimizer, schedule, initializer ... as a dict."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(o) for o in obj]
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return reg.get_registered_name(obj)
    cls = type(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: {cls.__name__} has no get_config() method.")
    try:
        config = obj.get_config()
    except NotImplementedError as e:
        raise NotImplementedError(
            f"Cannot save {cls.__name__} {getattr(obj, 'name', '')!r}: its get_config() is not "
            f"implemented ({e}). Fix: define get_config() returning the constructor arguments."
        ) from e
    out = {"module": _keras_module(cls), "class_name": cls.__name__, "config": to_jsonable(config),
           "registered_name": None if _is_builtin(cls) else reg.get_registered_name(cls)}
    build_shape = getattr(obj, "input_shape", None) if getattr(obj, "built", False) else None
    if build_shape is not None and hasattr(obj, "add_weight"):
        out["build_config"] = {"input_shape": to_jsonable(build_shape)}
    return out


def find_class(class_name, registered_name=None, module=None, custom_objects=None):
    """The class a serialized dict names, or None."""
    for key in (registered_name, class_name):
        if key:
            obj = reg.get_registered_object(key, custom_objects)
            if obj is not None:
                return obj
    # Bare class names of registered classes ("Custom>Scale" registered, "Scale" asked).
    for name, obj in reg._GLOBAL_CUSTOM_OBJECTS.items():
        if name.split(">", 1)[-1] == class_name:
            return obj
    import baeum.layers
    import baeum.models

    tables = [baeum.layers, baeum.models]
    if module == "keras" or module == "keras.models":
        tables = [baeum.models, baeum.layers]
    for table in tables:
        obj = getattr(table, class_name, None)
        if inspect.isclass(obj):
            return obj
    if class_name in ("Functional", "Model"):
        return baeum.models.Model
    return None


def deserialize_keras_object(config, custom_objects=None):
    """Inverse of ``serialize_keras_object`` for layers and models (and any registered
    class): finds the class and returns ``cls.from_config(config["config"])``."""
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if isinstance(config, str):
        obj = reg.get_registered_object(config, custom_objects)
        return obj if obj is not None else config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Cannot deserialize {config!r}: expected a dict with 'class_name' and "
                         "'config' (what serialize_keras_object / get_config produce).")
    class_name = config["class_name"]
    cls = find_class(class_name, config.get("registered_name"), config.get("module"), custom_objects)
    if cls is None:
        raise ValueError(
            f"Could not locate class {class_name!r} (registered name "
            f"{config.get('registered_name')!r}, module {config.get('module')!r}). Make sure "
            "custom classes are decorated with "
            "`@baeum.saving.register_keras_serializable()` or passed to load_model as "
            f"custom_objects={{{class_name!r}: {class_name}}}."
        )
    inner = dict(config.get("config") or {})
    dtype = inner.get("dtype")
    if isinstance(dtype, dict):  # Keras's DTypePolicy object -> its name ("float32")
        inner["dtype"] = (dtype.get("config") or {}).get("name", dtype.get("class_name"))
    with reg.CustomObjectScope(custom_objects or {}):
        try:
            params = inspect.signature(cls.from_config).parameters
        except (TypeError, ValueError):
            params = {}
        if "custom_objects" in params:
            return cls.from_config(inner, custom_objects=custom_objects)
        return cls.from_config(inner)
