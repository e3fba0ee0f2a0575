"""Layer and Variable: the pieces every Keras layer in baeum is made of.

A layer has weights (Variables), is built lazily from its first input shape, and has two
methods that do the work:

* ``forward(x, ctx, training)`` returns the output and stores in ``ctx`` (a dict that lives
  on the model's tape entry, not on the layer) whatever ``backward`` will need. Because the
  context is per call, one layer may be called several times in one step (shared layers).
* ``backward(dy, ctx, need_dx)`` turns d(loss)/d(output) into d(loss)/d(input) and ADDS its
  weight gradients into ``variable.grad`` (the model zeroes all gradients once per step).

The math of every forward/backward lives in ``baeum.reference`` and the speed in ``baeum.ops``;
layer files stay short.
"""
import re

import numpy as np

from baeum.layers import node as _node

_name_counts = {}
# Bumped by every `layer.trainable = ...`: models re-derive what the optimizer updates (and
# which backward work can be skipped) only when it changed.
_trainable_version = [0]


def _snake_case(name):
    """Keras's naming: Dense → dense, LeakyReLU → leaky_re_lu, Conv2D → conv2d."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def unique_name(prefix):
    """`prefix`, then `prefix_1`, `prefix_2`, … (global per prefix, as Keras)."""
    n = _name_counts.get(prefix, 0)
    _name_counts[prefix] = n + 1
    return prefix if n == 0 else f"{prefix}_{n}"


class Variable:
    """A weight: its value and its gradient.

    Once a model is built, ``value`` and ``grad`` are views into the model's flat parameter
    and gradient buffers (so the optimizer updates every weight in one C++ call). Always
    write into them in place (``var.value[...] = x``, ``var.assign(x)``), never rebind.
    """

    __slots__ = ("name", "value", "grad", "_trainable", "regularizer", "layer")

    def __init__(self, name, value, trainable=True, regularizer=None, layer=None):
        self.name = name
        self.value = np.ascontiguousarray(value, dtype=np.float32)
        self.grad = np.zeros_like(self.value)
        self._trainable = bool(trainable)
        self.regularizer = regularizer
        self.layer = layer

    @property
    def trainable(self):
        return self._trainable and (self.layer is None or self.layer.trainable)

    @property
    def shape(self):
        return self.value.shape

    @property
    def size(self):
        return self.value.size

    @property
    def path(self):
        return f"{self.layer.name}/{self.name}" if self.layer is not None else self.name

    def numpy(self):
        return self.value.copy()

    def assign(self, new_value):
        new_value = np.asarray(new_value, dtype=np.float32)
        if new_value.shape != self.value.shape:
            raise ValueError(
                f"Variable {self.path!r}: expected shape {self.value.shape}, received {new_value.shape}."
            )
        self.value[...] = new_value

    def __repr__(self):
        return f"<Variable path={self.path} shape={self.shape} trainable={self.trainable}>"


def _is_array_list(x):
    """Several inputs given as a list/tuple of arrays (a nested list of numbers is one input)."""
    return isinstance(x, (list, tuple)) and bool(x) and all(isinstance(a, np.ndarray) for a in x)


def _is_shape_list(shape):
    """True for a list of shapes (several inputs/outputs), False for one shape tuple."""
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (tuple, list))


def _fmt_shape(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class Layer:
    """Base class of every layer (Keras's ``keras.layers.Layer``)."""

    # Keras kwargs every layer accepts.
    _base_kwargs = ("name", "trainable", "dtype", "input_shape", "input_dim", "batch_size", "batch_input_shape")

    def __init__(self, **kwargs):
        unknown = set(kwargs) - set(self._base_kwargs)
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword argument(s) {sorted(unknown)}. "
                f"Valid extra keywords are {list(self._base_kwargs)}."
            )
        dtype = kwargs.get("dtype")
        if dtype not in (None, "float32", np.float32) and np.dtype(dtype) != np.float32:
            raise NotImplementedError(f"{type(self).__name__}: baeum computes in float32 only (dtype={dtype!r}).")
        self.name = kwargs.get("name") or unique_name(_snake_case(type(self).__name__))
        self._trainable = bool(kwargs.get("trainable", True))
        self.built = False
        self._weights = []
        self.input_shape = None  # with the batch dimension as None, once built
        self.output_shape = None
        self.activity_regularizer = None
        self._inbound_nodes = []  # functional API: one Node per call on symbolic tensors
        # input_shape= / input_dim= on a first layer (Keras inserts an InputLayer).
        shape = kwargs.get("input_shape")
        if kwargs.get("batch_input_shape") is not None:
            shape = tuple(kwargs["batch_input_shape"])[1:]
        if kwargs.get("input_dim") is not None:
            shape = (int(kwargs["input_dim"]),)
        self._declared_input_shape = None if shape is None else tuple(shape)

    # ---- weights -------------------------------------------------------------------------
    def add_weight(self, name, shape, initializer="glorot_uniform", regularizer=None, trainable=True):
        from baeum import initializers, regularizers

        init = initializers.get(initializer)
        value = np.asarray(init(tuple(int(s) for s in shape)), dtype=np.float32).reshape(shape)
        var = Variable(name, value, trainable=trainable, regularizer=regularizers.get(regularizer), layer=self)
        self._weights.append(var)
        return var

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        _trainable_version[0] += 1

    @property
    def weights(self):
        """Own trainable variables (creation order), then non-trainable ones (Keras order)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self):
        return [v for v in self._weights if v.trainable]

    @property
    def non_trainable_weights(self):
        return [v for v in self._weights if not v.trainable]

    @property
    def variables(self):
        return list(self._weights)

    def get_weights(self):
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        """Assign every weight, in `weights` order (Keras order), after checking all shapes."""
        own = self.weights
        weights = list(weights)
        kind = type(self).__name__
        if len(weights) != len(own):
            raise ValueError(
                f"{kind} {self.name!r} has {len(own)} weight arrays, received {len(weights)}. "
                f"Expected shapes: {[v.shape for v in own]}."
            )
        for var, w in zip(own, weights):
            if np.shape(w) != var.shape:
                raise ValueError(
                    f"{kind} {self.name!r}: weight {var.path!r} has shape {var.shape}, received {np.shape(w)}."
                )
        for var, w in zip(own, weights):
            var.assign(w)

    def count_params(self):
        if not self.built:
            raise ValueError(f"Layer {self.name!r} is not built yet, so it has no weights to count. "
                             "Fix: call the model on data or give the first layer an input shape.")
        return int(sum(v.size for v in self._weights))

    # ---- shapes and building --------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of `input_shape` (batch dimension included, may be None)."""

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _maybe_build(self, input_shape):
        if _is_shape_list(input_shape):  # several inputs (merge layers, initial_state=...)
            input_shape = [(None,) + tuple(s[1:]) for s in input_shape]
        else:
            input_shape = (None,) + tuple(input_shape[1:])
        if not self.built:
            self.build(input_shape)
            self.built = True
            self.input_shape = input_shape
            self.output_shape = tuple(self.compute_output_shape(input_shape))
        return self.output_shape

    # ---- computation ----------------------------------------------------------------------
    def forward(self, x, ctx, training):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward().")

    def backward(self, dy, ctx, need_dx=True):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward().")

    def __call__(self, *args, **kwargs):
        """Call the layer.

        * On KerasTensor(s) (functional API): builds the layer and returns new KerasTensor(s),
          recording a Node (layer, inbound tensors, call kwargs).
        * On arrays while a subclassed model's step records (``call``): forward with a fresh
          ctx, appended to the model's tape.
        * On arrays otherwise: an eager inference call (training=True to force training mode).
        """
        if args:
            x, args = args[0], args[1:]
        elif "inputs" in kwargs:
            x = kwargs.pop("inputs")
        else:
            raise TypeError(f"Layer {self.name!r}: call it on inputs, e.g. layer(x).")
        if len(args) == 1 and (args[0] is None or isinstance(args[0], bool)) and "training" not in kwargs:
            kwargs["training"], args = args[0], ()  # layer(x, True): Keras's positional training
        if args:
            raise TypeError(f"Layer {self.name!r}: pass extra call arguments by keyword (e.g. training=True).")
        training = kwargs.pop("training", None)
        if type(x) is not np.ndarray or kwargs:
            if _node.contains_tensor(x) or (kwargs and _node.contains_tensor(list(kwargs.values()))):
                return self._call_symbolic(x, kwargs, training)
        rec = _node.active_recorder()
        if rec is not None:
            return self._call_recorded(rec, x, kwargs, training)
        mask = kwargs.pop("mask", None)  # the mask protocol: ctx["mask"], not an input
        multi = _is_array_list(x)
        xs = list(x) if multi else [x]
        plain = {}
        for k, v in kwargs.items():  # array kwargs (initial_state=[h, c]) are extra inputs
            if isinstance(v, np.ndarray) or _is_array_list(v):
                xs += list(v) if isinstance(v, (list, tuple)) else [v]
                multi = True
            else:
                plain[k] = v
        if multi:
            x = [np.ascontiguousarray(a, dtype=np.float32) for a in xs]
            self._maybe_build([a.shape for a in x])
        else:
            x = np.ascontiguousarray(x, dtype=np.float32)
            self._check_input(x.shape)
            self._maybe_build(x.shape)
        ctx = {"call_kwargs": plain} if plain else {}
        if mask is not None:
            ctx["mask"] = mask
        return self.forward(x, ctx, bool(training))

    def _call_symbolic(self, x, kwargs, training):
        from baeum.layers.core import KerasTensor

        multi = isinstance(x, (list, tuple))
        inputs = list(x) if multi else [x]
        for i, t in enumerate(inputs):
            if not isinstance(t, KerasTensor):
                raise TypeError(
                    f"Layer {self.name!r} ({type(self).__name__}) was called on a mix of symbolic tensors and "
                    f"{type(t).__name__} (input {i}). In a functional model every input of a layer must be a "
                    "KerasTensor coming from baeum.Input(...) or from another layer's output. Fix: wrap "
                    "constants in an Input, or compute them with a layer."
                )
        plain, tensor_kwargs, n_args = {}, [], (len(inputs) if multi else None)
        for k, v in kwargs.items():
            found = _node.flatten_tensors(v)
            if found:  # e.g. initial_state=[h, c]: extra inputs after the positional ones
                inputs += found
                tensor_kwargs.append((k, len(found), isinstance(v, (list, tuple))))
                multi = True
            else:
                plain[k] = v
        shapes = [t.shape for t in inputs]
        in_shape = shapes if multi else shapes[0]
        if not multi:
            self._check_input(in_shape)
        self._maybe_build(in_shape)
        out_shape = self.compute_output_shape(
            [(None,) + tuple(s[1:]) for s in shapes] if multi else (None,) + tuple(in_shape[1:]))
        node = _node.Node(self, inputs, plain, training, multi)
        node.n_args, node.tensor_kwargs = n_args, tensor_kwargs
        if _is_shape_list(out_shape):
            node.multi_out = True
            node.outputs = [KerasTensor(tuple(s), self, node, i) for i, s in enumerate(out_shape)]
        else:
            node.outputs = [KerasTensor(tuple(out_shape), self, node, 0)]
        self._inbound_nodes.append(node)
        return list(node.outputs) if node.multi_out else node.outputs[0]

    def _call_recorded(self, rec, x, kwargs, training):
        if not kwargs and type(x) is np.ndarray and x.dtype == np.float32 and self.built:
            # the common case (one float32 array, a built layer): fewer checks per call
            internal = id(x) in rec.produced
            if not internal:
                rec.check_input(self, x)
            shape = self.input_shape
            if shape is not None and x.shape[1:] != shape[1:]:
                self._check_input(x.shape)
            ctx = {"keep_preact": True} if rec.keep_logits and getattr(
                self, "output_activation", None) in ("sigmoid", "softmax") else {}
            y = self.forward(x, ctx, rec.training if training is None else bool(training))
            if self.activity_regularizer is not None and type(y) is np.ndarray:
                ctx["activity_penalty"] = float(self.activity_regularizer(y)) / max(len(y), 1)
                ctx["activity_out"] = y
            rec.tape.append((self, ctx))
            if type(y) is np.ndarray:
                rec.links.append(([x], [y], False, False, internal))
                rec.produced.add(id(y))
            else:
                rec.links.append(([x], list(y), False, True, internal))
                rec.produced.update(id(o) for o in y)
            return y
        mask = kwargs.pop("mask", None)  # the mask protocol: ctx["mask"], not an input
        multi = _is_array_list(x)
        xs = list(x) if multi else [x]
        plain = {}
        for k, v in kwargs.items():
            if isinstance(v, np.ndarray) or _is_array_list(v):
                xs += list(v) if isinstance(v, (list, tuple)) else [v]
                multi = True
            else:
                plain[k] = v
        for a in xs:
            rec.check_input(self, a)
        xs = [a if type(a) is np.ndarray and a.dtype == np.float32 else np.ascontiguousarray(a, np.float32)
              for a in xs]
        if multi:
            self._maybe_build([a.shape for a in xs])
        else:
            self._check_input(xs[0].shape)
            self._maybe_build(xs[0].shape)
        ctx = {"call_kwargs": plain} if plain else {}
        if mask is not None:
            ctx["mask"] = mask
        if rec.keep_logits and getattr(self, "output_activation", None) in ("sigmoid", "softmax"):
            ctx["keep_preact"] = True
        y = self.forward(xs if multi else xs[0], ctx, rec.training if training is None else bool(training))
        outs = list(y) if isinstance(y, (list, tuple)) else [y]
        reg = self.activity_regularizer
        if reg is not None and not isinstance(y, (list, tuple)):
            ctx["activity_penalty"] = float(reg(y)) / max(len(y), 1)
            ctx["activity_out"] = y
        rec.tape.append((self, ctx))
        rec.links.append((xs, outs, multi, isinstance(y, (list, tuple)), any(id(a) in rec.produced for a in xs)))
        rec.produced.update(id(o) for o in outs)
        return y

    # ---- graph attributes (functional API) ----------------------------------------------
    def _node_attr(self, what):
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer {self.name!r} has never been called on a symbolic tensor (baeum.Input(...) or another "
                f"layer's output), so it has no defined {what}.")
        node = self._inbound_nodes[0]
        tensors = node.inputs if what == "input" else node.outputs
        multi = node.multi_in if what == "input" else node.multi_out
        return list(tensors) if multi else tensors[0]

    @property
    def input(self):
        """The KerasTensor(s) of this layer's first call in a graph (Keras `layer.input`)."""
        return self._node_attr("input")

    @property
    def output(self):
        """The KerasTensor(s) this layer's first call in a graph returned (Keras `layer.output`)."""
        return self._node_attr("output")

    def _check_input(self, shape):
        """Raise a clear error if `shape` (batch first) does not fit this built layer."""
        if self.input_shape is None or _is_shape_list(self.input_shape) or _is_shape_list(shape):
            return
        want = self.input_shape[1:]
        got = tuple(shape[1:])
        if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) expects inputs of shape "
                f"{_fmt_shape(self.input_shape)}, received {_fmt_shape((None,) + got)}. "
                "Fix: pass data with that many features, or rebuild the model for the new shape."
            )

    # ---- config ---------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": "float32"}
        if self._declared_input_shape is not None:
            config["batch_input_shape"] = (None,) + self._declared_input_shape
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
