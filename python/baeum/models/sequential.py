"""Sequential: a stack of layers, each feeding the next (Keras `keras.Sequential`)."""
import warnings

import numpy as np

from baeum.layers.base import Layer, _fmt_shape
from baeum.layers.core import InputLayer, KerasTensor
from baeum.models.model import Model


class Sequential(Model):
    """`Sequential([layer, ...])` or `Sequential()` then `add(layer)`.

    The input shape comes from `baeum.Input(shape)` as the first entry, from `input_shape=` /
    `input_dim=` on the first layer (accepted with Keras's warning), or from the first data
    the model sees. `model.layers` excludes the InputLayer, as in Keras.
    """

    def __init__(self, layers=None, trainable=True, name=None):
        self._layers = []
        self._input_layer = None
        super().__init__(name=name, trainable=trainable)
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(f"Sequential {self.name!r}: an Input/InputLayer can only be the first entry.")
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expects a layer (e.g. baeum.layers.Dense(8)), received "
                f"{type(layer).__name__}: {layer!r}."
            )
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"Sequential {self.name!r}: all layers need unique names; {layer.name!r} is already used.")
        if not self._layers and self._input_layer is None and layer._declared_input_shape is not None:
            warnings.warn(
                "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential "
                "models, prefer using an `Input(shape)` object as the first layer in the model instead.",
                UserWarning, stacklevel=2)
            self._input_layer = InputLayer(shape=layer._declared_input_shape)
        self._layers.append(layer)
        self._flat_vars = None
        if self._input_layer is not None:
            self.build(self._input_layer.batch_shape)

    def pop(self):
        if not self._layers:
            raise TypeError("Sequential.pop: there are no layers to remove.")
        layer = self._layers.pop()
        self._flat_vars = None
        return layer

    def build(self, input_shape=None):
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("Sequential.build needs an input shape, e.g. model.build((None, 30)).")
            input_shape = self._input_layer.batch_shape
        shape = (None,) + tuple(input_shape[1:])
        if self._input_layer is None:
            self._input_layer = InputLayer(shape=shape[1:])
        for layer in self._layers:
            layer._check_input(shape)
            shape = layer._maybe_build(shape)
        self.built = bool(self._layers)
        self.input_shape = (None,) + tuple(self._input_layer.batch_shape[1:])
        self.output_shape = shape

    def _build_for(self, x_shape, what):
        if not self._layers:
            raise ValueError(f"{what}: the Sequential model {self.name!r} has no layers. Fix: model.add(...) some layers.")
        want = None if self._input_layer is None else self._input_layer.batch_shape[1:]
        got = tuple(x_shape[1:])
        if want is not None and (len(want) != len(got) or any(w not in (None, g) for w, g in zip(want, got))):
            first = self._layers[0]
            if len(want) != len(got) and hasattr(first, "_rank_message"):  # e.g. 2-D data to an RNN
                raise ValueError(f"{what}: " + first._rank_message((None,) + got))
            raise ValueError(
                f"{what}: the model's first layer {first.name!r} ({type(first).__name__}) expects inputs of "
                f"shape {_fmt_shape((None,) + tuple(want))}, but x has shape {_fmt_shape((None,) + got)}"
                + (f" ({got[-1]} features instead of {want[-1]})" if len(want) == len(got) == 1 else "")
                + ". Fix: pass x with the features the model was built for (same columns as in training), "
                "or rebuild the model with the new input shape."
            )
        if not self.built or self._flat_vars is None:
            self.build((None,) + (tuple(want) if want is not None else got))

    # ---- the tape ---------------------------------------------------------------------------
    def _forward(self, x, training, tape):
        last = self._layers[-1]
        keep_logits = self._fuse is not None  # the fused loss reads the output layer's logits
        for layer in self._layers:
            ctx = {"keep_preact": True} if keep_logits and layer is last else {}
            x = layer.forward(x, ctx, training)
            reg = layer.activity_regularizer
            if reg is not None:
                ctx["activity_penalty"] = float(reg(x)) / max(len(x), 1)
                ctx["activity_out"] = x
            tape.append((layer, ctx))
        return x

    def _backward(self, dy, tape, from_logits):
        first = tape[0][0]
        for layer, ctx in reversed(tape):
            if "activity_out" in ctx:
                out = ctx["activity_out"]
                dy = dy + layer.activity_regularizer.gradient(out) / max(len(out), 1)
            if from_logits:  # only the output layer receives d loss / d logits
                dy = layer.backward(dy, ctx, need_dx=layer is not first, from_preact=True)
                from_logits = False
            else:
                dy = layer.backward(dy, ctx, need_dx=layer is not first)

    def get_config(self):
        layers = []
        if self._input_layer is not None:
            layers.append({"class_name": "InputLayer", "config": self._input_layer.get_config()})
        layers += [{"class_name": type(l).__name__, "config": l.get_config()} for l in self._layers]
        return {"name": self.name, "trainable": self.trainable, "layers": layers}
