"""Reference pooling / normalization backward vs central finite differences (float64)."""
import numpy as np
import pytest

from baeum import reference as ref

from test_activations_grad import f64, numeric_grad


def _spaced(rng, shape):
    """Distinct values 0.1 apart (shuffled): finite differences never cross a max tie."""
    n = int(np.prod(shape))
    return (rng.permutation(n) - n / 2).reshape(shape) * 0.1


@pytest.mark.parametrize("k,s,pad", [((2, 2), None, "valid"), ((3, 2), (2, 1), "same"), ((3, 3), (1, 1), "same"),
                                     ((4, 5), None, "valid")])
def test_pool2d_backward_vs_fd(k, s, pad, rng):
    x = _spaced(rng, (2, 4, 5, 3))
    y, a = ref.max_pool2d_forward(x, k, s, pad, out=np.empty(ref.max_pool2d_forward(x, k, s, pad)[0].shape))
    w = rng.standard_normal(y.shape)

    def loss_max(v):
        return float((ref.max_pool2d_forward(v, k, s, pad, out=np.empty(y.shape))[0] * w).sum())

    dx = f64(lambda o: ref.max_pool2d_backward(w, a, x.shape, dinp=o), x.shape)
    np.testing.assert_allclose(dx, numeric_grad(loss_max, x), rtol=1e-6, atol=1e-8)

    def loss_avg(v):
        return float((f64(lambda o: ref.avg_pool2d_forward(v, k, s, pad, out=o), y.shape) * w).sum())

    dx = f64(lambda o: ref.avg_pool2d_backward(w, x.shape, k, s, pad, dinp=o), x.shape)
    np.testing.assert_allclose(dx, numeric_grad(loss_avg, x), rtol=1e-6, atol=1e-8)


def test_pool1d_and_global_backward_vs_fd(rng):
    x = _spaced(rng, (2, 7, 3))
    y, a = ref.max_pool1d_forward(x, 3, 2, "same")
    w = rng.standard_normal(y.shape)
    dx = f64(lambda o: ref.max_pool1d_backward(w, a, x.shape, dinp=o), x.shape)
    np.testing.assert_allclose(dx, numeric_grad(
        lambda v: float((ref.max_pool1d_forward(v, 3, 2, "same", out=np.empty(y.shape))[0] * w).sum()), x),
        rtol=1e-6, atol=1e-8)
    dx = f64(lambda o: ref.avg_pool1d_backward(w, x.shape, 3, 2, "same", dinp=o), x.shape)
    np.testing.assert_allclose(dx, numeric_grad(
        lambda v: float((f64(lambda o: ref.avg_pool1d_forward(v, 3, 2, "same", out=o), y.shape) * w).sum()), x),
        rtol=1e-6, atol=1e-8)
    x4 = _spaced(rng, (2, 3, 4, 2))
    w = rng.standard_normal((2, 2))
    _, a = ref.global_max_pool_forward(x4)
    dx = f64(lambda o: ref.global_max_pool_backward(w, a, x4.shape, dinp=o), x4.shape)
    np.testing.assert_allclose(dx, numeric_grad(
        lambda v: float((ref.global_max_pool_forward(v, out=np.empty((2, 2)))[0] * w).sum()), x4),
        rtol=1e-6, atol=1e-8)
    dx = f64(lambda o: ref.global_avg_pool_backward(w, x4.shape, dinp=o), x4.shape)
    np.testing.assert_allclose(dx, numeric_grad(
        lambda v: float((f64(lambda o: ref.global_avg_pool_forward(v, out=o), (2, 2)) * w).sum()), x4),
        rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape,axis", [((5, 3), -1), ((2, 3, 4, 2), -1), ((3, 4, 2), 1)])
def test_batch_norm_backward_vs_fd(training, shape, axis, rng):
    x = rng.standard_normal(shape) * 2 + 1
    c = shape[axis]
    g, b = rng.uniform(0.5, 1.5, c), rng.uniform(-0.5, 0.5, c)
    mm, mv = rng.standard_normal(c).astype(np.float32), rng.uniform(0.5, 2, c).astype(np.float32)
    w = rng.standard_normal(shape)

    def fwd(v, gg, bb):
        out = np.empty(shape)
        ref.batch_norm_forward(v, gg, bb, mm.copy(), mv.copy(), axis=axis, training=training, out=out)
        return float((out * w).sum())

    _, sm, si = ref.batch_norm_forward(x, g, b, mm.copy(), mv.copy(), axis=axis, training=training,
                                       out=np.empty(shape))
    if training:  # recompute the saved statistics in float64 (the reference returns float32)
        red = tuple(a for a in range(len(shape)) if a != axis % len(shape))
        sm, si = x.mean(axis=red), 1 / np.sqrt(x.var(axis=red) + 1e-3)
    dg, db, dx = np.zeros(c), np.zeros(c), np.empty(shape)
    ref.batch_norm_backward(w, x, sm, si, g, axis=axis, training=training, dgamma=dg, dbeta=db, dinp=dx)
    np.testing.assert_allclose(dx, numeric_grad(lambda v: fwd(v, g, b), x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dg, numeric_grad(lambda v: fwd(x, v, b), g), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(db, numeric_grad(lambda v: fwd(x, g, v), b), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape,axis", [((4, 6), -1), ((2, 3, 4), (1, 2)), ((2, 3, 4), 1)])
def test_layer_norm_backward_vs_fd(shape, axis, rng):
    x = rng.standard_normal(shape) + 0.5
    axes = (axis,) if isinstance(axis, int) else axis
    gshape = tuple(shape[a % len(shape)] for a in sorted(a % len(shape) for a in axes))
    g, b = rng.uniform(0.5, 1.5, gshape), rng.uniform(-0.5, 0.5, gshape)
    w = rng.standard_normal(shape)

    def fwd(v, gg, bb):
        out = np.empty(shape)
        ref.layer_norm_forward(v, gg, bb, axis=axis, out=out)
        return float((out * w).sum())

    red = tuple(sorted(a % len(shape) for a in axes))
    sm = x.mean(axis=red, keepdims=True)
    si = 1 / np.sqrt(x.var(axis=red, keepdims=True) + 1e-3)
    dg, db, dx = np.zeros(gshape), np.zeros(gshape), np.empty(shape)
    ref.layer_norm_backward(w, x, sm, si, g, axis=axis, dgamma=dg, dbeta=db, dinp=dx)
    np.testing.assert_allclose(dx, numeric_grad(lambda v: fwd(v, g, b), x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dg, numeric_grad(lambda v: fwd(x, v, b), g), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(db, numeric_grad(lambda v: fwd(x, g, v), b), rtol=1e-5, atol=1e-7)
