"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax (Keras) and RReLU (course extra)."""
import numpy as np

from baeum import ops
from baeum.layers.base import Layer


def _non_negative(value, what, layer):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not value >= 0:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: {what} must be a number >= 0, received {value!r}.")
    return float(value)


class ReLU(Layer):
    """y = x if x > threshold (capped at max_value), else negative_slope·(x − threshold)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _non_negative(max_value, "max_value", self)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", self)
        self.threshold = _non_negative(threshold, "threshold", self)

    def _params(self):
        return dict(negative_slope=self.negative_slope, max_value=self.max_value, threshold=self.threshold)

    def forward(self, x, ctx, training):
        ctx["x"] = x
        return ops.relu_forward(x, **self._params())

    def backward(self, dy, ctx, need_dx=True):
        return ops.relu_backward(dy, ctx["x"], **self._params()) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config.update(self._params())
        return config


class _ParamActivation(Layer):
    """A named activation with one parameter (LeakyReLU slope, ELU alpha)."""

    activation = None

    def _set_param(self, value, what):
        self.param = _non_negative(value, what, self)

    def forward(self, x, ctx, training):
        y = ops.activation_forward(x, self.activation, alpha=self.param)
        ctx["x"], ctx["y"] = x, y
        return y

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        return ops.activation_backward(dy, ctx["x"], ctx["y"], self.activation, alpha=self.param)


class LeakyReLU(_ParamActivation):
    """y = x if x ≥ 0 else negative_slope·x. Keras layer default slope 0.3 (the function's is 0.2)."""

    activation = "leaky_relu"

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2 name, still accepted by Keras 3
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self._set_param(negative_slope, "negative_slope")

    @property
    def negative_slope(self):
        return self.param

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.param
        return config


class ELU(_ParamActivation):
    """y = x if x ≥ 0 else alpha·(eˣ − 1)."""

    activation = "elu"

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.param = float(alpha)

    @property
    def alpha(self):
        return self.param

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.param
        return config


class Softmax(Layer):
    """y = exp(x − max) / Σ exp(x − max) along `axis`."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def forward(self, x, ctx, training):
        y = ops.softmax_forward(x, axis=self.axis)
        ctx["x"], ctx["y"] = x, y
        return y

    def backward(self, dy, ctx, need_dx=True, from_preact=False):
        if not need_dx:
            return None
        return dy if from_preact else ops.softmax_backward(dy, ctx["y"], axis=self.axis)

    @property
    def output_activation(self):
        return "softmax" if self.axis == -1 else None

    @staticmethod
    def logits(ctx):
        return ctx["x"]

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class PReLU(Layer):
    """y = x if x ≥ 0 else alpha·x, with a learned alpha per feature (Keras `PReLU`).

    alpha has the input's non-batch shape, with `shared_axes` set to 1 (shared slopes)."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        if alpha_constraint is not None:
            raise NotImplementedError(f"PReLU {self.name!r}: alpha_constraint is not supported yet.")
        self.alpha_initializer = alpha_initializer
        self.alpha_regularizer = alpha_regularizer
        if shared_axes is None:
            self.shared_axes = ()
        elif isinstance(shared_axes, int):
            self.shared_axes = (shared_axes,)
        else:
            self.shared_axes = tuple(shared_axes)

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for ax in self.shared_axes:
            shape[ax - 1] = 1
        self.alpha = self.add_weight("alpha", tuple(shape), self.alpha_initializer, self.alpha_regularizer)

    def _full_alpha(self, shape):
        """alpha broadcast over the shared axes to the input's non-batch shape."""
        a = self.alpha.value
        return a if a.shape == shape else np.ascontiguousarray(np.broadcast_to(a, shape))

    def forward(self, x, ctx, training):
        ctx["x"] = x
        return ops.prelu_forward(x, self._full_alpha(x.shape[1:]))

    def backward(self, dy, ctx, need_dx=True):
        x = ctx["x"]
        alpha = self._full_alpha(x.shape[1:])
        if alpha is self.alpha.value:
            return ops.prelu_backward(dy, x, alpha, dalpha=self.alpha.grad)
        dalpha = np.zeros(alpha.shape, np.float32)
        dinp = ops.prelu_backward(dy, x, alpha, dalpha=dalpha)
        # shared axes: the slope's gradient sums over every position that shares it
        axes = tuple(ax - 1 for ax in self.shared_axes)
        self.alpha.grad += dalpha.sum(axis=axes, keepdims=True)
        return dinp

    def get_config(self):
        config = super().get_config()
        config["shared_axes"] = list(self.shared_axes) or None
        return config


class RReLU(Layer):
    """Randomized leaky ReLU (Xu et al. 2015), taught in the course; Keras has no such layer.

    Training: y = x if x ≥ 0 else a·x with a ~ U[lower, upper] drawn per element and step.
    Inference: a = (lower + upper) / 2. Defaults follow PyTorch's nn.RReLU (1/8, 1/3).
    """

    def __init__(self, lower=1.0 / 8.0, upper=1.0 / 3.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        lower, upper = _non_negative(lower, "lower", self), _non_negative(upper, "upper", self)
        if lower > upper:
            raise ValueError(f"RReLU {self.name!r}: need lower <= upper, received lower={lower}, upper={upper}.")
        self.lower, self.upper, self.seed = lower, upper, seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def forward(self, x, ctx, training):
        if self._rng is not None:
            seed = int(self._rng.integers(0, 2**63 - 1))
        else:
            from baeum.utils import _rng as brandom

            seed = brandom.next_seed()
        slopes = np.empty_like(x)
        y = ops.rrelu_forward(x, self.lower, self.upper, seed, training=bool(training), slopes=slopes)
        ctx["x"], ctx["slopes"] = x, slopes
        return y

    def backward(self, dy, ctx, need_dx=True):
        return ops.rrelu_backward(dy, ctx["x"], ctx["slopes"]) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config.update(lower=self.lower, upper=self.upper, seed=self.seed)
        return config
