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
