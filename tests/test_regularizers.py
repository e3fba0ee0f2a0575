import numpy as np
import pytest

from baeum import regularizers as R


def finite_diff(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


W = np.array([[0.5, -1.5, 2.0], [-0.25, 3.0, -0.75]])


def test_values_match_keras_formulas():
    assert R.L1(0.1)(W) == pytest.approx(0.1 * 8.0)
    assert R.L2(0.1)(W) == pytest.approx(0.1 * np.sum(W ** 2))
    assert R.L2(0.5)(np.ones(1)) == pytest.approx(0.5)  # no 1/2 factor (Keras ✔run)
    assert R.L1L2(0.1, 0.2)(W) == pytest.approx(0.1 * 8.0 + 0.2 * np.sum(W ** 2))
    assert isinstance(R.L1()(W), float)


def test_keras_defaults():
    assert R.L1().l1 == 0.01 and R.L2().l2 == 0.01
    assert (R.L1L2().l1, R.L1L2().l2) == (0.0, 0.0)
    assert R.l1_l2()(W) == 0.0  # Keras 3: l1_l2() with no args is a no-op
    assert R.get("l1").l1 == 0.01 and R.get("l2").l2 == 0.01
    assert R.L1(None).l1 == 0.01 and R.L1L2(None, 0.3).l1 == 0.0


@pytest.mark.parametrize("reg", [R.L1(0.3), R.L2(0.7), R.L1L2(0.2, 0.4), R.L1L2(0.0, 0.0),
                                 R.OrthogonalRegularizer(0.3),
                                 R.OrthogonalRegularizer(0.5, mode="columns")])
def test_gradients_vs_finite_differences(reg):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5))
    x[np.abs(x) < 0.05] = 0.3  # keep away from |x|'s kink for the FD check
    np.testing.assert_allclose(reg.gradient(x), finite_diff(reg, x), rtol=1e-6, atol=1e-8)


def test_gradient_dtype_shape_and_zero_subgradient():
    x = np.array([-2.0, 0.0, 3.0], dtype=np.float32)
    g = R.L1(0.5).gradient(x)
    assert g.dtype == np.float32 and g.shape == (3,)
    np.testing.assert_array_equal(g, [-0.5, 0.0, 0.5])
    np.testing.assert_allclose(R.L2(0.25).gradient(x), [-1.0, 0.0, 1.5])
    assert R.L2().gradient(np.zeros((2, 0))).shape == (2, 0)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_bad_factors(bad):
    with pytest.raises(ValueError, match="non-negative"):
        R.L1(bad)
    with pytest.raises(ValueError, match="non-negative"):
        R.L1L2(l2=bad)


def test_get():
    assert type(R.get("l1")) is R.L1 and type(R.get("L2")) is R.L2
    assert type(R.get("l1l2")) is R.L1L2 and type(R.get("L1L2")) is R.L1L2
    reg = R.L2(0.3)
    assert R.get(reg) is reg and R.get(None) is None
    assert type(R.get(R.L1)) is R.L1
    fn = lambda w: 0.0  # noqa: E731
    assert R.get(fn) is fn
    assert R.get({"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}).get_config() == \
        {"l1": 0.1, "l2": 0.2}
    with pytest.raises(ValueError, match="l1l2"):
        R.get("l1_l2")  # not a valid string in Keras 3 (the function l1_l2 is)
    with pytest.raises(ValueError, match="Valid names"):
        R.get("dropout")
    assert type(R.get("orthogonal_regularizer")) is R.OrthogonalRegularizer


def test_config_round_trip():
    for reg in [R.L1(0.2), R.L2(0.3), R.L1L2(0.1, 0.4), R.OrthogonalRegularizer(0.2, "columns")]:
        clone = type(reg).from_config(reg.get_config())
        assert clone.get_config() == reg.get_config()
        assert clone(W) == reg(W)
        assert R.deserialize(R.serialize(reg)).get_config() == reg.get_config()
    assert R.L1(0.2).get_config() == {"l1": 0.2}


def test_orthogonal_regularizer_values():
    reg = R.OrthogonalRegularizer(factor=0.5)
    # orthogonal rows -> 0; identical rows -> mean |cos| = 1 -> factor * 0.5 * 2 / 1
    assert reg(np.array([[2.0, 0.0], [0.0, -3.0]])) == pytest.approx(0.0)
    assert reg(np.array([[1.0, 1.0], [2.0, 2.0]])) == pytest.approx(0.5)
    # 3 rows, cosines c01 = 0.6, c02 = 0, c12 = 0.8: 0.5 * 0.5 * 2 * 1.4 / 3
    w = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 5.0]])
    assert reg(w) == pytest.approx(0.5 * 0.5 * 2 * (0.6 + 0.0 + 0.8) / 3)
    assert R.OrthogonalRegularizer(0.5, "columns")(w.T) == pytest.approx(reg(w))
    assert reg(np.ones((1, 4))) == 0.0  # no pairs (Keras: NaN)
    assert reg.gradient(np.ones((1, 4))).shape == (1, 4)
    with pytest.raises(ValueError, match="2-D"):
        reg(np.ones(3))
    with pytest.raises(ValueError, match="mode"):
        R.OrthogonalRegularizer(mode="diag")
