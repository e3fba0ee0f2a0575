"""Saving and loading (Keras ``keras.saving``): ``save_model`` / ``load_model`` for ``.keras``
archives and legacy ``.h5`` files, ``save_weights`` / ``load_weights``, custom-object
registration, and object (de)serialization. File layouts: docs/saving.md."""
from baeum.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from baeum.saving.saving_lib import LoadError, load_model, load_weights, save_model, save_weights
from baeum.saving.serialization import deserialize_keras_object, serialize_keras_object

__all__ = [
    "register_keras_serializable", "get_registered_name", "get_registered_object",
    "get_custom_objects", "CustomObjectScope", "custom_object_scope", "serialize_keras_object",
    "deserialize_keras_object", "save_model", "load_model", "save_weights", "load_weights",
    "LoadError",
]
