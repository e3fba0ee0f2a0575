"""Convolution kernels: Conv2D/Conv1D (im2col + GEMM, bias and activation fused on store),
Conv2DTranspose, DepthwiseConv2D, and im2col/col2im themselves.

NHWC images, Keras kernel layouts, Keras padding rules ('same' puts the odd cell at the end).
Formulas and backward derivations: docs/conv.md. NumPy twins: baeum.reference.conv.
Backward functions overwrite dinp and ACCUMULATE into dkernel and dbias.
"""
import numpy as np

from baeum import _core
from baeum.ops._checks import _as_input, _check_out
from baeum.ops.activations import _NEEDS_INPUT, _buffer, _same
from baeum.ops.nn import _resolved
from baeum.reference.conv import (
    conv1d_padding,
    conv_geometry,
    conv_transpose_geometry,
    pair,
)


def _pos_pair(v, name, op):
    try:
        p = pair(v, name)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{op}: {e}") from None
    if min(p) < 1:
        raise ValueError(f"{op}: {name} must be >= 1, received {v!r}.")
    return p


def _geometry(op, hw, khw, strides, padding, dilation):
    """(strides, dilation, (OH, OW), (PT, PL)) with a clear error when the output is empty."""
    s, d = _pos_pair(strides, "strides", op), _pos_pair(dilation, "dilation_rate", op)
    try:
        (oh, ow), (pt, pb), (pl, pr) = conv_geometry(hw, khw, s, d, padding)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{op}: {e}") from None
    if min(pt, pb, pl, pr) < 0:
        raise ValueError(f"{op}: explicit padding must be >= 0, received {padding!r}.")
    if oh < 1 or ow < 1:
        keff = tuple((k - 1) * di + 1 for k, di in zip(khw, d))
        raise ValueError(
            f"{op}: a {khw[0]}x{khw[1]} kernel (dilated extent {keff[0]}x{keff[1]}) with strides {s} and "
            f"padding {padding!r} does not fit a {hw[0]}x{hw[1]} input (output would be {oh}x{ow}). "
            "Fix: padding='same', a smaller kernel/stride/dilation, or a larger input.")
    return s, d, (oh, ow), (pt, pl)


def _bias(bias, n, op):
    if bias is None:
        return None
    bias = _as_input(bias, "bias", op, ndim=1)
    if bias.shape[0] != n:
        raise ValueError(f"{op}: bias has shape {bias.shape}, expected ({n},) (one per output channel).")
    return bias


def _out(out, shape, op, inputs):
    if out is None:
        return np.empty(shape, dtype=np.float32)
    return _check_out(out, shape, op, inputs=inputs)


def _backward_bufs(op, name, dout, out, preact, dkernel, kernel, dbias, nout, dinp, inp):
    if _NEEDS_INPUT[name]:
        if preact is None:
            raise ValueError(f"{op}: {name} backward needs preact (z); pass the preact= buffer filled by the forward.")
        preact = _as_input(preact, "preact", op)
        _same(preact, "preact", dout, op)
    elif name != "linear":
        if out is None:
            raise ValueError(f"{op}: {name} backward needs out (the forward output).")
        out = _as_input(out, "out", op)
        _same(out, "out", dout, op)
    _buffer(dkernel, kernel.shape, op, "dkernel")
    if dbias is not None:
        _buffer(dbias, (nout,), op, "dbias")
    if dinp is not None:
        _buffer(dinp, inp.shape, op, "dinp", inputs=(dout,))
    return out, preact


# ---- Conv2D ---------------------------------------------------------------------------------
def _conv2d_args(op, inp, kernel, strides, padding, dilation_rate, groups):
    inp = _as_input(inp, "inp", op, ndim=4)
    kernel = _as_input(kernel, "kernel", op, ndim=4)
    n, h, w, c = inp.shape
    kh, kw, cg, oc = kernel.shape
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, received {groups!r}.")
    if cg * groups != c or oc % groups:
        raise ValueError(
            f"{op}: inp has {c} channels and kernel has shape {kernel.shape}; with groups={groups} the kernel must "
            f"be (kh, kw, {c // groups if c % groups == 0 else 'channels/groups'}, filters) with filters divisible "
            "by groups (Keras layout; PyTorch's (filters, cin, kh, kw) → kernel.transpose(2, 3, 1, 0)).")
    s, d, (oh, ow), (pt, pl) = _geometry(op, (h, w), (kh, kw), strides, padding, dilation_rate)
    return inp, kernel, (n, oh, ow, oc), (s[0], s[1], d[0], d[1], pt, pl, int(groups))


def conv2d_forward(inp, kernel, bias, strides=(1, 1), padding="valid", dilation_rate=(1, 1), groups=1,
                   activation="linear", *, alpha=None, out=None, preact=None):
    """out = f(conv(inp, kernel) + bias): inp (N,H,W,C), kernel (kh,kw,C/groups,filters).
    im2col of L2-sized row blocks → one GEMM per block (1×1 stride-1: no im2col, the input
    is the GEMM operand) whose epilogue adds the bias and applies f while the tile is in
    cache. preact: optional (N,OH,OW,filters) buffer that receives z (needed by backward
    when activation_needs_input(activation))."""
    op = "conv2d_forward"
    _, act, a = _resolved(activation, alpha, op)
    inp, kernel, oshape, geo = _conv2d_args(op, inp, kernel, strides, padding, dilation_rate, groups)
    bias = _bias(bias, oshape[3], op)
    out = _out(out, oshape, op, (inp, kernel))
    if preact is not None:
        _buffer(preact, oshape, op, "preact", inputs=(inp, kernel, out))
    _core.conv2d_forward(inp, kernel, bias, out, preact, *geo, act, a)
    return out


def conv2d_backward(dout, inp, kernel, out, preact, activation="linear", strides=(1, 1), padding="valid",
                    dilation_rate=(1, 1), groups=1, *, alpha=None, dkernel, dbias, dinp=None):
    """dz = dout·f'(z); dkernel += col(inp)ᵀ·dz; dbias += Σ dz (dbias None: no bias);
    dinp = col2im(dz·kernelᵀ) (overwritten) when dinp is given. Returns dinp (or None)."""
    op = "conv2d_backward"
    name, act, a = _resolved(activation, alpha, op)
    inp, kernel, oshape, geo = _conv2d_args(op, inp, kernel, strides, padding, dilation_rate, groups)
    dout = _as_input(dout, "dout", op)
    if dout.shape != oshape:
        raise ValueError(f"{op}: dout has shape {dout.shape}, expected {oshape} (the forward output's shape).")
    out, preact = _backward_bufs(op, name, dout, out, preact, dkernel, kernel, dbias, oshape[3], dinp, inp)
    _core.conv2d_backward(dout, inp, kernel, out, preact, dkernel, dbias, dinp, *geo, act, a)
    return dinp


# ---- Conv1D = Conv2D with H = 1 --------------------------------------------------------------
def _conv1d_args(op, inp, kernel, strides, padding, dilation_rate):
    inp = _as_input(inp, "inp", op, ndim=3)
    kernel = _as_input(kernel, "kernel", op, ndim=3)
    for v, nm in ((strides, "strides"), (dilation_rate, "dilation_rate")):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{op}: {nm} must be a positive integer, received {v!r}.")
    try:
        pad = conv1d_padding(inp.shape[1], kernel.shape[0], int(strides), int(dilation_rate), padding)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{op}: {e}") from None
    return inp[:, None], kernel[None], pad


def conv1d_forward(inp, kernel, bias, strides=1, padding="valid", dilation_rate=1, groups=1,
                   activation="linear", *, alpha=None, out=None, preact=None):
    """Conv1D: inp (N,T,C), kernel (k, C/groups, filters); padding 'valid', 'same', 'causal'
    (left pad (k−1)·dilation) or (before, after). Runs as conv2d on (N,1,T,C)."""
    op = "conv1d_forward"
    x4, k4, pad = _conv1d_args(op, inp, kernel, strides, padding, dilation_rate)
    o4 = None if out is None else _out(out, out.shape, op, ())[:, None]
    p4 = None if preact is None else preact[:, None]
    y = conv2d_forward(x4, k4, bias, (1, int(strides)), pad, (1, int(dilation_rate)), groups, activation,
                       alpha=alpha, out=o4, preact=p4)
    return y[:, 0] if out is None else out


def conv1d_backward(dout, inp, kernel, out, preact, activation="linear", strides=1, padding="valid",
                    dilation_rate=1, groups=1, *, alpha=None, dkernel, dbias, dinp=None):
    op = "conv1d_backward"
    x4, k4, pad = _conv1d_args(op, inp, kernel, strides, padding, dilation_rate)
    _buffer(dkernel, k4.shape[1:], op, "dkernel")
    d4 = lambda a: None if a is None else np.asarray(a)[:, None]  # noqa: E731
    conv2d_backward(d4(dout), x4, k4, d4(out), d4(preact), activation, (1, int(strides)), pad,
                    (1, int(dilation_rate)), groups, alpha=alpha, dkernel=dkernel[None], dbias=dbias,
                    dinp=d4(dinp))
    return dinp


# ---- Conv2DTranspose -------------------------------------------------------------------------
def _transpose_args(op, inp, kernel, strides, padding, output_padding, dilation_rate):
    inp = _as_input(inp, "inp", op, ndim=4)
    kernel = _as_input(kernel, "kernel", op, ndim=4)
    n, ih, iw, c = inp.shape
    kh, kw, oc, kc = kernel.shape
    if kc != c:
        raise ValueError(f"{op}: inp has {c} channels but kernel has shape {kernel.shape}; a Conv2DTranspose "
                         f"kernel is (kh, kw, filters, {c}) (Keras layout).")
    s, d = _pos_pair(strides, "strides", op), _pos_pair(dilation_rate, "dilation_rate", op)
    if output_padding is not None:
        opd = pair(output_padding, "output_padding")
        if any(o < 0 or o >= st for o, st in zip(opd, s)):
            raise ValueError(f"{op}: output_padding {opd} must be >= 0 and smaller than the strides {s}.")
    try:
        (h, w), (pt, pl) = conv_transpose_geometry((ih, iw), (kh, kw), s, d, padding, output_padding)
    except (TypeError, ValueError, AttributeError) as e:
        raise ValueError(f"{op}: {e}") from None
    if h < 1 or w < 1 or pt < 0 or pl < 0:
        raise ValueError(f"{op}: output size {h}x{w} (padding {pt},{pl}) is not valid for this geometry.")
    return inp, kernel, (n, h, w, oc), (s[0], s[1], d[0], d[1], pt, pl, 1)


def conv2d_transpose_forward(inp, kernel, bias, strides=(1, 1), padding="valid", output_padding=None,
                             dilation_rate=(1, 1), activation="linear", *, alpha=None, out=None, preact=None):
    """Keras Conv2DTranspose: the backward-data of the convolution whose kernel is `kernel`
    (kh, kw, filters, cin): out = f(col2im(inp·kernelᵀ) + bias), output size per Keras
    (deconv_output_length, output_padding)."""
    op = "conv2d_transpose_forward"
    _, act, a = _resolved(activation, alpha, op)
    inp, kernel, oshape, geo = _transpose_args(op, inp, kernel, strides, padding, output_padding, dilation_rate)
    bias = _bias(bias, oshape[3], op)
    out = _out(out, oshape, op, (inp, kernel))
    if preact is not None:
        _buffer(preact, oshape, op, "preact", inputs=(inp, kernel, out))
    _core.conv2d_transpose_forward(inp, kernel, bias, out, preact, *geo, act, a)
    return out


def conv2d_transpose_backward(dout, inp, kernel, out, preact, activation="linear", strides=(1, 1),
                              padding="valid", output_padding=None, dilation_rate=(1, 1), *, alpha=None,
                              dkernel, dbias, dinp=None):
    """dz = dout·f'(z); dinp = conv(dz, kernel); dkernel += col(dz)ᵀ·inp; dbias += Σ dz."""
    op = "conv2d_transpose_backward"
    name, act, a = _resolved(activation, alpha, op)
    inp, kernel, oshape, geo = _transpose_args(op, inp, kernel, strides, padding, output_padding, dilation_rate)
    dout = _as_input(dout, "dout", op)
    if dout.shape != oshape:
        raise ValueError(f"{op}: dout has shape {dout.shape}, expected {oshape} (the forward output's shape).")
    out, preact = _backward_bufs(op, name, dout, out, preact, dkernel, kernel, dbias, oshape[3], dinp, inp)
    _core.conv2d_transpose_backward(dout, inp, kernel, out, preact, dkernel, dbias, dinp, *geo, act, a)
    return dinp


# ---- DepthwiseConv2D ---------------------------------------------------------------------------
def _depthwise_args(op, inp, kernel, strides, padding, dilation_rate):
    inp = _as_input(inp, "inp", op, ndim=4)
    kernel = _as_input(kernel, "kernel", op, ndim=4)
    n, h, w, c = inp.shape
    kh, kw, kc, dm = kernel.shape
    if kc != c:
        raise ValueError(f"{op}: inp has {c} channels but kernel has shape {kernel.shape}; a depthwise "
                         f"kernel is (kh, kw, {c}, depth_multiplier) (Keras layout).")
    s, d, (oh, ow), (pt, pl) = _geometry(op, (h, w), (kh, kw), strides, padding, dilation_rate)
    return inp, kernel, (n, oh, ow, c * dm), (s[0], s[1], d[0], d[1], pt, pl, 1)


def depthwise_conv2d_forward(inp, kernel, bias, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
                             activation="linear", *, alpha=None, out=None, preact=None):
    """Keras DepthwiseConv2D: channel c is convolved with its own kernel[:, :, c, m] for each
    m < depth_multiplier into output channel c·DM + m; direct loops vectorised over channels."""
    op = "depthwise_conv2d_forward"
    _, act, a = _resolved(activation, alpha, op)
    inp, kernel, oshape, geo = _depthwise_args(op, inp, kernel, strides, padding, dilation_rate)
    bias = _bias(bias, oshape[3], op)
    out = _out(out, oshape, op, (inp, kernel))
    if preact is not None:
        _buffer(preact, oshape, op, "preact", inputs=(inp, kernel, out))
    _core.depthwise_conv2d_forward(inp, kernel, bias, out, preact, *geo, act, a)
    return out


def depthwise_conv2d_backward(dout, inp, kernel, out, preact, activation="linear", strides=(1, 1),
                              padding="valid", dilation_rate=(1, 1), *, alpha=None, dkernel, dbias, dinp=None):
    op = "depthwise_conv2d_backward"
    name, act, a = _resolved(activation, alpha, op)
    inp, kernel, oshape, geo = _depthwise_args(op, inp, kernel, strides, padding, dilation_rate)
    dout = _as_input(dout, "dout", op)
    if dout.shape != oshape:
        raise ValueError(f"{op}: dout has shape {dout.shape}, expected {oshape} (the forward output's shape).")
    out, preact = _backward_bufs(op, name, dout, out, preact, dkernel, kernel, dbias, oshape[3], dinp, inp)
    _core.depthwise_conv2d_backward(dout, inp, kernel, out, preact, dkernel, dbias, dinp, *geo, act, a)
    return dinp


# ---- im2col / col2im ---------------------------------------------------------------------------
def im2col(inp, kernel_size, strides=(1, 1), padding="valid", dilation_rate=(1, 1), *, out=None):
    """col (N·OH·OW, kh·kw·C): row (n, oh, ow) holds the receptive field, ordered (kh, kw, c)."""
    op = "im2col"
    inp = _as_input(inp, "inp", op, ndim=4)
    k = _pos_pair(kernel_size, "kernel_size", op)
    s, d, (oh, ow), (pt, pl) = _geometry(op, inp.shape[1:3], k, strides, padding, dilation_rate)
    out = _out(out, (inp.shape[0] * oh * ow, k[0] * k[1] * inp.shape[3]), op, (inp,))
    _core.im2col(inp, out, k[0], k[1], s[0], s[1], d[0], d[1], pt, pl, oh, ow)
    return out


def col2im(col, input_shape, kernel_size, strides=(1, 1), padding="valid", dilation_rate=(1, 1), *, out=None):
    """The adjoint of im2col: out (input_shape) = Σ of the col entries copied from each cell."""
    op = "col2im"
    col = _as_input(col, "col", op, ndim=2)
    shape = tuple(int(v) for v in input_shape)
    if len(shape) != 4:
        raise ValueError(f"{op}: input_shape must be (N, H, W, C), received {input_shape!r}.")
    k = _pos_pair(kernel_size, "kernel_size", op)
    s, d, (oh, ow), (pt, pl) = _geometry(op, shape[1:3], k, strides, padding, dilation_rate)
    want = (shape[0] * oh * ow, k[0] * k[1] * shape[3])
    if col.shape != want:
        raise ValueError(f"{op}: col has shape {col.shape}, expected {want}.")
    out = _out(out, shape, op, (col,))
    _core.col2im(col, out, k[0], k[1], s[0], s[1], d[0], d[1], pt, pl, oh, ow)
    return out


__all__ = ["im2col", "col2im", "conv2d_forward", "conv2d_backward", "conv1d_forward", "conv1d_backward",
           "conv2d_transpose_forward", "conv2d_transpose_backward", "depthwise_conv2d_forward",
           "depthwise_conv2d_backward"]
