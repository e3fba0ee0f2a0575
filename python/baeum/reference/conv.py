"""Convolutions in plain NumPy (float64 math, float32 results): the readable definitions.

Twins of baeum.ops.conv, same signatures. Images are NHWC; kernels have Keras's layouts:
Conv2D (kh, kw, cin/groups, filters), Conv1D (k, cin/groups, filters), Conv2DTranspose
(kh, kw, filters, cin), DepthwiseConv2D (kh, kw, cin, depth_multiplier). The operation is
cross-correlation (no kernel flip), as in Keras and PyTorch.

Padding: "valid" (none), "same" (out = ceil(n/s); the odd extra cell goes at the END,
bottom/right, as Keras/TF), "causal" (1-D: k_eff − 1 cells on the left), or explicit
((top, bottom), (left, right)). Derivations: docs/conv.md.
"""
import numpy as np

from baeum.reference.activations import activation_backward, activation_forward, activation_needs_input
from baeum.reference.nn import _store


# ---- geometry (shared with baeum.ops.conv: one definition of the output sizes) -------------
def pair(v, name="value"):
    """An int or a pair of ints → (a, b)."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v), int(v))
    t = tuple(v)
    if len(t) != 2 or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in t):
        raise ValueError(f"{name} must be an int or a tuple of 2 ints, received {v!r}.")
    return (int(t[0]), int(t[1]))


def conv_output_length(n, k, s, d, padding):
    """(output length, pad before, pad after) of one spatial axis (Keras
    compute_conv_output_shape; same-padding split from its backends: extra cell at the end)."""
    k_eff = (k - 1) * d + 1
    if isinstance(padding, str):
        p = padding.lower()
        if p == "valid":
            before, after = 0, 0
        elif p == "same":
            out = -(-n // s)
            total = max(0, (out - 1) * s + k_eff - n)
            before, after = total // 2, total - total // 2
        elif p == "causal":
            before, after = k_eff - 1, 0
        else:
            raise ValueError(f"padding must be 'valid', 'same' or 'causal', received {padding!r}.")
    else:
        before, after = (int(padding[0]), int(padding[1]))
    return (n + before + after - k_eff) // s + 1, before, after


def conv_geometry(in_hw, kernel_hw, strides, dilation_rate, padding):
    """((OH, OW), (PT, PB), (PL, PR)) of a 2-D convolution."""
    if isinstance(padding, str):
        pads = (padding, padding)
    else:
        pads = tuple(pair(p, "padding") for p in padding)
    (oh, pt, pb), (ow, pl, pr) = (conv_output_length(n, k, s, d, p) for n, k, s, d, p in
                                  zip(in_hw, kernel_hw, strides, dilation_rate, pads))
    return (oh, ow), (pt, pb), (pl, pr)


def conv_transpose_output_length(n, k, s, d, padding, output_padding=None):
    """(output length, pad before) of one axis of a Keras Conv2DTranspose. The output length
    is Keras's deconv_output_length; `pad before` is the padding of the convolution whose
    backward-data this is: k_eff − 1 − (left pad of Keras's JAX conv_transpose arguments)."""
    k_eff = (k - 1) * d + 1
    p = padding.lower()
    if p not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', received {padding!r}.")
    if output_padding is None:
        length = n * s + max(k_eff - s, 0) if p == "valid" else n * s
    else:
        length = (n - 1) * s + k_eff - 2 * (k_eff // 2 if p == "same" else 0) + output_padding
    if p == "valid":
        left = k_eff - 1
    else:
        pad_len = s + k_eff - 2 if output_padding is None else k_eff + k_eff % 2 - 2 + output_padding
        left = min(pad_len // 2 + pad_len % 2, k_eff - 1)
    return length, k_eff - 1 - left


# ---- helpers ------------------------------------------------------------------------------
def _padded(x, pt, pb, pl, pr):
    return np.pad(x, ((0, 0), (max(pt, 0), max(pb, 0)), (max(pl, 0), max(pr, 0)), (0, 0)))


def _window(xp, kh, kw, oh, ow, strides, dilation):
    """xp[:, oh·SH + kh·DH, ow·SW + kw·DW, :] for every output pixel: (N, OH, OW, C)."""
    (sh, sw), (dh, dw) = strides, dilation
    return xp[:, kh * dh: kh * dh + (oh - 1) * sh + 1: sh, kw * dw: kw * dw + (ow - 1) * sw + 1: sw, :]


def _activate(z, activation, alpha, out, preact):
    if preact is not None:
        preact[...] = z
    return activation_forward(z, activation, alpha=alpha, out=out)


def _dz(dout, out, preact, activation, alpha):
    dz = np.empty(np.shape(dout), dtype=np.float64)
    x = preact if activation_needs_input(activation) else None
    activation_backward(dout, x, out, activation, alpha=alpha, dinp=dz)
    return dz


# ---- im2col / col2im -----------------------------------------------------------------------
def im2col(inp, kernel_size, strides=(1, 1), padding="valid", dilation_rate=(1, 1), *, out=None):
    """col[(n, oh, ow), (kh, kw, c)] = x_pad[n, oh·SH + kh·DH, ow·SW + kw·DW, c]."""
    x = np.asarray(inp, np.float64)
    (kh_, kw_), strides, dil = pair(kernel_size), pair(strides), pair(dilation_rate)
    (oh, ow), (pt, pb), (pl, pr) = conv_geometry(x.shape[1:3], (kh_, kw_), strides, dil, padding)
    xp = _padded(x, pt, pb, pl, pr)
    col = np.zeros((x.shape[0], oh, ow, kh_, kw_, x.shape[3]))
    for kh in range(kh_):
        for kw in range(kw_):
            col[:, :, :, kh, kw, :] = _window(xp, kh, kw, oh, ow, strides, dil)
    return _store(col.reshape(x.shape[0] * oh * ow, kh_ * kw_ * x.shape[3]), out)


def col2im(col, input_shape, kernel_size, strides=(1, 1), padding="valid", dilation_rate=(1, 1), *,
           out=None):
    """The adjoint of im2col: every col entry is added to the input cell it was copied from
    (entries that came from padding are dropped)."""
    n, h, w, c = input_shape
    (kh_, kw_), strides, dil = pair(kernel_size), pair(strides), pair(dilation_rate)
    (oh, ow), (pt, pb), (pl, pr) = conv_geometry((h, w), (kh_, kw_), strides, dil, padding)
    col = np.asarray(col, np.float64).reshape(n, oh, ow, kh_, kw_, c)
    xp = np.zeros((n, h + pt + pb, w + pl + pr, c))
    for kh in range(kh_):
        for kw in range(kw_):
            _window(xp, kh, kw, oh, ow, strides, dil)[...] += col[:, :, :, kh, kw, :]
    return _store(xp[:, pt:pt + h, pl:pl + w, :], out)


# ---- Conv2D -----------------------------------------------------------------------------------
def conv2d_forward(inp, kernel, bias, strides=(1, 1), padding="valid", dilation_rate=(1, 1), groups=1,
                   activation="linear", *, alpha=None, out=None, preact=None):
    """z[n,i,j,f] = b[f] + Σ_{kh,kw,c} x_pad[n, i·SH + kh·DH, j·SW + kw·DW, g·Cg + c]·K[kh,kw,c,f]
    with g = f // (filters/groups); out = activation(z)."""
    x, k = np.asarray(inp, np.float64), np.asarray(kernel, np.float64)
    khs, kws, cg, oc = k.shape
    strides, dil = pair(strides), pair(dilation_rate)
    (oh, ow), (pt, pb), (pl, pr) = conv_geometry(x.shape[1:3], (khs, kws), strides, dil, padding)
    xp = _padded(x, pt, pb, pl, pr)
    ocg = oc // groups
    z = np.zeros((x.shape[0], oh, ow, oc))
    for g in range(groups):
        for kh in range(khs):
            for kw in range(kws):
                patch = _window(xp, kh, kw, oh, ow, strides, dil)[..., g * cg:(g + 1) * cg]
                z[..., g * ocg:(g + 1) * ocg] += patch @ k[kh, kw, :, g * ocg:(g + 1) * ocg]
    if bias is not None:
        z += np.asarray(bias, np.float64)
    return _activate(z, activation, alpha, out, preact)


def conv2d_backward(dout, inp, kernel, out, preact, activation="linear", strides=(1, 1), padding="valid",
                    dilation_rate=(1, 1), groups=1, *, alpha=None, dkernel, dbias, dinp=None):
    """dz = dout·f'(z); dkernel[kh,kw,c,f] += Σ_{n,i,j} x_pad[…]·dz[n,i,j,f];
    dbias[f] += Σ dz[…,f]; dinp = the x_pad cells' Σ dz·K, padding cropped off."""
    x, k = np.asarray(inp, np.float64), np.asarray(kernel, np.float64)
    khs, kws, cg, oc = k.shape
    strides, dil = pair(strides), pair(dilation_rate)
    (oh, ow), (pt, pb), (pl, pr) = conv_geometry(x.shape[1:3], (khs, kws), strides, dil, padding)
    dz = _dz(dout, out, preact, activation, alpha)
    xp = _padded(x, pt, pb, pl, pr)
    dxp = np.zeros_like(xp)
    ocg = oc // groups
    dk = np.zeros(k.shape)
    for g in range(groups):
        dzg = dz[..., g * ocg:(g + 1) * ocg]
        for kh in range(khs):
            for kw in range(kws):
                cs = slice(g * cg, (g + 1) * cg)
                patch = _window(xp, kh, kw, oh, ow, strides, dil)[..., cs]
                dk[kh, kw, :, g * ocg:(g + 1) * ocg] += np.einsum("nijc,nijf->cf", patch, dzg)
                _window(dxp, kh, kw, oh, ow, strides, dil)[..., cs] += dzg @ k[kh, kw, :, g * ocg:(g + 1) * ocg].T
    dkernel += dk.astype(dkernel.dtype)
    if dbias is not None:
        dbias += dz.sum(axis=(0, 1, 2)).astype(dbias.dtype)
    h, w = x.shape[1:3]
    if dinp is not None:
        dinp[...] = dxp[:, pt:pt + h, pl:pl + w, :]
    return dinp


# ---- Conv1D: the 2-D convolution with H = 1 ------------------------------------------------
def _as2d(x):
    return None if x is None else np.asarray(x)[:, None]


def conv1d_padding(length, k, s, d, padding):
    """The 2-D padding argument equivalent to a 1-D one ('causal' → explicit left pad)."""
    if isinstance(padding, str) and padding.lower() == "causal":
        return ((0, 0), ((k - 1) * d, 0))
    if isinstance(padding, str):
        return padding
    return ((0, 0), tuple(padding))


def conv1d_forward(inp, kernel, bias, strides=1, padding="valid", dilation_rate=1, groups=1,
                   activation="linear", *, alpha=None, out=None, preact=None):
    """y[n,t,f] = f(b[f] + Σ_{k,c} x_pad[n, t·s + k·d, g·Cg + c]·K[k,c,f]); 'causal' pads
    (k−1)·d on the left only, so y[t] sees x[≤ t·s]."""
    k = np.asarray(kernel)
    pad = conv1d_padding(np.shape(inp)[1], k.shape[0], int(strides), int(dilation_rate), padding)
    y = conv2d_forward(_as2d(inp), k[None], bias, (1, int(strides)), pad, (1, int(dilation_rate)), groups,
                       activation, alpha=alpha, out=_as2d(out), preact=_as2d(preact))
    return y[:, 0] if out is None else out


def conv1d_backward(dout, inp, kernel, out, preact, activation="linear", strides=1, padding="valid",
                    dilation_rate=1, groups=1, *, alpha=None, dkernel, dbias, dinp=None):
    k = np.asarray(kernel)
    pad = conv1d_padding(np.shape(inp)[1], k.shape[0], int(strides), int(dilation_rate), padding)
    conv2d_backward(_as2d(dout), _as2d(inp), k[None], _as2d(out), _as2d(preact), activation,
                    (1, int(strides)), pad, (1, int(dilation_rate)), groups, alpha=alpha,
                    dkernel=dkernel[None], dbias=dbias, dinp=_as2d(dinp))
    return dinp


# ---- Conv2DTranspose ---------------------------------------------------------------------------
def conv_transpose_geometry(in_hw, kernel_hw, strides, dilation_rate, padding, output_padding):
    """((H, W), (PT, PL)): output size and the padding of the matching convolution."""
    ops = (None, None) if output_padding is None else pair(output_padding, "output_padding")
    (h, pt), (w, pl) = (conv_transpose_output_length(n, k, s, d, padding, o) for n, k, s, d, o in
                        zip(in_hw, kernel_hw, strides, dilation_rate, ops))
    return (h, w), (pt, pl)


def conv2d_transpose_forward(inp, kernel, bias, strides=(1, 1), padding="valid", output_padding=None,
                             dilation_rate=(1, 1), activation="linear", *, alpha=None, out=None, preact=None):
    """The adjoint of conv2d in its input: every input pixel x[n,i,j,:] spreads
    x·K[kh,kw]ᵀ onto output pixel (i·SH − PT + kh·DH, j·SW − PL + kw·DW) (cells outside the
    output dropped); kernel (kh, kw, filters, cin)."""
    x, k = np.asarray(inp, np.float64), np.asarray(kernel, np.float64)
    khs, kws, oc, _ = k.shape
    strides, dil = pair(strides), pair(dilation_rate)
    n, ih, iw, _ = x.shape
    (h, w), (pt, pl) = conv_transpose_geometry((ih, iw), (khs, kws), strides, dil, padding, output_padding)
    hp = max(pt + h, (ih - 1) * strides[0] + (khs - 1) * dil[0] + 1)
    wp = max(pl + w, (iw - 1) * strides[1] + (kws - 1) * dil[1] + 1)
    zp = np.zeros((n, hp, wp, oc))
    for kh in range(khs):
        for kw in range(kws):
            _window(zp, kh, kw, ih, iw, strides, dil)[...] += x @ k[kh, kw].T
    z = zp[:, pt:pt + h, pl:pl + w, :]
    if bias is not None:
        z = z + np.asarray(bias, np.float64)
    return _activate(z, activation, alpha, out, preact)


def conv2d_transpose_backward(dout, inp, kernel, out, preact, activation="linear", strides=(1, 1),
                              padding="valid", output_padding=None, dilation_rate=(1, 1), *, alpha=None,
                              dkernel, dbias, dinp=None):
    """dz = dout·f'(z); dinp[n,i,j] = Σ_{kh,kw} dz_pad[n, i·SH+kh·DH, j·SW+kw·DW]·K[kh,kw]
    (a plain convolution of dz); dkernel[kh,kw] += Σ dz_pad[…]ᵀ·x; dbias += Σ dz."""
    x, k = np.asarray(inp, np.float64), np.asarray(kernel, np.float64)
    khs, kws, oc, _ = k.shape
    strides, dil = pair(strides), pair(dilation_rate)
    n, ih, iw, _ = x.shape
    (h, w), (pt, pl) = conv_transpose_geometry((ih, iw), (khs, kws), strides, dil, padding, output_padding)
    dz = _dz(dout, out, preact, activation, alpha)
    hp = max(pt + h, (ih - 1) * strides[0] + (khs - 1) * dil[0] + 1)
    wp = max(pl + w, (iw - 1) * strides[1] + (kws - 1) * dil[1] + 1)
    dzp = np.zeros((n, hp, wp, oc))
    dzp[:, pt:pt + h, pl:pl + w, :] = dz
    dx = np.zeros(x.shape)
    dk = np.zeros(k.shape)
    for kh in range(khs):
        for kw in range(kws):
            win = _window(dzp, kh, kw, ih, iw, strides, dil)
            dx += win @ k[kh, kw]
            dk[kh, kw] += np.einsum("nijf,nijc->fc", win, x)
    dkernel += dk.astype(dkernel.dtype)
    if dbias is not None:
        dbias += dz.sum(axis=(0, 1, 2)).astype(dbias.dtype)
    if dinp is not None:
        dinp[...] = dx
    return dinp


# ---- DepthwiseConv2D ---------------------------------------------------------------------------
def depthwise_conv2d_forward(inp, kernel, bias, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
                             activation="linear", *, alpha=None, out=None, preact=None):
    """z[n,i,j,c·DM+m] = b[c·DM+m] + Σ_{kh,kw} x_pad[n, i·SH+kh·DH, j·SW+kw·DW, c]·K[kh,kw,c,m]."""
    x, k = np.asarray(inp, np.float64), np.asarray(kernel, np.float64)
    khs, kws, c, dm = k.shape
    strides, dil = pair(strides), pair(dilation_rate)
    (oh, ow), (pt, pb), (pl, pr) = conv_geometry(x.shape[1:3], (khs, kws), strides, dil, padding)
    xp = _padded(x, pt, pb, pl, pr)
    z = np.zeros((x.shape[0], oh, ow, c, dm))
    for kh in range(khs):
        for kw in range(kws):
            z += _window(xp, kh, kw, oh, ow, strides, dil)[..., None] * k[kh, kw]
    z = z.reshape(x.shape[0], oh, ow, c * dm)
    if bias is not None:
        z += np.asarray(bias, np.float64)
    return _activate(z, activation, alpha, out, preact)


def depthwise_conv2d_backward(dout, inp, kernel, out, preact, activation="linear", strides=(1, 1),
                              padding="valid", dilation_rate=(1, 1), *, alpha=None, dkernel, dbias, dinp=None):
    x, k = np.asarray(inp, np.float64), np.asarray(kernel, np.float64)
    khs, kws, c, dm = k.shape
    strides, dil = pair(strides), pair(dilation_rate)
    (oh, ow), (pt, pb), (pl, pr) = conv_geometry(x.shape[1:3], (khs, kws), strides, dil, padding)
    dz = _dz(dout, out, preact, activation, alpha)
    dz5 = dz.reshape(x.shape[0], oh, ow, c, dm)
    xp = _padded(x, pt, pb, pl, pr)
    dxp = np.zeros_like(xp)
    dk = np.zeros(k.shape)
    for kh in range(khs):
        for kw in range(kws):
            dk[kh, kw] += np.einsum("nijc,nijcm->cm", _window(xp, kh, kw, oh, ow, strides, dil), dz5)
            _window(dxp, kh, kw, oh, ow, strides, dil)[...] += (dz5 * k[kh, kw]).sum(axis=-1)
    dkernel += dk.astype(dkernel.dtype)
    if dbias is not None:
        dbias += dz.sum(axis=(0, 1, 2)).astype(dbias.dtype)
    h, w = x.shape[1:3]
    if dinp is not None:
        dinp[...] = dxp[:, pt:pt + h, pl:pl + w, :]
    return dinp


__all__ = ["im2col", "col2im", "conv2d_forward", "conv2d_backward", "conv1d_forward", "conv1d_backward",
           "conv2d_transpose_forward", "conv2d_transpose_backward", "depthwise_conv2d_forward",
           "depthwise_conv2d_backward"]
