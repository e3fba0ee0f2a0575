"""Subclassed models: `class M(baeum.Model)` with layers created in `__init__` and used in
`call(self, inputs, training=None)`.

The call is recorded as it runs: while the model's forward is active, every
`Layer.__call__` on arrays appends (layer, ctx) to the tape and a link (input arrays →
output arrays) (see baeum.layers.node.Recorder). Backward walks the tape in reverse:
the gradient of an array is the sum over every call that consumed it (fan-out), and a layer
called twice has two tape entries with their own ctx (shared layers), whose weight gradients
add up in var.grad.
"""
import inspect

import numpy as np

from baeum.layers import node as _node
from baeum.models.graph_training import Multi, Tape


def _flat(y):
    if isinstance(y, dict):
        return list(y.values())
    if isinstance(y, (list, tuple)):
        return list(y)
    return [y]


class Subclassed:
    """Methods installed on a user's Model subclass (graph_training.install_for_subclass)."""

    def call(self, inputs, training=None):
        raise NotImplementedError(
            f"Model {type(self).__name__!r} has no call() method. Fix: define "
            "call(self, inputs, training=None) using the layers created in __init__.")

    def _call_accepts_training(self):
        cached = self.__dict__.get("_call_training")
        if cached is None:
            params = inspect.signature(self.call).parameters
            cached = "training" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
            self.__dict__["_call_training"] = cached
        return cached

    def _forward(self, x, training, tape):
        if isinstance(x, Multi):
            arg = list(x.items)
        else:
            arg = x
        sources = list(arg) if isinstance(arg, (list, tuple)) else [arg]
        rec = _node.Recorder(tape, training, sources, keep_logits=isinstance(tape, Tape) and self.compiled)
        _node.push(rec)
        try:
            y = self.call(arg, training=training) if self._call_accepts_training() else self.call(arg)
        finally:
            _node.pop()
        if isinstance(tape, Tape):
            tape.links, tape.sources, tape.outputs = rec.links, sources, _flat(y)
        return y

    def _flat_outputs(self, y):
        return _flat(y)

    def _restructure(self, outs):
        if self._output_kind == "dict":
            return dict(zip(self._output_names, outs))
        if self._output_kind == "list":
            return list(outs)
        return outs[0]

    def _input_names_for(self, x):
        if isinstance(x, dict):
            raise NotImplementedError(f"Model {self.name!r}: dict inputs to a subclassed model are not supported; "
                                      "pass an array or a list of arrays.")
        if isinstance(x, (list, tuple)) and len(x) > 1 and all(isinstance(a, np.ndarray) for a in x):
            return [f"input_{i + 1}" for i in range(len(x))]  # several inputs: call receives a list
        return ["input_1"]

    @staticmethod
    def _zeros_for(input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list)):
            return [np.zeros((1,) + tuple(1 if d is None else d for d in s[1:]), np.float32) for s in input_shape]
        return [np.zeros((1,) + tuple(1 if d is None else d for d in input_shape[1:]), np.float32)]

    def build(self, input_shape):
        """Keras's `model.build(input_shape)`: run call() once on zeros, which builds every layer."""
        self._build_for_inputs(self._zeros_for(input_shape), "build")

    def compute_output_shape(self, input_shape):
        self._build_for_inputs(self._zeros_for(input_shape), "call")
        return self.output_shape

    def _build_for_inputs(self, xs, what):
        if self.__dict__.get("_graph_built"):
            return
        if type(self).build is not Subclassed.build and not self.built and not self.__dict__.get("_user_built"):
            self._user_built = True  # the user's own build(input_shape) first, as Keras does
            shapes = [(None,) + a.shape[1:] for a in xs]
            self.build(shapes if len(shapes) > 1 else shapes[0])
        sample = [a[:1] for a in xs]
        tape = Tape()
        y = self._forward(sample if len(sample) > 1 else sample[0], False, tape)
        outs = _flat(y)
        self._output_kind = "dict" if isinstance(y, dict) else "list" if isinstance(y, (list, tuple)) else "single"
        self._output_names = (list(y) if isinstance(y, dict) else [f"output_{i + 1}" for i in range(len(outs))])
        self._output_shapes = [(None,) + tuple(o.shape[1:]) for o in outs]
        self._input_names = [f"input_{i + 1}" for i in range(len(xs))] if len(xs) > 1 else ["input_1"]
        self.input_shape = [(None,) + a.shape[1:] for a in xs] if len(xs) > 1 else (None,) + xs[0].shape[1:]
        self.output_shape = self._output_shapes if len(outs) > 1 else self._output_shapes[0]
        self._out_layers = []
        for o in outs:
            layer = None
            for (lay, _), (_, ys, *_) in zip(tape, tape.links):
                if any(o is a for a in ys):
                    layer = lay
            self._out_layers.append(layer)
        self.built = True
        self._graph_built = True
        self._flat_vars = None

    def _output_layer(self, k):
        return self._out_layers[k] if k < len(self._out_layers) else None

    def _output_entry(self, k, tape):
        target = tape.outputs[k]
        found = None
        for i in range(len(tape) - 1, -1, -1):
            xs, ys, multi_in, multi_out, _ = tape.links[i]
            if any(target is a for a in xs):
                return None  # consumed again after being produced: not fusable
            if any(target is a for a in ys):
                found = i
                break
        if found is None or tape.links[found][3]:
            return None
        layer, ctx = tape[found]
        return found, layer, ctx

    def _backward_graph(self, out_grads, tape, need_dx, preact):
        grads = {}

        def add(arr, g):
            key = id(arr)
            old = grads.get(key)
            grads[key] = g if old is None else old + g

        for arr, g in zip(tape.outputs, out_grads):
            if g is not None:
                add(arr, g)
        for i in range(len(tape) - 1, -1, -1):
            layer, ctx = tape[i]
            xs, ys, multi_in, multi_out, internal = tape.links[i]
            if multi_out:
                gs = [grads.pop(id(a), None) for a in ys]
                if all(g is None for g in gs):
                    continue
                dy = [np.zeros_like(a) if g is None else g for a, g in zip(ys, gs)]
            else:
                dy = grads.pop(id(ys[0]), None)
                if dy is None:
                    continue
                if "activity_out" in ctx:
                    out = ctx["activity_out"]
                    dy = dy + layer.activity_regularizer.gradient(out) / max(len(out), 1)
            # d/d input only where an earlier layer (or the caller, when nested) wants it
            need = internal or (need_dx and any(a is s for a in xs for s in tape.sources))
            if preact is not None and i in preact:
                dx = layer.backward(dy, ctx, need_dx=need, from_preact=True)
            else:
                dx = layer.backward(dy, ctx, need_dx=need)
            if need and dx is not None:
                for a, d in zip(xs, dx if multi_in else [dx]):
                    if d is not None:
                        add(a, d)
        if not need_dx:
            return None
        return [grads.get(id(s), np.zeros_like(s)) for s in tape.sources]

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        from baeum.models.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_trainable=show_trainable)

    def count_params(self):
        self._require_built("count_params()")
        return int(sum(v.size for v in self.weights))

    def get_config(self):
        """Keras 3's auto-config: the constructor's arguments (when all are plain JSON values)
        plus name and trainable — dropped again if __init__ accepts neither them nor **kwargs."""
        auto = getattr(self, "_auto_config", None)
        if auto is None:
            raise NotImplementedError(
                f"Model {type(self).__name__!r} is a subclassed model whose constructor arguments are not all plain "
                "values (numbers, strings, lists, dicts), so baeum cannot rebuild it from a config. Fix: override "
                "get_config()/from_config() in your class (Keras does the same).")
        params = inspect.signature(type(self).__init__).parameters
        takes_kwargs = any(p.kind == p.VAR_KEYWORD for p in params.values())
        config = {"name": self.name, "trainable": self.trainable}
        config.update(auto)
        if not takes_kwargs:
            config = {k: v for k, v in config.items() if k in params}
        return config
