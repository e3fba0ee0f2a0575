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


def _rmask(rm, n, u, op):
    if rm is None:
        return None
    rm = _as_input(rm, "recurrent_mask", op)
    if rm.shape != (n, u):
        raise ValueError(f"{op}: recurrent_mask has shape {rm.shape}, expected (batch, units) = ({n}, {u}).")
    return rm


# ---- per-gate dropout masks (Keras implementation 1) ---------------------------------------
# With recurrent_dropout > 0 Keras switches LSTM / GRU cells to implementation 1: every gate k
# gets its own input mask mx_k (N, F) and recurrent mask m_k (N, U), fixed for the sequence.
# The fused kernels multiply one [x | h] row by all gates at once, so this goes through
# _core.rnn_gatemask_forward / _backward (csrc/baeum/rnn.cpp): per step one product per gate
# on the masked rows [x_t ⊙ mx_k | h_{s−1} ⊙ m_k], the same gate passes, and in backward the
# weight gradients as one GEMM per gate after the loop. The no-dropout path never comes here.

def _gate_mask(m, g, n, k, name, op):
    """None → None; (N, k) → the same mask for every gate; (G, N, k) → one mask per gate.
    Returned as a C-contiguous float32 (G, N, k) array (what the kernels read)."""
    if m is None:
        return None
    m = _as_input(m, name, op)
    if m.shape == (n, k):
        return np.ascontiguousarray(np.broadcast_to(m, (g, n, k)))
    if m.shape != (g, n, k):
        raise ValueError(f"{op}: {name} has shape {m.shape}, expected ({n}, {k}) or per gate "
                         f"({g}, {n}, {k}).")
    return m


def _per_gate(cell, rmask, imask):
    """The per-gate path: any input mask; a per-gate recurrent mask; any GRU recurrent mask
    (the fused GRU kernels have no recurrent mask; (N, U) is then shared by the 3 gates)."""
    if imask is not None:
        return True
    if rmask is None:
        return False
    return cell.startswith("gru") or (np.ndim(rmask) == 3 and _GATES[cell] > 1)


def _forward(cell, inp, kernel, recurrent_kernel, bias, h0, c0, mask, activation,
             recurrent_activation, go_backwards, op, rmask=None, imask=None):
    per_gate = _per_gate(cell, rmask, imask)
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
    if per_gate:
        g = _GATES[cell]
        rm = _gate_mask(rmask, g, n, u, "recurrent_mask", op)
        im = _gate_mask(imask, g, n, f, "input_mask", op)
        _core.rnn_gatemask_forward(_CELL[cell], x, k, r, b, h0, c0, m, rm, im, hs, cs, cache, act,
                                   ract, bool(go_backwards))
    else:
        rm = _rmask(rmask, n, u, op)
        _core.rnn_forward(_CELL[cell], x, k, r, b, h0, c0, m, rm, hs, cs, cache, act, ract,
                          bool(go_backwards))
    return hs, cs, cache


def _backward(cell, dhs, dc_last, inp, kernel, recurrent_kernel, h0, c0, hs, cs, cache, mask,
              activation, recurrent_activation, go_backwards, dkernel, drecurrent_kernel, dbias,
              dinp, dh0, dc0, op, rmask=None, imask=None):
    per_gate = _per_gate(cell, rmask, imask)
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
    if per_gate:
        rm = _gate_mask(rmask, g, n, u, "recurrent_mask", op)
        im = _gate_mask(imask, g, n, f, "input_mask", op)
    else:
        rm = _rmask(rmask, n, u, op)
    _buffer(dkernel, (f, g * u), op, "dkernel")
    _buffer(drecurrent_kernel, (u, g * u), op, "drecurrent_kernel")
    if dbias is not None:
        _buffer(dbias, (2, 3 * u) if cell == "gru" else (g * u,), op, "dbias")
    for buf, name, shape in ((dinp, "dinp", (n, t, f)), (dh0, "dh0", (n, u)), (dc0, "dc0", (n, u))):
        if buf is not None:
            _buffer(buf, shape, op, name)
    if per_gate:
        _core.rnn_gatemask_backward(_CELL[cell], dhs, dc_last, x, k, r, h0, c0, m, rm, im, hs, cs,
                                    cache, dkernel, drecurrent_kernel, dbias, dinp, dh0, dc0, act,
                                    ract, bool(go_backwards))
        return
    _core.rnn_backward(_CELL[cell], dhs, dc_last, x, k, r, h0, c0, m, rm, hs, cs, cache, dkernel,
                       drecurrent_kernel, dbias, dinp, dh0, dc0, act, ract, bool(go_backwards))


def simple_rnn_forward(inp, kernel, recurrent_kernel, bias, h0=None, *, mask=None,
                       activation="tanh", go_backwards=False, recurrent_mask=None):
    """h_s = act(x_t·W + b + (h_{s−1}⊙recurrent_mask)·U) for every step (recurrent_mask (N, U):
    Keras recurrent dropout, fixed for the sequence; None = no dropout). Returns (hs, cache)."""
    hs, _, cache = _forward("simple_rnn", inp, kernel, recurrent_kernel, bias, h0, None, mask,
                            activation, "linear", go_backwards, "simple_rnn_forward", recurrent_mask)
    return hs, cache


def simple_rnn_backward(dhs, inp, kernel, recurrent_kernel, h0, hs, cache, *, mask=None,
                        activation="tanh", go_backwards=False, recurrent_mask=None, dkernel,
                        drecurrent_kernel, dbias, dinp=None, dh0=None):
    """BPTT. Accumulates dkernel, drecurrent_kernel, dbias (None without bias); overwrites
    dinp (N, T, F) and dh0 (N, U) when given. Returns (dinp, dh0)."""
    _backward("simple_rnn", dhs, None, inp, kernel, recurrent_kernel, h0, None, hs, None, cache,
              mask, activation, "linear", go_backwards, dkernel, drecurrent_kernel, dbias, dinp,
              dh0, None, "simple_rnn_backward", recurrent_mask)
    return dinp, dh0


def lstm_forward(inp, kernel, recurrent_kernel, bias, h0=None, c0=None, *, mask=None,
                 activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                 recurrent_mask=None, input_mask=None):
    """Keras LSTM over the sequence (gate blocks i, f, c, o); recurrent_mask (N, U) multiplies
    h_{s−1} in the recurrent product only (Keras recurrent dropout). Per-gate dropout as Keras
    implementation 1 (used when recurrent_dropout > 0): recurrent_mask (4, N, U) and/or
    input_mask (4, N, F), one mask per gate (the per-gate kernels, _core.rnn_gatemask_*).
    Returns (hs, cs, cache)."""
    return _forward("lstm", inp, kernel, recurrent_kernel, bias, h0, c0, mask, activation,
                    recurrent_activation, go_backwards, "lstm_forward", recurrent_mask, input_mask)


def lstm_backward(dhs, inp, kernel, recurrent_kernel, h0, c0, hs, cs, cache, *, dc_last=None,
                  mask=None, activation="tanh", recurrent_activation="sigmoid",
                  go_backwards=False, recurrent_mask=None, input_mask=None, dkernel,
                  drecurrent_kernel, dbias, dinp=None, dh0=None, dc0=None):
    """BPTT through the LSTM; dc_last = ∂L/∂c_T (or None). Weight gradients accumulated;
    dinp, dh0, dc0 overwritten when given (dinp includes the per-gate input masks).
    Returns (dinp, dh0, dc0)."""
    _backward("lstm", dhs, dc_last, inp, kernel, recurrent_kernel, h0, c0, hs, cs, cache, mask,
              activation, recurrent_activation, go_backwards, dkernel, drecurrent_kernel, dbias,
              dinp, dh0, dc0, "lstm_backward", recurrent_mask, input_mask)
    return dinp, dh0, dc0


def gru_forward(inp, kernel, recurrent_kernel, bias, h0=None, *, mask=None, activation="tanh",
                recurrent_activation="sigmoid", go_backwards=False, reset_after=True,
                recurrent_mask=None, input_mask=None):
    """Keras GRU (gate blocks z, r, h); bias (2, 3U) with reset_after, else (3U,).
    Dropout as Keras implementation 1: recurrent_mask (3, N, U) and input_mask (3, N, F), one
    mask per gate on h_{s−1} / x_t in that gate's products (the update z⊙h_{s−1} is unmasked);
    the per-gate kernels (_core.rnn_gatemask_*). Returns (hs, cache)."""
    cell = "gru" if reset_after else "gru_reset_before"
    hs, _, cache = _forward(cell, inp, kernel, recurrent_kernel, bias, h0, None, mask,
                            activation, recurrent_activation, go_backwards, "gru_forward",
                            recurrent_mask, input_mask)
    return hs, cache


def gru_backward(dhs, inp, kernel, recurrent_kernel, h0, hs, cache, *, mask=None,
                 activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                 reset_after=True, recurrent_mask=None, input_mask=None, dkernel,
                 drecurrent_kernel, dbias, dinp=None, dh0=None):
    """BPTT through the GRU (masks as gru_forward). Weight gradients accumulated; dinp, dh0
    overwritten when given. Returns (dinp, dh0)."""
    cell = "gru" if reset_after else "gru_reset_before"
    _backward(cell, dhs, None, inp, kernel, recurrent_kernel, h0, None, hs, None, cache, mask,
              activation, recurrent_activation, go_backwards, dkernel, drecurrent_kernel, dbias,
              dinp, dh0, None, "gru_backward", recurrent_mask, input_mask)
    return dinp, dh0
