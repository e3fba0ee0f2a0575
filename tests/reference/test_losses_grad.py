"""Every reference/loss gradient vs central finite differences, in float64."""
import numpy as np
import pytest

from baeum import losses, reference


def numeric_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        g[i] = (fp - fm) / (2 * h)
    return g


def _ref_total(name, target, dloss, **kw):
    fn = getattr(reference, name)
    return lambda z: float(np.dot(fn(z, target, **kw)[0].astype(np.float64), dloss))


@pytest.mark.parametrize("ls", [0.0, 0.3])
def test_reference_softmax_ce_grad(rng, ls):
    z = rng.normal(size=(4, 5)) * 2
    t = rng.random((4, 5))  # soft targets: Σt' != 1 exercises the p·Σt' term
    dloss = rng.random(4)
    # the reference returns float32; recompute in float64 for FD through its formula
    f = lambda zz: float(np.dot(-(((t * (1 - ls) + ls / 5)) * (zz - zz.max(1, keepdims=True)
        - np.log(np.exp(zz - zz.max(1, keepdims=True)).sum(1, keepdims=True)))).sum(1), dloss))
    _, g = reference.softmax_cross_entropy(z, t, label_smoothing=ls, dloss=dloss)
    np.testing.assert_allclose(g, numeric_grad(f, z.copy()), rtol=1e-5, atol=1e-6)
    loss, _ = reference.softmax_cross_entropy(z, t, label_smoothing=ls)
    np.testing.assert_allclose(np.dot(loss, dloss), f(z), rtol=1e-6)


def test_reference_sparse_ce_grad(rng):
    z = rng.normal(size=(6, 4)) * 2
    y = rng.integers(0, 4, 6)
    dloss = rng.random(6)
    f = lambda zz: float(np.dot(np.log(np.exp(zz).sum(1)) - zz[np.arange(6), y], dloss))
    _, g = reference.sparse_softmax_cross_entropy(z, y, dloss=dloss)
    np.testing.assert_allclose(g, numeric_grad(f, z.copy()), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ls", [0.0, 0.2])
def test_reference_sigmoid_bce_grad(rng, ls):
    z = rng.normal(size=(5, 3)) * 3
    t = (rng.random((5, 3)) > 0.5).astype(np.float64)
    dloss = rng.random(5)
    tt = t * (1 - ls) + 0.5 * ls
    f = lambda zz: float(np.dot(-(tt * np.log(1 / (1 + np.exp(-zz)))
                                  + (1 - tt) * np.log(1 - 1 / (1 + np.exp(-zz)))).mean(1), dloss))
    _, g = reference.sigmoid_binary_crossentropy(z, t, label_smoothing=ls, dloss=dloss)
    np.testing.assert_allclose(g, numeric_grad(f, z.copy()), rtol=1e-5, atol=1e-6)
    loss, _ = reference.sigmoid_binary_crossentropy(z, t, label_smoothing=ls)
    np.testing.assert_allclose(np.dot(loss, dloss), f(z), rtol=1e-6)


# --- every Loss class: value_and_grad's gradient is d(value)/d(y_pred) -----------------

def _cases(rng):
    yr = rng.normal(size=(5, 3))
    pr = rng.normal(size=(5, 3))
    pos = rng.random((5, 3)) * 2 + 0.1
    prob = rng.random((5, 3)) * 0.8 + 0.1
    onehot = np.eye(3)[rng.integers(0, 3, 5)]
    binary = (rng.random((5, 3)) > 0.5).astype(np.float64)
    return [
        (losses.MeanSquaredError(), yr, pr),
        (losses.MeanAbsoluteError(), yr, pr),
        (losses.MeanAbsolutePercentageError(), yr, pr),
        (losses.MeanSquaredLogarithmicError(), pos, rng.random((5, 3)) * 2 + 0.1),
        (losses.Huber(delta=0.7), yr, pr),
        (losses.LogCosh(), yr, pr),
        (losses.Hinge(), binary, pr),
        (losses.Hinge(), np.sign(yr), pr),
        (losses.SquaredHinge(), binary, pr),
        (losses.KLDivergence(), prob / prob.sum(1, keepdims=True), prob),
        (losses.BinaryCrossentropy(), binary, prob),
        (losses.BinaryCrossentropy(label_smoothing=0.1), binary, prob),
        (losses.BinaryCrossentropy(from_logits=True), binary, pr),
        (losses.CategoricalCrossentropy(), onehot, prob),
        (losses.CategoricalCrossentropy(label_smoothing=0.2), onehot, prob),
        (losses.CategoricalCrossentropy(from_logits=True), onehot, pr),
        (losses.SparseCategoricalCrossentropy(), onehot.argmax(1), prob),
        (losses.SparseCategoricalCrossentropy(ignore_class=1), onehot.argmax(1), prob),
        (losses.CategoricalHinge(), onehot, pr),
        (losses.Poisson(), pos, rng.random((5, 3)) * 2 + 0.1),
        (losses.CosineSimilarity(), yr, pr),
    ]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
@pytest.mark.parametrize("idx", range(21))
def test_loss_grad_matches_finite_differences(rng, idx, reduction):
    loss, yt, yp = _cases(rng)[idx]
    loss.reduction = reduction
    sw = rng.random(5) + 0.5
    value, grad = loss.value_and_grad(yt, yp, sample_weight=sw)
    assert grad.dtype == np.float32 and grad.shape == yp.shape
    if "from_logits" in loss.get_config() and loss.from_logits:
        # float32 kernel: FD on the float64 reference formula of the same loss
        f = lambda p: _logits_reference_value(loss, yt, p, sw)
        atol = 1e-5
    else:
        f = lambda p: loss._value(yt, p, sw, grad=False)[0]
        atol = 1e-6
    num = numeric_grad(f, yp.astype(np.float64).copy())
    np.testing.assert_allclose(grad, num, rtol=1e-4, atol=atol)
    np.testing.assert_allclose(value, loss(yt, yp, sample_weight=sw), rtol=1e-6)


def _logits_reference_value(loss, yt, z, sw):
    name = ("sigmoid_binary_crossentropy" if isinstance(loss, losses.BinaryCrossentropy)
            else "softmax_cross_entropy")
    ls = loss.label_smoothing
    fn = {"sigmoid_binary_crossentropy": lambda zz: np.mean(
              np.maximum(zz, 0) - zz * (yt * (1 - ls) + 0.5 * ls)
              + np.log1p(np.exp(-np.abs(zz))), axis=1),
          "softmax_cross_entropy": lambda zz: -np.sum(
              (yt * (1 - ls) + ls / zz.shape[1]) * (zz - np.log(np.exp(zz).sum(1, keepdims=True))),
              axis=1)}[name]
    per = fn(z)
    if loss.reduction == "sum":
        return float(np.sum(per * sw))
    if loss.reduction == "mean_with_sample_weight":
        return float(np.sum(per * sw) / np.sum(sw))
    return float(np.sum(per * sw) / per.size)


@pytest.mark.parametrize("cls,act", [(losses.BinaryCrossentropy, "sigmoid"),
                                     (losses.CategoricalCrossentropy, "softmax"),
                                     (losses.SparseCategoricalCrossentropy, "softmax")])
def test_fused_grad_is_chain_rule_of_unfused(rng, cls, act):
    """d/dz loss(act(z)) from the fused kernel == FD of the unfused probability loss."""
    z = rng.normal(size=(6, 4))
    if cls is losses.SparseCategoricalCrossentropy:
        yt = rng.integers(0, 4, 6)
    elif cls is losses.CategoricalCrossentropy:
        yt = np.eye(4)[rng.integers(0, 4, 6)]
    else:
        yt = (rng.random((6, 4)) > 0.5).astype(np.float64)
    loss = cls()
    sw = rng.random(6)

    def activate(zz):
        if act == "sigmoid":
            return 1 / (1 + np.exp(-zz))
        e = np.exp(zz - zz.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    value, dz = loss.value_and_grad_logits(yt, z.astype(np.float32), act, sample_weight=sw)
    num = numeric_grad(lambda zz: loss._value(yt, activate(zz), sw, grad=False)[0], z.copy())
    np.testing.assert_allclose(dz, num, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(value, loss(yt, activate(z), sample_weight=sw), rtol=1e-5)
