"""The direct AVX2 convolution kernels' special cases (csrc/baeum/conv_avx2.cpp) vs the NumPy
twin: flat tap loop for C < 8 (forward), balanced pixel tiles (forward, data gradient: tiles
of every size 1..PM), balanced weight-gradient passes (taps across cells when C is small,
channel runs of a cell otherwise), row-by-row pixel walks (OW = 1, odd OW), with and without
bias, linear and relu; 1 and 2 threads bit-identical. On the generic ISA the same cases run
the im2col/GEMM path, so both are checked against the reference."""
import numpy as np
import pytest

import baeum
from baeum import _core, ops
from baeum import reference as ref

TOL = dict(rtol=2e-4, atol=2e-4)

# (N, H, W, C, OC, KH, KW, strides, dilation, padding) — comment: the kernel branches it hits
# (V = OC/8 per 32-filter chunk, PM = pixels per forward tile, TA/TM = taps per weight pass).
CASES = [
    (2, 28, 28, 1, 16, 3, 3, (2, 2), (1, 1), "same"),    # deck conv1: flat fwd, 196 px = tiles of 6 and 5; wgt 9 taps = 5 + 4
    (3, 14, 14, 16, 8, 3, 3, (2, 2), (1, 1), "same"),    # deck conv2: 49 px = 7 × 7 (V = 1); wgt 8 + 8 channels; data tiles 6/5
    (2, 9, 11, 1, 8, 3, 3, (1, 1), (2, 2), "valid"),     # C = 1, dilation, V = 1: one 9-tap pass; 35 px = 5 × 7
    (2, 10, 13, 5, 8, 3, 3, (1, 2), (1, 1), "same"),     # C = 5: flat fwd; wgt Kg = 45 = 12 + 11 + 11 + 11
    (2, 7, 9, 7, 16, 3, 3, (2, 1), (1, 1), "valid"),     # C = 7: flat fwd; wgt channel runs 4 + 3 (V = 2)
    (1, 11, 1, 20, 8, 3, 1, (1, 1), (1, 1), "same"),     # W = 1: OW = 1 row walk; wgt runs 7 + 7 + 6
    (2, 5, 13, 24, 24, 2, 3, (1, 3), (1, 1), ((1, 0), (2, 1))),  # V = 3, explicit padding, data VC = 3
    (1, 3, 3, 8, 16, 3, 3, (1, 1), (1, 1), "valid"),     # one output pixel: tiles of 1
    (2, 6, 6, 1, 32, 5, 5, (1, 1), (1, 1), "same"),      # C = 1, V = 4: 25 taps in 9 passes of 3/2
    (2, 12, 7, 16, 16, 3, 3, (2, 2), (1, 1), "valid"),   # OW = 3, OHW = 15: V = 2 tiles 5 × 3; data VC = 2
    # OC = 8, C % 8 == 0: the transposed weight pass (taps as the vector), groups of 3/2/1 vectors
    (2, 8, 9, 8, 8, 3, 3, (1, 1), (1, 1), "same"),       # 9 tap vectors = 3 + 3 + 3
    (1, 7, 6, 24, 8, 2, 3, (1, 2), (1, 1), "valid"),     # 18 vectors spanning cells (3 per cell)
    (2, 6, 5, 8, 8, 1, 2, (1, 1), (1, 1), "same"),       # 2 vectors: one pass of 2
    (2, 6, 5, 8, 8, 1, 1, (2, 2), (1, 1), "valid"),      # 1 vector (1×1, stride 2)
    (1, 5, 5, 32, 8, 2, 2, (1, 1), (2, 2), "same"),      # 16 vectors = 3+3+3+3+2+2, dilation
    # 8 filters, 3 wide, stride 2 in width: the forward by output rows (fwd_row3), OW = 8..1
    (2, 9, 16, 8, 8, 3, 3, (2, 2), (1, 1), "same"),      # C = 8, OW = 8
    (1, 6, 5, 24, 8, 2, 3, (1, 2), (1, 1), "valid"),     # C = 24, KH = 2, stride 1 in height, OW = 2
    (2, 7, 3, 32, 8, 5, 3, (2, 2), (1, 1), "same"),      # C = 32, KH = 5, OW = 2
    (1, 5, 3, 16, 8, 3, 3, (1, 2), (1, 1), "valid"),     # OW = 1
]


def _problem(rng, case, bias=True):
    n, h, w, c, oc, kh, kw, s, d, pad = case
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    k = (rng.standard_normal((kh, kw, c, oc)) / np.sqrt(kh * kw * c)).astype(np.float32)
    b = rng.standard_normal(oc).astype(np.float32) if bias else None
    return x, k, b, dict(strides=s, padding=pad, dilation_rate=d)


def _run(mod, x, k, b, geo, act):
    """(out, dkernel, dbias, dkernel and dbias when dinp is also wanted, dinp) of one
    implementation with a fixed dout. Without dinp every C takes the direct weight gradient
    (a first layer); with dinp only C % 8 == 0 does (else the GEMM path)."""
    out = mod.conv2d_forward(x, k, b, activation=act, **geo)
    dout = np.random.default_rng(7).standard_normal(out.shape).astype(np.float32)
    grads = []
    for want_dx in (False, True):
        dk = np.zeros(k.shape, np.float32)
        db = None if b is None else np.zeros(b.shape, np.float32)
        dx = np.full(x.shape, np.nan, np.float32) if want_dx else None  # must be overwritten everywhere
        mod.conv2d_backward(dout, x, k, out, None, act, dkernel=dk, dbias=db, dinp=dx, **geo)
        grads += [dk, db]
    return (out, *grads, dx)


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("act", ["linear", "relu"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_direct_tiles_vs_reference(case, act, bias, rng, isa):
    x, k, b, geo = _problem(rng, case, bias)
    fast = _run(ops, x, k, b, geo, act)
    slow = _run(ref, x, k, b, geo, act)
    for a, e, name in zip(fast, slow, ["out", "dkernel", "dbias", "dkernel+dx", "dbias+dx", "dinp"]):
        if e is None:
            assert a is None
            continue
        assert np.all(np.isfinite(a)), name
        np.testing.assert_allclose(a, e, err_msg=name, **TOL)


def test_direct_accumulates_into_gradients(rng):
    # Backward adds into dkernel/dbias (the pass structure must not overwrite a partial).
    x, k, b, geo = _problem(rng, CASES[0])
    out, dk1, db1 = _run(ops, x, k, b, geo, "relu")[:3]
    dout = np.random.default_rng(7).standard_normal(out.shape).astype(np.float32)
    dk = np.full(k.shape, 0.5, np.float32)
    db = np.full(b.shape, -0.25, np.float32)
    ops.conv2d_backward(dout, x, k, out, None, "relu", dkernel=dk, dbias=db, **geo)
    np.testing.assert_allclose(dk, dk1 + 0.5, **TOL)
    np.testing.assert_allclose(db, db1 - 0.25, **TOL)


@pytest.mark.parametrize("case", [CASES[0], CASES[1], CASES[3], CASES[8]], ids=str)
def test_direct_tiles_threads_bit_identical(case, threads):
    if not _core.openmp:
        pytest.skip("built without OpenMP")
    res = []
    for nt in (1, 2):
        baeum.set_num_threads(nt)
        x, k, b, geo = _problem(np.random.default_rng(5), (9,) + case[1:])  # N = 9 > 8 partials
        res.append(_run(ops, x, k, b, geo, "relu"))
    for a, e in zip(*res):
        np.testing.assert_array_equal(a, e)
