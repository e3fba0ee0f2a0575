"""baeum.activations — Keras's ``keras.activations`` module.

Each function takes an array (any real dtype/layout) and returns a float32 NumPy array,
computed by the C++ kernels in baeum.ops. Formulas: KERAS_SEMANTICS.md §2, docs/elementwise.md.
``get(identifier)`` resolves a name / callable / None (→ linear) as Keras does;
``op_name(identifier)`` gives the kernel id layers pass to baeum.ops (e.g. "gelu_tanh").
"""
from baeum import ops


def linear(x):
    """x (what activation=None resolves to)."""
    return ops.activation_forward(x, "linear")


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0); with options: min(x, max_value) above threshold, negative_slope·(x −
    threshold) below it."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.activation_forward(x, "relu")
    return ops.relu_forward(x, negative_slope=negative_slope, max_value=max_value,
                            threshold=threshold)


def sigmoid(x):
    """1 / (1 + exp(−x))."""
    return ops.activation_forward(x, "sigmoid")


def tanh(x):
    return ops.activation_forward(x, "tanh")


def softmax(x, axis=-1):
    """exp(x − max) / Σ exp(x − max) along axis."""
    return ops.softmax_forward(x, axis=axis)


def leaky_relu(x, negative_slope=0.2):
    """x if x >= 0 else negative_slope·x. Keras function default 0.2 (LeakyReLU layer: 0.3)."""
    return ops.activation_forward(x, "leaky_relu", alpha=negative_slope)


def elu(x, alpha=1.0):
    """x if x > 0 else alpha·(exp(x) − 1)."""
    return ops.activation_forward(x, "elu", alpha=alpha)


def selu(x):
    """scale·elu(x, 1.67326…), scale = 1.05070…"""
    return ops.activation_forward(x, "selu")


def gelu(x, approximate=False):
    """Exact 0.5·x·(1 + erf(x/√2)) (Keras default); approximate=True: the tanh form."""
    return ops.activation_forward(x, "gelu_tanh" if approximate else "gelu")


def silu(x):
    """x·sigmoid(x) (also called swish; no β)."""
    return ops.activation_forward(x, "silu")


swish = silu


def softplus(x):
    """log(1 + exp(x)), computed as logaddexp(x, 0)."""
    return ops.activation_forward(x, "softplus")


def softsign(x):
    """x / (1 + |x|)."""
    return ops.activation_forward(x, "softsign")


def hard_sigmoid(x):
    """clip(x/6 + 1/2, 0, 1) (Keras 3; tf.keras 2 used 0.2·x + 0.5)."""
    return ops.activation_forward(x, "hard_sigmoid")


def exponential(x):
    return ops.activation_forward(x, "exponential")


ALL_ACTIVATIONS = {
    f.__name__: f
    for f in (linear, relu, sigmoid, tanh, softmax, leaky_relu, elu, selu, gelu, silu,
              softplus, softsign, hard_sigmoid, exponential)
}
ALL_ACTIVATIONS["swish"] = silu
# Keras names baeum does not implement yet: refused loudly, never silently replaced.
_NOT_IMPLEMENTED = ("relu6", "hard_silu", "hard_swish", "mish", "log_softmax", "celu", "glu",
                    "hard_tanh", "hard_shrink", "soft_shrink", "tanh_shrink", "squareplus",
                    "sparse_plus", "sparsemax", "sparse_sigmoid", "threshold", "log_sigmoid")
# Kernel id (baeum.ops) of each function object.
_OP_NAMES = {f: name for name, f in ALL_ACTIVATIONS.items() if name != "swish"}


def get(identifier):
    """None → linear; a name → the function; a callable → itself. Unknown names raise
    ValueError listing the valid ones."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):  # serialized form {"class_name": ..., "config": name}
        identifier = identifier.get("config", identifier.get("class_name"))
    if isinstance(identifier, str):
        if identifier in ALL_ACTIVATIONS:
            return ALL_ACTIVATIONS[identifier]
        if identifier in _NOT_IMPLEMENTED:
            raise NotImplementedError(
                f"activation {identifier!r} is a Keras activation baeum does not implement "
                f"yet. Available: {', '.join(sorted(ALL_ACTIVATIONS))}.")
        raise ValueError(
            f"Could not interpret activation function identifier: {identifier!r}. "
            f"Valid names: {', '.join(sorted(ALL_ACTIVATIONS))}.")
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret activation function identifier: {identifier!r} "
        "(expected a name, a callable or None).")


def serialize(activation):
    """The name of a built-in activation (Keras stores activations as their string name)."""
    fn = get(activation)
    name = _OP_NAMES.get(fn)
    if name is None:
        name = getattr(fn, "__name__", None)
        if name is None:
            raise ValueError(f"Cannot serialize activation {activation!r}: it has no name.")
    return name


def deserialize(config, custom_objects=None):
    if custom_objects and isinstance(config, str) and config in custom_objects:
        return custom_objects[config]
    return get(config)


def op_name(identifier):
    """The baeum.ops kernel name for an activation identifier ("gelu", "gelu_tanh", "silu",
    ...), or None for a custom callable that has no kernel (the layer must then differentiate
    it some other way or refuse). relu with options is the layer's business (ops.relu_*)."""
    fn = get(identifier)
    return _OP_NAMES.get(fn)


__all__ = sorted(ALL_ACTIVATIONS) + ["get", "serialize", "deserialize", "op_name"]
