"""baeum.ops batch / layer normalization vs baeum.reference.norm (Keras formulas)."""
import numpy as np
import pytest

import baeum
from baeum import ops
from baeum import reference as ref

BN_SHAPES = [((4, 3), -1), ((2, 5, 7, 3), -1), ((1, 1), -1), ((3, 4, 4, 1), -1), ((0, 6), -1),
             ((5, 13, 11, 17), -1), ((2, 3, 5, 4), 1), ((6, 4, 2), 0), ((2, 1000, 3), -1)]


def _bn_state(rng, c):
    return (rng.uniform(0.5, 1.5, c).astype(np.float32), rng.uniform(-0.5, 0.5, c).astype(np.float32),
            rng.standard_normal(c).astype(np.float32), rng.uniform(0.5, 2.0, c).astype(np.float32))


@pytest.mark.parametrize("shape,axis", BN_SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm(shape, axis, training, affine, rng):
    x = (rng.standard_normal(shape) * 2 + 3).astype(np.float32)  # |μ| > σ: tests the shifted sums
    c = shape[axis]
    g, b, mm, mv = _bn_state(rng, c)
    if not affine:
        g = b = None
    mm2, mv2 = mm.copy(), mv.copy()
    y, sm, si = ops.batch_norm_forward(x, g, b, mm, mv, axis=axis, training=training)
    yr, smr, sir = ref.batch_norm_forward(x, g, b, mm2, mv2, axis=axis, training=training)
    np.testing.assert_allclose(y, yr, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mm, mm2, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(mv, mv2, rtol=1e-6, atol=1e-6)
    if x.size:
        np.testing.assert_allclose(sm, smr, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(si, sir, rtol=1e-5)

    dy = rng.standard_normal(shape).astype(np.float32)
    dg, db = np.full(c, 0.5, np.float32), np.full(c, -0.25, np.float32)  # accumulate, not overwrite
    dx = np.empty(shape, np.float32)
    r = ops.batch_norm_backward(dy, x, sm, si, g, axis=axis, training=training, dgamma=dg, dbeta=db, dinp=dx)
    assert r is dx
    dgr, dbr, dxr = np.full(c, 0.5), np.full(c, -0.25), np.empty(shape)
    ref.batch_norm_backward(dy, x, smr, sir, g, axis=axis, training=training, dgamma=dgr, dbeta=dbr, dinp=dxr)
    m = max(x.size // max(c, 1), 1)
    np.testing.assert_allclose(dx, dxr, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(dg, dgr, rtol=1e-4, atol=1e-4 * np.sqrt(m))
    np.testing.assert_allclose(db, dbr, rtol=1e-4, atol=1e-4 * np.sqrt(m))


def test_batch_norm_keras_numbers():
    # Keras: biased batch variance both for normalising and for the moving variance.
    x = np.array([[1.0], [2.0], [3.0], [6.0]], np.float32)  # μ 3, σ² 3.5 (unbiased would be 4.667)
    mm, mv = np.zeros(1, np.float32), np.ones(1, np.float32)
    y, _, _ = ops.batch_norm_forward(x, np.ones(1, np.float32), np.zeros(1, np.float32), mm, mv, training=True)
    np.testing.assert_allclose(y[:, 0], (x[:, 0] - 3) / np.sqrt(3.5 + 1e-3), rtol=1e-6)
    np.testing.assert_allclose(mm, [0.99 * 0 + 0.01 * 3], rtol=1e-6)
    np.testing.assert_allclose(mv, [0.99 * 1 + 0.01 * 3.5], rtol=1e-6)
    # inference uses the moving statistics and leaves them alone
    y, _, _ = ops.batch_norm_forward(x, None, None, mm, mv, training=False)
    np.testing.assert_allclose(y[:, 0], (x[:, 0] - 0.03) / np.sqrt(1.025 + 1e-3), rtol=1e-6)
    np.testing.assert_allclose(mm, [0.03], rtol=1e-6)


def test_batch_norm_empty_training_batch_keeps_moving_stats():
    mm, mv = np.ones(3, np.float32), np.full(3, 2.0, np.float32)
    y, sm, si = ops.batch_norm_forward(np.zeros((0, 3), np.float32), None, None, mm, mv, training=True)
    assert y.shape == (0, 3)
    np.testing.assert_array_equal(mm, 1.0)
    np.testing.assert_array_equal(mv, 2.0)


LN_SHAPES = [((4, 7), -1), ((2, 5, 3), -1), ((1, 1), -1), ((3, 300), -1), ((0, 5), -1),
             ((2, 3, 4, 5), (2, 3)), ((2, 3, 4), 1), ((2, 3, 4, 5), (1, 3))]


@pytest.mark.parametrize("shape,axis", LN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(shape, axis, affine, rng):
    x = (rng.standard_normal(shape) + 1).astype(np.float32)
    axes = (axis,) if isinstance(axis, int) else axis
    gshape = tuple(shape[a] for a in sorted(a % len(shape) for a in axes))
    g = rng.uniform(0.5, 1.5, gshape).astype(np.float32) if affine else None
    b = rng.uniform(-0.5, 0.5, gshape).astype(np.float32) if affine else None
    y, sm, si = ops.layer_norm_forward(x, g, b, axis=axis)
    yr, smr, sir = ref.layer_norm_forward(x, g, b, axis=axis)
    np.testing.assert_allclose(y, yr, rtol=1e-4, atol=1e-5)
    assert sm.shape == smr.shape and si.shape == sir.shape
    np.testing.assert_allclose(sm, smr, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(si, sir, rtol=1e-5)
    dy = rng.standard_normal(shape).astype(np.float32)
    dg, db = np.ones(gshape, np.float32), np.ones(gshape, np.float32)
    dx = np.empty(shape, np.float32)
    ops.layer_norm_backward(dy, x, sm, si, g, axis=axis, dgamma=dg, dbeta=db, dinp=dx)
    dgr, dbr, dxr = np.ones(gshape), np.ones(gshape), np.empty(shape)
    ref.layer_norm_backward(dy, x, smr, sir, g, axis=axis, dgamma=dgr, dbeta=dbr, dinp=dxr)
    np.testing.assert_allclose(dx, dxr, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(dg, dgr, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, dbr, rtol=1e-4, atol=1e-4)


def test_threads_bit_identical(threads, rng):
    x = rng.standard_normal((16, 17, 19, 24)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    g, b, mm0, mv0 = _bn_state(rng, 24)
    xl = rng.standard_normal((300, 200)).astype(np.float32)
    dyl = rng.standard_normal(xl.shape).astype(np.float32)
    gl = rng.uniform(0.5, 1.5, 200).astype(np.float32)
    results = []
    for nt in (1, 2):
        baeum.set_num_threads(nt)
        mm, mv = mm0.copy(), mv0.copy()
        y, sm, si = ops.batch_norm_forward(x, g, b, mm, mv, training=True)
        dg, db, dx = np.zeros(24, np.float32), np.zeros(24, np.float32), np.empty_like(x)
        ops.batch_norm_backward(dy, x, sm, si, g, training=True, dgamma=dg, dbeta=db, dinp=dx)
        yl, lm, li = ops.layer_norm_forward(xl, gl, gl)
        dgl, dbl, dxl = np.zeros(200, np.float32), np.zeros(200, np.float32), np.empty_like(xl)
        ops.layer_norm_backward(dyl, xl, lm, li, gl, dgamma=dgl, dbeta=dbl, dinp=dxl)
        results.append((y, sm, si, mm, mv, dg, db, dx, yl, lm, li, dgl, dbl, dxl))
    for r1, r2 in zip(*results):
        np.testing.assert_array_equal(r1, r2)


def test_errors(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    mm, mv = np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ValueError, match="gamma has shape"):
        ops.batch_norm_forward(x, np.ones(4), None, mm, mv)
    with pytest.raises(ValueError, match="updated in place"):
        ops.batch_norm_forward(x, None, None, np.zeros(3), mv)  # float64 state would be copied
    with pytest.raises(ValueError, match="out of range"):
        ops.batch_norm_forward(x, None, None, mm, mv, axis=2)
    with pytest.raises(ValueError, match="dout has shape"):
        ops.layer_norm_backward(x[:2], x, np.zeros(4), np.ones(4), None, dinp=np.empty_like(x))
