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
# That cannot go through the fused kernels (they multiply one [x | h] row by all gates at
# once), so it runs here, in a separate and slower path: the masked input projections of all
# timesteps as one product per gate before the loop, per step one batched product
# (G, N, U)·(G, U, U) for (h ⊙ m_k)·R_k, and in backward the weight gradients and dX as large
# products after the loop. float32 throughout. The no-dropout path never comes here.

def _f32act(name):
    one = np.float32(1)
    table = {
        "linear": (lambda x: x, lambda y: np.ones_like(y)),
        "tanh": (np.tanh, lambda y: one - y * y),
        "sigmoid": (lambda x: one / (one + np.exp(-x)), lambda y: y * (one - y)),
        "relu": (lambda x: np.maximum(x, np.float32(0)), lambda y: (y > 0).astype(np.float32)),
        "hard_sigmoid": (lambda x: np.clip(x / np.float32(6) + np.float32(0.5), np.float32(0), one),
                         lambda y: ((y > 0) & (y < 1)).astype(np.float32) / np.float32(6)),
    }
    return table[name]


def _gate_mask(m, g, n, k, name, op):
    """None → None; (N, k) → None-free (G, N, k) broadcast; (G, N, k) as is."""
    if m is None:
        return None
    m = _as_input(m, name, op)
    if m.shape == (n, k):
        return np.broadcast_to(m, (g, n, k))
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


def _pg_setup(cell, inp, kernel, recurrent_kernel, mask, rmask, imask, activation,
              recurrent_activation, op):
    x = _seq(inp, op)
    n, t, f = x.shape
    k, r, _, u = _weights(cell, kernel, recurrent_kernel, None, f, op)
    g = _GATES[cell]
    act = _canonical_activation(activation, op)
    ract = _canonical_activation(recurrent_activation, op)
    _act_id(act, "activation", op), _act_id(ract, "recurrent_activation", op)
    m = _mask(mask, n, t, op)
    keep = np.ones((n, t), bool) if m is None else m
    rm = _gate_mask(rmask, g, n, u, "recurrent_mask", op)
    im = _gate_mask(imask, g, n, f, "input_mask", op)
    ones = np.float32(1)
    rm = np.broadcast_to(ones, (g, n, u)) if rm is None else rm
    im = np.broadcast_to(ones, (g, n, f)) if im is None else im
    wg = np.ascontiguousarray(k.reshape(f, g, u).transpose(1, 0, 2))  # (G, F, U): W_k
    rg = np.ascontiguousarray(r.reshape(u, g, u).transpose(1, 0, 2))  # (G, U, U): R_k
    return x, n, t, f, u, g, keep, rm, im, wg, rg, _f32act(act), _f32act(ract)


def _pg_forward(cell, inp, kernel, recurrent_kernel, bias, h0, c0, mask, activation,
                recurrent_activation, go_backwards, op, rmask, imask):
    x, n, T, f, u, g, keep, rm, im, wg, rg, (fa, _), (ga, _) = _pg_setup(
        cell, inp, kernel, recurrent_kernel, mask, rmask, imask, activation, recurrent_activation, op)
    _, _, b, _ = _weights(cell, kernel, recurrent_kernel, bias, f, op)
    h = np.zeros((n, u), np.float32) if _state(h0, "h0", n, u, op) is None else _state(h0, "h0", n, u, op).copy()
    c0 = _state(c0, "c0", n, u, op)
    zero = np.zeros(g * u, np.float32)
    if cell == "gru":
        bx, bh = (zero, zero) if b is None else (b[0], b[1])
    else:
        bx, bh = (zero if b is None else b), zero
    bxg, bhg = bx.reshape(g, 1, u), bh.reshape(g, 1, u)
    # masked input projections of all timesteps: xp[k] = (x ⊙ mx_k)·W_k + b_k, (G, N, T, U)
    xp = np.matmul(x[None] * im[:, :, None, :], wg[:, None]) + bxg[:, None]
    hs = np.empty((n, T, u), np.float32)
    cs = np.empty((n, T, u), np.float32) if cell == "lstm" else None
    cache = np.empty((n, T, _CACHE[cell] * u), np.float32)
    c = None
    if cell == "lstm":
        c = np.zeros((n, u), np.float32) if c0 is None else c0.copy()
    for s in range(T):
        t = T - 1 - s if go_backwards else s
        k = keep[:, t, None]
        if cell == "lstm":
            z = xp[:, :, t] + np.matmul(h[None] * rm, rg)  # (G, N, U)
            i, fg, gg, o = ga(z[0]), ga(z[1]), fa(z[2]), ga(z[3])
            cn = fg * c + i * gg
            tc = fa(cn)
            hn = o * tc
            cache[:, t] = np.concatenate([i, fg, gg, o, tc], axis=1)
            c = np.where(k, cn, c)
            cs[:, s] = c
        elif cell == "gru":
            mh = np.matmul(h[None] * rm, rg) + bhg
            z, rr = ga(xp[0, :, t] + mh[0]), ga(xp[1, :, t] + mh[1])
            hh = fa(xp[2, :, t] + rr * mh[2])
            cache[:, t] = np.concatenate([z, rr, hh, mh[2]], axis=1)
            hn = z * h + (1 - z) * hh
        else:  # reset_before
            mh = np.matmul(h[None] * rm[:2], rg[:2])
            z, rr = ga(xp[0, :, t] + mh[0]), ga(xp[1, :, t] + mh[1])
            m = rr * (h * rm[2])
            hh = fa(xp[2, :, t] + m @ rg[2])
            cache[:, t] = np.concatenate([z, rr, hh, m], axis=1)
            hn = z * h + (1 - z) * hh
        h = np.where(k, hn, h)
        hs[:, s] = h
    return hs, cs, cache


def _pg_backward(cell, dhs, dc_last, inp, kernel, recurrent_kernel, h0, c0, hs, cs, cache, mask,
                 activation, recurrent_activation, go_backwards, dkernel, drecurrent_kernel, dbias,
                 dinp, dh0, dc0, op, rmask, imask):
    x, n, T, f, u, g, keep, rm, im, wg, rg, (_, dfa), (_, dga) = _pg_setup(
        cell, inp, kernel, recurrent_kernel, mask, rmask, imask, activation, recurrent_activation, op)
    dhs = _as_input(dhs, "dhs", op)
    if dhs.shape != (n, T, u):
        raise ValueError(f"{op}: dhs has shape {dhs.shape}, expected {(n, T, u)}.")
    hs = _as_input(hs, "hs", op)
    cache = _as_input(cache, "cache", op)
    if hs.shape != (n, T, u) or cache.shape != (n, T, _CACHE[cell] * u):
        raise ValueError(f"{op}: hs / cache have shapes {hs.shape} / {cache.shape}, expected "
                         f"{(n, T, u)} / {(n, T, _CACHE[cell] * u)} (from the forward).")
    h0 = _state(h0, "h0", n, u, op)
    h0 = np.zeros((n, u), np.float32) if h0 is None else h0
    _buffer(dkernel, (f, g * u), op, "dkernel")
    _buffer(drecurrent_kernel, (u, g * u), op, "drecurrent_kernel")
    if dbias is not None:
        _buffer(dbias, (2, 3 * u) if cell == "gru" else (g * u,), op, "dbias")
    for buf, name, shape in ((dinp, "dinp", (n, T, f)), (dh0, "dh0", (n, u)), (dc0, "dc0", (n, u))):
        if buf is not None:
            _buffer(buf, shape, op, name)
    # h_{s−1} by input time t (what step s multiplies)
    hprev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    if go_backwards:
        hprev = hprev[:, ::-1]
    if cell == "lstm":
        cs = _as_input(cs, "cs", op)
        c0 = _state(c0, "c0", n, u, op)
        c0 = np.zeros((n, u), np.float32) if c0 is None else c0
        cprev = np.concatenate([c0[:, None], cs[:, :-1]], axis=1)
        if go_backwards:
            cprev = cprev[:, ::-1]
    dgx = np.zeros((g, n, T, u), np.float32)  # gate gradients, input side, by input time
    dgh = dgx if cell != "gru" else np.zeros((g, n, T, u), np.float32)  # recurrent side
    rgt = np.ascontiguousarray(rg.transpose(0, 2, 1))  # R_kᵀ
    dh = np.zeros((n, u), np.float32)
    dc = None
    if cell == "lstm":
        dc = np.zeros((n, u), np.float32) if dc_last is None else _state(dc_last, "dc_last", n, u, op).copy()
    for s in reversed(range(T)):
        t = T - 1 - s if go_backwards else s
        k = keep[:, t, None]
        d = dhs[:, s] + dh
        hp = hprev[:, t]
        if cell == "lstm":
            ct = cache[:, t]
            i, fg, gg, o, tc = (ct[:, j * u:(j + 1) * u] for j in range(5))
            dct = dc + d * o * dfa(tc)
            dz = np.stack([dct * gg * dga(i), dct * cprev[:, t] * dga(fg), dct * i * dfa(gg),
                           d * tc * dga(o)])
            dz = np.where(k, dz, np.float32(0))
            dgx[:, :, t] = dz
            dprev = (np.matmul(dz, rgt) * rm).sum(0)  # Σ_k (dz_k·R_kᵀ) ⊙ m_k
            dc = np.where(k, dct * fg, dc)
        else:
            ct = cache[:, t]
            z, rr, hh, m = (ct[:, j * u:(j + 1) * u] for j in range(4))
            dzpre = d * (hp - hh) * dga(z)
            dhpre = d * (1 - z) * dfa(hh)
            direct = d * z
            if cell == "gru":
                drpre = dhpre * m * dga(rr)
                gx = np.where(k, np.stack([dzpre, drpre, dhpre]), np.float32(0))
                gh = gx.copy()
                gh[2] *= rr
                dgx[:, :, t], dgh[:, :, t] = gx, gh
                dprev = (np.matmul(gh, rgt) * rm).sum(0) + direct
            else:
                drh = dhpre @ rgt[2]  # ∂L/∂m, m = r ⊙ (h ⊙ m_h)
                drpre = drh * hp * rm[2] * dga(rr)
                gx = np.where(k, np.stack([dzpre, drpre, dhpre]), np.float32(0))
                dgx[:, :, t] = gx
                dprev = (np.matmul(gx[:2], rgt[:2]) * rm[:2]).sum(0) + drh * rr * rm[2] + direct
        dh = np.where(k, dprev, d)
    # weight gradients as one product per gate over all (n, t) rows
    nt = n * T
    xg = (x[None] * im[:, :, None, :]).reshape(g, nt, f)
    dw = np.matmul(xg.transpose(0, 2, 1), dgx.reshape(g, nt, u))  # (G, F, U)
    hg = (hprev[None] * rm[:, :, None, :]).reshape(g, nt, u)
    if cell == "gru_reset_before":  # R_h multiplies m = r ⊙ (h ⊙ m_h), saved in the cache
        hg = hg.copy()
        hg[2] = cache[:, :, 3 * u:].reshape(nt, u)
    dr = np.matmul(hg.transpose(0, 2, 1), dgh.reshape(g, nt, u))  # (G, U, U)
    dkernel += dw.transpose(1, 0, 2).reshape(f, g * u)
    drecurrent_kernel += dr.transpose(1, 0, 2).reshape(u, g * u)
    if dbias is not None:
        dbx = dgx.sum(axis=(1, 2)).reshape(g * u)
        if cell == "gru":
            dbias[0] += dbx
            dbias[1] += dgh.sum(axis=(1, 2)).reshape(g * u)
        else:
            dbias += dbx
    if dinp is not None:  # dX = Σ_k (dG_k·W_kᵀ) ⊙ mx_k
        dinp[...] = (np.matmul(dgx, wg.transpose(0, 2, 1)[:, None]) * im[:, :, None, :]).sum(0)
    if dh0 is not None:
        dh0[...] = dh
    if dc0 is not None:
        dc0[...] = dc


def _forward(cell, inp, kernel, recurrent_kernel, bias, h0, c0, mask, activation,
             recurrent_activation, go_backwards, op, rmask=None, imask=None):
    if _per_gate(cell, rmask, imask):
        return _pg_forward(cell, inp, kernel, recurrent_kernel, bias, h0, c0, mask, activation,
                           recurrent_activation, go_backwards, op, rmask, imask)
    x = _seq(inp, op)
    n, t, f = x.shape
    k, r, b, u = _weights(cell, kernel, recurrent_kernel, bias, f, op)
    act = _act_id(activation, "activation", op)
    ract = _act_id(recurrent_activation, "recurrent_activation", op)
    h0 = _state(h0, "h0", n, u, op)
    c0 = _state(c0, "c0", n, u, op)
    m = _mask(mask, n, t, op)
    rm = _rmask(rmask, n, u, op)
    hs = np.empty((n, t, u), np.float32)
    cs = np.empty((n, t, u), np.float32) if cell == "lstm" else None
    cache = np.empty((n, t, _CACHE[cell] * u), np.float32)
    _core.rnn_forward(_CELL[cell], x, k, r, b, h0, c0, m, rm, hs, cs, cache, act, ract,
                      bool(go_backwards))
    return hs, cs, cache


def _backward(cell, dhs, dc_last, inp, kernel, recurrent_kernel, h0, c0, hs, cs, cache, mask,
              activation, recurrent_activation, go_backwards, dkernel, drecurrent_kernel, dbias,
              dinp, dh0, dc0, op, rmask=None, imask=None):
    if _per_gate(cell, rmask, imask):
        return _pg_backward(cell, dhs, dc_last, inp, kernel, recurrent_kernel, h0, c0, hs, cs,
                            cache, mask, activation, recurrent_activation, go_backwards, dkernel,
                            drecurrent_kernel, dbias, dinp, dh0, dc0, op, rmask, imask)
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
    rm = _rmask(rmask, n, u, op)
    g = _GATES[cell]
    _buffer(dkernel, (f, g * u), op, "dkernel")
    _buffer(drecurrent_kernel, (u, g * u), op, "drecurrent_kernel")
    if dbias is not None:
        _buffer(dbias, (2, 3 * u) if cell == "gru" else (g * u,), op, "dbias")
    for buf, name, shape in ((dinp, "dinp", (n, t, f)), (dh0, "dh0", (n, u)), (dc0, "dc0", (n, u))):
        if buf is not None:
            _buffer(buf, shape, op, name)
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
    input_mask (4, N, F), one mask per gate; this runs a separate, slower path (NumPy).
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
    a separate, slower path (NumPy). Returns (hs, cache)."""
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
