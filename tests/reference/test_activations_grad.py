"""Every reference activation backward vs central finite differences, in float64."""
import numpy as np
import pytest

from baeum import reference as ref

NAMES = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu", "gelu",
         "gelu_tanh", "silu", "softplus", "softsign", "hard_sigmoid", "exponential"]


def f64(fn, shape):
    """Call a reference function with a float64 out= buffer (keeps float64 precision)."""
    buf = np.empty(shape, np.float64)
    fn(buf)
    return buf


def numeric_grad(loss, x, h=1e-6):
    """∂loss/∂x by central differences, one element at a time."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (loss(xp) - loss(xm)) / (2 * h)
    return g


@pytest.mark.parametrize("name,alpha", [(n, None) for n in NAMES] +
                         [("leaky_relu", 0.7), ("elu", 0.7)])
def test_activation_backward_vs_fd(name, alpha, rng):
    x = rng.standard_normal((3, 5)) * 2.0
    x[0, 0], x[0, 1] = 2.5, -2.5  # inside hard_sigmoid's slope region and outside relu's kink
    w = rng.standard_normal(x.shape)

    def loss(v):
        return float((f64(lambda o: ref.activation_forward(v, name, alpha=alpha, out=o),
                          v.shape) * w).sum())

    y = f64(lambda o: ref.activation_forward(x, name, alpha=alpha, out=o), x.shape)
    analytic = f64(lambda o: ref.activation_backward(w, x, y, name, alpha=alpha, dinp=o),
                   x.shape)
    np.testing.assert_allclose(analytic, numeric_grad(loss, x), rtol=1e-6, atol=1e-7)
    if not ref.activation_needs_input(name):  # the y-only form the kernels use agrees
        y_only = f64(lambda o: ref.activation_backward(w, None, y, name, alpha=alpha, dinp=o),
                     x.shape)
        np.testing.assert_allclose(y_only, analytic, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(), dict(negative_slope=0.2), dict(max_value=1.5),
                                dict(threshold=0.4, negative_slope=0.1, max_value=2.0)])
def test_relu_layer_backward_vs_fd(kw, rng):
    x = rng.standard_normal((4, 6)) * 2.0
    w = rng.standard_normal(x.shape)

    def loss(v):
        return float((f64(lambda o: ref.relu_forward(v, out=o, **kw), v.shape) * w).sum())

    analytic = f64(lambda o: ref.relu_backward(w, x, dinp=o, **kw), x.shape)
    np.testing.assert_allclose(analytic, numeric_grad(loss, x), rtol=1e-6, atol=1e-7)


def test_prelu_backward_vs_fd(rng):
    x = rng.standard_normal((5, 3, 2))
    alpha = rng.uniform(-0.5, 0.5, (3, 2))
    w = rng.standard_normal(x.shape)

    def loss(v, a):
        return float((f64(lambda o: ref.prelu_forward(v, a, out=o), v.shape) * w).sum())

    dalpha = np.zeros_like(alpha)
    dx = f64(lambda o: ref.prelu_backward(w, x, alpha, dalpha=dalpha, dinp=o), x.shape)
    np.testing.assert_allclose(dx, numeric_grad(lambda v: loss(v, alpha), x), rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(dalpha, numeric_grad(lambda a: loss(x, a), alpha), rtol=1e-6,
                               atol=1e-7)


def test_rrelu_backward_vs_fd(rng):
    x = rng.standard_normal((4, 5))
    w = rng.standard_normal(x.shape)
    slopes = np.empty(x.shape, np.float32)
    ref.rrelu_forward(x, 0.1, 0.4, 11, training=True, slopes=slopes)

    def loss(v):  # slopes depend only on (seed, index), not on v
        return float((f64(lambda o: ref.rrelu_forward(v, 0.1, 0.4, 11, training=True, out=o),
                          v.shape) * w).sum())

    analytic = f64(lambda o: ref.rrelu_backward(w, x, slopes, dinp=o), x.shape)
    np.testing.assert_allclose(analytic, numeric_grad(loss, x), rtol=1e-6, atol=1e-7)
