"""BatchNormalization / LayerNormalization / UpSampling2D / ZeroPadding2D / Cropping2D /
SpatialDropout2D: harness checks, numbers vs NumPy re-implementations of Keras's formulas,
frozen-BN behaviour, summary parameter counts."""
import io

import numpy as np
import pytest
from harness import check_layer, numeric_grads

from baeum import layers
from baeum.layers import (BatchNormalization, Cropping2D, LayerNormalization, SpatialDropout2D, UpSampling2D,
                          ZeroPadding2D)
from baeum.models import Sequential


class PositiveWeights:
    """rng whose uniform() is positive: the harness assigns weights with uniform(-s, s), and
    a negative moving_variance has no square root."""

    def __init__(self, rng):
        self.rng = rng

    def uniform(self, low, high, shape):
        return self.rng.uniform(0.2, 1.2, shape)

    def __getattr__(self, name):
        return getattr(self.rng, name)


@pytest.mark.parametrize("layer,shape,params", [
    (lambda: BatchNormalization(), (4, 3, 5), 20),
    (lambda: BatchNormalization(axis=1), (4, 3), 16),
    (lambda: BatchNormalization(center=False, scale=False), (6,), 12),
    (lambda: BatchNormalization(scale=False), (2, 3), 9),
    (lambda: LayerNormalization(), (4, 5), 10),
    (lambda: LayerNormalization(axis=[1, 2]), (2, 3, 4), 12),
    (lambda: LayerNormalization(axis=1, center=False), (3, 4), 3),
])
def test_norm_harness(layer, shape, params, rng):
    check_layer(layer(), shape, params, PositiveWeights(rng))


@pytest.mark.parametrize("layer,shape,out", [
    (lambda: UpSampling2D(), (2, 3, 2), (4, 6, 2)),
    (lambda: UpSampling2D((3, 1)), (2, 3, 2), (6, 3, 2)),
    (lambda: UpSampling2D(2, interpolation="bilinear"), (3, 2, 2), (6, 4, 2)),
    (lambda: ZeroPadding2D(), (2, 3, 2), (4, 5, 2)),
    (lambda: ZeroPadding2D(((1, 0), (2, 3))), (2, 3, 2), (3, 8, 2)),
    (lambda: Cropping2D(((1, 0), (0, 2))), (3, 4, 2), (2, 2, 2)),
    (lambda: Cropping2D(1), (3, 4, 2), (1, 2, 2)),
    (lambda: SpatialDropout2D(0.5, seed=3), (3, 3, 4), (3, 3, 4)),
])
def test_reshaping_harness(layer, shape, out, rng):
    assert check_layer(layer(), shape, 0, rng).shape == (3,) + out


def keras_bn(x, gamma, beta, mm, mv, training, momentum=0.99, eps=1e-3):
    """Keras's formulas in NumPy float64 (backend/numpy/nn.py moments + batch_normalization)."""
    if training:
        mean = x.mean(axis=(0, 1, 2))
        var = (x ** 2).mean(axis=(0, 1, 2)) - mean ** 2
        mm = mm * momentum + mean * (1 - momentum)
        mv = mv * momentum + var * (1 - momentum)
    else:
        mean, var = mm, mv
    inv = gamma / np.sqrt(var + eps)
    return x * inv + (beta - mean * inv), mm, mv


def test_batch_norm_training_inference_moving_stats(rng):
    bn = BatchNormalization()
    x1 = (rng.standard_normal((8, 5, 5, 3)) * 3 + 2).astype(np.float32)
    x2 = (rng.standard_normal((8, 5, 5, 3)) - 1).astype(np.float32)
    bn(x1)  # build (inference: moving stats untouched)
    gamma, beta = rng.uniform(0.5, 2, 3), rng.uniform(-1, 1, 3)
    bn.set_weights([gamma, beta, np.zeros(3), np.ones(3)])
    mm, mv = np.zeros(3), np.ones(3)
    for x in (x1, x2):  # two training steps
        y = bn(x, training=True)
        want, mm, mv = keras_bn(x.astype(np.float64), gamma, beta, mm, mv, True)
        np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.value, mm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.value, mv, rtol=1e-5, atol=1e-6)
    assert not np.allclose(mv, 1.0)  # the statistics really moved
    y = bn(x1, training=False)
    np.testing.assert_allclose(y, keras_bn(x1.astype(np.float64), gamma, beta, mm, mv, False)[0],
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.value, mm, rtol=1e-5, atol=1e-6)  # inference: unchanged
    assert [w.shape for w in bn.get_weights()] == [(3,)] * 4


def test_batch_norm_training_backward_vs_fd(rng):
    bn = BatchNormalization()
    x = rng.standard_normal((4, 3, 2, 3)).astype(np.float32)
    bn(x)
    bn.set_weights([rng.uniform(0.5, 1.5, 3), rng.uniform(-1, 1, 3), np.zeros(3), np.ones(3)])
    r = rng.standard_normal(x.shape).astype(np.float32)
    ctx = {}
    bn.forward(x, ctx, True)
    for v in bn.weights:
        v.grad[...] = 0
    dx = bn.backward(r, ctx)

    x64 = x.astype(np.float64)

    def obj(v, g, b):
        return float((keras_bn(v, g, b, 0, 1, True)[0] * r).sum())

    eps = 1e-4
    g0, b0 = bn.gamma.value.astype(np.float64), bn.beta.value.astype(np.float64)
    num = np.zeros_like(x64)
    for i in np.ndindex(x.shape):
        p, m = x64.copy(), x64.copy()
        p[i] += eps
        m[i] -= eps
        num[i] = (obj(p, g0, b0) - obj(m, g0, b0)) / (2 * eps)
    np.testing.assert_allclose(dx, num, rtol=1e-3, atol=1e-3)
    dg = [(obj(x64, g0 + eps * e, b0) - obj(x64, g0 - eps * e, b0)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(bn.gamma.grad, dg, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(bn.beta.grad, r.sum(axis=(0, 1, 2)), rtol=1e-5, atol=1e-5)
    assert not bn.moving_mean.grad.any()  # training: moving stats are not inputs of y


def test_frozen_batch_norm_runs_in_inference_mode(rng):
    bn = BatchNormalization()
    x = (rng.standard_normal((6, 4, 4, 2)) + 3).astype(np.float32)
    bn(x)
    bn.set_weights([np.ones(2), np.zeros(2), np.full(2, 0.5), np.full(2, 2.0)])
    bn.trainable = False
    y = bn(x, training=True)
    np.testing.assert_allclose(y, (x - 0.5) / np.sqrt(2.0 + 1e-3), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(bn.moving_mean.value, 0.5)
    np.testing.assert_array_equal(bn.moving_variance.value, 2.0)
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4


def test_batch_norm_in_model_summary_and_fit(rng):
    m = Sequential([layers.Input((6, 6, 8)), BatchNormalization(), layers.MaxPooling2D(), layers.Flatten(),
                    layers.Dense(1, activation="sigmoid")])
    lines = []
    m.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(BatchNormalization)" in text and "32" in text
    assert "Non-trainable params: 16 (64.00 B)" in text
    assert "Trainable params: 89" in text  # 16 (gamma, beta) + 73 (dense)
    x = (rng.standard_normal((64, 6, 6, 8)) * 2 + 1).astype(np.float32)
    y = (x[:, :3, :, 0].mean(axis=(1, 2)) > 1).astype(np.float32)
    m.compile(optimizer="adam", loss="binary_crossentropy")
    h = m.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    bn = m.layers[0]
    # 32 steps of moving ← 0.99·moving + 0.01·μ_B from 0, with μ_B ≈ 1: 1 − 0.99³² ≈ 0.275
    np.testing.assert_allclose(bn.moving_mean.value, 1 - 0.99 ** 32, atol=0.06)
    # predict uses the moving statistics: deterministic and batch-independent
    np.testing.assert_allclose(m.predict(x[:5], verbose=0), m.predict(x, verbose=0)[:5], rtol=1e-5, atol=1e-6)


def test_layer_norm_numbers(rng):
    x = (rng.standard_normal((3, 4, 5)) * 2 + 1).astype(np.float32)
    ln = LayerNormalization()
    ln(x)
    g, b = rng.uniform(0.5, 1.5, 5), rng.uniform(-1, 1, 5)
    ln.set_weights([g, b])
    x64 = x.astype(np.float64)
    want = g * (x64 - x64.mean(-1, keepdims=True)) / np.sqrt(x64.var(-1, keepdims=True) + 1e-3) + b
    np.testing.assert_allclose(ln(x), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ln(x, training=True), want, rtol=1e-5, atol=1e-5)


def test_spatial_dropout_drops_whole_channels(rng):
    x = np.ones((4, 5, 5, 16), np.float32)
    sd = SpatialDropout2D(0.5, seed=7)
    y = sd(x, training=True)
    per_map = y.reshape(4, 25, 16)
    assert np.all(per_map.min(axis=1) == per_map.max(axis=1))  # each map all kept or all dropped
    assert set(np.unique(y)) == {0.0, 2.0}
    np.testing.assert_array_equal(sd(x), x)  # inference: identity
    ctx = {}
    y = sd.forward(x, ctx, True)
    np.testing.assert_array_equal(sd.backward(np.ones_like(x), ctx), y)
    y1 = SpatialDropout2D(0.5, seed=7)(x, training=True)
    y2 = SpatialDropout2D(0.5, seed=7)(x, training=True)
    np.testing.assert_array_equal(y1, y2)


def test_upsampling_nearest_values():
    x = np.arange(4, dtype=np.float32).reshape(1, 2, 2, 1)
    np.testing.assert_array_equal(UpSampling2D((2, 3))(x)[0, :, :, 0],
                                  [[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1], [2, 2, 2, 3, 3, 3], [2, 2, 2, 3, 3, 3]])
    # bilinear with half-pixel centres (TF/JAX image resize): [0, 2, 4] → 0, .5, 1.5, 2.5, 3.5, 4
    x = np.array([0, 2, 4], np.float32).reshape(1, 1, 3, 1)
    np.testing.assert_allclose(UpSampling2D((1, 2), interpolation="bilinear")(x)[0, 0, :, 0],
                               [0, 0.5, 1.5, 2.5, 3.5, 4])


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"UpSampling2D 'u'.*\(samples, height, width, channels\)"):
        UpSampling2D(name="u")(np.zeros((2, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"Cropping2D 'c'.*leaves nothing"):
        Cropping2D(2, name="c")(np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(ValueError, match=r"ZeroPadding2D 'z'.*padding"):
        ZeroPadding2D("x", name="z")
    with pytest.raises(ValueError, match=r"BatchNormalization 'b'.*axis 0"):
        BatchNormalization(axis=0, name="b")(np.zeros((2, 3), np.float32))
    with pytest.raises(NotImplementedError, match="renorm"):
        BatchNormalization(renorm=True)
    with pytest.raises(ValueError, match="rate"):
        SpatialDropout2D(1.5)
