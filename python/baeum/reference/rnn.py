"""SimpleRNN, LSTM and GRU over whole sequences in plain NumPy: a loop over timesteps.

Twins of baeum.ops.rnn, same signatures. Math in float64; arrays returned are float64.
Keras 3 semantics and weight layouts (KERAS_SEMANTICS.md §1.4); derivations: docs/rnn.md.

Shapes: inp (N, T, F); kernel (F, G·U); recurrent_kernel (U, G·U); G = 1 (SimpleRNN),
4 (LSTM, gate blocks i, f, c, o), 3 (GRU, blocks z, r, h). Step s processes input time
t = s, or t = T−1−s with go_backwards. Returned state sequences hs / cs (N, T, U) are in
processing order (what Keras returns with return_sequences). `cache` (N, T, CW) holds, by
input time t, what the fast backward reuses: SimpleRNN [h̃]; LSTM [i, f, g, o, act(c)];
GRU [z, r, ĥ, m] with m = h_{s−1}·U_h + b_h (reset_after) or r⊙h_{s−1} (reset_before).
A False mask[n, t] makes row n keep its state through step s.
"""
import numpy as np

_F = {
    "linear": lambda x: x,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0),
    "hard_sigmoid": lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
}
# f'(x) written from y = f(x)
_DF = {
    "linear": lambda y: np.ones_like(y),
    "tanh": lambda y: 1.0 - y * y,
    "sigmoid": lambda y: y * (1.0 - y),
    "relu": lambda y: (y > 0).astype(np.float64),
    "hard_sigmoid": lambda y: ((y > 0) & (y < 1)) / 6.0,
}


def _act(name):
    if name not in _F:
        raise NotImplementedError(f"RNN activation {name!r}: baeum's recurrent kernels support "
                                  f"{sorted(_F)}.")
    return _F[name], _DF[name]


def _f64(a):
    return None if a is None else np.asarray(a, dtype=np.float64)


def _setup(inp, kernel, recurrent_kernel, h0, mask):
    x = _f64(inp)
    n, t, _ = x.shape
    u = recurrent_kernel.shape[0]
    h = np.zeros((n, u)) if h0 is None else _f64(h0).copy()
    keep = np.ones((n, t), bool) if mask is None else np.asarray(mask, bool)
    return x, _f64(kernel), _f64(recurrent_kernel), h, keep, n, t, u


def _accumulate(buf, value):
    if buf is not None:
        buf += value.astype(buf.dtype)


# ---- SimpleRNN ---------------------------------------------------------------------------

def _rm(recurrent_mask, n, u):
    return np.ones((n, u)) if recurrent_mask is None else _f64(recurrent_mask)


def simple_rnn_forward(inp, kernel, recurrent_kernel, bias, h0=None, *, mask=None,
                       activation="tanh", go_backwards=False, recurrent_mask=None):
    """h_s = act(x_t·W + b + (h_{s−1}⊙recurrent_mask)·U). Returns (hs, cache)."""
    f, _ = _act(activation)
    x, w, r, h, keep, n, T, u = _setup(inp, kernel, recurrent_kernel, h0, mask)
    b = np.zeros(u) if bias is None else _f64(bias)
    rm = _rm(recurrent_mask, n, u)
    hs, cache = np.zeros((n, T, u)), np.zeros((n, T, u))
    for s in range(T):
        t = T - 1 - s if go_backwards else s
        ht = f(x[:, t] @ w + b + (h * rm) @ r)
        cache[:, t] = ht
        h = np.where(keep[:, t, None], ht, h)
        hs[:, s] = h
    return hs, cache


def simple_rnn_backward(dhs, inp, kernel, recurrent_kernel, h0, hs, cache, *, mask=None,
                        activation="tanh", go_backwards=False, recurrent_mask=None, dkernel,
                        drecurrent_kernel, dbias, dinp=None, dh0=None):
    """BPTT: dz = dh·act'(z); dh_{s−1} = dz·Uᵀ (or dh where masked). Weight gradients are
    accumulated (+=), dinp / dh0 overwritten. Returns (dinp, dh0)."""
    _, df = _act(activation)
    x, w, r, _, keep, n, T, u = _setup(inp, kernel, recurrent_kernel, h0, mask)
    h0v = np.zeros((n, u)) if h0 is None else _f64(h0)
    hs, dhs = _f64(hs), _f64(dhs)
    dx = np.zeros_like(x)
    dw, dr, db = np.zeros_like(w), np.zeros_like(r), np.zeros(u)
    rm = _rm(recurrent_mask, n, u)
    dh = np.zeros((n, u))
    for s in reversed(range(T)):
        t = T - 1 - s if go_backwards else s
        hprev = hs[:, s - 1] if s > 0 else h0v
        ht = _f64(cache)[:, t]  # act(x_t·W + b + h_{s−1}·U), saved by the forward
        d = dhs[:, s] + dh
        k = keep[:, t, None]
        dz = np.where(k, d * df(ht), 0.0)
        dx[:, t] = dz @ w.T
        dw += x[:, t].T @ dz
        dr += (hprev * rm).T @ dz
        db += dz.sum(0)
        dh = np.where(k, (dz @ r.T) * rm, d)
    _accumulate(dkernel, dw)
    _accumulate(drecurrent_kernel, dr)
    _accumulate(dbias, db)
    if dinp is not None:
        dinp[...] = dx
    if dh0 is not None:
        dh0[...] = dh
    return dinp, dh0


# ---- LSTM --------------------------------------------------------------------------------

def _gate_masks(mask, g, n, k, what):
    """(G, N, k) per-gate masks: None → ones; (N, k) → the same mask for every gate (one mask
    shared by all gates, Keras implementation 2); (G, N, k) → one mask per gate (Keras
    implementation 1, used when recurrent_dropout > 0)."""
    if mask is None:
        return np.ones((g, n, k))
    m = _f64(mask)
    if m.shape == (n, k):
        return np.broadcast_to(m, (g, n, k))
    if m.shape != (g, n, k):
        raise ValueError(f"{what} has shape {m.shape}, expected ({n}, {k}) or ({g}, {n}, {k}).")
    return m


def _lstm_step(x_t, hprev, cprev, w, r, b, f, g, rm, im):
    u = hprev.shape[1]
    # gate block k: (x_t ⊙ im_k)·W_k + (h_{s−1} ⊙ rm_k)·R_k + b_k
    z = np.concatenate([(x_t * im[k]) @ w[:, k * u:(k + 1) * u]
                        + (hprev * rm[k]) @ r[:, k * u:(k + 1) * u] for k in range(4)], axis=1) + b
    i, fg, gg, o = g(z[:, :u]), g(z[:, u:2 * u]), f(z[:, 2 * u:3 * u]), g(z[:, 3 * u:])
    c = fg * cprev + i * gg
    tc = f(c)
    return i, fg, gg, o, c, tc, o * tc


def lstm_forward(inp, kernel, recurrent_kernel, bias, h0=None, c0=None, *, mask=None,
                 activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                 recurrent_mask=None, input_mask=None):
    """Keras LSTM: z = x_t·W + h_{s−1}·U + b in blocks [i f c o]; i,f,o = ract, g = act;
    c_s = f⊙c_{s−1} + i⊙g; h_s = o⊙act(c_s). Returns (hs, cs, cache).
    Dropout masks (fixed for the sequence): recurrent_mask (N, U) multiplies h_{s−1} in the
    recurrent product of every gate, (4, N, U) one mask per gate; input_mask (4, N, F) one mask
    per gate on x_t (Keras implementation 1; a shared input mask is applied to inp instead)."""
    f, _ = _act(activation)
    g, _ = _act(recurrent_activation)
    x, w, r, h, keep, n, T, u = _setup(inp, kernel, recurrent_kernel, h0, mask)
    c = np.zeros((n, u)) if c0 is None else _f64(c0).copy()
    b = np.zeros(4 * u) if bias is None else _f64(bias)
    # Keras recurrent dropout: h_{s−1} is masked only in the product, the carried state is not
    rm = _gate_masks(recurrent_mask, 4, n, u, "recurrent_mask")
    im = _gate_masks(input_mask, 4, n, x.shape[2], "input_mask")
    hs, cs, cache = np.zeros((n, T, u)), np.zeros((n, T, u)), np.zeros((n, T, 5 * u))
    for s in range(T):
        t = T - 1 - s if go_backwards else s
        i, fg, gg, o, cn, tc, hn = _lstm_step(x[:, t], h, c, w, r, b, f, g, rm, im)
        cache[:, t] = np.concatenate([i, fg, gg, o, tc], axis=1)
        k = keep[:, t, None]
        h, c = np.where(k, hn, h), np.where(k, cn, c)
        hs[:, s], cs[:, s] = h, c
    return hs, cs, cache


def lstm_backward(dhs, inp, kernel, recurrent_kernel, h0, c0, hs, cs, cache, *, dc_last=None,
                  mask=None, activation="tanh", recurrent_activation="sigmoid",
                  go_backwards=False, recurrent_mask=None, input_mask=None, dkernel,
                  drecurrent_kernel, dbias, dinp=None, dh0=None, dc0=None):
    """BPTT through the LSTM (docs/rnn.md). dc_last = ∂L/∂c after the last step (or None).
    With per-gate masks m_k (recurrent) and mx_k (input): dR_k += (h_{s−1}⊙m_k)ᵀ·dz_k,
    dW_k += (x_t⊙mx_k)ᵀ·dz_k, dh_{s−1} = Σ_k (dz_k·R_kᵀ)⊙m_k, dx_t = Σ_k (dz_k·W_kᵀ)⊙mx_k.
    Weight gradients accumulated; dinp, dh0, dc0 overwritten. Returns (dinp, dh0, dc0)."""
    _, df = _act(activation)
    _, dg = _act(recurrent_activation)
    x, w, r, _, keep, n, T, u = _setup(inp, kernel, recurrent_kernel, h0, mask)
    h0v = np.zeros((n, u)) if h0 is None else _f64(h0)
    c0v = np.zeros((n, u)) if c0 is None else _f64(c0)
    hs, cs, dhs = _f64(hs), _f64(cs), _f64(dhs)
    dx = np.zeros_like(x)
    dw, dr, db = np.zeros_like(w), np.zeros_like(r), np.zeros(4 * u)
    rm = _gate_masks(recurrent_mask, 4, n, u, "recurrent_mask")
    im = _gate_masks(input_mask, 4, n, x.shape[2], "input_mask")
    dh = np.zeros((n, u))
    dc = np.zeros((n, u)) if dc_last is None else _f64(dc_last).copy()
    for s in reversed(range(T)):
        t = T - 1 - s if go_backwards else s
        hprev = hs[:, s - 1] if s > 0 else h0v
        cprev = cs[:, s - 1] if s > 0 else c0v
        i, fg, gg, o, tc = np.split(_f64(cache)[:, t], 5, axis=1)  # saved by the forward
        d = dhs[:, s] + dh
        k = keep[:, t, None]
        dct = dc + d * o * df(tc)
        dz = np.concatenate([dct * gg * dg(i), dct * cprev * dg(fg), dct * i * df(gg),
                             d * tc * dg(o)], axis=1)
        dz = np.where(k, dz, 0.0)
        dprev = np.zeros((n, u))
        dx[:, t] = 0.0
        for j in range(4):
            blk = slice(j * u, (j + 1) * u)
            dx[:, t] += (dz[:, blk] @ w[:, blk].T) * im[j]
            dw[:, blk] += (x[:, t] * im[j]).T @ dz[:, blk]
            dr[:, blk] += (hprev * rm[j]).T @ dz[:, blk]
            dprev += (dz[:, blk] @ r[:, blk].T) * rm[j]
        db += dz.sum(0)
        dh = np.where(k, dprev, d)
        dc = np.where(k, dct * fg, dc)
    _accumulate(dkernel, dw)
    _accumulate(drecurrent_kernel, dr)
    _accumulate(dbias, db)
    if dinp is not None:
        dinp[...] = dx
    if dh0 is not None:
        dh0[...] = dh
    if dc0 is not None:
        dc0[...] = dc
    return dinp, dh0, dc0


# ---- GRU ---------------------------------------------------------------------------------

def gru_forward(inp, kernel, recurrent_kernel, bias, h0=None, *, mask=None, activation="tanh",
                recurrent_activation="sigmoid", go_backwards=False, reset_after=True,
                recurrent_mask=None, input_mask=None):
    """Keras GRU, blocks [z r h]. reset_after (bias (2, 3U) = [b_x, b_h]):
    mx = x_t·W + b_x, mh = h_{s−1}·U + b_h, z = ract(mx_z + mh_z), r = ract(mx_r + mh_r),
    ĥ = act(mx_h + r⊙mh_h). reset_before (bias (3U,)): z, r as above without b_h and
    ĥ = act(mx_h + (r⊙h_{s−1})·U_h). Both: h_s = z⊙h_{s−1} + (1−z)⊙ĥ. Returns (hs, cache).
    Dropout as Keras implementation 1: input_mask (3, N, F) and recurrent_mask (3, N, U), one
    mask per gate k fixed for the sequence: x_t and h_{s−1} enter gate k's products as
    x_t⊙mx_k and h_{s−1}⊙m_k; the update z⊙h_{s−1} uses the unmasked h_{s−1}. Then
    mh_h = (h⊙m_h)·U_h + b_h (reset_after) and cache m = r⊙(h⊙m_h) (reset_before)."""
    f, _ = _act(activation)
    g, _ = _act(recurrent_activation)
    x, w, r, h, keep, n, T, u = _setup(inp, kernel, recurrent_kernel, h0, mask)
    b = _f64(bias)
    if reset_after:
        bx, bh = (np.zeros(3 * u), np.zeros(3 * u)) if b is None else (b[0], b[1])
    else:
        bx, bh = (np.zeros(3 * u) if b is None else b), np.zeros(3 * u)
    rm = _gate_masks(recurrent_mask, 3, n, u, "recurrent_mask")
    im = _gate_masks(input_mask, 3, n, x.shape[2], "input_mask")
    hs, cache = np.zeros((n, T, u)), np.zeros((n, T, 4 * u))
    for s in range(T):
        t = T - 1 - s if go_backwards else s
        mx = np.concatenate([(x[:, t] * im[k]) @ w[:, k * u:(k + 1) * u] for k in range(3)],
                            axis=1) + bx
        if reset_after:
            mh = np.concatenate([(h * rm[k]) @ r[:, k * u:(k + 1) * u] for k in range(3)],
                                axis=1) + bh
            z, rr = g(mx[:, :u] + mh[:, :u]), g(mx[:, u:2 * u] + mh[:, u:2 * u])
            m = mh[:, 2 * u:]
            hh = f(mx[:, 2 * u:] + rr * m)
        else:
            z = g(mx[:, :u] + (h * rm[0]) @ r[:, :u])
            rr = g(mx[:, u:2 * u] + (h * rm[1]) @ r[:, u:2 * u])
            m = rr * (h * rm[2])
            hh = f(mx[:, 2 * u:] + m @ r[:, 2 * u:])
        cache[:, t] = np.concatenate([z, rr, hh, m], axis=1)
        hn = z * h + (1.0 - z) * hh
        h = np.where(keep[:, t, None], hn, h)
        hs[:, s] = h
    return hs, cache


def gru_backward(dhs, inp, kernel, recurrent_kernel, h0, hs, cache, *, mask=None,
                 activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                 reset_after=True, recurrent_mask=None, input_mask=None, dkernel,
                 drecurrent_kernel, dbias, dinp=None, dh0=None):
    """BPTT through the GRU (docs/rnn.md), per-gate dropout masks as gru_forward. With reset_after the recurrent-side gradient of
    the candidate block is r⊙dĥ_pre (it feeds dU and b_h), the input side dĥ_pre.
    Weight gradients accumulated; dinp, dh0 overwritten. Returns (dinp, dh0)."""
    _, df = _act(activation)
    _, dg = _act(recurrent_activation)
    x, w, r, _, keep, n, T, u = _setup(inp, kernel, recurrent_kernel, h0, mask)
    h0v = np.zeros((n, u)) if h0 is None else _f64(h0)
    hs, dhs, cache = _f64(hs), _f64(dhs), _f64(cache)
    dx = np.zeros_like(x)
    dw, dr = np.zeros_like(w), np.zeros_like(r)
    dbx, dbh = np.zeros(3 * u), np.zeros(3 * u)
    rm = _gate_masks(recurrent_mask, 3, n, u, "recurrent_mask")
    im = _gate_masks(input_mask, 3, n, x.shape[2], "input_mask")
    blk = [slice(j * u, (j + 1) * u) for j in range(3)]
    dh = np.zeros((n, u))
    for s in reversed(range(T)):
        t = T - 1 - s if go_backwards else s
        hprev = hs[:, s - 1] if s > 0 else h0v
        z, rr, hh, m = np.split(cache[:, t], 4, axis=1)
        k = keep[:, t, None]
        d = dhs[:, s] + dh
        dzpre = d * (hprev - hh) * dg(z)
        dhpre = d * (1.0 - z) * df(hh)
        direct = d * z
        if reset_after:
            drpre = dhpre * m * dg(rr)
            gx = np.concatenate([dzpre, drpre, dhpre], axis=1)
            gh = np.concatenate([dzpre, drpre, dhpre * rr], axis=1)
            gx, gh = np.where(k, gx, 0.0), np.where(k, gh, 0.0)
            dprev = direct.copy()
            for j in range(3):
                dr[:, blk[j]] += (hprev * rm[j]).T @ gh[:, blk[j]]
                dprev += (gh[:, blk[j]] @ r[:, blk[j]].T) * rm[j]
            dbh += gh.sum(0)
        else:
            drh = dhpre @ r[:, 2 * u:].T  # ∂L/∂m with m = r⊙(h⊙m_h)
            drpre = drh * hprev * rm[2] * dg(rr)
            gx = np.where(k, np.concatenate([dzpre, drpre, dhpre], axis=1), 0.0)
            dprev = direct + drh * rr * rm[2]
            for j in range(2):
                dr[:, blk[j]] += (hprev * rm[j]).T @ gx[:, blk[j]]
                dprev += (gx[:, blk[j]] @ r[:, blk[j]].T) * rm[j]
            dr[:, 2 * u:] += m.T @ gx[:, 2 * u:]
        dx[:, t] = 0.0
        for j in range(3):
            dx[:, t] += (gx[:, blk[j]] @ w[:, blk[j]].T) * im[j]
            dw[:, blk[j]] += (x[:, t] * im[j]).T @ gx[:, blk[j]]
        dbx += gx.sum(0)
        dh = np.where(k, dprev, d)
    _accumulate(dkernel, dw)
    _accumulate(drecurrent_kernel, dr)
    if dbias is not None:
        _accumulate(dbias, np.stack([dbx, dbh]) if reset_after else dbx)
    if dinp is not None:
        dinp[...] = dx
    if dh0 is not None:
        dh0[...] = dh
    return dinp, dh0
