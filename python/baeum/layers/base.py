"""Layer and Variable: the pieces every Keras layer in baeum is made of.

A layer has weights (Variables), is built lazily from its first input shape, and has two
methods that do the work:

* ``forward(x, ctx, training)`` returns the output and stores in ``ctx`` (a dict that lives
  on the model's tape entry, not on the layer) whatever ``backward`` will need. Because the
  context is per call, one layer may be called several times in one step (shared layers).
* ``backward(dy, ctx, need_dx)`` turns d(loss)/d(output) into d(loss)/d(input) and ADDS its
  weight gradients into ``variable.grad`` (the model zeroes all gradients once per step).

A layer with its own random generator (``seed=``) keeps it in ``self._rng`` (a NumPy
Generator): saving stores its state so a reloaded model draws the same numbers.

The math of every forward/backward lives in ``baeum.reference`` and the speed in ``baeum.ops``;
layer files stay short.
"""
import re

import numpy as np

_name_counts = {}


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

    def __call__(self, x, training=False):
        """Eager call on a NumPy array (inference unless training=True); no gradients kept."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        self._check_input(x.shape)
        self._maybe_build(x.shape)
        return self.forward(x, {}, bool(training))

    def _check_input(self, shape):
        """Raise a clear error if `shape` (batch first) does not fit this built layer."""
        if self.input_shape is None:
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
