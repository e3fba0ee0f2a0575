"""Models (`keras.models`): Model and Sequential, plus save_model / load_model."""
from baeum.models.model import Model
from baeum.models.sequential import Sequential
from baeum.saving import load_model, save_model

__all__ = ["Model", "Sequential", "load_model", "save_model"]
