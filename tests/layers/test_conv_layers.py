"""Convolution layers through the shared harness (shape, params, backward vs finite
differences, config round trip), Keras output shapes and parameter counts, the deck-003
CNN summary, and the input-shape errors."""
import re
import warnings

import numpy as np
import pytest

from baeum import layers as L
from baeum.models import Sequential
from baeum.utils import set_random_seed
from harness import check_layer


@pytest.mark.parametrize("kwargs,shape,out", [
    (dict(filters=3, kernel_size=3), (5, 6, 2), (3, 4, 3)),
    (dict(filters=3, kernel_size=3, strides=2, padding="same", activation="elu"), (5, 6, 2), (3, 3, 3)),
    (dict(filters=4, kernel_size=(2, 3), dilation_rate=(2, 1), padding="same", activation="tanh"), (5, 5, 2), (5, 5, 4)),
    (dict(filters=4, kernel_size=1, groups=2, use_bias=False), (3, 3, 4), (3, 3, 4)),
    (dict(filters=2, kernel_size=3, activation="gelu", padding="same"), (3, 3, 1), (3, 3, 2)),
    (dict(filters=2, kernel_size=3, strides=(2, 1), activation="softmax", padding="valid"), (5, 4, 3), (2, 2, 2)),
], ids=str)
def test_conv2d_layer(kwargs, shape, out, rng):
    layer = L.Conv2D(**kwargs)
    cin = shape[-1]
    kh, kw = (kwargs["kernel_size"],) * 2 if isinstance(kwargs["kernel_size"], int) else kwargs["kernel_size"]
    params = kh * kw * cin // kwargs.get("groups", 1) * kwargs["filters"] + (kwargs["filters"] if kwargs.get("use_bias", True) else 0)
    y = check_layer(layer, shape, params, rng, x_offset=0.1)
    assert y.shape[1:] == out
    assert layer.kernel.shape == (kh, kw, cin // kwargs.get("groups", 1), kwargs["filters"])


@pytest.mark.parametrize("kwargs,shape,out", [
    (dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2), (7, 2), (7, 3)),
    (dict(filters=2, kernel_size=2, strides=2, padding="same", activation="softplus"), (5, 3), (3, 2)),
    (dict(filters=4, kernel_size=3, groups=2), (6, 4), (4, 4)),
], ids=str)
def test_conv1d_layer(kwargs, shape, out, rng):
    layer = L.Conv1D(**kwargs)
    k, cin, f = kwargs["kernel_size"], shape[-1], kwargs["filters"]
    y = check_layer(layer, shape, k * cin // kwargs.get("groups", 1) * f + f, rng, x_offset=0.1)
    assert y.shape[1:] == out


@pytest.mark.parametrize("kwargs,shape,out", [
    (dict(filters=2, kernel_size=3, strides=2, padding="same"), (3, 3, 2), (6, 6, 2)),
    (dict(filters=2, kernel_size=3, strides=2, padding="valid", activation="sigmoid"), (2, 3, 2), (5, 7, 2)),
    (dict(filters=3, kernel_size=2, strides=2, output_padding=1, padding="valid"), (2, 2, 1), (5, 5, 3)),
    (dict(filters=1, kernel_size=(3, 2), dilation_rate=2, padding="same", use_bias=False), (3, 3, 2), (3, 3, 1)),
], ids=str)
def test_conv2d_transpose_layer(kwargs, shape, out, rng):
    layer = L.Conv2DTranspose(**kwargs)
    kh, kw = (kwargs["kernel_size"],) * 2 if isinstance(kwargs["kernel_size"], int) else kwargs["kernel_size"]
    f = kwargs["filters"]
    params = kh * kw * f * shape[-1] + (f if kwargs.get("use_bias", True) else 0)
    y = check_layer(layer, shape, params, rng, x_offset=0.1)
    assert y.shape[1:] == out
    assert layer.kernel.shape == (kh, kw, f, shape[-1])  # Keras: (kh, kw, filters, in_channels)


@pytest.mark.parametrize("kwargs,shape,out", [
    (dict(kernel_size=3, padding="same"), (4, 4, 3), (4, 4, 3)),
    (dict(kernel_size=3, depth_multiplier=2, strides=2, activation="tanh"), (5, 5, 2), (2, 2, 4)),
], ids=str)
def test_depthwise_layer(kwargs, shape, out, rng):
    layer = L.DepthwiseConv2D(**kwargs)
    dm, c = kwargs.get("depth_multiplier", 1), shape[-1]
    y = check_layer(layer, shape, 9 * c * dm + c * dm, rng, x_offset=0.1)
    assert y.shape[1:] == out
    assert layer.kernel.shape == (3, 3, c, dm)


def test_conv2d_keras_defaults_and_config():
    layer = L.Conv2D(8, 3)
    assert (layer.strides, layer.padding, layer.dilation_rate, layer.groups, layer.use_bias) == \
        ((1, 1), "valid", (1, 1), 1, True)
    assert layer.activation == "linear"
    config = layer.get_config()
    assert config["kernel_size"] == (3, 3) and config["data_format"] == "channels_last"
    assert re.fullmatch(r"conv2d(_\d+)?", layer.name)


def _summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def deck003_model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # input_shape= on the first layer (as the deck does)
        return Sequential([
            L.Conv2D(16, 3, strides=2, padding="same", activation="relu", input_shape=(28, 28, 1)),
            L.Conv2D(8, 3, strides=2, padding="same"),
            L.Flatten(),
            L.Dense(30, activation="relu"),
            L.Dense(20, activation="relu"),
            L.Dense(10, activation="softmax"),
        ])


def test_deck003_summary_matches_the_course():
    model = deck003_model()
    shapes = [layer.output_shape for layer in model.layers]
    assert shapes == [(None, 14, 14, 16), (None, 7, 7, 8), (None, 392), (None, 30), (None, 20), (None, 10)]
    assert [layer.count_params() for layer in model.layers] == [160, 1160, 0, 11790, 620, 210]
    text = _summary_text(model)
    for s in ["(None, 14, 14, 16)", "(None, 7, 7, 8)", "(None, 392)", "1,160", "11,790", "160", "620", "210"]:
        assert s in text, s


def test_conv_model_trains(rng):
    set_random_seed(5)  # the weights and the shuffles: a fixed run (unseeded, 1 run in ~25 stopped at 0.70)
    model = deck003_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = rng.standard_normal((64, 28, 28, 1)).astype(np.float32)
    y = (x[:, :14].mean(axis=(1, 2, 3)) > 0).astype(np.int64) + 2 * (x[:, :, :14].mean(axis=(1, 2, 3)) > 0)
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.7 * first


def test_conv_softmax_output_fused_loss_matches_unfused(rng):
    x = rng.standard_normal((6, 5, 2)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, (6, 5))]
    model = Sequential([L.Input((5, 2)), L.Conv1D(3, 2, padding="causal", activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    p = model.predict(x, verbose=0)
    want = float(np.mean(-np.sum(y * np.log(np.clip(p, 1e-7, 1 - 1e-7)), axis=-1)))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(want, rel=1e-4)
    model.fit(x, y, epochs=3, batch_size=6, verbose=0)
    assert model.evaluate(x, y, verbose=0) < want


# ---- errors ----------------------------------------------------------------------------------------
def test_flat_images_get_the_reshape_fix():
    with pytest.raises(ValueError, match=r"x\.reshape\(-1, 28, 28, 1\)"):
        Sequential([L.Input((784,)), L.Conv2D(4, 3)])
    with pytest.raises(ValueError, match=r"x\[\.\.\., None\]"):
        Sequential([L.Input((28, 28)), L.Conv2D(4, 3)])
    with pytest.raises(ValueError, match=r"x\[\.\.\., None\]"):
        L.Conv2D(4, 3)(np.zeros((2, 28, 28), np.float32))


def test_channels_first_data_gets_the_transpose_fix():
    layer = L.Conv2D(4, 3)
    layer(np.zeros((2, 28, 28, 1), np.float32))
    with pytest.raises(ValueError, match=r"np\.transpose\(x, \(0, 2, 3, 1\)\)") as e:
        layer(np.zeros((2, 1, 28, 28), np.float32))
    assert layer.name in str(e.value)


def test_too_small_input_fails_at_build_naming_layer_and_sizes():
    with pytest.raises(ValueError) as e:
        Sequential([L.Input((28, 28, 1)), L.Conv2D(4, 5, strides=2), L.Conv2D(4, 5, strides=2),
                    L.Conv2D(4, 5, name="too_far")])
    msg = str(e.value)
    assert "too_far" in msg and "padding='same'" in msg and "(None, 4, 4, 4)" in msg


def test_bad_arguments():
    with pytest.raises(ValueError, match="filters"):
        L.Conv2D(0, 3)
    with pytest.raises(ValueError, match="padding"):
        L.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="dilation_rate"):
        L.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="groups"):
        L.Conv2D(3, 3, groups=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        L.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="output_padding"):
        L.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(TypeError):
        L.Conv2D(2, 3, bogus=1)


def test_conv_buffers_are_reused_only_when_nothing_else_holds_them():
    # Conv layers keep their output/gradient buffers between calls (no page faults per
    # step), but a buffer still referenced anywhere — a tape ctx, a kept output, a view —
    # is never handed out again.
    from baeum.layers import Conv2D

    layer = Conv2D(8, 3, padding="same")
    rng = np.random.default_rng(0)
    x1 = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    x2 = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    layer.build(x1.shape)
    ctx1, ctx2 = {}, {}
    y1 = layer.forward(x1, ctx1, True)
    want1 = y1.copy()
    y2 = layer.forward(x2, ctx2, True)  # a second live call (shared layer): its own buffer
    assert not np.shares_memory(y1, y2)
    np.testing.assert_array_equal(y1, want1)
    view = y2[:, 1:]
    del y2, ctx2
    y3 = layer.forward(x2, {}, True)  # y2's buffer is still viewed: not reused
    assert not np.shares_memory(y3, view) and not np.shares_memory(y3, y1)
    addr = y3.__array_interface__["data"][0]
    del y3
    y4 = layer.forward(x1, {}, True)  # y3's buffer is free again: reused, same numbers as y1
    assert y4.__array_interface__["data"][0] == addr
    np.testing.assert_array_equal(y4, want1)
    dy = rng.standard_normal(y1.shape).astype(np.float32)
    dx1 = layer.backward(dy, ctx1)
    dx2 = layer.backward(dy, ctx1)
    assert not np.shares_memory(dx1, dx2)
    np.testing.assert_array_equal(dx1, dx2)
