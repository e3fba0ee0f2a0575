"""Keras layers (`keras.layers`): one module per family; the math lives in baeum.reference."""
from baeum.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, RReLU, Softmax
from baeum.layers.base import Layer, Variable
from baeum.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                                  average, concatenate, dot, maximum, minimum, multiply, subtract)
from baeum.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, KerasTensor, Reshape

__all__ = [
    "Layer", "Variable", "Input", "InputLayer", "KerasTensor", "Dense", "Activation", "Dropout",
    "Flatten", "Reshape", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "RReLU",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
]
