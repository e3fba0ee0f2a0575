"""Activation kernels: Keras activation functions, forward and backward, and the ReLU family
layers (ReLU with options, PReLU, RReLU).

Names are Keras's (``keras.activations``): linear, relu, sigmoid, tanh, softmax, leaky_relu,
elu, selu, gelu, gelu_tanh (= gelu(approximate=True)), silu (alias swish), softplus,
softsign, hard_sigmoid, exponential. Formulas: csrc/baeum/elementwise.cpp, docs/elementwise.md.
NumPy twins: baeum.reference.activations.
"""
import numpy as np

from baeum import _core
from baeum.ops._checks import _as_float, _as_input, _check_out

_IDS = dict(_core.activation_ids())  # canonical name -> kernel id
ALIASES = {"swish": "silu"}
ACTIVATION_NAMES = tuple(sorted(set(_IDS) | set(ALIASES)))
# The one parameter of an activation (leaky_relu slope, elu alpha) and its Keras default.
_ALPHA_DEFAULT = {"leaky_relu": 0.2, "elu": 1.0}
_NEEDS_INPUT = {name: bool(_core.activation_needs_input(i)) for name, i in _IDS.items()}


def _canonical_activation(activation, op="activation"):
    """The canonical kernel name for a Keras activation name (None -> "linear")."""
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        name = ALIASES.get(activation, activation)
        if name in _IDS:
            return name
    raise ValueError(
        f"{op}: unknown activation {activation!r}. Valid names: {', '.join(ACTIVATION_NAMES)}."
    )


def _resolve(activation, alpha, op):
    name = _canonical_activation(activation, op)
    if alpha is None:
        return name, _IDS[name], _ALPHA_DEFAULT.get(name, 0.0)
    if name not in _ALPHA_DEFAULT:
        raise ValueError(
            f"{op}: activation {name!r} has no alpha parameter (only leaky_relu and elu do); "
            "pass alpha=None."
        )
    return name, _IDS[name], _as_float(alpha, "alpha", op)


def _buffer(buf, shape, op, name, inputs=()):
    """A caller-provided float32 C-contiguous buffer of `shape` (written in place)."""
    try:
        return _check_out(buf, shape, op, inputs)
    except (TypeError, ValueError) as e:
        raise type(e)(str(e).replace(f"{op}: out", f"{op}: {name}", 1)) from None


def activation_needs_input(activation):
    """Whether activation_backward reads the pre-activation x (else only y = f(x))."""
    return _NEEDS_INPUT[_canonical_activation(activation, "activation_needs_input")]


def activation_forward(x, activation, *, alpha=None, out=None):
    """out = f(x) elementwise (softmax: over the last axis). alpha: leaky_relu negative
    slope (Keras function default 0.2; the LeakyReLU *layer* default 0.3 is the layer's
    business) or elu alpha (default 1.0); None = Keras default."""
    op = "activation_forward"
    _, act, a = _resolve(activation, alpha, op)
    x = _as_input(x, "x", op)
    if out is None:
        out = np.empty(x.shape, dtype=np.float32)
    else:
        _check_out(out, x.shape, op, inputs=(x,))
    _core.activation_forward(x, out, act, a)
    return out


def activation_backward(dout, x, y, activation, *, alpha=None, dinp=None):
    """dinp = dout · f'(x). x: pre-activation input, y: forward output. Only the one the
    derivative needs is read (see activation_needs_input); the other may be None.
    softmax (last axis): dinp = y · (dout − Σ dout·y)."""
    op = "activation_backward"
    name, act, a = _resolve(activation, alpha, op)
    dout = _as_input(dout, "dout", op)
    needs_x = _NEEDS_INPUT[name]
    xx = yy = None
    if needs_x:
        if x is None:
            raise ValueError(f"{op}: {name} backward needs x (the forward input); got None.")
        xx = _as_input(x, "x", op)
        _same(xx, "x", dout, op)
    elif name != "linear":
        if y is None:
            raise ValueError(f"{op}: {name} backward needs y (the forward output); got None.")
        yy = _as_input(y, "y", op)
        _same(yy, "y", dout, op)
    if dinp is None:
        dinp = np.empty(dout.shape, dtype=np.float32)
    else:
        _buffer(dinp, dout.shape, op, "dinp", inputs=(dout,))
    _core.activation_backward(dout, xx, yy, dinp, act, a)
    return dinp


def _same(a, an, b, op, bn="dout"):
    if a.shape != b.shape:
        raise ValueError(f"{op}: {an} has shape {a.shape} but {bn} has shape {b.shape}; "
                         "they must match.")


def _relu_args(negative_slope, max_value, threshold, op):
    slope = _as_float(negative_slope, "negative_slope", op)
    t = _as_float(threshold, "threshold", op)
    mv = None if max_value is None else _as_float(max_value, "max_value", op)
    for nm, v in (("negative_slope", slope), ("threshold", t), ("max_value", mv)):
        if v is not None and not v >= 0:
            raise ValueError(f"{op}: {nm} must be >= 0 (as in Keras ReLU), got {v}.")
    return slope, mv, t


def relu_forward(x, *, negative_slope=0.0, max_value=None, threshold=0.0, out=None):
    """Keras ReLU layer / activations.relu:
    y = min(x, max_value) if x > threshold; negative_slope·(x − threshold) if x < threshold;
    0 at x == threshold."""
    op = "relu_forward"
    slope, mv, t = _relu_args(negative_slope, max_value, threshold, op)
    x = _as_input(x, "x", op)
    if out is None:
        out = np.empty(x.shape, dtype=np.float32)
    else:
        _check_out(out, x.shape, op, inputs=(x,))
    _core.relu_forward(x, out, slope, mv, t)
    return out


def relu_backward(dout, x, *, negative_slope=0.0, max_value=None, threshold=0.0, dinp=None):
    """dinp = dout · (1 if threshold < x < max_value; negative_slope if x < threshold; else 0)."""
    op = "relu_backward"
    slope, mv, t = _relu_args(negative_slope, max_value, threshold, op)
    dout = _as_input(dout, "dout", op)
    x = _as_input(x, "x", op)
    _same(x, "x", dout, op)
    if dinp is None:
        dinp = np.empty(dout.shape, dtype=np.float32)
    else:
        _buffer(dinp, dout.shape, op, "dinp", inputs=(dout, x))
    _core.relu_backward(dout, x, dinp, slope, mv, t)
    return dinp


def _prelu_alpha(alpha, x, op):
    alpha = _as_input(alpha, "alpha", op)
    if x.ndim < 1 or alpha.shape != x.shape[1:]:
        raise ValueError(
            f"{op}: alpha has shape {alpha.shape}, expected x's non-batch shape {x.shape[1:]} "
            f"(x is {x.shape}). Fix: broadcast shared axes in the layer before calling."
        )
    return alpha


def prelu_forward(x, alpha, out=None):
    """Keras PReLU: y = x if x > 0 else alpha·x (= relu(x) − alpha·relu(−x)); alpha has the
    shape of x without its batch axis and is broadcast over the batch."""
    op = "prelu_forward"
    x = _as_input(x, "x", op)
    alpha = _prelu_alpha(alpha, x, op)
    if out is None:
        out = np.empty(x.shape, dtype=np.float32)
    else:
        _check_out(out, x.shape, op, inputs=(x,))
    _core.prelu_forward(x, alpha, out)
    return out


def prelu_backward(dout, x, alpha, *, dalpha, dinp=None):
    """dinp = dout·(x > 0 ? 1 : alpha) (overwritten; allocated when None);
    dalpha += Σ_batch dout·min(x, 0) (accumulated). Returns dinp."""
    op = "prelu_backward"
    dout = _as_input(dout, "dout", op)
    x = _as_input(x, "x", op)
    _same(x, "x", dout, op)
    alpha = _prelu_alpha(alpha, x, op)
    _buffer(dalpha, alpha.shape, op, "dalpha")
    if dinp is None:
        dinp = np.empty(dout.shape, dtype=np.float32)
    else:
        _buffer(dinp, dout.shape, op, "dinp", inputs=(dout, x))
    _core.prelu_backward(dout, x, alpha, dalpha, dinp)
    return dinp


def _seed(seed, op):
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{op}: seed must be an int, got {seed!r}. Fix: pass e.g. seed=1234.")
    return int(seed) & 0xFFFFFFFFFFFFFFFF


def rrelu_forward(x, lower, upper, seed, *, training, out=None, slopes=None):
    """Randomized leaky ReLU: y = x if x >= 0 else s·x. training: s ~ U[lower, upper) per
    element from a counter-based RNG (depends only on seed and element index, never on the
    thread count), stored into `slopes` if given; inference: s = (lower + upper)/2.
    (Not a Keras layer; PyTorch's RReLU defaults are lower=1/8, upper=1/3.)"""
    op = "rrelu_forward"
    lo, hi = _as_float(lower, "lower", op), _as_float(upper, "upper", op)
    if not lo <= hi:
        raise ValueError(f"{op}: need lower <= upper, got lower={lo}, upper={hi}.")
    seed = _seed(seed, op)
    x = _as_input(x, "x", op)
    if out is None:
        out = np.empty(x.shape, dtype=np.float32)
    else:
        _check_out(out, x.shape, op, inputs=(x,))
    if slopes is not None:
        _buffer(slopes, x.shape, op, "slopes", inputs=(x, out))
    _core.rrelu_forward(x, out, slopes, lo, hi, seed, bool(training))
    return out


def rrelu_backward(dout, x, slopes, dinp=None):
    """dinp = dout · (x >= 0 ? 1 : slopes)."""
    op = "rrelu_backward"
    dout = _as_input(dout, "dout", op)
    x = _as_input(x, "x", op)
    slopes = _as_input(slopes, "slopes", op)
    _same(x, "x", dout, op)
    _same(slopes, "slopes", dout, op)
    if dinp is None:
        dinp = np.empty(dout.shape, dtype=np.float32)
    else:
        _buffer(dinp, dout.shape, op, "dinp", inputs=(dout, x, slopes))
    _core.rrelu_backward(dout, x, slopes, dinp)
    return dinp
