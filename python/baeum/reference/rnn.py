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

def simple_rnn_forward(inp, kernel, recurrent_kernel, bias, h0=None, *, mask=None,
                       activation="tanh", go_backwards=False):
    """h_s = act(x_t·W + b + h_{s−1}·U). Returns (hs, cache)."""
    f, _ = _act(activation)
    x, w, r, h, keep, n, T, u = _setup(inp, kernel, recurrent_kernel, h0, mask)
    b = np.zeros(u) if bias is None else _f64(bias)
    hs, cache = np.zeros((n, T, u)), np.zeros((n, T, u))
    for s in range(T):
        t = T - 1 - s if go_backwards else s
        ht = f(x[:, t] @ w + b + h @ r)
        cache[:, t] = ht
        h = np.where(keep[:, t, None], ht, h)
        hs[:, s] = h
    return hs, cache


def simple_rnn_backward(dhs, inp, kernel, recurrent_kernel, h0, hs, cache, *, mask=None,
                        activation="tanh", go_backwards=False, dkernel, drecurrent_kernel,
                        dbias, dinp=None, dh0=None):
    """BPTT: dz = dh·act'(z); dh_{s−1} = dz·Uᵀ (or dh where masked). Weight gradients are
    accumulated (+=), dinp / dh0 overwritten. Returns (dinp, dh0)."""
    _, df = _act(activation)
    x, w, r, _, keep, n, T, u = _setup(inp, kernel, recurrent_kernel, h0, mask)
    h0v = np.zeros((n, u)) if h0 is None else _f64(h0)
    hs, dhs = _f64(hs), _f64(dhs)
    dx = np.zeros_like(x)
    dw, dr, db = np.zeros_like(w), np.zeros_like(r), np.zeros(u)
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
        dr += hprev.T @ dz
        db += dz.sum(0)
        dh = np.where(k, dz @ r.T, d)
    _accumulate(dkernel, dw)
    _accumulate(drecurrent_kernel, dr)
    _accumulate(dbias, db)
    if dinp is not None:
        dinp[...] = dx
    if dh0 is not None:
        dh0[...] = dh
    return dinp, dh0


# ---- LSTM --------------------------------------------------------------------------------

def _lstm_step(x_t, hprev, cprev, w, r, b, f, g):
    u = hprev.shape[1]
    z = x_t @ w + b + hprev @ r
    i, fg, gg, o = g(z[:, :u]), g(z[:, u:2 * u]), f(z[:, 2 * u:3 * u]), g(z[:, 3 * u:])
    c = fg * cprev + i * gg
    tc = f(c)
    return i, fg, gg, o, c, tc, o * tc


def lstm_forward(inp, kernel, recurrent_kernel, bias, h0=None, c0=None, *, mask=None,
                 activation="tanh", recurrent_activation="sigmoid", go_backwards=False):
    """Keras LSTM: z = x_t·W + h_{s−1}·U + b in blocks [i f c o]; i,f,o = ract, g = act;
    c_s = f⊙c_{s−1} + i⊙g; h_s = o⊙act(c_s). Returns (hs, cs, cache)."""
    f, _ = _act(activation)
    g, _ = _act(recurrent_activation)
    x, w, r, h, keep, n, T, u = _setup(inp, kernel, recurrent_kernel, h0, mask)
    c = np.zeros((n, u)) if c0 is None else _f64(c0).copy()
    b = np.zeros(4 * u) if bias is None else _f64(bias)
    hs, cs, cache = np.zeros((n, T, u)), np.zeros((n, T, u)), np.zeros((n, T, 5 * u))
    for s in range(T):
        t = T - 1 - s if go_backwards else s
        i, fg, gg, o, cn, tc, hn = _lstm_step(x[:, t], h, c, w, r, b, f, g)
        cache[:, t] = np.concatenate([i, fg, gg, o, tc], axis=1)
        k = keep[:, t, None]
        h, c = np.where(k, hn, h), np.where(k, cn, c)
        hs[:, s], cs[:, s] = h, c
    return hs, cs, cache


def lstm_backward(dhs, inp, kernel, recurrent_kernel, h0, c0, hs, cs, cache, *, dc_last=None,
                  mask=None, activation="tanh", recurrent_activation="sigmoid",
                  go_backwards=False, dkernel, drecurrent_kernel, dbias, dinp=None, dh0=None,
                  dc0=None):
    """BPTT through the LSTM (docs/rnn.md). dc_last = ∂L/∂c after the last step (or None).
    Weight gradients accumulated; dinp, dh0, dc0 overwritten. Returns (dinp, dh0, dc0)."""
    _, df = _act(activation)
    _, dg = _act(recurrent_activation)
    x, w, r, _, keep, n, T, u = _setup(inp, kernel, recurrent_kernel, h0, mask)
    h0v = np.zeros((n, u)) if h0 is None else _f64(h0)
    c0v = np.zeros((n, u)) if c0 is None else _f64(c0)
    hs, cs, dhs = _f64(hs), _f64(cs), _f64(dhs)
    dx = np.zeros_like(x)
    dw, dr, db = np.zeros_like(w), np.zeros_like(r), np.zeros(4 * u)
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
        dx[:, t] = dz @ w.T
        dw += x[:, t].T @ dz
        dr += hprev.T @ dz
        db += dz.sum(0)
        dh = np.where(k, dz @ r.T, d)
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
                recurrent_activation="sigmoid", go_backwards=False, reset_after=True):
    """Keras GRU, blocks [z r h]. reset_after (bias (2, 3U) = [b_x, b_h]):
    mx = x_t·W + b_x, mh = h_{s−1}·U + b_h, z = ract(mx_z + mh_z), r = ract(mx_r + mh_r),
    ĥ = act(mx_h + r⊙mh_h). reset_before (bias (3U,)): z, r as above without b_h and
    ĥ = act(mx_h + (r⊙h_{s−1})·U_h). Both: h_s = z⊙h_{s−1} + (1−z)⊙ĥ. Returns (hs, cache)."""
    f, _ = _act(activation)
    g, _ = _act(recurrent_activation)
    x, w, r, h, keep, n, T, u = _setup(inp, kernel, recurrent_kernel, h0, mask)
    b = _f64(bias)
    if reset_after:
        bx, bh = (np.zeros(3 * u), np.zeros(3 * u)) if b is None else (b[0], b[1])
    else:
        bx, bh = (np.zeros(3 * u) if b is None else b), np.zeros(3 * u)
    hs, cache = np.zeros((n, T, u)), np.zeros((n, T, 4 * u))
    for s in range(T):
        t = T - 1 - s if go_backwards else s
        mx = x[:, t] @ w + bx
        if reset_after:
            mh = h @ r + bh
            z, rr = g(mx[:, :u] + mh[:, :u]), g(mx[:, u:2 * u] + mh[:, u:2 * u])
            m = mh[:, 2 * u:]
            hh = f(mx[:, 2 * u:] + rr * m)
        else:
            mh = h @ r[:, :2 * u]
            z, rr = g(mx[:, :u] + mh[:, :u]), g(mx[:, u:2 * u] + mh[:, u:])
            m = rr * h
            hh = f(mx[:, 2 * u:] + m @ r[:, 2 * u:])
        cache[:, t] = np.concatenate([z, rr, hh, m], axis=1)
        hn = z * h + (1.0 - z) * hh
        h = np.where(keep[:, t, None], hn, h)
        hs[:, s] = h
    return hs, cache


def gru_backward(dhs, inp, kernel, recurrent_kernel, h0, hs, cache, *, mask=None,
                 activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                 reset_after=True, dkernel, drecurrent_kernel, dbias, dinp=None, dh0=None):
    """BPTT through the GRU (docs/rnn.md). With reset_after the recurrent-side gradient of
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
            dr += hprev.T @ gh
            dbh += gh.sum(0)
            dprev = gh @ r.T + direct
        else:
            drh = dhpre @ r[:, 2 * u:].T
            drpre = drh * hprev * dg(rr)
            gx = np.where(k, np.concatenate([dzpre, drpre, dhpre], axis=1), 0.0)
            dr[:, :2 * u] += hprev.T @ gx[:, :2 * u]
            dr[:, 2 * u:] += m.T @ gx[:, 2 * u:]
            dprev = gx[:, :2 * u] @ r[:, :2 * u].T + drh * rr + direct
        dx[:, t] = gx @ w.T
        dw += x[:, t].T @ gx
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
