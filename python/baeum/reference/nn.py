"""Dense, dropout, softmax and bias in plain NumPy (float64 math, float32 results).

Twins of baeum.ops.nn, same signatures. Backward derivations: docs/elementwise.md.
"""
import numpy as np

_M64 = 0xFFFFFFFFFFFFFFFF
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _store(value, out):
    """Return value as float32, written into out when out is given."""
    if out is None:
        return np.asarray(value, dtype=np.float32)
    out[...] = value
    return out


def _mix64(z):
    """splitmix64's output function on uint64 arrays (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _bits24(seed, n):
    """24 random bits for elements 0..n−1: element i of the splitmix64 stream whose state
    starts at mix64(seed + φ). A pure function of (seed, i)."""
    key = _mix64(np.array([(int(seed) + 0x9E3779B97F4A7C15) & _M64], dtype=np.uint64))
    i = np.arange(1, n + 1, dtype=np.uint64)
    return (_mix64(key + i * _GOLDEN) >> np.uint64(40)).astype(np.uint32)


def dropout_mask(shape, rate, seed):
    """mask = 1/(1−rate) where bits24 ≥ rate·2²⁴ (probability 1−rate), else 0."""
    n = int(np.prod(shape))
    scale = np.float32(1.0 / (1.0 - rate)) if rate < 1.0 else np.float32(0.0)
    keep = _bits24(int(seed) & _M64, n).astype(np.float64) >= rate * 16777216.0
    return np.where(keep, scale, np.float32(0.0)).astype(np.float32).reshape(shape)


def dropout_forward(inp, rate, seed, *, noise_shape=None, out=None, mask=None):
    """Keras inverted dropout: out = inp·keep/(1 − rate), keep ~ Bernoulli(1 − rate) of
    noise_shape (None entries = inp's sizes), broadcast over inp. Returns (out, mask)."""
    inp = np.asarray(inp, dtype=np.float32)
    ns = inp.shape if noise_shape is None else tuple(
        s if v is None else v for v, s in zip(noise_shape, inp.shape))
    m = dropout_mask(ns, rate, seed)
    if mask is not None:
        mask[...] = m
        m = mask
    return _store(inp * m, out), m  # float32 product, as the kernel


def dropout_backward(dout, mask, *, dinp=None):
    """dinp = dout · mask (broadcast)."""
    return _store(np.asarray(dout, dtype=np.float32) * np.asarray(mask, dtype=np.float32), dinp)


def softmax_forward(inp, *, axis=-1, out=None):
    """softmax(x)_k = exp(x_k − max) / Σ_j exp(x_j − max) along axis."""
    return _store(_softmax64(np.asarray(inp, dtype=np.float64), axis), out)


def _softmax64(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(dout, out_fwd, *, axis=-1, dinp=None):
    """dx = y ⊙ (dy − Σ_axis dy·y) (the Jacobian diag(y) − y yᵀ applied to dy)."""
    dy = np.asarray(dout, dtype=np.float64)
    y = np.asarray(out_fwd, dtype=np.float64)
    return _store(y * (dy - (dy * y).sum(axis=axis, keepdims=True)), dinp)


def bias_add(inp, bias, *, out=None):
    return _store(np.asarray(inp, np.float64) + np.asarray(bias, np.float64), out)


def bias_grad(dout, *, dbias):
    """dbias += Σ over all axes but the last."""
    d = np.asarray(dout, dtype=np.float64)
    dbias += d.reshape(-1, d.shape[-1]).sum(axis=0).astype(dbias.dtype)
    return dbias


def dense_forward(inp, kernel, bias, activation="linear", *, alpha=None, out=None, preact=None):
    """out = f(inp·kernel + bias); kernel (input_dim, units) (Keras; PyTorch stores Wᵀ)."""
    from baeum.reference.activations import activation_forward

    z = np.asarray(inp, np.float64) @ np.asarray(kernel, np.float64)
    if bias is not None:
        z = z + np.asarray(bias, np.float64)
    if preact is not None:
        preact[...] = z
    return activation_forward(z, activation, alpha=alpha, out=out)


def dense_backward(dout, inp, kernel, out, preact, activation, *, alpha=None, dkernel, dbias,
                   dinp=None):
    """dz = dout·f'(z); dkernel += inpᵀ·dz; dbias += Σ_n dz; dinp = dz·kernelᵀ."""
    from baeum.reference.activations import activation_backward, activation_needs_input

    x = preact if activation_needs_input(activation) else None
    dz = np.empty(np.shape(dout), dtype=np.float64)
    activation_backward(dout, x, out, activation, alpha=alpha, dinp=dz)
    inp = np.asarray(inp, np.float64)
    dkernel += (inp.T @ dz).astype(dkernel.dtype)
    if dbias is not None:
        dbias += dz.sum(axis=0).astype(dbias.dtype)
    if dinp is not None:
        dinp[...] = dz @ np.asarray(kernel, np.float64).T
    return dinp
