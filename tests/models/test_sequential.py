"""Sequential construction, shapes, weights and summary() against Keras's behaviour."""
import re

import numpy as np
import pytest

import baeum
from baeum.layers import Activation, Dense, Dropout, Flatten, Input, Reshape
from baeum.models import Sequential


def mlp(input_dim=30):
    return Sequential([Input(shape=(input_dim,)), Dense(64, activation="relu"), Dense(32, activation="relu"),
                       Dense(1, activation="sigmoid")])


def test_list_and_add_build_the_same_model():
    with pytest.warns(UserWarning, match="Input\\(shape\\)"):
        a = Sequential([Dense(5, activation="relu", input_shape=(4,)), Dense(10, activation="relu"),
                        Dense(3, activation="softmax")])
    b = Sequential()
    with pytest.warns(UserWarning):
        b.add(Dense(5, activation="relu", input_shape=(4,)))
    b.add(Dense(10, activation="relu"))
    b.add(Dense(3, activation="softmax"))
    for m in (a, b):
        assert m.built and len(m.layers) == 3  # the InputLayer is not listed
        assert [w.shape for w in m.get_weights()] == [(4, 5), (5,), (5, 10), (10,), (10, 3), (3,)]
        assert m.count_params() == 4 * 5 + 5 + 5 * 10 + 10 + 10 * 3 + 3
        assert m.output_shape == (None, 3)


def test_input_dim_is_input_shape():
    with pytest.warns(UserWarning):
        m = Sequential([Dense(3, input_dim=7)])
    assert m.input_shape == (None, 7)


def test_auto_names_are_keras_style():
    d1, d2 = Dense(2), Dense(2)
    assert re.fullmatch(r"dense(_\d+)?", d1.name) and re.fullmatch(r"dense_\d+", d2.name)
    assert d1.name != d2.name
    assert re.fullmatch(r"leaky_re_lu(_\d+)?", baeum.layers.LeakyReLU().name)
    assert re.fullmatch(r"sequential(_\d+)?", Sequential().name)


def test_duplicate_names_and_non_layers_are_refused():
    m = Sequential([Input((3,)), Dense(2, name="d")])
    with pytest.raises(ValueError, match="unique"):
        m.add(Dense(2, name="d"))
    with pytest.raises(TypeError, match="expects a layer"):
        m.add("dense")


def test_forward_matches_the_formula(rng):
    m = mlp(6)
    weights = [rng.standard_normal(w.shape).astype(np.float32) for w in m.get_weights()]
    m.set_weights(weights)
    x = rng.standard_normal((9, 6)).astype(np.float32)
    h = np.maximum(x @ weights[0] + weights[1], 0)
    h = np.maximum(h @ weights[2] + weights[3], 0)
    want = 1 / (1 + np.exp(-(h @ weights[4] + weights[5])))
    np.testing.assert_allclose(m.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m(x), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.predict_on_batch(x), want, rtol=1e-5, atol=1e-6)


def test_predict_batches_and_empty_input(rng):
    m = mlp(5)
    x = rng.standard_normal((70, 5)).astype(np.float32)
    np.testing.assert_allclose(m.predict(x, batch_size=8, verbose=0), m.predict(x, batch_size=70, verbose=0),
                               rtol=1e-6, atol=1e-7)
    assert m.predict(np.zeros((0, 5), np.float32), verbose=0).shape == (0, 1)


def test_set_weights_checks_count_and_shapes():
    m = mlp(4)
    w = m.get_weights()
    with pytest.raises(ValueError, match="6 weight arrays, received 5"):
        m.set_weights(w[:-1])
    w[0] = np.zeros((5, 64))
    with pytest.raises(ValueError, match=r"\(4, 64\), received \(5, 64\)"):
        m.set_weights(w)


def test_reshape_flatten_activation_shapes():
    m = Sequential([Input((2, 6)), Reshape((3, 4)), Flatten(), Dense(5), Activation("tanh"), Dropout(0.5)])
    assert m.output_shape == (None, 5)
    assert [l.output_shape for l in m.layers] == [(None, 3, 4), (None, 12), (None, 5), (None, 5), (None, 5)]
    assert m.predict(np.ones((3, 2, 6)), verbose=0).shape == (3, 5)
    with pytest.raises(ValueError, match="cannot reshape"):
        Sequential([Input((5,)), Reshape((2, 2))])


def test_dense_on_3d_input_applies_to_last_axis(rng):
    m = Sequential([Input((4, 3)), Dense(2)])
    w, b = m.get_weights()
    x = rng.standard_normal((5, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(m.predict(x, verbose=0), x @ w + b, rtol=1e-5, atol=1e-6)


def test_get_layer():
    m = Sequential([Input((3,)), Dense(2, name="first"), Dense(1, name="second")])
    assert m.get_layer("second") is m.layers[1]
    assert m.get_layer(index=0).name == "first"
    with pytest.raises(ValueError, match="first.*second"):
        m.get_layer("third")


def test_summary_matches_keras(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # no terminal: Keras uses 80 − 4 = 76 columns
    m = Sequential([Input((30,)), Dense(64, activation="relu", name="dense"), Dropout(0.3, name="dropout"),
                    Dense(1, activation="sigmoid", name="dense_1")], name="sequential")
    lines = []
    m.summary(print_fn=lines.append)
    want = """Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 64)             │         1,984 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout (Dropout)               │ (None, 64)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 1)              │            65 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 2,049 (8.00 KB)
 Trainable params: 2,049 (8.00 KB)
 Non-trainable params: 0 (0.00 B)"""
    assert lines[0] == want


def test_summary_wraps_long_names(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    m = Sequential([Input((3,)), Dense(2, name="a_rather_long_layer_name_for_wrapping")], name="s")
    text = []
    m.summary(print_fn=text.append)
    assert "│ a_rather_long_layer_name_for_wrapping │" not in text[0]
    assert "(Dense)" in text[0]


def test_summary_before_build_lists_the_fixes():
    m = Sequential([Dense(3)])
    with pytest.raises(ValueError, match=r"Input\(shape=.*input_shape=.*build.*fit"):
        m.count_params()
    with pytest.raises(ValueError, match=r"not been built.*Input\(shape="):
        m.summary()


def test_frozen_layer_moves_to_non_trainable():
    m = mlp(3)
    m.layers[0].trainable = False
    assert len(m.trainable_weights) == 4 and len(m.non_trainable_weights) == 2
    assert [v.shape for v in m.non_trainable_weights] == [(3, 64), (64,)]


def test_image_shrinking_below_one_pixel_names_the_size_trail():
    from baeum.layers import Conv2D, Flatten, MaxPooling2D

    with pytest.raises(ValueError) as e:
        Sequential([Input((28, 28, 1)), Conv2D(4, 3), MaxPooling2D(2), Conv2D(4, 3), MaxPooling2D(2),
                    Conv2D(4, 3), MaxPooling2D(2), Conv2D(4, 3, name="too_far"), Flatten(), Dense(1)])
    msg = str(e.value)
    assert "28×28 → 26×26 → 13×13 → 11×11 → 5×5 → 3×3 → 1×1 → <1 at 'too_far'" in msg
    assert "padding='same'" in msg


@pytest.mark.parametrize("shape,fix", [((8, 784), "x.reshape(-1, 28, 28, 1)"), ((8, 28, 28), "x[..., None]"),
                                       ((8, 1, 28, 28), "np.transpose(x, (0, 2, 3, 1))")])
def test_image_data_in_the_wrong_layout_gets_the_fix(shape, fix):
    from baeum.layers import Conv2D, Flatten

    m = Sequential([Input((28, 28, 1)), Conv2D(4, 3), Flatten(), Dense(10, activation="softmax")])
    m.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match="^fit: Conv2D") as e:
        m.fit(np.zeros(shape, np.float32), np.zeros((8, 10), np.float32), verbose=0)
    assert fix in str(e.value)
