"""Core layers: Input, Dense, Activation, Dropout, Flatten, Reshape (Keras semantics)."""
import numpy as np

from baeum import ops
from baeum.layers.base import Layer, unique_name
from baeum.layers.node import KerasTensor, Node
from baeum.utils import _rng


class InputLayer(Layer):
    """Holds the input shape of a model (no weights). Keras: `keras.layers.InputLayer`."""

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, **kwargs):
        if shape is None and batch_shape is None:
            shape = kwargs.pop("input_shape", None)
        if shape is None and batch_shape is None:
            raise ValueError("InputLayer needs shape= (without the batch dimension), e.g. InputLayer(shape=(30,)).")
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype, **kwargs)
        if batch_shape is not None:
            batch_shape = tuple(batch_shape)
        else:
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size,) + shape
        self.batch_shape = batch_shape
        self._maybe_build(batch_shape)
        node = Node(self, [], {}, None, False)
        node.outputs = [KerasTensor(batch_shape, self, node, 0)]
        self._inbound_nodes.append(node)

    def forward(self, x, ctx, training):
        return x

    def backward(self, dy, ctx, need_dx=True):
        return dy

    def get_config(self):
        return {"name": self.name, "batch_shape": self.batch_shape, "dtype": "float32"}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):
    """A symbolic input (Keras `keras.Input`): use it as the first entry of a Sequential."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape)
    return layer.output


def _resolve_activation(activation, layer_name):
    """The kernel name of a Keras activation given as a string, None or a baeum function."""
    from baeum import activations

    name = activations.op_name(activation)  # unknown strings: ValueError listing valid names
    if name is None:
        raise NotImplementedError(
            f"Layer {layer_name!r}: custom activation {activation!r} has no backward pass in baeum. "
            "Use a built-in activation name (e.g. 'relu', 'sigmoid', 'softmax') or an activation layer."
        )
    return name


class PreactivationOutput:
    """Mixin of the layers whose output is activation(z) for a stored pre-activation z (Dense,
    the convolutions): the model's fused loss (sigmoid/softmax + cross-entropy) reads z from
    a call made with ctx['keep_preact'] (models/checks.fused_output_activation)."""

    @property
    def output_activation(self):
        return self.activation

    @staticmethod
    def logits(ctx):
        """The pre-activation z of a call made with ctx['keep_preact']."""
        return ctx["pre"]


class Dense(PreactivationOutput, Layer):
    """y = activation(x · kernel + bias) on the last axis (Keras `Dense`).

    kernel has Keras's layout (input_dim, units). Forward and backward are one fused C++
    call each (GEMM with bias and activation applied on store). Math: baeum.reference.dense_*.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense {self.name!r}: units must be a positive integer, received {units!r}.")
        if kernel_constraint is not None or bias_constraint is not None:
            raise NotImplementedError(f"Dense {self.name!r}: weight constraints are not supported yet.")
        from baeum import initializers, regularizers

        self.units = int(units)
        self.activation = _resolve_activation(activation, self.name)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._needs_preact = ops.activation_needs_input(self.activation)

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"Dense {self.name!r}: the last input dimension must be known, got {input_shape}.")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                                      self.kernel_regularizer)
        self.bias = (self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)
                     if self.use_bias else None)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, ctx, training):
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])  # N-D: Dense acts on the last axis
        pre = np.empty((x2.shape[0], self.units), np.float32) if (
            self._needs_preact or "keep_preact" in ctx) else None
        y = ops.dense_forward(x2, self.kernel.value, None if self.bias is None else self.bias.value,
                              self.activation, preact=pre)
        ctx["x"], ctx["y"], ctx["pre"] = x2, y, pre
        return y if x.ndim == 2 else y.reshape(x.shape[:-1] + (self.units,))

    def backward(self, dy, ctx, need_dx=True, from_preact=False):
        x2 = ctx["x"]
        dy2 = dy if dy.ndim == 2 else dy.reshape(-1, self.units)
        dinp = np.empty(x2.shape, np.float32) if need_dx else None
        ops.dense_backward(dy2, x2, self.kernel.value, ctx["y"], ctx["pre"],
                           "linear" if from_preact else self.activation,
                           dkernel=self.kernel.grad, dbias=None if self.bias is None else self.bias.grad,
                           dinp=dinp)
        if dinp is None or dy.ndim == 2:
            return dinp
        return dinp.reshape(dy.shape[:-1] + (x2.shape[1],))

    def get_config(self):
        from baeum import initializers, regularizers

        config = super().get_config()
        config.update(units=self.units, activation=self.activation, use_bias=self.use_bias,
                      kernel_initializer=initializers.serialize(self.kernel_initializer),
                      bias_initializer=initializers.serialize(self.bias_initializer),
                      kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
                      bias_regularizer=regularizers.serialize(self.bias_regularizer),
                      activity_regularizer=regularizers.serialize(self.activity_regularizer))
        return config


class Activation(Layer):
    """y = activation(x) (Keras `Activation`); softmax is over the last axis."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _resolve_activation(activation, self.name)

    def forward(self, x, ctx, training):
        y = ops.activation_forward(x, self.activation)
        ctx["x"], ctx["y"] = x, y
        return y

    def backward(self, dy, ctx, need_dx=True, from_preact=False):
        if not need_dx:
            return None
        if from_preact:
            return dy
        return ops.activation_backward(dy, ctx["x"], ctx["y"], self.activation)

    @property
    def output_activation(self):
        return self.activation

    @staticmethod
    def logits(ctx):
        return ctx["x"]

    def get_config(self):
        config = super().get_config()
        config["activation"] = self.activation
        return config


class Dropout(Layer):
    """Inverted dropout (Keras `Dropout`): in training, keep each unit with probability
    1 − rate and scale kept units by 1/(1 − rate); at inference, the identity."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"{type(self).__name__} {self.name!r}: rate must be a number in [0, 1], "
                             f"received {rate!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _next_seed(self):
        if self._rng is not None:
            return int(self._rng.integers(0, 2**63 - 1))
        return _rng.next_seed()

    def forward(self, x, ctx, training):
        if not training or self.rate == 0.0:
            ctx["keep"] = None
            return x
        noise_shape = None
        if self.noise_shape is not None:
            noise_shape = tuple(x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        y, mask = ops.dropout_forward(x, self.rate, self._next_seed(), noise_shape=noise_shape)
        ctx["keep"] = mask
        return y

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        mask = ctx["keep"]
        return dy if mask is None else ops.dropout_backward(dy, mask)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config


class Flatten(Layer):
    """(N, d1, …, dk) → (N, d1·…·dk); (N,) → (N, 1) (Keras `Flatten`, channels_last)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"Flatten {self.name!r}: only data_format='channels_last' is supported.")

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size if rest else 1)

    def forward(self, x, ctx, training):
        ctx["shape"] = x.shape
        return x.reshape(x.shape[0], -1) if x.ndim != 1 else x.reshape(-1, 1)

    def backward(self, dy, ctx, need_dx=True):
        return dy.reshape(ctx["shape"]) if need_dx else None


class Reshape(Layer):
    """(N, …) → (N, *target_shape); one -1 entry is inferred (Keras `Reshape`)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"Reshape {self.name!r}: at most one -1 in target_shape, received {self.target_shape}.")

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape[1:], dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        if int(np.prod(shape, dtype=np.int64)) != size or (-1 in self.target_shape and size % known):
            raise ValueError(
                f"Reshape {self.name!r}: cannot reshape inputs of shape {input_shape[1:]} ({size} values) "
                f"into {self.target_shape}. Fix: the target must hold the same number of values."
            )
        return (input_shape[0],) + shape

    def forward(self, x, ctx, training):
        ctx["shape"] = x.shape
        return x.reshape((x.shape[0],) + self.output_shape[1:])

    def backward(self, dy, ctx, need_dx=True):
        return dy.reshape(ctx["shape"]) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config
