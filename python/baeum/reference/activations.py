"""Activations and the ReLU family in plain NumPy (float64 math, float32 results).

Twins of baeum.ops.activations, same signatures. Keras notes:
* leaky_relu: the *function* default slope is 0.2 (the LeakyReLU layer's is 0.3; PyTorch 0.01).
* gelu: Keras's "gelu" is the exact erf form; "gelu_tanh" is gelu(approximate=True).
* hard_sigmoid: Keras 3 uses clip(x/6 + 1/2, 0, 1) (tf.keras 2 used 0.2x + 0.5).
* swish is silu (x·σ(x), no β).
"""
import math

import numpy as np

from baeum.reference.nn import _bits24, _softmax64, _store, softmax_backward

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_ALIASES = {"swish": "silu", None: "linear"}
_ALPHA_DEFAULT = {"leaky_relu": 0.2, "elu": 1.0}
_NEEDS_INPUT = {"leaky_relu", "elu", "gelu", "gelu_tanh", "silu", "softplus", "softsign"}
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _phi_cdf(x):
    """Standard normal cdf Φ(x) = ½(1 + erf(x/√2)) = ½·erfc(−x/√2) (no cancellation)."""
    return 0.5 * _erfc(-x / math.sqrt(2.0))


def _sigmoid(x):
    # exp of a negative argument only: no overflow warnings for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _f(name, x, a):
    """y = f(x) in float64."""
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        return _softmax64(x, -1) if x.ndim else np.ones_like(x)
    if name == "leaky_relu":
        return np.where(x >= 0, x, a * x)
    if name == "elu":
        return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0.0)))
    if name == "selu":
        return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))
    if name == "gelu":
        return x * _phi_cdf(x)
    if name == "gelu_tanh":  # ½x(1 + tanh u) written as x·σ(2u): equal, and no cancellation
        return x * _sigmoid(2.0 * math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))
    if name == "silu":
        return x * _sigmoid(x)
    if name == "softplus":
        return np.logaddexp(x, 0.0)
    if name == "softsign":
        return x / (1.0 + np.abs(x))
    if name == "hard_sigmoid":
        return np.clip(x / 6.0 + 0.5, 0.0, 1.0)
    if name == "exponential":
        with np.errstate(over="ignore"):
            return np.exp(x)
    raise ValueError(f"unknown activation {name!r}")


def _df(name, x, a):
    """f'(x) in float64 (softmax handled separately)."""
    if name == "linear":
        return np.ones_like(x)
    if name == "relu":
        return (x > 0).astype(np.float64)
    if name == "sigmoid":
        s = _sigmoid(x)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(x) ** 2
    if name == "leaky_relu":
        return np.where(x > 0, 1.0, a)
    if name == "elu":
        return np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0.0)))
    if name == "selu":
        return SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0)))
    if name == "gelu":
        cdf = _phi_cdf(x)
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        return cdf + x * pdf
    if name == "gelu_tanh":
        c = math.sqrt(2.0 / math.pi)
        t = np.tanh(c * (x + 0.044715 * x**3))
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3 * 0.044715 * x * x)
    if name == "silu":
        s = _sigmoid(x)
        return s * (1.0 + x * (1.0 - s))
    if name == "softplus":
        return _sigmoid(x)
    if name == "softsign":
        return 1.0 / (1.0 + np.abs(x)) ** 2
    if name == "hard_sigmoid":
        return np.where((x > -3.0) & (x < 3.0), 1.0 / 6.0, 0.0)
    if name == "exponential":
        with np.errstate(over="ignore"):
            return np.exp(x)
    raise ValueError(f"unknown activation {name!r}")


def _resolve(activation, alpha):
    name = _ALIASES.get(activation, activation)
    return name, (_ALPHA_DEFAULT.get(name, 0.0) if alpha is None else float(alpha))


def activation_needs_input(activation):
    """Whether the backward reads x (else it can be written in terms of y = f(x))."""
    return _resolve(activation, None)[0] in _NEEDS_INPUT


def activation_forward(x, activation, *, alpha=None, out=None):
    """out = f(x); softmax over the last axis."""
    name, a = _resolve(activation, alpha)
    x = np.asarray(x, dtype=np.float64)
    return _store(_f(name, x, a), out)


def activation_backward(dout, x, y, activation, *, alpha=None, dinp=None):
    """dinp = dout·f'(x) with f' written in x (the reference always uses x when it has it;
    for softmax, and when x is None, the y form is used)."""
    name, a = _resolve(activation, alpha)
    dout = np.asarray(dout, dtype=np.float64)
    if name == "softmax":
        return softmax_backward(dout, y, axis=-1, dinp=dinp)
    if x is None:  # y-based forms, used by the kernel for these activations
        y = np.asarray(y, dtype=np.float64)
        d = {"relu": lambda: (y > 0) * 1.0, "sigmoid": lambda: y * (1 - y),
             "tanh": lambda: 1 - y * y, "selu": lambda: np.where(y > 0, SELU_SCALE,
                                                                  y + SELU_SCALE * SELU_ALPHA),
             "hard_sigmoid": lambda: ((y > 0) & (y < 1)) / 6.0, "exponential": lambda: y,
             "linear": lambda: np.ones_like(dout)}[name]()
        return _store(dout * d, dinp)
    return _store(dout * _df(name, np.asarray(x, dtype=np.float64), a), dinp)


def relu_forward(x, *, negative_slope=0.0, max_value=None, threshold=0.0, out=None):
    """Keras relu: x > t → min(x, max_value); x < t → negative_slope·(x − t); x == t → 0."""
    x = np.asarray(x, dtype=np.float64)
    mv = np.inf if max_value is None else max_value
    y = np.where(x > threshold, np.minimum(x, mv),
                 np.where(x < threshold, negative_slope * (x - threshold), 0.0))
    return _store(y, out)


def relu_backward(dout, x, *, negative_slope=0.0, max_value=None, threshold=0.0, dinp=None):
    x = np.asarray(x, dtype=np.float64)
    mv = np.inf if max_value is None else max_value
    g = np.where((x > threshold) & (x < mv), 1.0, np.where(x < threshold, negative_slope, 0.0))
    return _store(np.asarray(dout, dtype=np.float64) * g, dinp)


def prelu_forward(x, alpha, out=None):
    """Keras PReLU: relu(x) − alpha·relu(−x), alpha broadcast over the batch axis."""
    x = np.asarray(x, dtype=np.float64)
    alpha = np.asarray(alpha, dtype=np.float64)
    return _store(np.maximum(x, 0) - alpha * np.maximum(-x, 0), out)


def prelu_backward(dout, x, alpha, *, dalpha, dinp=None):
    x = np.asarray(x, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    alpha = np.asarray(alpha, dtype=np.float64)
    dalpha += (dout * np.minimum(x, 0.0)).sum(axis=0).astype(dalpha.dtype)
    return _store(dout * np.where(x > 0, 1.0, alpha), dinp)


def rrelu_slopes(shape, lower, upper, seed):
    """Training slopes: lower + (upper − lower)·u, u = bits24(seed, i)/2²⁴ (float32 math,
    as the kernel)."""
    n = int(np.prod(shape))
    u = _bits24(seed, n).astype(np.float32) * np.float32(1.0 / 16777216.0)
    lo, hi = np.float32(lower), np.float32(upper)
    return (lo + (hi - lo) * u).astype(np.float32).reshape(shape)


def rrelu_forward(x, lower, upper, seed, *, training, out=None, slopes=None):
    """y = x if x >= 0 else s·x; s ~ U[lower, upper) (training) or (lower+upper)/2."""
    x = np.asarray(x, dtype=np.float64)
    if training:
        s = rrelu_slopes(x.shape, lower, upper, seed)
    else:
        s = np.full(x.shape, np.float32(0.5) * (np.float32(lower) + np.float32(upper)),
                    dtype=np.float32)
    if slopes is not None:
        slopes[...] = s
    return _store(np.where(x >= 0, x, s.astype(np.float64) * x), out)


def rrelu_backward(dout, x, slopes, dinp=None):
    x = np.asarray(x, dtype=np.float64)
    g = np.where(x >= 0, 1.0, np.asarray(slopes, dtype=np.float64))
    return _store(np.asarray(dout, dtype=np.float64) * g, dinp)
