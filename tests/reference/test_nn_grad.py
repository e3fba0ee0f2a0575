"""Reference Dense / dropout / softmax / bias backward vs central finite differences (float64)."""
import numpy as np
import pytest

from baeum import reference as ref

from test_activations_grad import f64, numeric_grad


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_backward_vs_fd(axis, rng):
    x = rng.standard_normal((3, 4, 2)) * 2
    w = rng.standard_normal(x.shape)

    def loss(v):
        return float((f64(lambda o: ref.softmax_forward(v, axis=axis, out=o), v.shape) * w).sum())

    y = f64(lambda o: ref.softmax_forward(x, axis=axis, out=o), x.shape)
    analytic = f64(lambda o: ref.softmax_backward(w, y, axis=axis, dinp=o), x.shape)
    np.testing.assert_allclose(analytic, numeric_grad(loss, x), rtol=1e-6, atol=1e-8)


def test_dropout_backward_vs_fd(rng):
    x = rng.standard_normal((4, 3, 5))
    w = rng.standard_normal(x.shape)
    _, mask = ref.dropout_forward(x, 0.4, 9, noise_shape=(None, 1, None))

    def loss(v):
        return float((v * mask * w).sum())  # dropout with the mask held fixed

    analytic = f64(lambda o: ref.dropout_backward(w, mask, dinp=o), x.shape)
    np.testing.assert_allclose(analytic, numeric_grad(loss, x), rtol=1e-6, atol=1e-8)
    assert (mask == 0).any() and (mask != 0).any()


def test_bias_grad_vs_fd(rng):
    x = rng.standard_normal((3, 2, 4))
    b = rng.standard_normal(4)
    w = rng.standard_normal(x.shape)

    def loss(bb):
        return float((f64(lambda o: ref.bias_add(x, bb, out=o), x.shape) * w).sum())

    db = np.zeros(4)
    ref.bias_grad(w, dbias=db)
    np.testing.assert_allclose(db, numeric_grad(loss, b), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("act", ["linear", "relu", "sigmoid", "tanh", "softmax", "gelu",
                                 "elu", "leaky_relu", "softplus"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_backward_vs_fd(act, use_bias, rng):
    n, d, u = 4, 3, 5
    inp = rng.standard_normal((n, d))
    kernel = rng.standard_normal((d, u))
    bias = rng.standard_normal(u) if use_bias else None
    w = rng.standard_normal((n, u))

    def forward(x, k, b, z=None):
        return f64(lambda o: ref.dense_forward(x, k, b, act, out=o, preact=z), (n, u))

    def loss(x, k, b):
        return float((forward(x, k, b) * w).sum())

    z = np.empty((n, u))
    y = forward(inp, kernel, bias, z)
    dk = np.zeros((d, u))
    db = np.zeros(u) if use_bias else None
    dx = np.empty((n, d))
    ref.dense_backward(w, inp, kernel, y, z, act, dkernel=dk, dbias=db, dinp=dx)
    tol = dict(rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dx, numeric_grad(lambda v: loss(v, kernel, bias), inp), **tol)
    np.testing.assert_allclose(dk, numeric_grad(lambda v: loss(inp, v, bias), kernel), **tol)
    if use_bias:
        np.testing.assert_allclose(db, numeric_grad(lambda v: loss(inp, kernel, v), bias), **tol)
