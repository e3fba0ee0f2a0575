"""baeum.ops convolutions vs baeum.reference (im2col/col2im, Conv2D, Conv1D, Conv2DTranspose,
DepthwiseConv2D): forward and every backward over a grid of shapes, strides, dilations,
paddings and groups; thread counts 1 and 2 bit-identical."""
import numpy as np
import pytest

import baeum
from baeum import _core, ops
from baeum import reference as ref
from baeum.reference import conv as ref_conv

TOL = dict(rtol=2e-4, atol=2e-4)

# (N, H, W, C, OC, KH, KW, strides, dilation, padding, groups)
CONV_CASES = [
    (2, 7, 6, 4, 5, 3, 3, (1, 1), (1, 1), "valid", 1),
    (2, 7, 6, 4, 5, 3, 3, (2, 2), (1, 1), "same", 1),
    (0, 5, 5, 3, 4, 3, 3, (1, 1), (1, 1), "same", 1),           # empty batch
    (3, 1, 1, 3, 2, 1, 1, (1, 1), (1, 1), "valid", 1),          # 1×1 image, pointwise path
    (2, 5, 4, 6, 4, 1, 1, (1, 1), (1, 1), "valid", 2),          # pointwise, groups
    (2, 5, 4, 6, 4, 1, 1, (2, 1), (1, 1), "same", 1),           # 1×1 strided: im2col path
    (2, 5, 5, 2, 3, 5, 5, (1, 1), (1, 1), "valid", 1),          # kernel as large as the input
    (1, 4, 4, 2, 3, 4, 4, (1, 1), (1, 1), "same", 1),           # even kernel, same
    (2, 9, 8, 3, 4, 3, 2, (1, 1), (2, 3), "valid", 1),          # dilation
    (2, 9, 8, 3, 4, 3, 3, (1, 1), (2, 2), "same", 1),
    (2, 11, 7, 6, 9, 3, 3, (3, 2), (1, 1), "same", 3),          # groups, odd strides
    (1, 13, 1, 2, 3, 3, 1, (2, 1), (1, 1), "same", 1),          # W = 1
    (2, 6, 7, 4, 4, 3, 3, (1, 2), (1, 1), ((1, 2), (0, 3)), 2),  # explicit padding
    (2, 6, 5, 3, 4, 3, 3, (1, 1), (1, 1), ((0, 2), (2, 1)), 1),  # stride 1: data grad as a flipped conv
    (2, 6, 5, 3, 4, 3, 2, (1, 1), (1, 1), ((3, 0), (1, 2)), 1),  # pad > k − 1: the col2im path
    (2, 7, 7, 5, 3, 3, 3, (1, 1), (2, 2), "same", 1),           # flipped conv with dilation
    (4, 16, 16, 16, 16, 3, 3, (1, 1), (1, 1), "same", 1),       # several row blocks and partials
    (2, 28, 28, 1, 16, 3, 3, (2, 2), (1, 1), "same", 1),        # the course CNN's first layer
    (3, 14, 14, 16, 8, 3, 3, (2, 2), (1, 1), "same", 1),        # its second: 8 filters, taps-as-vector kernels
    (2, 7, 6, 8, 8, 2, 3, (1, 1), (1, 1), "valid", 1),          # the same with 2/1-pixel tiles
]


def _rand(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _conv_problem(rng, case, bias=True):
    n, h, w, c, oc, kh, kw, s, d, pad, g = case
    x = _rand(rng, n, h, w, c)
    k = _rand(rng, kh, kw, c // g, oc, scale=1 / np.sqrt(kh * kw * c // g))
    b = _rand(rng, oc) if bias else None
    return x, k, b, dict(strides=s, padding=pad, dilation_rate=d, groups=g)


def _conv_all(fwd, bwd, x, k, b, geo, act, rng):
    """(out, preact, dk, db, dx) of one implementation; the same dout for both."""
    out_shape = ref_out_shape(fwd, x, k, b, geo)
    pre = np.empty(out_shape, np.float32)
    out = fwd(x, k, b, activation=act, preact=pre, **geo)
    dout = np.random.default_rng(7).standard_normal(out_shape).astype(np.float32)
    dk = np.zeros(k.shape, np.float32)
    db = None if b is None else np.zeros(b.shape, np.float32)
    dx = np.full(x.shape, np.nan, np.float32)  # must be overwritten
    r = bwd(dout, x, k, out, pre, act, dkernel=dk, dbias=db, dinp=dx, **geo)
    assert r is dx
    return out, pre, dk, db, dx


def ref_out_shape(fwd, x, k, b, geo):
    return getattr(ref, fwd.__name__)(x, k, b, **geo).shape


def _compare(fast, slow):
    for a, e, name in zip(fast, slow, ["out", "preact", "dkernel", "dbias", "dinp"]):
        if e is None:
            assert a is None
            continue
        np.testing.assert_allclose(a, e, err_msg=name, **TOL)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
@pytest.mark.parametrize("act", ["linear", "relu", "gelu", "tanh"])
def test_conv2d_vs_reference(case, act, rng):
    x, k, b, geo = _conv_problem(rng, case)
    fast = _conv_all(ops.conv2d_forward, ops.conv2d_backward, x, k, b, geo, act, rng)
    slow = _conv_all(ref.conv2d_forward, ref.conv2d_backward, x, k, b, geo, act, rng)
    _compare(fast, slow)
    assert fast[0].shape[0] == case[0]


def test_conv2d_no_bias_no_dinp(rng):
    x, k, _, geo = _conv_problem(rng, CONV_CASES[1], bias=False)
    y = ops.conv2d_forward(x, k, None, **geo)
    np.testing.assert_allclose(y, ref.conv2d_forward(x, k, None, **geo), **TOL)
    dk = np.ones(k.shape, np.float32)  # backward accumulates into dkernel
    dy = _rand(rng, *y.shape)
    assert ops.conv2d_backward(dy, x, k, None, None, dkernel=dk, dbias=None, **geo) is None
    want = np.ones(k.shape)
    ref.conv2d_backward(dy, x, k, None, None, dkernel=want, dbias=None, **geo)
    np.testing.assert_allclose(dk, want, **TOL)


@pytest.mark.parametrize("case", [CONV_CASES[1], CONV_CASES[10], CONV_CASES[15], CONV_CASES[16]], ids=str)
def test_conv2d_isa_paths(case, rng, isa):
    # The implicit-GEMM paths pack panels of the active micro-kernel's height (6, 14, ...).
    x, k, b, geo = _conv_problem(rng, case)
    fast = _conv_all(ops.conv2d_forward, ops.conv2d_backward, x, k, b, geo, "relu", rng)
    slow = _conv_all(ref.conv2d_forward, ref.conv2d_backward, x, k, b, geo, "relu", rng)
    _compare(fast, slow)


# The direct kernels (conv_avx2.cpp) take G = 1 convolutions with a multiple of 8 filters
# (forward, weight gradient; chunks of ≤ 32) and, for the data gradient, a multiple of 8
# input channels; each
# case runs on every ISA (generic = the im2col/GEMM path) against the NumPy twin.
DIRECT_CASES = [  # (N, H, W, C, OC, KH, KW, strides, dilation, padding)
    (3, 13, 11, 1, 16, 3, 3, (2, 2), (1, 1), "same"),          # deck conv1, odd sizes
    (9, 7, 9, 16, 8, 3, 3, (2, 2), (1, 1), "same"),            # deck conv2; N > 8 partials, uneven
    (2, 6, 7, 8, 24, 3, 2, (1, 3), (1, 1), "valid"),           # odd strides, no padding
    (2, 9, 8, 24, 32, 3, 3, (1, 1), (2, 2), "same"),           # dilation, 3/4-vector tiles
    (1, 5, 5, 32, 8, 5, 5, (1, 1), (1, 1), "valid"),           # kernel as large as the input
    (2, 6, 5, 3, 16, 3, 3, (1, 1), (1, 1), ((3, 0), (1, 2))),  # explicit padding; C = 3: data via GEMM
    (1, 1, 13, 8, 8, 1, 3, (1, 2), (1, 1), "same"),            # H = 1 (Conv1D shape)
    (2, 4, 4, 16, 32, 2, 2, (2, 2), (1, 1), "valid"),          # even kernel, no overlap
    (1, 3, 3, 8, 16, 1, 1, (2, 2), (1, 1), "same"),            # 1×1 strided
    (2, 5, 6, 40, 64, 3, 3, (1, 1), (1, 1), "same"),           # chunks: 64 = 32 + 32 filters, 40 = 32 + 8 channels
    (1, 6, 5, 72, 56, 3, 3, (2, 1), (1, 1), "same"),           # 56 = 32 + 24 filters, 72 = 32 + 32 + 8 channels
]


@pytest.mark.parametrize("case", DIRECT_CASES, ids=str)
@pytest.mark.parametrize("act", ["linear", "relu", "tanh"])
def test_conv2d_direct_vs_reference(case, act, rng, isa):
    x, k, b, geo = _conv_problem(rng, case[:9] + (case[9], 1))
    fast = _conv_all(ops.conv2d_forward, ops.conv2d_backward, x, k, b, geo, act, rng)
    slow = _conv_all(ref.conv2d_forward, ref.conv2d_backward, x, k, b, geo, act, rng)
    _compare(fast, slow)


def test_conv2d_direct_relu_nan_and_signed_zero():
    # The direct forward's relu is max(0, z): NaN stays NaN and -0.0 stays -0.0, as z < 0 ? 0 : z.
    x = np.zeros((1, 3, 3, 1), np.float32)
    x[0, 1, 1, 0] = np.nan
    k = np.zeros((1, 1, 1, 8), np.float32)
    k[..., 0] = 1.0
    b = np.zeros(8, np.float32)
    b[1] = -0.0
    b[2] = -1.0
    y = ops.conv2d_forward(x, k, b, 1, "valid", activation="relu")
    assert np.isnan(y[0, 1, 1, 0]) and not np.isnan(y[0, 0, 0, 0])
    assert y[0, 0, 0, 2] == 0.0
    np.testing.assert_array_equal(np.signbit(y[0, 0, 0, :2]), [False, False])


@pytest.mark.parametrize("case", [DIRECT_CASES[0], DIRECT_CASES[1], DIRECT_CASES[3]], ids=str)
def test_conv2d_direct_threads_bit_identical(case, threads):
    if not _core.openmp:
        pytest.skip("built without OpenMP")
    res = []
    for nt in (1, 2):
        baeum.set_num_threads(nt)
        rng = np.random.default_rng(3)
        x, k, b, geo = _conv_problem(rng, case[:9] + (case[9], 1))
        res.append(_conv_all(ops.conv2d_forward, ops.conv2d_backward, x, k, b, geo, "relu", rng))
    for a, e in zip(*res):
        np.testing.assert_array_equal(a, e)


def test_same_padding_puts_the_odd_cell_at_the_end():
    # 4×4 input, k=3, s=2 → total pad 1: none on top/left, one row/column at the bottom/right.
    assert ref_conv.conv_geometry((4, 4), (3, 3), (2, 2), (1, 1), "same") == ((2, 2), (0, 1), (0, 1))
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    k = np.zeros((3, 3, 1, 1), np.float32)
    k[0, 0] = 1  # picks x_pad[2i, 2j]: with no top/left pad that is x[2i, 2j]
    np.testing.assert_array_equal(ops.conv2d_forward(x, k, None, 2, "same")[0, :, :, 0], [[0, 2], [8, 10]])


# ---- Conv1D -------------------------------------------------------------------------------------
CONV1D_CASES = [  # (N, T, C, OC, K, stride, dilation, padding, groups)
    (2, 9, 3, 4, 3, 1, 1, "causal", 1),
    (2, 9, 3, 4, 3, 1, 2, "causal", 1),
    (2, 10, 4, 6, 3, 2, 1, "same", 2),
    (3, 7, 2, 3, 7, 1, 1, "valid", 1),
    (0, 5, 2, 3, 2, 1, 1, "causal", 1),
    (2, 1, 2, 3, 1, 1, 1, "valid", 1),
]


@pytest.mark.parametrize("case", CONV1D_CASES, ids=str)
def test_conv1d_vs_reference(case, rng):
    n, t, c, oc, kk, s, d, pad, g = case
    x = _rand(rng, n, t, c)
    k = _rand(rng, kk, c // g, oc, scale=0.5)
    b = _rand(rng, oc)
    geo = dict(strides=s, padding=pad, dilation_rate=d, groups=g)
    fast = _conv_all(ops.conv1d_forward, ops.conv1d_backward, x, k, b, geo, "relu", rng)
    slow = _conv_all(ref.conv1d_forward, ref.conv1d_backward, x, k, b, geo, "relu", rng)
    _compare(fast, slow)


def test_conv1d_causal_sees_only_the_past(rng):
    x = _rand(rng, 1, 8, 2)
    k = _rand(rng, 3, 2, 1)
    y = ops.conv1d_forward(x, k, None, padding="causal")
    x2 = x.copy()
    x2[0, 5:] = 100.0  # changing the future must not change outputs before t = 5
    y2 = ops.conv1d_forward(x2, k, None, padding="causal")
    assert y.shape == (1, 8, 1)
    np.testing.assert_array_equal(y[0, :5], y2[0, :5])
    assert not np.allclose(y[0, 5:], y2[0, 5:])


# ---- Conv2DTranspose ------------------------------------------------------------------------------
TRANSPOSE_CASES = [  # (N, H, W, C, OC, KH, KW, strides, dilation, padding, output_padding)
    (2, 4, 3, 3, 5, 3, 3, (1, 1), (1, 1), "valid", None),
    (2, 4, 3, 3, 5, 3, 3, (2, 2), (1, 1), "same", None),
    (2, 4, 3, 3, 5, 3, 3, (2, 2), (1, 1), "valid", None),
    (2, 5, 4, 2, 3, 4, 4, (2, 2), (1, 1), "same", None),
    (1, 3, 3, 2, 2, 2, 2, (3, 3), (1, 1), "valid", None),          # stride > kernel: gaps
    (2, 4, 4, 2, 3, 3, 3, (2, 2), (1, 1), "same", (1, 1)),
    (2, 4, 4, 2, 3, 3, 3, (3, 2), (1, 1), "valid", (2, 1)),
    (2, 3, 4, 2, 3, 3, 2, (1, 1), (2, 2), "same", None),
    (0, 3, 3, 2, 3, 3, 3, (2, 2), (1, 1), "same", None),
    (2, 1, 1, 4, 3, 1, 1, (1, 1), (1, 1), "valid", None),
    (3, 7, 7, 8, 16, 3, 3, (2, 2), (1, 1), "same", None),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=str)
@pytest.mark.parametrize("act", ["linear", "sigmoid"])
def test_conv2d_transpose_vs_reference(case, act, rng):
    n, h, w, c, oc, kh, kw, s, d, pad, opad = case
    x = _rand(rng, n, h, w, c)
    k = _rand(rng, kh, kw, oc, c, scale=0.5)
    b = _rand(rng, oc)
    geo = dict(strides=s, padding=pad, output_padding=opad, dilation_rate=d)
    fast = _conv_all(ops.conv2d_transpose_forward, ops.conv2d_transpose_backward, x, k, b, geo, act, rng)
    slow = _conv_all(ref.conv2d_transpose_forward, ref.conv2d_transpose_backward, x, k, b, geo, act, rng)
    _compare(fast, slow)


@pytest.mark.parametrize("n,k,s,pad,opad,want", [
    (4, 3, 2, "same", None, 8), (4, 3, 2, "valid", None, 9), (4, 3, 1, "valid", None, 6),
    (4, 2, 3, "valid", None, 12), (4, 3, 2, "same", 1, 8), (4, 3, 2, "valid", 1, 10),
    (5, 4, 2, "same", None, 10), (5, 5, 1, "same", 0, 5),
])
def test_conv_transpose_output_length_is_keras(n, k, s, pad, opad, want):
    # Keras deconv_output_length: valid n·s + max(k − s, 0); same n·s; with output_padding
    # (n − 1)·s + k − 2·pad + output_padding, pad = k // 2 for same.
    assert ref_conv.conv_transpose_output_length(n, k, s, 1, pad, opad)[0] == want


def test_conv_transpose_is_the_adjoint_of_conv(rng):
    # <conv(x), y> == <x, conv_transpose(y)> with the same kernel and geometry.
    x = _rand(rng, 2, 8, 8, 3)
    k = _rand(rng, 3, 3, 3, 4)
    y = ops.conv2d_forward(x, k, None, 2, "same")
    r = _rand(rng, *y.shape)
    xt = ops.conv2d_transpose_forward(r, k, None, 2, "same")
    assert xt.shape == x.shape
    np.testing.assert_allclose(float((y * r).sum()), float((x * xt).sum()), rtol=1e-4)


# ---- DepthwiseConv2D --------------------------------------------------------------------------------
DEPTHWISE_CASES = [  # (N, H, W, C, DM, KH, KW, strides, dilation, padding)
    (2, 6, 5, 3, 1, 3, 3, (1, 1), (1, 1), "same"),
    (2, 6, 5, 3, 2, 3, 3, (2, 2), (1, 1), "same"),
    (2, 7, 7, 4, 3, 3, 2, (1, 1), (2, 2), "valid"),
    (0, 4, 4, 2, 1, 3, 3, (1, 1), (1, 1), "same"),
    (3, 4, 4, 5, 1, 4, 4, (1, 1), (1, 1), "valid"),
    (9, 9, 9, 16, 1, 3, 3, (1, 1), (1, 1), "same"),  # more images than partial sums
]


@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=str)
@pytest.mark.parametrize("act", ["linear", "relu"])
def test_depthwise_vs_reference(case, act, rng):
    n, h, w, c, dm, kh, kw, s, d, pad = case
    x = _rand(rng, n, h, w, c)
    k = _rand(rng, kh, kw, c, dm, scale=0.5)
    b = _rand(rng, c * dm)
    geo = dict(strides=s, padding=pad, dilation_rate=d)
    fast = _conv_all(ops.depthwise_conv2d_forward, ops.depthwise_conv2d_backward, x, k, b, geo, act, rng)
    slow = _conv_all(ref.depthwise_conv2d_forward, ref.depthwise_conv2d_backward, x, k, b, geo, act, rng)
    _compare(fast, slow)


def test_depthwise_equals_grouped_conv(rng):
    x = _rand(rng, 2, 6, 6, 3)
    k = _rand(rng, 3, 3, 3, 2)
    y = ops.depthwise_conv2d_forward(x, k, None, padding="same")
    y2 = ops.conv2d_forward(x, k.reshape(3, 3, 1, 6), None, padding="same", groups=3)
    np.testing.assert_allclose(y, y2, **TOL)


# ---- im2col / col2im ------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [((2, 5, 6, 3), 3, 1, 1, "same"), ((1, 7, 7, 2), (3, 2), 2, (2, 1), "valid"),
                                  ((2, 4, 4, 1), 1, 2, 1, "same"), ((0, 3, 3, 2), 2, 1, 1, "valid")], ids=str)
def test_im2col_col2im_vs_reference(case, rng):
    shape, k, s, d, pad = case
    x = _rand(rng, *shape)
    col = ops.im2col(x, k, s, pad, d)
    np.testing.assert_array_equal(col, ref.im2col(x, k, s, pad, d))  # a pure copy: exact
    c = _rand(rng, *col.shape)
    np.testing.assert_allclose(ops.col2im(c, shape, k, s, pad, d), ref.col2im(c, shape, k, s, pad, d), **TOL)


# ---- threads: 1 and 2 give the same bits ------------------------------------------------------------
def _run_all(rng):
    res = []
    for fwd, bwd, x, k, geo in [
        (ops.conv2d_forward, ops.conv2d_backward, _rand(rng, 4, 16, 16, 16), _rand(rng, 3, 3, 16, 16, scale=0.1),
         dict(padding="same")),
        (ops.conv2d_forward, ops.conv2d_backward, _rand(rng, 8, 28, 28, 1), _rand(rng, 3, 3, 1, 16),
         dict(strides=2, padding="same")),
        (ops.conv2d_forward, ops.conv2d_backward, _rand(rng, 64, 8, 8, 8), _rand(rng, 1, 1, 8, 8),
         dict()),
        (ops.conv2d_transpose_forward, ops.conv2d_transpose_backward, _rand(rng, 6, 7, 7, 8),
         _rand(rng, 3, 3, 16, 8, scale=0.1), dict(strides=2, padding="same")),
        (ops.depthwise_conv2d_forward, ops.depthwise_conv2d_backward, _rand(rng, 12, 9, 9, 16),
         _rand(rng, 3, 3, 16, 1), dict(padding="same")),
    ]:
        b = _rand(rng, fwd(x[:1], k, None, **geo).shape[-1])
        out = fwd(x, k, b, activation="relu", **geo)
        dk, db, dx = np.zeros_like(k), np.zeros_like(b), np.empty_like(x)
        bwd(_rand(rng, *out.shape), x, k, out, None, "relu", dkernel=dk, dbias=db, dinp=dx, **geo)
        res += [out, dk, db, dx]
    return res


def test_threads_bit_identical(threads):
    if not _core.openmp:
        pytest.skip("built without OpenMP")
    baeum.set_num_threads(1)
    one = _run_all(np.random.default_rng(5))
    baeum.set_num_threads(2)
    two = _run_all(np.random.default_rng(5))
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


# ---- errors ------------------------------------------------------------------------------------------
def test_clear_errors(rng):
    x = _rand(rng, 2, 5, 5, 3)
    with pytest.raises(ValueError, match="padding='same'"):
        ops.conv2d_forward(x, _rand(rng, 7, 7, 3, 2), None)
    with pytest.raises(ValueError, match="Keras layout"):
        ops.conv2d_forward(x, _rand(rng, 3, 3, 4, 2), None)
    with pytest.raises(ValueError, match="groups"):
        ops.conv2d_forward(x, _rand(rng, 3, 3, 1, 2), None, groups=3)
    with pytest.raises(ValueError, match="strides"):
        ops.conv2d_forward(x, _rand(rng, 3, 3, 3, 2), None, strides=0)
    with pytest.raises(ValueError, match="output_padding"):
        ops.conv2d_transpose_forward(x, _rand(rng, 3, 3, 2, 3), None, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="dout"):
        ops.conv2d_backward(_rand(rng, 2, 4, 4, 2), x, _rand(rng, 3, 3, 3, 2), None, None,
                            dkernel=np.zeros((3, 3, 3, 2), np.float32), dbias=None)


def test_bindings_refuse_inconsistent_buffers(rng):
    x = _rand(rng, 2, 5, 5, 3)
    k = _rand(rng, 3, 3, 3, 2)
    with pytest.raises(ValueError):  # out too small for N
        _core.conv2d_forward(x, k, None, np.empty((1, 3, 3, 2), np.float32), None, 1, 1, 1, 1, 0, 0, 1, 0, 0.0)
    with pytest.raises(ValueError):  # kernel channels do not match
        _core.conv2d_forward(x, _rand(rng, 3, 3, 2, 2), None, np.empty((2, 3, 3, 2), np.float32), None,
                             1, 1, 1, 1, 0, 0, 1, 0, 0.0)
    with pytest.raises(ValueError):  # bias length
        _core.conv2d_forward(x, k, _rand(rng, 3), np.empty((2, 3, 3, 2), np.float32), None,
                             1, 1, 1, 1, 0, 0, 1, 0, 0.0)
    with pytest.raises(ValueError):  # negative padding
        _core.conv2d_forward(x, k, None, np.empty((2, 3, 3, 2), np.float32), None, 1, 1, 1, 1, -1, 0, 1, 0, 0.0)
    with pytest.raises(ValueError):  # out aliases the input
        _core.depthwise_conv2d_forward(x, _rand(rng, 3, 3, 3, 1), None, x, None, 1, 1, 1, 1, 1, 1, 1, 0, 0.0)
    with pytest.raises(ValueError):
        _core.im2col(x, np.empty((5, 27), np.float32), 3, 3, 1, 1, 1, 1, 0, 0, 3, 3)
    # Padding or output sizes larger than the geometry implies stay in bounds (zeros read).
    y = np.empty((2, 9, 9, 2), np.float32)
    _core.conv2d_forward(x, k, None, y, None, 1, 1, 1, 1, 3, 3, 1, 0, 0.0)
    assert np.isfinite(y).all()


# ---- _core called directly with hostile geometry (found by fuzzing the bindings) ----------
def _z(*shape):
    return np.zeros(shape, np.float32)


@pytest.mark.parametrize("sw", [2**62, 2**63 - 1])
def test_core_conv_transpose_backward_rejects_overflowing_stride(sw):
    # ow·SW overflowed int64 and wrapped into a "valid" run start: im2col read far outside inp.
    with pytest.raises(ValueError, match="conv2d_transpose: .*too large"):
        _core.conv2d_transpose_backward(_z(1, 4, 4, 2), _z(1, 2, 2, 3), _z(3, 3, 2, 3), None, None,
                                        _z(3, 3, 2, 3), None, None, 1, sw, 1, 1, 0, 0, 1, 0, 0.0)


@pytest.mark.parametrize("fn", ["conv2d_forward", "depthwise_conv2d_forward"])
@pytest.mark.parametrize("geo", [(2**62, 1, 1, 1, 0, 0), (1, 1, 2**62, 1, 0, 0), (1, 1, 1, 1, 2**63 - 1, 0)])
def test_core_conv_forward_rejects_overflowing_geometry(fn, geo):
    with pytest.raises(ValueError, match="too large"):
        getattr(_core, fn)(_z(1, 4, 4, 2), _z(3, 3, 2, 2), None, _z(1, 2, 2, 2 if fn[0] == "c" else 4),
                           None, *geo, 1, 0, 0.0)


@pytest.mark.parametrize("fn", ["im2col", "col2im"])
@pytest.mark.parametrize("kh, kw, oh, ow, col_shape", [
    (3, 3, 2**32, 2**32, (0, 9)),   # N·OH·OW wrapped to 0 rows: the col check passed
    (2**32, 2**32, 4, 4, (16, 0)),  # KH·KW·C wrapped to 0 columns
])
def test_core_im2col_rejects_sizes_overflowing_int64(fn, kh, kw, oh, ow, col_shape):
    img, col = _z(1, 4, 4, 1), _z(*col_shape)
    args = (img, col) if fn == "im2col" else (col, img)
    with pytest.raises(ValueError, match=f"{fn}: .*overflows int64"):
        getattr(_core, fn)(*args, kh, kw, 1, 1, 1, 1, 0, 0, oh, ow)
