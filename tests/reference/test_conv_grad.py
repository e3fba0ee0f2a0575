"""Reference convolution backward passes vs central finite differences (float64):
Conv2D (strides, dilation, same/valid/explicit padding, groups), Conv1D (causal),
Conv2DTranspose (output_padding), DepthwiseConv2D, col2im as the adjoint of im2col."""
import numpy as np
import pytest

from baeum import reference as ref

from test_activations_grad import f64, numeric_grad


def _check(fwd, bwd, x, k, b, act, geo, rng):
    """Compare bwd's dinp, dkernel, dbias with finite differences of Σ w·fwd(x, k, b)."""
    y = fwd(x, k, b, activation=act, **geo)
    shape = y.shape
    w = rng.standard_normal(shape)

    def forward(xx, kk, bb, z=None):
        return f64(lambda o: fwd(xx, kk, bb, activation=act, out=o, preact=z, **geo), shape)

    z = np.empty(shape)
    out = forward(x, k, b, z)
    dk = np.zeros(k.shape)
    db = np.zeros(b.shape)
    dx = np.empty(x.shape)
    bwd(w, x, k, out, z, act, dkernel=dk, dbias=db, dinp=dx, **geo)
    tol = dict(rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dx, numeric_grad(lambda v: float((forward(v, k, b) * w).sum()), x), **tol)
    np.testing.assert_allclose(dk, numeric_grad(lambda v: float((forward(x, v, b) * w).sum()), k), **tol)
    np.testing.assert_allclose(db, numeric_grad(lambda v: float((forward(x, k, v) * w).sum()), b), **tol)


@pytest.mark.parametrize("geo", [
    dict(strides=(1, 1), padding="valid"),
    dict(strides=(2, 2), padding="same"),
    dict(strides=(2, 1), padding="same", groups=2),
    dict(dilation_rate=(2, 1), padding="same"),
    dict(strides=(1, 2), padding=((1, 0), (2, 1))),
], ids=str)
@pytest.mark.parametrize("act", ["linear", "tanh"])
def test_conv2d_backward_vs_fd(geo, act, rng):
    g = geo.get("groups", 1)
    x = rng.standard_normal((2, 5, 4, 4))
    k = rng.standard_normal((3, 2, 4 // g, 4))
    b = rng.standard_normal(4)
    _check(ref.conv2d_forward, ref.conv2d_backward, x, k, b, act, geo, rng)


@pytest.mark.parametrize("geo", [dict(padding="causal", dilation_rate=2), dict(padding="same", strides=2)], ids=str)
def test_conv1d_backward_vs_fd(geo, rng):
    x = rng.standard_normal((2, 7, 3))
    k = rng.standard_normal((3, 3, 2))
    b = rng.standard_normal(2)
    _check(ref.conv1d_forward, ref.conv1d_backward, x, k, b, "sigmoid", geo, rng)


@pytest.mark.parametrize("geo", [
    dict(strides=(2, 2), padding="same"),
    dict(strides=(2, 1), padding="valid", output_padding=(1, 0)),
    dict(strides=(1, 1), padding="same", dilation_rate=(2, 2)),
], ids=str)
def test_conv2d_transpose_backward_vs_fd(geo, rng):
    x = rng.standard_normal((2, 3, 3, 2))
    k = rng.standard_normal((3, 3, 3, 2))
    b = rng.standard_normal(3)
    _check(ref.conv2d_transpose_forward, ref.conv2d_transpose_backward, x, k, b, "tanh", geo, rng)


@pytest.mark.parametrize("geo", [dict(padding="same"), dict(strides=(2, 2), padding="valid")], ids=str)
def test_depthwise_backward_vs_fd(geo, rng):
    x = rng.standard_normal((2, 5, 5, 3))
    k = rng.standard_normal((3, 3, 3, 2))
    b = rng.standard_normal(6)
    _check(ref.depthwise_conv2d_forward, ref.depthwise_conv2d_backward, x, k, b, "tanh", geo, rng)


def test_col2im_is_the_adjoint_of_im2col(rng):
    x = rng.standard_normal((2, 5, 4, 3))
    args = ((3, 2), (2, 1), "same", (1, 2))
    col = f64(lambda o: ref.im2col(x, *args, out=o), (2 * 3 * 4, 18))
    c = rng.standard_normal(col.shape)
    back = f64(lambda o: ref.col2im(c, x.shape, *args, out=o), x.shape)
    np.testing.assert_allclose((col * c).sum(), (x * back).sum(), rtol=1e-12)
