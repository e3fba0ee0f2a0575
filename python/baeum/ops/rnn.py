"""SimpleRNN, LSTM and GRU over whole sequences: one C++ call for the forward, one for BPTT.

Keras 3 semantics and weight layouts (kernel (F, G·U), recurrent_kernel (U, G·U); LSTM gate
blocks i, f, c, o; GRU z, r, h). Equations: csrc/baeum/rnn.cpp and docs/rnn.md. NumPy twins
with the same signatures: baeum.reference.rnn.

Returned state sequences hs / cs (N, T, U) are in processing order (reversed time with
go_backwards, as Keras returns them). `cache` holds what the backward pass reuses (layout in
baeum.reference.rnn). A False mask[n, t] (bool (N, T)) makes row n keep its state at step t.
Activations supported: tanh, sigmoid, relu, hard_sigmoid, linear.
"""
import numpy as np

from baeum import _core
from baeum.ops._checks import _as_input
from baeum.ops.activations import _buffer, _canonical_activation

_CELL = {"simple_rnn": 0, "lstm": 1, "gru": 2, "gru_reset_before": 3}
_GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3, "gru_reset_before": 3}
_CACHE = {"simple_rnn": 1, "lstm": 5, "gru": 4, "gru_reset_before": 4}
_IDS = dict(_core.activation_ids())
SUPPORTED_ACTIVATIONS = ("tanh", "sigmoid", "relu", "hard_sigmoid", "linear")


def _act_id(activation, what, op):
    name = _canonical_activation(activation, op)
    if name not in SUPPORTED_ACTIVATIONS:
        raise NotImplementedError(
            f"{op}: {what}={name!r} is not supported by the recurrent kernels; use one of "
            f"{', '.join(SUPPORTED_ACTIVATIONS)}.")
    return _IDS[name]


def _seq(inp, op):
    x = _as_input(inp, "inp", op)
    if x.ndim != 3:
        hint = (" Fix: add a feature axis, e.g. x[..., None] for a univariate series."
                if x.ndim == 2 else "")
        raise ValueError(f"{op}: inp must be 3-D (samples, timesteps, features), got shape "
                         f"{x.shape}.{hint}")
    if x.shape[1] == 0:
        raise ValueError(f"{op}: inp has shape {x.shape}: a sequence needs at least one timestep "
                         "(T = 0 received).")
    return x


def _weights(cell, kernel, recurrent_kernel, bias, f, op):
    g = _GATES[cell]
    r = _as_input(recurrent_kernel, "recurrent_kernel", op, ndim=2)
    u = r.shape[0]
    if r.shape != (u, g * u):
        raise ValueError(f"{op}: recurrent_kernel has shape {r.shape}, expected (units, {g}·units) "
                         f"= ({u}, {g * u}) (Keras layout).")
    k = _as_input(kernel, "kernel", op, ndim=2)
    if k.shape != (f, g * u):
        raise ValueError(f"{op}: kernel has shape {k.shape}, expected (features, {g}·units) = "
                         f"({f}, {g * u}) (Keras layout).")
    if bias is not None:
        bias = _as_input(bias, "bias", op)
        want = (2, 3 * u) if cell == "gru" else (g * u,)
        if bias.shape != want:
            raise ValueError(f"{op}: bias has shape {bias.shape}, expected {want}"
                             + (" (reset_after=True: input bias row, recurrent bias row)."
                                if cell == "gru" else "."))
    return k, r, bias, u


def _state(a, name, n, u, op):
    if a is None:
        return None
    a = _as_input(a, name, op)
    if a.shape != (n, u):
        raise ValueError(f"{op}: {name} has shape {a.shape}, expected (batch, units) = ({n}, {u}).")
    return a


def _mask(mask, n, t, op):
    if mask is None:
        return None
    m = np.ascontiguousarray(mask)
    if m.dtype != np.bool_:
        m = m.astype(bool)
    if m.shape != (n, t):
        raise ValueError(f"{op}: mask has shape {m.shape}, expected (batch, timesteps) = ({n}, {t}).")
    return m


def _forward(cell, inp, kernel, recurrent_kernel, bias, h0, c0, mask, activation,
             recurrent_activation, go_backwards, op):
    x = _seq(inp, op)
    n, t, f = x.shape
    k, r, b, u = _weights(cell, kernel, recurrent_kernel, bias, f, op)
    act = _act_id(activation, "activation", op)
    ract = _act_id(recurrent_activation, "recurrent_activation", op)
    h0 = _state(h0, "h0", n, u, op)
    c0 = _state(c0, "c0", n, u, op)
    m = _mask(mask, n, t, op)
    hs = np.empty((n, t, u), np.float32)
    cs = np.empty((n, t, u), np.float32) if cell == "lstm" else None
    cache = np.empty((n, t, _CACHE[cell] * u), np.float32)
    _core.rnn_forward(_CELL[cell], x, k, r, b, h0, c0, m, hs, cs, cache, act, ract,
                      bool(go_backwards))
    return hs, cs, cache


def _backward(cell, dhs, dc_last, inp, kernel, recurrent_kernel, h0, c0, hs, cs, cache, mask,
              activation, recurrent_activation, go_backwards, dkernel, drecurrent_kernel, dbias,
              dinp, dh0, dc0, op):
    x = _seq(inp, op)
    n, t, f = x.shape
    k, r, _, u = _weights(cell, kernel, recurrent_kernel, None, f, op)
    act = _act_id(activation, "activation", op)
    ract = _act_id(recurrent_activation, "recurrent_activation", op)
    dhs = _as_input(dhs, "dhs", op)
    if dhs.shape != (n, t, u):
        raise ValueError(f"{op}: dhs has shape {dhs.shape}, expected {(n, t, u)}.")
    h0, c0 = _state(h0, "h0", n, u, op), _state(c0, "c0", n, u, op)
    dc_last = _state(dc_last, "dc_last", n, u, op)
    m = _mask(mask, n, t, op)
    g = _GATES[cell]
    _buffer(dkernel, (f, g * u), op, "dkernel")
    _buffer(drecurrent_kernel, (u, g * u), op, "drecurrent_kernel")
    if dbias is not None:
        _buffer(dbias, (2, 3 * u) if cell == "gru" else (g * u,), op, "dbias")
    for buf, name, shape in ((dinp, "dinp", (n, t, f)), (dh0, "dh0", (n, u)), (dc0, "dc0", (n, u))):
        if buf is not None:
            _buffer(buf, shape, op, name)
    _core.rnn_backward(_CELL[cell], dhs, dc_last, x, k, r, h0, c0, m, hs, cs, cache, dkernel,
                       drecurrent_kernel, dbias, dinp, dh0, dc0, act, ract, bool(go_backwards))


def simple_rnn_forward(inp, kernel, recurrent_kernel, bias, h0=None, *, mask=None,
                       activation="tanh", go_backwards=False):
    """h_s = act(x_t·W + b + h_{s−1}·U) for every step. Returns (hs, cache)."""
    hs, _, cache = _forward("simple_rnn", inp, kernel, recurrent_kernel, bias, h0, None, mask,
                            activation, "linear", go_backwards, "simple_rnn_forward")
    return hs, cache


def simple_rnn_backward(dhs, inp, kernel, recurrent_kernel, h0, hs, cache, *, mask=None,
                        activation="tanh", go_backwards=False, dkernel, drecurrent_kernel,
                        dbias, dinp=None, dh0=None):
    """BPTT. Accumulates dkernel, drecurrent_kernel, dbias (None without bias); overwrites
    dinp (N, T, F) and dh0 (N, U) when given. Returns (dinp, dh0)."""
    _backward("simple_rnn", dhs, None, inp, kernel, recurrent_kernel, h0, None, hs, None, cache,
              mask, activation, "linear", go_backwards, dkernel, drecurrent_kernel, dbias, dinp,
              dh0, None, "simple_rnn_backward")
    return dinp, dh0


def lstm_forward(inp, kernel, recurrent_kernel, bias, h0=None, c0=None, *, mask=None,
                 activation="tanh", recurrent_activation="sigmoid", go_backwards=False):
    """Keras LSTM over the sequence (gate blocks i, f, c, o). Returns (hs, cs, cache)."""
    return _forward("lstm", inp, kernel, recurrent_kernel, bias, h0, c0, mask, activation,
                    recurrent_activation, go_backwards, "lstm_forward")


def lstm_backward(dhs, inp, kernel, recurrent_kernel, h0, c0, hs, cs, cache, *, dc_last=None,
                  mask=None, activation="tanh", recurrent_activation="sigmoid",
                  go_backwards=False, dkernel, drecurrent_kernel, dbias, dinp=None, dh0=None,
                  dc0=None):
    """BPTT through the LSTM; dc_last = ∂L/∂c_T (or None). Weight gradients accumulated;
    dinp, dh0, dc0 overwritten when given. Returns (dinp, dh0, dc0)."""
    _backward("lstm", dhs, dc_last, inp, kernel, recurrent_kernel, h0, c0, hs, cs, cache, mask,
              activation, recurrent_activation, go_backwards, dkernel, drecurrent_kernel, dbias,
              dinp, dh0, dc0, "lstm_backward")
    return dinp, dh0, dc0


def gru_forward(inp, kernel, recurrent_kernel, bias, h0=None, *, mask=None, activation="tanh",
                recurrent_activation="sigmoid", go_backwards=False, reset_after=True):
    """Keras GRU (gate blocks z, r, h); bias (2, 3U) with reset_after, else (3U,).
    Returns (hs, cache)."""
    cell = "gru" if reset_after else "gru_reset_before"
    hs, _, cache = _forward(cell, inp, kernel, recurrent_kernel, bias, h0, None, mask,
                            activation, recurrent_activation, go_backwards, "gru_forward")
    return hs, cache


def gru_backward(dhs, inp, kernel, recurrent_kernel, h0, hs, cache, *, mask=None,
                 activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                 reset_after=True, dkernel, drecurrent_kernel, dbias, dinp=None, dh0=None):
    """BPTT through the GRU. Weight gradients accumulated; dinp, dh0 overwritten when given.
    Returns (dinp, dh0)."""
    cell = "gru" if reset_after else "gru_reset_before"
    _backward(cell, dhs, None, inp, kernel, recurrent_kernel, h0, None, hs, None, cache, mask,
              activation, recurrent_activation, go_backwards, dkernel, drecurrent_kernel, dbias,
              dinp, dh0, None, "gru_backward")
    return dinp, dh0
