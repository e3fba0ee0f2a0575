"""Models (`keras.models`): Model and Sequential."""
from baeum.models.model import Model
from baeum.models.sequential import Sequential

__all__ = ["Model", "Sequential"]
