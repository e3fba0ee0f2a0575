"""baeum.losses: Keras values, reductions, sample weights, fused paths, get(), errors."""
import numpy as np
import pytest

from baeum import losses, reference

YT = [[0.0, 1.0], [0.0, 0.0]]
YP = [[0.6, 0.4], [0.4, 0.6]]


@pytest.mark.parametrize("loss,yt,yp,want", [  # values from Keras docstrings / by hand
    (losses.MeanSquaredError(), YT, YP, 0.31),
    (losses.MeanAbsoluteError(), YT, YP, 0.55),
    (losses.Huber(), YT, YP, 0.155),
    (losses.BinaryCrossentropy(), YT, YP, 0.81492424),
    (losses.BinaryCrossentropy(from_logits=True), [0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8],
     0.865458),
    (losses.CategoricalCrossentropy(), [[0, 1, 0], [0, 0, 1]],
     [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], 1.1769392),
    (losses.SparseCategoricalCrossentropy(), [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
     1.1769392),
    (losses.Hinge(), YT, YP, 1.3),
    (losses.SquaredHinge(), YT, YP, 1.86),
    (losses.KLDivergence(), YT, YP, 0.45814306),
    (losses.MeanAbsolutePercentageError(), [[1.0, 2.0]], [[1.5, 1.0]], 50.0),
    (losses.MeanSquaredLogarithmicError(), [[np.e - 1]], [[np.e ** 2 - 1]], 1.0),
    (losses.LogCosh(), [[0.0]], [[1.0]], np.log(np.cosh(1.0))),
    (losses.CategoricalHinge(), YT, YP, 1.4),
    (losses.Poisson(), YT, YP, 0.5 + (-np.log(0.4) * 0.5) / 2),
    (losses.CosineSimilarity(), [[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]], -0.5),
])
def test_keras_values(loss, yt, yp, want):
    assert loss(yt, yp) == pytest.approx(want, rel=1e-5)
    value, grad = loss.value_and_grad(yt, yp)
    assert value == pytest.approx(want, rel=1e-5)
    assert grad.shape == np.shape(yp) and grad.dtype == np.float32


def test_reductions_and_sample_weight():
    yt = np.zeros((4, 1))
    yp = np.array([[1.0], [2.0], [3.0], [4.0]])
    w = [1.0, 0.0, 0.0, 0.0]
    # Keras divides by the number of entries, not by sum(w)
    assert losses.MeanSquaredError()(yt, yp, sample_weight=w) == pytest.approx(0.25)
    assert losses.MeanSquaredError(reduction="mean")(yt, yp, sample_weight=w) == 0.25
    assert losses.MeanSquaredError(reduction="mean_with_sample_weight")(
        yt, yp, sample_weight=w) == pytest.approx(1.0)
    assert losses.MeanSquaredError(reduction="sum")(yt, yp) == pytest.approx(30.0)
    none = losses.MeanSquaredError(reduction="none")(yt, yp, sample_weight=[1, 2, 1, 1])
    np.testing.assert_allclose(none, [1, 8, 9, 16])
    value, grad = losses.MeanSquaredError(reduction=None).value_and_grad(yt, yp)
    assert value == pytest.approx(30.0)  # fit sums an unreduced loss
    np.testing.assert_allclose(grad, 2 * yp)
    # (N, 1) weights are aligned to (N,) per-sample losses
    assert losses.MeanSquaredError()(yt, yp, sample_weight=np.array(w)[:, None]) == 0.25
    with pytest.raises(ValueError, match="sample_weight"):
        losses.MeanSquaredError()(yt, yp, sample_weight=[1, 2])
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")


@pytest.mark.parametrize("n", [0, 1, 7])
@pytest.mark.parametrize("make", [losses.MeanSquaredError, losses.MeanAbsoluteError,
                                  losses.Huber, losses.BinaryCrossentropy,
                                  losses.CategoricalCrossentropy, losses.KLDivergence])
def test_batch_sizes_against_formula(rng, n, make):
    yt = np.eye(3)[rng.integers(0, 3, n)] if n else np.zeros((0, 3))
    yp = rng.random((n, 3)) * 0.9 + 0.05
    w = rng.random(n)
    loss = make()
    per = {losses.MeanSquaredError: lambda: ((yt - yp) ** 2).mean(1),
           losses.MeanAbsoluteError: lambda: np.abs(yt - yp).mean(1),
           losses.Huber: lambda: np.where(np.abs(yp - yt) <= 1, 0.5 * (yp - yt) ** 2,
                                          np.abs(yp - yt) - 0.5).mean(1),
           losses.BinaryCrossentropy: lambda: -(yt * np.log(yp)
                                                + (1 - yt) * np.log(1 - yp)).mean(1),
           losses.CategoricalCrossentropy: lambda: -(yt * np.log(
               yp / yp.sum(1, keepdims=True))).sum(1),
           losses.KLDivergence: lambda: (np.clip(yt, 1e-7, 1) * np.log(
               np.clip(yt, 1e-7, 1) / yp)).sum(1)}[make]()
    want = float((per * w).sum() / n) if n else 0.0
    assert loss(yt, yp, sample_weight=w) == pytest.approx(want, rel=1e-5, abs=1e-7)
    value, grad = loss.value_and_grad(yt, yp, sample_weight=w)
    assert value == pytest.approx(want, rel=1e-5, abs=1e-7) and grad.shape == (n, 3)
    np.testing.assert_allclose(loss.call(yt, yp), per, rtol=1e-5)


def test_label_smoothing():
    yt, yp = np.array([[1.0, 0.0]]), np.array([[0.7, 0.3]])
    t = np.array([[0.95, 0.05]])  # 1*(1-.1) + .1/2
    want = -(t * np.log(yp)).sum()
    assert losses.CategoricalCrossentropy(label_smoothing=0.1)(yt, yp) == pytest.approx(want)
    want_b = -(t * np.log(yp) + (1 - t) * np.log(1 - yp)).mean()
    assert losses.BinaryCrossentropy(label_smoothing=0.1)(yt, yp) == pytest.approx(want_b)


def test_probability_clipping_as_keras():
    # every CE term is capped at -log(1e-7) ≈ 16.118 and its gradient through the clip is 0
    v, g = losses.BinaryCrossentropy().value_and_grad([[1.0]], [[0.0]])
    assert v == pytest.approx(-np.log(np.float32(1e-7)), rel=1e-6)
    assert g[0, 0] == 0.0
    v, g = losses.CategoricalCrossentropy().value_and_grad([[1.0, 0.0]], [[0.0, 1.0]])
    assert v == pytest.approx(16.118095, rel=1e-6)


def test_n_vs_n1_targets_only_that_pair_is_squeezed():
    yp = np.array([[0.2], [0.9], [0.6]])
    for yt in ([0, 1, 1], [[0], [1], [1]]):
        v, g = losses.BinaryCrossentropy().value_and_grad(yt, yp)
        assert v == pytest.approx(-np.mean(np.log([0.8, 0.9, 0.6])), rel=1e-6)
        assert g.shape == (3, 1)
    v, g = losses.MeanSquaredError().value_and_grad([[1.0], [2.0]], [1.5, 2.0])
    assert v == pytest.approx(0.125) and g.shape == (2,)
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 2\)"):
        losses.MeanSquaredError()([1, 2, 3], np.zeros((3, 2)))


def test_wrong_target_kind_messages():
    probs = np.full((3, 4), 0.25)
    with pytest.raises(ValueError, match="to_categorical.*SparseCategoricalCrossentropy"):
        losses.CategoricalCrossentropy()([0, 1, 3], probs)
    with pytest.raises(ValueError, match="to_categorical"):
        losses.CategoricalCrossentropy()([[0], [1], [3]], probs)
    with pytest.raises(ValueError, match="one-hot.*CategoricalCrossentropy"):
        losses.SparseCategoricalCrossentropy()(np.eye(4)[[0, 1, 3]], probs)
    with pytest.raises(ValueError, match=r"\[0, 4\).*subtract 1"):
        losses.SparseCategoricalCrossentropy()([1, 2, 4], probs)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        losses.SparseCategoricalCrossentropy().value_and_grad_logits([-1, 2, 3], probs, "softmax")
    with pytest.raises(ValueError, match="integer"):
        losses.SparseCategoricalCrossentropy()([0.5, 1, 2], probs)


@pytest.mark.parametrize("kind", ["bce", "cce", "scce", "cce3d"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none",
                                       "mean_with_sample_weight"])
def test_fused_equals_unfused_for_moderate_logits(rng, kind, reduction):
    n = 7
    if kind == "bce":
        loss, act, z = losses.BinaryCrossentropy(label_smoothing=0.1), "sigmoid", \
            rng.normal(size=(n, 3)) * 3
        yt = (rng.random((n, 3)) > 0.5).astype(np.float32)
        p = 1 / (1 + np.exp(-z))
    else:
        shape = (n, 5, 4) if kind == "cce3d" else (n, 4)
        z = rng.normal(size=shape) * 3
        p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
        labels = rng.integers(0, 4, shape[:-1])
        act = "softmax"
        if kind == "scce":
            loss, yt = losses.SparseCategoricalCrossentropy(), labels
        else:
            loss, yt = losses.CategoricalCrossentropy(label_smoothing=0.05), np.eye(4)[labels]
    loss.reduction = reduction
    z = z.astype(np.float32)
    p = p.astype(np.float32)
    sw = rng.random(n) + 0.5
    value, dz = loss.value_and_grad_logits(yt, z, act, sample_weight=sw)
    ref_value, dp = loss.value_and_grad(yt, p, sample_weight=sw)
    assert dz.shape == z.shape and dz.dtype == np.float32
    # float32 probabilities lose digits as p → 0 or 1, so "equal" here means float32 round-off
    # of the probabilities, not of the loss; the gradient check below is the sharper one.
    assert value == pytest.approx(ref_value, rel=1e-5)
    # chain rule through the activation, done by hand on the unfused gradient
    dp = dp.astype(np.float64)
    if act == "sigmoid":
        want = dp * p * (1 - p)
    else:
        want = p * (dp - (dp * p).sum(-1, keepdims=True))
    np.testing.assert_allclose(dz, want, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("kind", ["bce", "cce", "scce"])
def test_fused_is_stable_for_huge_logits(kind):
    z = np.array([[1e4, -1e4, 5.0], [-1e4, 1e4, -1e4]], np.float32)
    if kind == "bce":
        loss, act, yt = losses.BinaryCrossentropy(), "sigmoid", np.array([[0, 1, 1], [0, 1, 0.]])
    elif kind == "cce":
        loss, act, yt = losses.CategoricalCrossentropy(), "softmax", np.eye(3)[[1, 1]]
    else:
        loss, act, yt = losses.SparseCategoricalCrossentropy(), "softmax", [1, 1]
    value, dz = loss.value_and_grad_logits(yt, z, act)
    assert np.isfinite(value) and np.all(np.isfinite(dz))
    if kind == "bce":
        want = (2e4 + np.log1p(np.exp(-5.0))) / 6
        np.testing.assert_allclose(dz[0], np.array([1, -1, 1 / (1 + np.exp(-5.0)) - 1]) / 6,
                                   rtol=1e-6)
    else:
        want = 2e4 / 2
        np.testing.assert_allclose(dz, [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-7)
    assert value == pytest.approx(want, rel=1e-6)
    # the from_logits loss gives the same numbers through value_and_grad
    fl = type(loss)(from_logits=True)
    v2, g2 = fl.value_and_grad(yt, z)
    assert v2 == pytest.approx(value, rel=1e-7)
    np.testing.assert_array_equal(g2, dz)


def test_no_fused_path_returns_none():
    z = np.zeros((2, 3), np.float32)
    t = np.eye(3)[[0, 1]]
    assert losses.MeanSquaredError().value_and_grad_logits(t, z, "sigmoid") is None
    assert losses.BinaryCrossentropy().value_and_grad_logits(t, z, "softmax") is None
    assert losses.CategoricalCrossentropy().value_and_grad_logits(t, z, "sigmoid") is None
    assert losses.CategoricalCrossentropy(from_logits=True).value_and_grad_logits(
        t, z, "softmax") is None
    assert losses.CategoricalCrossentropy().value_and_grad_logits(t, z, None) is None

    def softmax(x):  # an activation function object is recognised by its name
        return x

    assert losses.CategoricalCrossentropy().value_and_grad_logits(t, z, softmax) is not None


def test_ignore_class():
    yp = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    want = -(np.log(0.7) + np.log(0.8)) / 2  # mean over the 2 valid samples
    assert loss([0, 1, -1], yp) == pytest.approx(want, rel=1e-6)
    v, g = loss.value_and_grad_logits([0, 1, -1], np.log(yp).astype(np.float32), "softmax")
    assert v == pytest.approx(want, rel=1e-5)
    assert np.all(g[2] == 0)
    np.testing.assert_allclose(loss.call([0, 1, -1], yp), [-np.log(0.7), -np.log(0.8), 0],
                               rtol=1e-6)


def test_names_function_forms_and_config():
    names = {losses.MeanSquaredError: "mean_squared_error",
             losses.MeanAbsoluteError: "mean_absolute_error",
             losses.MeanAbsolutePercentageError: "mean_absolute_percentage_error",
             losses.MeanSquaredLogarithmicError: "mean_squared_logarithmic_error",
             losses.BinaryCrossentropy: "binary_crossentropy",
             losses.CategoricalCrossentropy: "categorical_crossentropy",
             losses.SparseCategoricalCrossentropy: "sparse_categorical_crossentropy",
             losses.Huber: "huber_loss", losses.Hinge: "hinge",
             losses.KLDivergence: "kl_divergence", losses.Poisson: "poisson",
             losses.CategoricalHinge: "categorical_hinge",
             losses.CosineSimilarity: "cosine_similarity"}
    for cls, name in names.items():
        assert cls().name == name
        assert cls().reduction == "sum_over_batch_size"
    per = losses.mse(YT, YP)
    assert per.dtype == np.float32
    np.testing.assert_allclose(per, [0.36, 0.26], rtol=1e-6)
    assert losses.MSE is losses.mean_squared_error and losses.kld is losses.kl_divergence
    np.testing.assert_allclose(losses.binary_crossentropy([[1.0]], [[0.5]]), [np.log(2)],
                               rtol=1e-6)
    h = losses.Huber(delta=2.0, reduction="sum", name="h")
    h2 = losses.Huber.from_config(h.get_config())
    assert (h2.delta, h2.reduction, h2.name) == (2.0, "sum", "h")
    b = losses.deserialize(losses.serialize(losses.BinaryCrossentropy(label_smoothing=0.2)))
    assert isinstance(b, losses.BinaryCrossentropy) and b.label_smoothing == 0.2


def test_get():
    for s, cls in [("mse", losses.MeanSquaredError), ("MAE", losses.MeanAbsoluteError),
                   ("binary_crossentropy", losses.BinaryCrossentropy),
                   ("BinaryCrossentropy", losses.BinaryCrossentropy),
                   ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
                   ("kld", losses.KLDivergence), ("huber", losses.Huber)]:
        assert type(losses.get(s)) is cls
    assert losses.get("mse").name == "mse"
    assert losses.get("BinaryCrossentropy").name == "binary_crossentropy"
    inst = losses.Huber()
    assert losses.get(inst) is inst
    assert type(losses.get(losses.Hinge)) is losses.Hinge
    assert type(losses.get(losses.categorical_crossentropy)) is losses.CategoricalCrossentropy
    assert type(losses.get("crossentropy", y_true_shape=(5,), y_pred_shape=(5, 3))) is \
        losses.SparseCategoricalCrossentropy
    assert type(losses.get("ce", y_true_shape=(5, 1), y_pred_shape=(5, 1))) is \
        losses.BinaryCrossentropy
    assert losses.get(None) is None
    with pytest.raises(ValueError, match="Valid names.*binary_crossentropy"):
        losses.get("binary_cross_entropy")


def test_custom_callable_loss():
    def my_loss(y_true, y_pred):
        return np.abs(y_true - y_pred).max(axis=-1)

    loss = losses.get(my_loss)
    assert loss.name == "my_loss"
    assert loss([[0.0, 1.0]], [[0.5, 3.0]]) == pytest.approx(2.0)
    with pytest.raises(NotImplementedError, match="gradient"):
        loss.value_and_grad([[0.0, 1.0]], [[0.5, 3.0]])


def test_unsupported_options_raise():
    with pytest.raises(NotImplementedError, match="axis"):
        losses.CategoricalCrossentropy(axis=1)
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.BinaryCrossentropy(label_smoothing=2.0)


def test_ignore_class_segmentation_shapes(rng):
    z = rng.normal(size=(2, 3, 4)).astype(np.float32)  # (N, H*W, C) logits
    y = np.array([[0, 255, 3], [255, 1, 2]])[..., None]  # (N, H*W, 1) with a void label
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)
    v, g = loss.value_and_grad(y, z)
    logp = z - np.log(np.exp(z.astype(np.float64)).sum(-1, keepdims=True))
    valid = [(0, 0, 0), (0, 2, 3), (1, 1, 1), (1, 2, 2)]
    assert v == pytest.approx(-np.mean([logp[i, j, k] for i, j, k in valid]), rel=1e-5)
    assert g.shape == z.shape and np.all(g[0, 1] == 0) and np.all(g[1, 0] == 0)
    fused = losses.SparseCategoricalCrossentropy(ignore_class=255).value_and_grad_logits(
        y, z, "softmax")
    assert fused[0] == pytest.approx(v, rel=1e-7)
    np.testing.assert_array_equal(fused[1], g)
