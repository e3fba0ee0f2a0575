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

    _sequential_fast_path = True  # trains with Model._train_step (the benchmarked hot loop)

    #: Train Dense/Dropout stacks with the fused C++ step (same numbers; False forces the
    #: layer-by-layer path, e.g. to compare the two).
    fused_step = True

    def __init__(self, layers=None, trainable=True, name=None):
        self._layers = []
        self._input_layer = None
        self._sym = []  # symbolic outputs of each layer once the input shape is known
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
        trail = []  # spatial sizes so far, for the "image shrank below 1 pixel" error
        for layer in self._layers:
            layer._check_input(shape)
            if len(shape) in (3, 4) and all(isinstance(n, int) for n in shape[1:-1]):
                trail.append("×".join(str(n) for n in shape[1:-1]))
            try:
                shape = layer._maybe_build(shape)
            except ValueError as e:
                if "padding='same'" not in str(e) or len(trail) < 2:
                    raise
                raise ValueError(f"{e} Spatial size through the model: {' → '.join(trail)} → <1 at "
                                 f"{layer.name!r}.") from None
        self.built = bool(self._layers)
        self.input_shape = (None,) + tuple(self._input_layer.batch_shape[1:])
        self.output_shape = shape
        # Masks (RNN work): a separate forward, chosen once here, so the usual loop pays nothing.
        if any(hasattr(layer, "compute_mask") for layer in self._layers):
            self._forward = self._forward_masked
        else:
            self.__dict__.pop("_forward", None)
        self._make_symbolic()

    def _make_symbolic(self):
        """Call the layers on the input's KerasTensor so `model.inputs/outputs` and each
        layer's `.input/.output` exist (transfer learning: Model(base.input, ...))."""
        t = self._input_layer.output
        sym = []
        for i, layer in enumerate(self._layers):
            if i < len(self._sym) and self._sym[i][0] is layer and (i == 0 or sym[-1][1] is self._sym[i - 1][1]):
                sym.append(self._sym[i])
            else:
                sym.append((layer, layer._call_symbolic(t, {}, None)))
            t = sym[-1][1]
        self._sym = sym

    @property
    def inputs(self):
        self._require_built("inputs")
        return [self._input_layer.output]

    @property
    def outputs(self):
        self._require_built("outputs")
        return [self._sym[-1][1]]

    @property
    def input(self):
        return self.inputs[0]

    @property
    def output(self):
        return self.outputs[0]

    def _build_for(self, x_shape, what):
        if not self._layers:
            raise ValueError(f"{what}: the Sequential model {self.name!r} has no layers. Fix: model.add(...) some layers.")
        want = None if self._input_layer is None else self._input_layer.batch_shape[1:]
        got = tuple(x_shape[1:])
        if want is not None and (len(want) != len(got) or any(w not in (None, g) for w, g in zip(want, got))):
            first = self._layers[0]
            if len(want) != len(got) and hasattr(first, "_rank_message"):  # e.g. 2-D data to an RNN
                raise ValueError(f"{what}: " + first._rank_message((None,) + got))
            if type(first)._check_input is not Layer._check_input:
                try:  # the layer's own check knows the likely fix (reshape flat images, NCHW → NHWC)
                    first._check_input((None,) + got)
                except ValueError as e:
                    raise ValueError(f"{what}: {e}") from None
            raise ValueError(
                f"{what}: the model's first layer {first.name!r} ({type(first).__name__}) expects inputs of "
                f"shape {_fmt_shape((None,) + tuple(want))}, but x has shape {_fmt_shape((None,) + got)}"
                + (f" ({got[-1]} features instead of {want[-1]})" if len(want) == len(got) == 1 else "")
                + ". Fix: pass x with the features the model was built for (same columns as in training), "
                "or rebuild the model with the new input shape."
            )
        if not self.built or self._flat_vars is None:
            self.build((None,) + (tuple(want) if want is not None else got))

    def _fused_plan(self):
        """Dense/Dropout stacks with a fused cross-entropy train in one C++ call a step
        (models/mlp_plan.py); rebuilt only when the layers, the loss or the weights move."""
        if not self.fused_step:
            return None
        from baeum.models import mlp_plan

        key = (id(self._flat_grads), self.loss, self._fuse, self._loss_weight, self._has_activity,
               tuple((id(l), getattr(l, "rate", None), getattr(l, "activation", None)) for l in self._layers))
        cached = getattr(self, "_plan_cache", None)
        if cached is None or cached[0] != key:
            self._plan_cache = cached = (key, mlp_plan.build(self))
        return cached[1]

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
        # Layers below the lowest one with trainable weights need no gradient at all (e.g.
        # Rescaling / augmentation layers in front of the first Dense): stop there.
        low = next((i for i, (layer, _) in enumerate(tape) if layer.trainable_weights), len(tape) - 1)
        first = tape[low][0]
        for layer, ctx in reversed(tape[low:]):
            if "activity_out" in ctx:
                out = ctx["activity_out"]
                dy = dy + layer.activity_regularizer.gradient(out) / max(len(out), 1)
            if from_logits:  # only the output layer receives d loss / d logits
                dy = layer.backward(dy, ctx, need_dx=layer is not first, from_preact=True)
                from_logits = False
            else:
                dy = layer.backward(dy, ctx, need_dx=layer is not first)

    def _forward_masked(self, x, training, tape):
        """`_forward` with Keras masks: ctx['mask'] holds the incoming mask before forward;
        the next mask is layer.compute_mask(x, mask), else passed through when the layer
        supports_masking, else None."""
        last = self._layers[-1]
        keep_logits = self._fuse is not None
        mask = None
        for layer in self._layers:
            ctx = {"keep_preact": True} if keep_logits and layer is last else {}
            if mask is not None:
                ctx["mask"] = mask
            y = layer.forward(x, ctx, training)
            compute_mask = getattr(layer, "compute_mask", None)
            if compute_mask is not None:
                mask = compute_mask(x, mask)
            elif not getattr(layer, "supports_masking", False):
                mask = None
            reg = layer.activity_regularizer
            if reg is not None:
                ctx["activity_penalty"] = float(reg(y)) / max(len(y), 1)
                ctx["activity_out"] = y
            tape.append((layer, ctx))
            x = y
        return x

    def _backward_nested(self, dy, tape, need_dx):
        """Backward of this Sequential used as a layer: returns d loss / d input if need_dx."""
        first = tape[0][0]
        for layer, ctx in reversed(tape):
            if "activity_out" in ctx:
                out = ctx["activity_out"]
                dy = dy + layer.activity_regularizer.gradient(out) / max(len(out), 1)
            dy = layer.backward(dy, ctx, need_dx=need_dx or layer is not first)
        return dy

    def get_config(self):
        """Keras 3's Sequential config: {name, trainable, dtype, layers (InputLayer first,
        each serialized as {module, class_name, config, registered_name, build_config}),
        build_input_shape}."""
        from baeum.saving.serialization import serialize_keras_object

        layers = []
        if self._input_layer is not None:
            layers.append(serialize_keras_object(self._input_layer))
        layers += [serialize_keras_object(l) for l in self._layers]
        return {"name": self.name, "trainable": self.trainable, "dtype": "float32", "layers": layers,
                "build_input_shape": self.input_shape if self.built else None}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Inverse of get_config; layer classes are found by name (custom ones via
        register_keras_serializable or custom_objects)."""
        from baeum.saving.serialization import deserialize_keras_object

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config.get("layers", []):
            model.add(deserialize_keras_object(layer_config, custom_objects))
        shape = config.get("build_input_shape")
        if not model.built and shape is not None and model._layers:
            model.build(tuple(shape))
        return model
