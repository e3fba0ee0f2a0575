"""Every layer through one harness (after Keras's run_layer_test): output shape, parameter
count, config round trip, and backward (input and weight gradients) against central finite
differences of the layer's own forward."""
import numpy as np
import pytest

from baeum import layers as L
from baeum.layers import Dense, Input
from baeum.models import Sequential
from harness import check_layer


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu",
                                        "swish", "softplus", "softsign", "leaky_relu", "hard_sigmoid", "exponential"])
def test_dense(activation, rng):
    check_layer(Dense(5, activation=activation), (4,), 4 * 5 + 5, rng, x_offset=0.3)


def test_dense_without_bias_and_3d(rng):
    check_layer(Dense(3, use_bias=False), (2, 4), 12, rng)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "softmax", "gelu"])
def test_activation_layer(activation, rng):
    check_layer(L.Activation(activation), (6,), 0, rng, x_offset=0.3)


@pytest.mark.parametrize("layer,shape,out", [
    (lambda: L.Flatten(), (2, 3), (6,)),
    (lambda: L.Reshape((3, -1)), (2, 3), (3, 2)),
])
def test_reshaping(layer, shape, out, rng):
    y = check_layer(layer(), shape, 0, rng)
    assert y.shape[1:] == out


def test_activation_layers(rng):
    check_layer(L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2), (7,), 0, rng, kinks=(0.2, 1.0))
    check_layer(L.LeakyReLU(), (7,), 0, rng, x_offset=0.05)
    check_layer(L.ELU(alpha=0.7), (7,), 0, rng, x_offset=0.05)
    check_layer(L.Softmax(), (5,), 0, rng)
    check_layer(L.PReLU(), (3, 4), 12, rng, x_offset=0.05)
    check_layer(L.PReLU(shared_axes=[1]), (3, 4), 4, rng, x_offset=0.05)


def test_leaky_relu_defaults_follow_keras():
    x = np.array([[-1.0, 2.0]], np.float32)
    np.testing.assert_allclose(L.LeakyReLU()(x), [[-0.3, 2.0]])  # layer: 0.3
    np.testing.assert_allclose(Dense(2, activation="leaky_relu", kernel_initializer="identity")(x),
                               [[-0.2, 2.0]])  # function: 0.2


def test_dropout_training_and_inference(rng):
    layer = L.Dropout(0.4, seed=3)
    x = np.ones((200, 50), np.float32)
    np.testing.assert_array_equal(layer(x), x)  # inference: identity
    ctx = {}
    y = layer.forward(x, ctx, True)
    kept = y != 0
    assert abs(kept.mean() - 0.6) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.6, rtol=1e-6)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    np.testing.assert_allclose(layer.backward(dy, ctx), dy * y, rtol=1e-6)
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\]"):
        L.Dropout(1.5)


def test_dropout_noise_shape():
    layer = L.Dropout(0.5, noise_shape=(None, 1, 4), seed=1)
    y = layer.forward(np.ones((6, 5, 4), np.float32), {}, True)
    assert (y == y[:, :1, :]).all()  # one mask value shared along axis 1


def test_rrelu_training_and_inference(rng):
    layer = L.RReLU(0.1, 0.3, seed=0)
    x = -np.ones((100, 20), np.float32)
    np.testing.assert_allclose(layer(x), -0.2)  # inference: mean slope
    ctx = {}
    y = layer.forward(x, ctx, True)
    assert -0.3 <= y.min() and y.max() <= -0.1 and y.std() > 0.04
    dy = np.ones_like(x)
    np.testing.assert_allclose(layer.backward(dy, ctx), -y, rtol=1e-6)
    with pytest.raises(ValueError, match="lower <= upper"):
        L.RReLU(0.5, 0.1)


def test_activity_regularizer_adds_to_loss(rng):
    from baeum import regularizers

    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 2)).astype(np.float32)
    m = Sequential([Input((3,)), Dense(2, activity_regularizer=regularizers.L2(0.1))])
    m.compile(optimizer="sgd", loss="mse")
    out = m.predict(x, verbose=0)
    mse = float(np.mean((out - y) ** 2))
    assert m.test_on_batch(x, y) == pytest.approx(mse + 0.1 * float(np.sum(out.astype(np.float64) ** 2)) / 8, rel=1e-5)
    m.fit(x, y, epochs=3, verbose=0)  # trains with the penalty's gradient


def test_bad_layer_arguments():
    with pytest.raises(ValueError, match="units must be a positive integer"):
        Dense(0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        Dense(3, kernal_initializer="zeros")
    with pytest.raises(NotImplementedError, match="custom activation"):
        Dense(3, activation=lambda t: t * 2)
