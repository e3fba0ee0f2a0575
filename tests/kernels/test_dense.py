"""baeum.ops.dense_forward / dense_backward vs baeum.reference (fused GEMM + bias + act)."""
import numpy as np
import pytest

import baeum
from baeum import ops
from baeum import reference as ref

ACTS = ["linear", "relu", "sigmoid", "tanh", "softmax", "gelu", "elu", "swish"]
SHAPES = [(0, 5, 3), (1, 1, 1), (1, 7, 3), (10, 13, 11), (37, 64, 17), (5, 0, 4), (130, 97, 75)]


def _problem(rng, n, d, u, bias=True):
    inp = rng.standard_normal((n, d)).astype(np.float32)
    kernel = (rng.standard_normal((d, u)) / np.sqrt(max(d, 1))).astype(np.float32)
    b = rng.standard_normal(u).astype(np.float32) if bias else None
    return inp, kernel, b


def _tol(d):
    return dict(rtol=2e-4, atol=2e-5 * max(1.0, np.sqrt(d)))


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("nd_u", SHAPES)
@pytest.mark.parametrize("bias", [True, False])
def test_dense_forward_backward(act, nd_u, bias, rng, isa):
    n, d, u = nd_u
    inp, kernel, b = _problem(rng, n, d, u, bias)
    preact = np.empty((n, u), np.float32)
    out = ops.dense_forward(inp, kernel, b, act, preact=preact)
    z_ref = np.empty((n, u), np.float64)
    out_ref = ref.dense_forward(inp, kernel, b, act, preact=z_ref)
    np.testing.assert_allclose(out, out_ref, **_tol(d))
    np.testing.assert_allclose(preact, z_ref, **_tol(d))

    dout = rng.standard_normal((n, u)).astype(np.float32)
    dk = np.zeros((d, u), np.float32)
    db = np.zeros(u, np.float32) if bias else None
    dx = np.empty((n, d), np.float32)
    r = ops.dense_backward(dout, inp, kernel, out, preact, act, dkernel=dk, dbias=db, dinp=dx)
    assert r is dx
    dk_ref = np.zeros((d, u))
    db_ref = np.zeros(u) if bias else None
    dx_ref = np.empty((n, d))
    ref.dense_backward(dout, inp, kernel, out, preact, act, dkernel=dk_ref, dbias=db_ref,
                       dinp=dx_ref)
    tol = dict(rtol=5e-4, atol=1e-4 * max(1.0, np.sqrt(n)))
    np.testing.assert_allclose(dk, dk_ref, **tol)
    np.testing.assert_allclose(dx, dx_ref, rtol=5e-4, atol=1e-4 * max(1.0, np.sqrt(u)))
    if bias:
        np.testing.assert_allclose(db, db_ref, **tol)


def test_dense_backward_accumulates_and_dinp_optional(rng):
    inp, kernel, b = _problem(rng, 9, 6, 4)
    out = ops.dense_forward(inp, kernel, b, "tanh")
    dout = rng.standard_normal((9, 4)).astype(np.float32)
    dk = np.zeros((6, 4), np.float32)
    db = np.zeros(4, np.float32)
    assert ops.dense_backward(dout, inp, kernel, out, None, "tanh", dkernel=dk, dbias=db) is None
    once_k, once_b = dk.copy(), db.copy()
    assert np.abs(once_k).sum() > 0 and np.abs(once_b).sum() > 0
    ops.dense_backward(dout, inp, kernel, out, None, "tanh", dkernel=dk, dbias=db)
    np.testing.assert_allclose(dk, 2 * once_k, rtol=1e-6)
    np.testing.assert_allclose(db, 2 * once_b, rtol=1e-6)


def test_dense_empty_batch_leaves_grads(rng):
    inp, kernel, b = _problem(rng, 0, 5, 3)
    out = ops.dense_forward(inp, kernel, b, "relu")
    assert out.shape == (0, 3)
    dk = np.ones((5, 3), np.float32)
    db = np.ones(3, np.float32)
    ops.dense_backward(np.zeros((0, 3), np.float32), inp, kernel, out, None, "relu",
                       dkernel=dk, dbias=db, dinp=np.empty((0, 5), np.float32))
    assert (dk == 1).all() and (db == 1).all()


def test_dense_alpha_and_noncontiguous(rng):
    inp64 = rng.standard_normal((8, 20))
    inp = inp64[:, ::2]
    kernel = rng.standard_normal((10, 6))
    b = rng.standard_normal(6)
    for act, alpha in (("leaky_relu", 0.3), ("elu", 0.5)):
        got = ops.dense_forward(inp, kernel, b, act, alpha=alpha)
        want = ref.dense_forward(inp, kernel, b, act, alpha=alpha)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_dense_thread_count_independent(rng, threads):
    inp, kernel, b = _problem(rng, 200, 150, 130)
    dout = rng.standard_normal((200, 130)).astype(np.float32)
    res = []
    for t in (1, 2):
        baeum.set_num_threads(t)
        z = np.empty((200, 130), np.float32)
        out = ops.dense_forward(inp, kernel, b, "gelu", preact=z)
        dk = np.zeros((150, 130), np.float32)
        db = np.zeros(130, np.float32)
        dx = np.empty((200, 150), np.float32)
        ops.dense_backward(dout, inp, kernel, out, z, "gelu", dkernel=dk, dbias=db, dinp=dx)
        res.append((out, dk, db, dx))
    for a, c in zip(*res):
        np.testing.assert_array_equal(a, c)


def test_dense_errors(rng):
    inp, kernel, b = _problem(rng, 4, 3, 2)
    with pytest.raises(ValueError, match=r"kernel must be \(input_dim, units\)"):
        ops.dense_forward(inp, kernel.T, b)
    with pytest.raises(ValueError, match=r"bias has shape \(3,\), expected \(2,\)"):
        ops.dense_forward(inp, kernel, np.zeros(3))
    with pytest.raises(ValueError, match="must be 2-D"):
        ops.dense_forward(inp[None], kernel, b)
    with pytest.raises(ValueError, match="Valid names"):
        ops.dense_forward(inp, kernel, b, "rellu")
    out = ops.dense_forward(inp, kernel, b, "gelu")
    dout = np.ones((4, 2), np.float32)
    with pytest.raises(ValueError, match="needs preact"):
        ops.dense_backward(dout, inp, kernel, out, None, "gelu",
                           dkernel=np.zeros((3, 2), np.float32), dbias=None)
    with pytest.raises(ValueError, match=r"dkernel has shape \(2, 3\)"):
        ops.dense_backward(dout, inp, kernel, out, out, "relu",
                           dkernel=np.zeros((2, 3), np.float32), dbias=None)
    with pytest.raises(TypeError, match="dbias must be float32"):
        ops.dense_backward(dout, inp, kernel, out, out, "relu",
                           dkernel=np.zeros((3, 2), np.float32), dbias=np.zeros(2))
    with pytest.raises(ValueError, match=r"preact has shape"):
        ops.dense_forward(inp, kernel, b, preact=np.empty((2, 2), np.float32))


@pytest.mark.parametrize("act", ["relu", "softmax", "tanh", "linear"])
def test_dense_forward_post_pass_matches_tile_epilogue(act, rng, isa):
    """Small outputs (N·U ≤ 2¹⁵) get bias/preact/activation in one pass after the GEMM, large
    ones in the GEMM's tile epilogue: the first rows of a large output equal a small call's."""
    n_big, d, u = 300, 23, 120  # 36000 outputs: tile epilogue
    inp, kernel, b = _problem(rng, n_big, d, u)
    z_big = np.empty((n_big, u), np.float32)
    big = ops.dense_forward(inp, kernel, b, act, preact=z_big)
    for n in (1, 7, 10):  # post pass
        z = np.empty((n, u), np.float32)
        small = ops.dense_forward(inp[:n].copy(), kernel, b, act, preact=z)
        np.testing.assert_array_equal(small, big[:n])
        np.testing.assert_array_equal(z, z_big[:n])
    np.testing.assert_allclose(big, ref.dense_forward(inp, kernel, b, act), **_tol(d))


def _run(inp, kernel, b, act, dout):
    n, u = inp.shape[0], kernel.shape[1]
    z = np.empty((n, u), np.float32)
    out = ops.dense_forward(inp, kernel, b, act, preact=z)
    dk = np.zeros(kernel.shape, np.float32)
    db = np.zeros(u, np.float32)
    dx = np.empty(inp.shape, np.float32)
    ops.dense_backward(dout, inp, kernel, out, z, act, dkernel=dk, dbias=db, dinp=dx)
    return out, z, dk, db, dx


@pytest.mark.parametrize("act", ["relu", "softmax", "sigmoid", "linear"])
def test_dense_narrow_widths_against_reference_and_threads(act, rng, isa, threads):
    """Every width 1..40 (one and several register tiles, in-place A, softmax on short rows)
    with K = 1, odd, 30 and empty/odd/256 batches: reference and 1 vs 2 threads bit for bit."""
    cases = [(n, d, u) for u in range(1, 41) for n, d in ((1, 1), (7, 30), (13, 3))]
    cases += [(256, d, u) for d, u in ((392, 30), (30, 20), (20, 10), (1, 33), (5, 1))]
    cases += [(0, 4, 10), (10, 11, 6), (10, 6, 1), (32, 30, 128), (10, 128, 64)]
    for n, d, u in cases:
        inp, kernel, b = _problem(rng, n, d, u)
        dout = rng.standard_normal((n, u)).astype(np.float32)
        got = []
        for t in (1, 2):
            baeum.set_num_threads(t)
            got.append(_run(inp, kernel, b, act, dout))
        for x1, x2 in zip(*got):
            np.testing.assert_array_equal(x1, x2)
        out, z, dk, db, dx = got[0]
        z_ref = np.empty((n, u))
        np.testing.assert_allclose(out, ref.dense_forward(inp, kernel, b, act, preact=z_ref),
                                   **_tol(d), err_msg=f"{(n, d, u)}")
        np.testing.assert_allclose(z, z_ref, **_tol(d))
        dk_ref, db_ref, dx_ref = np.zeros((d, u)), np.zeros(u), np.empty((n, d))
        ref.dense_backward(dout, inp, kernel, out, z, act, dkernel=dk_ref, dbias=db_ref,
                           dinp=dx_ref)
        tol = dict(rtol=5e-4, atol=1e-4 * max(1.0, np.sqrt(n)))
        np.testing.assert_allclose(dk, dk_ref, **tol, err_msg=f"{(n, d, u)}")
        np.testing.assert_allclose(db, db_ref, **tol)
        np.testing.assert_allclose(dx, dx_ref, rtol=5e-4, atol=1e-4 * max(1.0, np.sqrt(u)))


def test_dense_softmax_short_rows_extremes(rng):
    """Short-row softmax: huge logits stay finite and sum to 1, a NaN poisons only its row."""
    for u in (1, 2, 10, 32, 33):
        inp = rng.standard_normal((5, 3)).astype(np.float32) * 1e3
        kernel = rng.standard_normal((3, u)).astype(np.float32)
        out = ops.dense_forward(inp, kernel, None, "softmax")
        assert np.isfinite(out).all()
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(out, ref.dense_forward(inp, kernel, None, "softmax"),
                                   rtol=1e-4, atol=1e-6)
        inp[2, 0] = np.nan
        out = ops.dense_forward(inp, kernel, None, "softmax")
        assert np.isnan(out[2]).all() and np.isfinite(np.delete(out, 2, axis=0)).all()


@pytest.mark.parametrize("act", ["relu", "linear", "sigmoid", "tanh", "softmax", "gelu"])
@pytest.mark.parametrize("bias", [True, False])
def test_dense_equals_its_unfused_steps_bit_for_bit(act, bias, rng, isa):
    """dense_forward/backward (fused one-sweep paths for small outputs, tile epilogue for large)
    give the same bits as the separate kernels: gemm, bias_add, activation, bias_grad."""
    from baeum import _core

    a = _core.activation_ids()[act]
    for n, d, u in [(256, 392, 30), (256, 30, 20), (7, 5, 3), (10, 32, 1), (300, 23, 120)]:
        if act == "softmax" and u <= 32:
            continue  # short-row softmax sums in its own fixed order (tested against reference)
        inp, kernel, b = _problem(rng, n, d, u, bias)
        pre = np.empty((n, u), np.float32)
        out = ops.dense_forward(inp, kernel, b, act, preact=pre)
        z = np.empty((n, u), np.float32)
        _core.gemm(inp, kernel, z, False, False, 1.0, 0.0)
        if bias:
            _core.bias_add(z, b, z)
        y = np.empty_like(z)
        _core.activation_forward(z, y, a, 0.0)
        np.testing.assert_array_equal(pre, z)
        np.testing.assert_array_equal(out, y)

        dout = rng.standard_normal((n, u)).astype(np.float32)
        dk0 = rng.standard_normal((d, u)).astype(np.float32)
        db0 = rng.standard_normal(u).astype(np.float32)
        dk, db, dx = dk0.copy(), db0.copy() if bias else None, np.empty((n, d), np.float32)
        ops.dense_backward(dout, inp, kernel, out, pre, act, dkernel=dk, dbias=db, dinp=dx)
        dz = np.empty_like(dout)
        _core.activation_backward(dout, pre, out, dz, a, 0.0)
        dk_want, db_want, dx_want = dk0.copy(), db0.copy(), np.empty((n, d), np.float32)
        _core.gemm(inp, dz, dk_want, True, False, 1.0, 1.0)
        _core.bias_grad(dz, db_want)
        _core.gemm(dz, kernel, dx_want, False, True, 1.0, 0.0)
        np.testing.assert_array_equal(dk, dk_want)
        np.testing.assert_array_equal(dx, dx_want)
        if bias:
            np.testing.assert_array_equal(db, db_want)


def test_dense_relu_fused_paths_keep_nan(rng):
    """The one-sweep ReLU (small outputs) lets NaN through like the activation kernel, and its
    backward treats y = NaN as inactive (y > 0 is false)."""
    for n in (4, 400):  # one-sweep post pass, tile epilogue
        inp, kernel, b = _problem(rng, n, 6, 90)
        inp[1, 2] = np.nan
        out = ops.dense_forward(inp, kernel, b, "relu")
        assert np.isnan(out[1]).all() and not np.isnan(np.delete(out, 1, axis=0)).any()
        dk, db = np.zeros((6, 90), np.float32), np.zeros(90, np.float32)
        dx = np.empty((n, 6), np.float32)
        ops.dense_backward(np.ones((n, 90), np.float32), inp, kernel, out, None, "relu",
                           dkernel=dk, dbias=db, dinp=dx)
        assert (dx[1] == 0).all()
        np.testing.assert_array_equal(db, (np.delete(out, 1, axis=0) > 0).sum(axis=0))
