"""Preprocessing / augmentation layers: harness (inference path), training path against the
NumPy reference with the layer's own draws, backward vs finite differences with the draws held
fixed, identity at inference, seeding, value ranges, Normalization.adapt, RandomCrop shapes."""
import math

import numpy as np
import pytest

import baeum
from baeum import layers as L
from baeum import reference as ref
from baeum.reference import preprocessing as P
from harness import check_layer

IMG = (6, 7, 2)


def _images(rng, n=3, shape=IMG, scale=1.0, offset=0.0):
    return (rng.standard_normal((n,) + shape) * scale + offset).astype(np.float32)


def _fd_input_grad(fn, x, r, eps=1e-2):
    """d Σ(r·fn(x))/dx by central differences (float64 sums)."""
    g = np.zeros(x.shape)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = float(np.sum(r * fn(x).astype(np.float64)))
        flat[i] = old - eps
        down = float(np.sum(r * fn(x).astype(np.float64)))
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return g


def _replay(layer, ctx):
    """forward with the draws of `ctx` held fixed (the function whose gradient backward is)."""
    keys = [k for k in ("transforms", "flips", "factors", "deltas", "box") if k in ctx]

    def fn(x):
        saved = layer.draw
        fixed = ctx[keys[0]]
        layer.draw = lambda *a, **k: fixed
        try:
            return layer.forward(x, {}, True)
        finally:
            layer.draw = saved
    return fn


def _check_training_backward(layer, x, rng, atol=2e-2):
    ctx = {}
    y = layer.forward(x, ctx, True)
    r = rng.standard_normal(y.shape)
    dx = layer.backward(r.astype(np.float32), ctx)
    np.testing.assert_allclose(dx, _fd_input_grad(_replay(layer, ctx), x, r), atol=atol, rtol=2e-2)
    return ctx, y


AFFINE = [
    lambda **k: L.RandomTranslation(0.3, (-0.2, 0.4), **k),
    lambda **k: L.RandomRotation(0.2, **k),
    lambda **k: L.RandomZoom((-0.3, 0.4), (0.1, 0.5), **k),
    lambda **k: L.RandomZoom(0.3, **k),
]
ALL_RANDOM = AFFINE + [
    lambda **k: L.RandomFlip(**k),
    lambda **k: L.RandomContrast(0.5, value_range=(-3, 3), **k),
    lambda **k: L.RandomBrightness(0.2, value_range=(-3, 3), **k),
]


# ---- harness (inference path) -------------------------------------------------------------------
@pytest.mark.parametrize("make", ALL_RANDOM)
def test_random_layers_harness_and_identity_at_inference(make, rng):
    layer = make(seed=3)
    y = check_layer(layer, IMG, 0, rng)
    x = _images(rng)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer(x, training=False), x)
    assert y.shape == (3,) + IMG


def test_rescaling_and_normalization_harness(rng):
    y = check_layer(L.Rescaling(1 / 255.0, offset=-0.5), IMG, 0, rng)
    assert y.shape == (3,) + IMG
    check_layer(L.Rescaling([2.0, -1.0]), IMG, 0, rng)
    check_layer(L.Normalization(mean=[0.5, -1.0], variance=[4.0, 0.25]), IMG, 0, rng)
    check_layer(L.Normalization(axis=None, mean=2.0, variance=9.0, invert=True), (5,), 0, rng)


def test_random_crop_harness_inference_is_center_resize(rng):
    layer = L.RandomCrop(4, 5, seed=1)
    y = check_layer(layer, IMG, 0, rng)
    assert layer.output_shape == (None, 4, 5, 2) and y.shape == (3, 4, 5, 2)


# ---- training path vs reference with the same draws ---------------------------------------------
@pytest.mark.parametrize("make", AFFINE)
@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_layers_training_vs_reference(make, fill_mode, interpolation, rng):
    layer = make(seed=5, fill_mode=fill_mode, interpolation=interpolation, fill_value=0.5)
    x = _images(rng)
    ctx = {}
    y = layer.forward(x, ctx, True)
    t = ctx["transforms"]
    assert t.shape == (3, 8) and not np.allclose(t, [1, 0, 0, 0, 1, 0, 0, 0])
    want = ref.sampling_forward(x, t, interpolation=interpolation, fill_mode=fill_mode, fill_value=0.5)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make", AFFINE + ALL_RANDOM[4:])
def test_training_backward_vs_fd(make, rng):
    layer = make(seed=11)
    x = _images(rng, n=2, shape=(4, 5, 2))
    if isinstance(layer, (L.RandomContrast, L.RandomBrightness)):
        x *= 2.0  # some values beyond value_range (-3, 3): the clip's zero gradient is checked too
    ctx, _ = _check_training_backward(layer, x, rng)


def test_rotation_matrix_is_keras():
    """Keras: angle ~ U(lower·2π, upper·2π); [cos, −sin, x_off, sin, cos, y_off, 0, 0]."""
    t = P.rotation_transforms([math.pi / 2], 5, 7)[0]
    # a quarter turn about the centre (3, 2) of a 5×7 image: output (x, y) reads (3 − (y − 2), 2 + (x − 3))
    for x, y in [(0, 0), (6, 4), (3, 2), (1, 3)]:
        xs, ys = t[0] * x + t[1] * y + t[2], t[3] * x + t[4] * y + t[5]
        assert xs == pytest.approx(3 - (y - 2), abs=1e-5) and ys == pytest.approx(2 + (x - 3), abs=1e-5)
    layer = L.RandomRotation((0.25, 0.25), seed=0)
    np.testing.assert_allclose(layer.draw((2, 5, 7, 1)), np.stack([t, t]), atol=1e-6)


def test_translation_and_zoom_matrices_are_keras():
    layer = L.RandomTranslation((0.5, 0.5), (-0.25, -0.25), seed=0)
    np.testing.assert_allclose(layer.draw((1, 4, 8, 1))[0], [1, 0, 2, 0, 1, -2, 0, 0])  # dx = −2, dy = +2
    x = np.arange(32, dtype=np.float32).reshape(1, 4, 8, 1)
    y = L.RandomTranslation((0.5, 0.5), 0.0, fill_mode="constant", seed=0)(x, training=True)
    np.testing.assert_array_equal(y[0, 2:], x[0, :2])  # shifted down by two rows
    np.testing.assert_array_equal(y[0, :2], 0)
    z = L.RandomZoom((1.0, 1.0), seed=0).draw((1, 5, 9, 1))[0]  # zoom factor 2 both ways
    np.testing.assert_allclose(z, [2, 0, -4, 0, 2, -2, 0, 0])


def test_flip_modes_and_draws(rng):
    x = _images(rng, n=40, shape=(3, 4, 1))
    for mode, fn in [("horizontal", lambda a: a[:, ::-1]), ("vertical", lambda a: a[::-1]),
                     ("horizontal_and_vertical", lambda a: a[::-1, ::-1])]:
        layer = L.RandomFlip(mode, seed=2)
        ctx = {}
        y = layer.forward(x, ctx, True)
        flips = ctx["flips"]
        assert 5 < flips.sum() < 35
        for i in range(len(x)):
            np.testing.assert_array_equal(y[i], fn(x[i]) if flips[i] else x[i])
        np.testing.assert_array_equal(layer.backward(y, ctx), x)  # involution


def test_contrast_and_brightness_vs_reference_and_ranges(rng):
    x = rng.uniform(0, 255, (8, 5, 4, 3)).astype(np.float32)
    layer = L.RandomContrast(0.5, seed=4)
    ctx = {}
    y = layer.forward(x, ctx, True)
    f = ctx["factors"]
    assert ((f >= 1.0) & (f <= 1.5)).all()  # Keras: a number factor f means U(1 − 0, 1 + f)
    m = x.astype(np.float64).mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y, np.clip((x - m) * f[:, None, None, None] + m, 0, 255), rtol=1e-5, atol=1e-3)
    assert y.min() >= 0 and y.max() <= 255
    assert L.RandomContrast((0.3, 0.3), seed=1).draw((500,)).min() < 0.75  # pair: U(0.7, 1.3)

    b = L.RandomBrightness((-0.2, 0.1), value_range=(0, 255), seed=4)
    ctx = {}
    y = b.forward(x, ctx, True)
    d = ctx["deltas"]
    assert ((d >= -0.2 * 255) & (d <= 0.1 * 255)).all() and d.std() > 1
    np.testing.assert_allclose(y, np.clip(x + d[:, None, None, None], 0, 255), rtol=1e-6)
    assert y.min() >= 0 and y.max() <= 255


@pytest.mark.parametrize("make", ALL_RANDOM + [lambda **k: L.RandomCrop(3, 4, **k)])
def test_seeded_reproducibility(make, rng):
    x = _images(rng, n=4)
    a = [make(seed=7)(x, training=True) for _ in range(2)]
    np.testing.assert_array_equal(a[0], a[1])  # same seed, fresh layers → same output
    layer = make(seed=7)
    first, second = layer(x, training=True), layer(x, training=True)
    assert not np.array_equal(first, second)  # the generator advances between calls
    baeum.utils.set_random_seed(123)
    g1 = make()(x, training=True)
    baeum.utils.set_random_seed(123)
    g2 = make()(x, training=True)
    np.testing.assert_array_equal(g1, g2)  # unseeded layers follow set_random_seed
    clone = type(layer).from_config(make(seed=7).get_config())
    np.testing.assert_array_equal(clone(x, training=True), first)


# ---- RandomCrop ---------------------------------------------------------------------------------
def test_random_crop_training_windows_and_backward(rng):
    x = _images(rng, n=2, shape=(9, 8, 3))
    layer = L.RandomCrop(4, 5, seed=0)
    seen = set()
    for _ in range(30):
        ctx = {}
        y = layer.forward(x, ctx, True)
        h0, w0, ch, cw = ctx["box"]
        assert (ch, cw) == (4, 5) and 0 <= h0 <= 5 and 0 <= w0 <= 3
        np.testing.assert_array_equal(y, x[:, h0:h0 + 4, w0:w0 + 5])
        seen.add((h0, w0))
        dx = layer.backward(np.ones_like(y), ctx)
        assert dx.shape == x.shape and dx.sum() == y.size and dx[:, h0:h0 + 4, w0:w0 + 5].min() == 1
    assert len(seen) > 5


def test_random_crop_inference_and_small_images(rng):
    x = _images(rng, n=2, shape=(8, 12, 1))
    # inference: largest centred window with aspect 4:4 → 8×8 at column 2, resized to 4×4
    y = L.RandomCrop(4, 4)(x)
    win = x[:, :, 2:10]
    assert P.center_crop_box(8, 12, 4, 4) == (0, 2, 8, 8)
    want = 0.25 * (win[:, 0::2, 0::2] + win[:, 1::2, 0::2] + win[:, 0::2, 1::2] + win[:, 1::2, 1::2])
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)  # half-pixel bilinear halving = 2×2 mean
    # exact-size centre crop at inference needs no resize
    np.testing.assert_array_equal(L.RandomCrop(8, 12)(x), x)
    # training on an image not larger than the target on both axes: centre + resize, backward exact
    layer = L.RandomCrop(10, 6, seed=0)
    ctx, y = _check_training_backward(layer, x, rng)
    assert y.shape == (2, 10, 6, 1) and ctx["box"] == P.center_crop_box(8, 12, 10, 6)


# ---- Normalization --------------------------------------------------------------------------------
def test_normalization_adapt_numbers():
    data = np.array([[0., 7., 4.], [2., 9., 6.], [0., 7., 4.], [2., 9., 6.]], np.float32)
    layer = L.Normalization(axis=-1)
    layer.adapt(data)
    np.testing.assert_allclose(layer.adapt_mean.value, [1, 8, 5])
    np.testing.assert_allclose(layer.adapt_variance.value, [1, 1, 1])
    np.testing.assert_allclose(layer(np.array([[0., 7., 4.]])), [[-1, -1, -1]])
    assert layer.count_params() == 7  # mean 3 + variance 3 + count 1, as Keras's summary
    assert [v.name for v in layer.non_trainable_weights] == ["mean", "variance", "count"]
    inv = L.Normalization(axis=-1, invert=True)
    inv.adapt(data)
    np.testing.assert_allclose(inv(np.array([[1., 2., 3.]])), [[2., 10., 8.]])
    scalar = L.Normalization(axis=None)
    scalar.adapt(np.array([[1.], [2.], [3.], [4.], [5.]], np.float32))
    np.testing.assert_allclose(scalar(np.array([[1.], [2.], [3.]])).ravel(), [-1.4142135, -0.70710677, 0.], rtol=1e-6)
    # batches combine exactly like the whole array
    rng = np.random.default_rng(0)
    big = rng.standard_normal((50, 4, 3)) * 3 + 1
    whole, parts = L.Normalization(axis=(1, 2)), L.Normalization(axis=(1, 2))
    whole.adapt(big)
    parts.adapt([big[:7], big[7:30], big[30:]])
    np.testing.assert_allclose(parts.adapt_mean.value, big.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(parts.adapt_variance.value, big.var(axis=0), rtol=1e-5)
    np.testing.assert_allclose(whole.adapt_variance.value, big.var(axis=0), rtol=1e-5)


def test_normalization_given_values_and_backward(rng):
    layer = L.Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(layer(np.array([[1.], [2.], [3.]])).ravel(), [-1.4142135, -0.70710677, 0.], rtol=1e-6)
    assert layer.count_params() == 0
    layer = L.Normalization(axis=-1)
    layer.adapt(rng.standard_normal((20, 3)) * [1, 2, 0])  # a constant feature: std clamps at 1e-7
    ctx = {}
    layer.forward(np.ones((2, 3), np.float32), ctx, True)
    dx = layer.backward(np.ones((2, 3), np.float32), ctx)
    np.testing.assert_allclose(dx[0, :2], 1 / np.sqrt(layer.adapt_variance.value[:2]), rtol=1e-5)
    assert dx[0, 2] == pytest.approx(1e7, rel=1e-3)


# ---- errors ------------------------------------------------------------------------------------
def test_errors():
    with pytest.raises(ValueError, match=r"\(samples, height, width, channels\).*reshape\(-1, 8, 8, 1\)"):
        L.RandomRotation(0.1)(np.zeros((2, 8, 8), np.float32), training=True)
    with pytest.raises(ValueError, match=r"flattened 8×8 grayscale image.*reshape\(-1, 8, 8, 1\)"):
        L.RandomFlip()(np.zeros((2, 64), np.float32))
    with pytest.raises(ValueError, match="RandomZoom 'zz'.*received input shape \\(None, 8, 8\\)"):
        from baeum.models import Sequential
        Sequential([L.Input((8, 8)), L.RandomZoom(0.1, name="zz")])
    with pytest.raises(ValueError, match="factor"):
        L.RandomRotation(1.5)
    with pytest.raises(ValueError, match="height_factor"):
        L.RandomZoom((0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="width_factor"):
        L.RandomTranslation(0.1, "wide")
    with pytest.raises(ValueError, match="factor"):
        L.RandomContrast(-0.1)
    with pytest.raises(ValueError, match="factor"):
        L.RandomBrightness(2)
    with pytest.raises(ValueError, match="value_range"):
        L.RandomBrightness(0.1, value_range=5)
    with pytest.raises(ValueError, match="mode"):
        L.RandomFlip("diagonal")
    with pytest.raises(NotImplementedError, match="fill_mode"):
        L.RandomZoom(0.1, fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="interpolation"):
        L.RandomRotation(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="positive integer"):
        L.RandomCrop(0, 3)
    with pytest.raises(ValueError, match="both mean and variance"):
        L.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="batch axis"):
        L.Normalization(axis=0).adapt(np.zeros((4, 2)))
    with pytest.raises(TypeError, match="unexpected keyword"):
        L.RandomFlip(bogus=1)


def test_in_a_sequential_model_trains_and_is_identity_in_predict(rng):
    from baeum.models import Sequential
    baeum.utils.set_random_seed(0)
    model = Sequential([L.Input((6, 6, 1)), L.Rescaling(0.5), L.RandomFlip("horizontal"),
                        L.RandomRotation(0.05), L.RandomZoom(0.1), L.RandomTranslation(0.1, 0.1),
                        L.RandomContrast(0.1, value_range=(0, 1)), L.RandomBrightness(0.05, value_range=(0, 1)),
                        L.RandomCrop(5, 5), L.Flatten(), L.Dense(2, activation="softmax")])
    x = rng.uniform(0, 1, (32, 6, 6, 1)).astype(np.float32)
    y = (x[:, :3].mean(axis=(1, 2, 3)) > x[:, 3:].mean(axis=(1, 2, 3))).astype(np.int64)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    def no_backward(*args, **kwargs):
        raise AssertionError("layers below the first trainable layer need no backward")
    for layer in model.layers[:-2]:
        layer.backward = no_backward
    hist = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
