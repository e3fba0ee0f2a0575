"""Dense (fused GEMM + bias + activation), dropout, softmax and bias kernels.

Formulas and backward derivations: docs/elementwise.md. NumPy twins: baeum.reference.nn.
"""
import numpy as np

from baeum import _core
from baeum.ops._checks import _as_float, _as_input, _check_out
from baeum.ops.activations import _NEEDS_INPUT, _buffer, _resolve, _same, _seed

# Fast paths. In the training loop every argument is already a float32 C-contiguous array of
# the right shape, and the _core bindings check dtype, layout, every shape and that outputs
# do not overlap inputs before touching memory. So each op first calls _core directly; only
# if that refuses do the checks below run, to convert what can be converted and to explain
# the rest. (Saves 1-3 µs per call, which is most of a call at batch size 10.)
_RESOLVED = {}  # (activation name, alpha) -> (name, kernel id, alpha) once resolved


def _resolved(activation, alpha, op):
    if alpha is None:
        r = _RESOLVED.get(activation)  # the common case: a name with its default parameter
        if r is not None:
            return r
    key = activation if alpha is None else (activation, alpha)
    r = _RESOLVED.get(key) if isinstance(activation, str) and (alpha is None or type(alpha) is float) else None
    if r is None:
        r = _resolve(activation, alpha, op)
        if isinstance(activation, str) and (alpha is None or type(alpha) is float):
            _RESOLVED[key] = r
    return r




def dense_forward(inp, kernel, bias, activation="linear", *, alpha=None, out=None, preact=None):
    """out = f(inp · kernel + bias), one GEMM whose epilogue adds the bias and applies f on
    each tile while it is in cache (softmax: per row right after the GEMM, same call).

    inp (N, D), kernel (D, U) (Keras layout), bias (U,) or None. preact: optional (N, U)
    float32 buffer that receives z = inp·kernel + bias (needed by dense_backward when
    activation_needs_input(activation))."""
    op = "dense_forward"
    _, act, a = _resolved(activation, alpha, op)
    if type(inp) is np.ndarray and type(kernel) is np.ndarray and inp.ndim == kernel.ndim == 2:
        try:
            o = np.empty((inp.shape[0], kernel.shape[1]), np.float32) if out is None else out
            _core.dense_forward(inp, kernel, bias, o, preact, act, a)
            return o
        except (TypeError, ValueError):
            pass
    inp = _as_input(inp, "inp", op, ndim=2)
    kernel = _as_input(kernel, "kernel", op, ndim=2)
    n, d = inp.shape
    if kernel.shape[0] != d:
        raise ValueError(
            f"{op}: inp has shape {inp.shape} but kernel has shape {kernel.shape}; kernel must "
            f"be (input_dim, units) = ({d}, units) (Keras layout). Fix: kernel.T if it is "
            "PyTorch's (units, input_dim)."
        )
    u = kernel.shape[1]
    if bias is not None:
        bias = _as_input(bias, "bias", op, ndim=1)
        if bias.shape[0] != u:
            raise ValueError(f"{op}: bias has shape {bias.shape}, expected ({u},) (units).")
    if out is None:
        out = np.empty((n, u), dtype=np.float32)
    else:
        _check_out(out, (n, u), op, inputs=(inp, kernel))
    if preact is not None:
        _buffer(preact, (n, u), op, "preact", inputs=(inp, kernel, out))
    _core.dense_forward(inp, kernel, bias, out, preact, act, a)
    return out


def dense_backward(dout, inp, kernel, out, preact, activation, *, alpha=None, dkernel, dbias,
                   dinp=None):
    """dz = dout·f'(z) (reads out and/or preact, see activation_needs_input);
    dkernel += inpᵀ·dz; dbias += Σ_rows dz (dbias None when there is no bias);
    dinp = dz·kernelᵀ (overwritten) when dinp is given. Returns dinp (or None)."""
    op = "dense_backward"
    name, act, a = _resolved(activation, alpha, op)
    if type(dout) is np.ndarray and type(inp) is np.ndarray and type(kernel) is np.ndarray:
        try:
            _core.dense_backward(dout, inp, kernel, out, preact, dkernel, dbias, dinp, act, a)
            return dinp
        except (TypeError, ValueError):
            pass
    dout = _as_input(dout, "dout", op, ndim=2)
    inp = _as_input(inp, "inp", op, ndim=2)
    kernel = _as_input(kernel, "kernel", op, ndim=2)
    n, d = inp.shape
    if kernel.shape[0] != d:
        raise ValueError(f"{op}: inp has shape {inp.shape} but kernel has shape "
                         f"{kernel.shape}; kernel must be ({d}, units).")
    u = kernel.shape[1]
    if dout.shape != (n, u):
        raise ValueError(f"{op}: dout has shape {dout.shape}, expected {(n, u)}.")
    if _NEEDS_INPUT[name]:
        if preact is None:
            raise ValueError(f"{op}: {name} backward needs preact (z); pass the preact= "
                             "buffer filled by dense_forward.")
        preact = _as_input(preact, "preact", op)
        _same(preact, "preact", dout, op)
    elif name != "linear":
        if out is None:
            raise ValueError(f"{op}: {name} backward needs out (the forward output).")
        out = _as_input(out, "out", op)
        _same(out, "out", dout, op)
    _buffer(dkernel, (d, u), op, "dkernel")
    if dbias is not None:
        _buffer(dbias, (u,), op, "dbias")
    if dinp is not None:
        _buffer(dinp, (n, d), op, "dinp", inputs=(dout,))
    _core.dense_backward(dout, inp, kernel, out, preact, dkernel, dbias, dinp, act, a)
    return dinp


def _noise_shape(noise_shape, shape, op):
    if noise_shape is None:
        return shape
    ns = tuple(noise_shape)
    if len(ns) != len(shape):
        raise ValueError(f"{op}: noise_shape {ns} must have one entry per axis of the input "
                         f"{shape} (None entries are filled from the input).")
    ns = tuple(s if v is None else int(v) for v, s in zip(ns, shape))
    for v, s in zip(ns, shape):
        if v not in (1, s):
            raise ValueError(f"{op}: noise_shape {ns} does not broadcast to the input shape "
                             f"{shape}: each entry must be 1, None or the input's size.")
    return ns


def dropout_forward(inp, rate, seed, *, noise_shape=None, out=None, mask=None):
    """Keras inverted dropout: keep ~ Bernoulli(1 − rate), out = inp·keep/(1 − rate).
    Returns (out, mask); mask is float32 of noise_shape (default inp.shape; None entries
    filled from inp.shape, then broadcast) holding 0 or 1/(1 − rate). rate == 1 → zeros,
    rate == 0 → identity. keep_i = [bits24(seed, i) ≥ rate·2²⁴] with a counter-based
    splitmix64 stream, so the mask depends only on (seed, index), never on threads."""
    op = "dropout_forward"
    if noise_shape is None and type(inp) is np.ndarray and type(seed) is int and type(rate) is float:
        try:
            o = np.empty(inp.shape, np.float32) if out is None else out
            m = np.empty(inp.shape, np.float32) if mask is None else mask
            _core.dropout_forward(inp, o, m, rate, seed & 0xFFFFFFFFFFFFFFFF)
            return o, m
        except (TypeError, ValueError):
            pass
    rate = _as_float(rate, "rate", op)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{op}: rate must be in [0, 1], got {rate}.")
    seed = _seed(seed, op)
    inp = _as_input(inp, "inp", op)
    ns = _noise_shape(noise_shape, inp.shape, op)
    if out is None:
        out = np.empty(inp.shape, dtype=np.float32)
    else:
        _check_out(out, inp.shape, op, inputs=(inp,))
    if mask is None:
        mask = np.empty(ns, dtype=np.float32)
    else:
        _buffer(mask, ns, op, "mask", inputs=(inp, out))
    if ns == inp.shape:
        _core.dropout_forward(inp, out, mask, rate, seed)
    else:
        _core.dropout_mask(mask, rate, seed)
        np.multiply(inp, mask, out=out)
    return out, mask


def dropout_backward(dout, mask, *, dinp=None):
    """dinp = dout · mask (mask broadcast when it has a noise_shape)."""
    op = "dropout_backward"
    if type(dout) is np.ndarray and type(mask) is np.ndarray and dout.shape == mask.shape:
        try:
            d = np.empty(dout.shape, np.float32) if dinp is None else dinp
            _core.multiply(dout, mask, d)
            return d
        except (TypeError, ValueError):
            pass
    dout = _as_input(dout, "dout", op)
    mask = _as_input(mask, "mask", op)
    if dinp is None:
        dinp = np.empty(dout.shape, dtype=np.float32)
    else:
        _buffer(dinp, dout.shape, op, "dinp", inputs=(dout,))
    if mask.shape == dout.shape:
        _core.multiply(dout, mask, dinp)
    else:
        _noise_shape(mask.shape, dout.shape, op)
        np.multiply(dout, mask, out=dinp)
    return dinp


def _split(shape, axis, op):
    nd = len(shape)
    if nd == 0:
        raise ValueError(f"{op}: softmax needs at least 1-D input, got a scalar.")
    if not -nd <= axis < nd:
        raise ValueError(f"{op}: axis {axis} is out of range for a {nd}-D input {shape}.")
    axis %= nd
    return (int(np.prod(shape[:axis])), shape[axis], int(np.prod(shape[axis + 1:])))


def softmax_forward(inp, *, axis=-1, out=None):
    """out = exp(x − max) / Σ exp(x − max) along axis (stable: subtract the max)."""
    op = "softmax_forward"
    inp = _as_input(inp, "inp", op)
    outer, k, inner = _split(inp.shape, int(axis), op)
    if out is None:
        out = np.empty(inp.shape, dtype=np.float32)
    else:
        _check_out(out, inp.shape, op, inputs=(inp,))
    _core.softmax_forward(inp, out, outer, k, inner)
    return out


def softmax_backward(dout, out_fwd, *, axis=-1, dinp=None):
    """dinp = y·(dout − Σ_axis dout·y), y = out_fwd."""
    op = "softmax_backward"
    dout = _as_input(dout, "dout", op)
    y = _as_input(out_fwd, "out_fwd", op)
    _same(y, "out_fwd", dout, op)
    outer, k, inner = _split(dout.shape, int(axis), op)
    if dinp is None:
        dinp = np.empty(dout.shape, dtype=np.float32)
    else:
        _buffer(dinp, dout.shape, op, "dinp", inputs=(dout, y))
    _core.softmax_backward(dout, y, dinp, outer, k, inner)
    return dinp


def bias_add(inp, bias, *, out=None):
    """out = inp + bias, bias over the last axis."""
    op = "bias_add"
    inp = _as_input(inp, "inp", op)
    bias = _as_input(bias, "bias", op, ndim=1)
    if inp.ndim < 1 or bias.shape[0] != inp.shape[-1]:
        raise ValueError(f"{op}: bias has shape {bias.shape} but inp has shape {inp.shape}; "
                         "bias must match inp's last axis.")
    if out is None:
        out = np.empty(inp.shape, dtype=np.float32)
    else:
        _check_out(out, inp.shape, op, inputs=(inp,))
    _core.bias_add(inp, bias, out)
    return out


def bias_grad(dout, *, dbias):
    """dbias += Σ over all axes but the last of dout (rows summed in order). Returns dbias."""
    op = "bias_grad"
    dout = _as_input(dout, "dout", op)
    if dout.ndim < 1:
        raise ValueError(f"{op}: dout must be at least 1-D, got a scalar.")
    _buffer(dbias, (dout.shape[-1],), op, "dbias")
    _core.bias_grad(dout, dbias)
    return dbias


__all__ = ["dense_forward", "dense_backward", "dropout_forward", "dropout_backward",
           "softmax_forward", "softmax_backward", "bias_add", "bias_grad"]
