"""Pooling layers: harness checks (shape, params, backward vs finite differences, config),
Keras defaults, and errors that name the layer."""
import numpy as np
import pytest
from harness import check_layer

from baeum import layers
from baeum.layers import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                          GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from baeum.models import Sequential


class SpacedRng:
    """rng whose standard_normal gives distinct values 0.05 apart (shuffled), so the
    harness's finite differences (step 1e-2) never cross a tie between two maxima."""

    def __init__(self, rng):
        self.rng = rng

    def standard_normal(self, shape):
        n = int(np.prod(shape))
        return (self.rng.permutation(n) - n / 2).reshape(shape) * 0.05

    def __getattr__(self, name):
        return getattr(self.rng, name)


@pytest.mark.parametrize("layer,shape,out", [
    (lambda: MaxPooling2D(), (5, 4, 2), (2, 2, 2)),
    (lambda: MaxPooling2D(3, strides=2, padding="same"), (5, 4, 2), (3, 2, 2)),
    (lambda: AveragePooling2D(2), (4, 5, 2), (2, 2, 2)),
    (lambda: AveragePooling2D((2, 3), strides=1, padding="same"), (3, 4, 2), (3, 4, 2)),
    (lambda: MaxPooling1D(), (7, 3), (3, 3)),
    (lambda: MaxPooling1D(3, strides=2, padding="same"), (7, 3), (4, 3)),
    (lambda: AveragePooling1D(2, padding="same"), (5, 2), (3, 2)),
    (lambda: GlobalMaxPooling2D(), (3, 4, 2), (2,)),
    (lambda: GlobalMaxPooling2D(keepdims=True), (3, 4, 2), (1, 1, 2)),
    (lambda: GlobalAveragePooling2D(), (3, 4, 2), (2,)),
    (lambda: GlobalAveragePooling2D(keepdims=True), (3, 4, 2), (1, 1, 2)),
    (lambda: GlobalMaxPooling1D(), (5, 3), (3,)),
    (lambda: GlobalAveragePooling1D(keepdims=True), (5, 3), (1, 3)),
])
def test_pooling_harness(layer, shape, out, rng):
    lyr = layer()
    y = check_layer(lyr, shape, 0, SpacedRng(rng), kinks=())
    assert y.shape == (3,) + out


def test_defaults_and_names():
    m = MaxPooling2D()
    assert m.pool_size == (2, 2) and m.strides == (2, 2) and m.padding == "valid"
    assert m.name.startswith("max_pooling2d")
    assert MaxPooling1D().pool_size == (2,)
    assert AveragePooling2D(3, strides=(1, 2)).strides == (1, 2)
    assert GlobalAveragePooling2D().name.startswith("global_average_pooling2d")
    with pytest.raises(TypeError):
        AveragePooling2D()  # pool_size has no default in Keras 3


def test_values_match_keras():
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    np.testing.assert_array_equal(AveragePooling2D(2, padding="same")(x)[0, :, :, 0], [[2, 3.5], [6.5, 8]])
    np.testing.assert_array_equal(MaxPooling2D(padding="same")(x)[0, :, :, 0], [[4, 5], [7, 8]])
    np.testing.assert_array_equal(GlobalAveragePooling2D()(x), [[4.0]])
    np.testing.assert_array_equal(GlobalMaxPooling2D()(x), [[8.0]])


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"MaxPooling2D 'p2'.*\(samples, height, width, channels\).*reshape"):
        MaxPooling2D(name="p2")(np.zeros((4, 784), np.float32))
    with pytest.raises(ValueError, match=r"MaxPooling2D 'p3'.*x\[\.\.\., None\]"):
        MaxPooling2D(name="p3")(np.zeros((4, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"MaxPooling2D 'p4'.*3x3 input.*padding='same'"):
        MaxPooling2D(4, name="p4")(np.zeros((1, 3, 3, 1), np.float32))
    with pytest.raises(NotImplementedError, match="channels_last"):
        MaxPooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="padding"):
        AveragePooling1D(2, padding="causal")


def test_model_build_fails_naming_layer():
    with pytest.raises(ValueError, match=r"'c'.*1x1 input.*padding='same'"):
        m = Sequential([layers.Input((5, 5, 1)), MaxPooling2D(name="a"), MaxPooling2D(name="b"),
                        MaxPooling2D(name="c")])
        m.build()


def test_in_a_trained_model(rng):
    x = rng.standard_normal((32, 6, 6, 2)).astype(np.float32)
    y = (x[:, :3].mean(axis=(1, 2, 3)) > 0).astype(np.float32)
    m = Sequential([layers.Input((6, 6, 2)), MaxPooling2D(), AveragePooling2D(3, padding="same"),
                    layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy")
    h = m.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
