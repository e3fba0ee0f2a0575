"""Learning-rate schedules: values at several steps equal Keras's formulas (§6.1)."""
import math

import numpy as np

import pytest

from baeum.optimizers import schedules as S

STEPS = [0, 1, 7, 10, 25, 99, 100, 101, 1000]


def test_exponential_decay():
    s = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    for t in STEPS:
        assert s(t) == pytest.approx(0.1 * 0.5 ** (t / 10), rel=1e-12)
    st = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [st(t) for t in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_inverse_time_decay():
    s = S.InverseTimeDecay(0.2, decay_steps=4, decay_rate=0.5)
    for t in STEPS:
        assert s(t) == pytest.approx(0.2 / (1 + 0.5 * t / 4), rel=1e-12)
    st = S.InverseTimeDecay(0.2, decay_steps=4, decay_rate=0.5, staircase=True)
    assert [st(t) for t in (3, 4, 9)] == pytest.approx([0.2, 0.2 / 1.5, 0.2 / 2.0])


def test_piecewise_constant_boundary_gets_earlier_value():
    s = S.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [s(t) for t in (0, 10, 11, 20, 21, 500)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    with pytest.raises(ValueError, match="1 less than"):
        S.PiecewiseConstantDecay([10, 20], [1.0, 0.5])


def test_polynomial_decay():
    s = S.PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.01, power=2.0)
    for t in STEPS:
        assert s(t) == pytest.approx((0.1 - 0.01) * (1 - min(t, 100) / 100) ** 2 + 0.01)
    assert S.PolynomialDecay(0.1, 100)(1000) == pytest.approx(0.0001)   # end default 1e-4
    c = S.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0, cycle=True)
    # cycle: D becomes the first multiple of 10 >= step (10 at step 0)
    assert [c(t) for t in (0, 5, 10, 15, 20)] == pytest.approx(
        [0.1, 0.05, 0.0, 0.1 * (1 - 15 / 20), 0.0])


def test_cosine_decay():
    s = S.CosineDecay(0.1, decay_steps=100, alpha=0.1)
    for t in STEPS:
        c = 0.5 * (1 + math.cos(math.pi * min(t, 100) / 100))
        assert s(t) == pytest.approx(0.1 * ((1 - 0.1) * c + 0.1), rel=1e-12)
    assert s(50) == pytest.approx(0.1 * (0.9 * 0.5 + 0.1))


def test_cosine_decay_with_warmup():
    s = S.CosineDecay(0.0, decay_steps=100, warmup_target=1.0, warmup_steps=10)
    assert [s(t) for t in (0, 5, 9)] == pytest.approx([0.0, 0.5, 0.9])   # linear warmup
    assert s(10) == pytest.approx(1.0)                                    # then cosine from 1
    assert s(60) == pytest.approx(0.5)
    assert s(110) == pytest.approx(0.0, abs=1e-12) and s(500) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("make", [
    lambda: S.ExponentialDecay(0.1, 10, 0.9, staircase=True, name="e"),
    lambda: S.InverseTimeDecay(0.1, 10, 0.9),
    lambda: S.PiecewiseConstantDecay([3], [0.1, 0.01]),
    lambda: S.PolynomialDecay(0.1, 10, 0.001, power=0.5, cycle=True),
    lambda: S.CosineDecay(0.1, 10, alpha=0.2, warmup_target=0.5, warmup_steps=3),
])
def test_config_round_trip(make):
    s = make()
    again = S.deserialize(S.serialize(s))
    assert type(again) is type(s) and again.get_config() == s.get_config()
    assert [again(t) for t in range(20)] == [s(t) for t in range(20)]


@pytest.mark.parametrize("cls", [S.ExponentialDecay, S.InverseTimeDecay, S.PolynomialDecay,
                                 S.CosineDecay])
def test_decay_steps_must_be_positive(cls):
    args = (0.1, 0, 0.5) if cls in (S.ExponentialDecay, S.InverseTimeDecay) else (0.1, 0)
    with pytest.raises(ValueError, match="decay_steps"):
        cls(*args)


def test_base_class_and_custom_schedule():
    with pytest.raises(NotImplementedError):
        S.LearningRateSchedule()(0)

    class Halve(S.LearningRateSchedule):
        def __init__(self, lr0):
            self.lr0 = lr0

        def __call__(self, step):
            return self.lr0 / (step + 1)

        def get_config(self):
            return {"lr0": self.lr0}

    cfg = S.serialize(Halve(1.0))
    assert S.deserialize(cfg, custom_objects={"Halve": Halve})(1) == 0.5
    with pytest.raises(ValueError, match="Unknown learning rate schedule"):
        S.deserialize(cfg)


# --------------------------------------------------------------------------- CosineDecayRestarts
def sgdr_reference(step, lr0, first, t_mul, m_mul, alpha):
    """Walk the periods one by one (no logarithms): the definition."""
    start, length, i = 0.0, float(first), 0
    while step >= start + length:
        start += length
        length *= t_mul
        i += 1
    frac = (step - start) / length
    return lr0 * ((1 - alpha) * 0.5 * m_mul ** i * (1 + math.cos(math.pi * frac)) + alpha)


@pytest.mark.parametrize("t_mul, m_mul, alpha", [(2.0, 1.0, 0.0), (1.0, 0.5, 0.1), (1.5, 0.9, 0.0),
                                                  (3.0, 0.7, 0.2)])
def test_cosine_decay_restarts_vs_period_walk(t_mul, m_mul, alpha):
    s = S.CosineDecayRestarts(0.1, 10, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    for t in list(range(0, 400)) + [1000, 12345]:
        assert s(t) == pytest.approx(sgdr_reference(t, 0.1, 10, t_mul, m_mul, alpha), rel=1e-9, abs=1e-15), t


def test_cosine_decay_restarts_values_at_restarts():
    s = S.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    # periods: [0,10), [10,30), [30,70), [70,150): each restart starts at m_mul^i
    assert [s(t) for t in (0, 10, 30, 70, 150)] == pytest.approx([1.0, 0.5, 0.25, 0.125, 0.0625])
    assert s(5) == pytest.approx(0.5) and s(20) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="first_decay_steps"):
        S.CosineDecayRestarts(0.1, 0)
    again = S.deserialize(S.serialize(s))
    assert again.get_config() == s.get_config() == {
        "initial_learning_rate": 1.0, "first_decay_steps": 10, "t_mul": 2.0, "m_mul": 0.5,
        "alpha": 0.0, "name": "SGDRDecay"}


NUMPY_FORMULAS = {
    "exp": (lambda: S.ExponentialDecay(0.3, 7, 0.8, staircase=True),
            lambda t: 0.3 * 0.8 ** np.floor(t / 7)),
    "inv": (lambda: S.InverseTimeDecay(0.3, 7, 0.8), lambda t: 0.3 / (1 + 0.8 * t / 7)),
    "poly": (lambda: S.PolynomialDecay(0.3, 50, 0.01, power=0.5),
             lambda t: (0.3 - 0.01) * (1 - np.minimum(t, 50) / 50) ** 0.5 + 0.01),
    "poly_cycle": (lambda: S.PolynomialDecay(0.3, 50, 0.01, cycle=True),
                   lambda t: (0.3 - 0.01) * (1 - t / (50 * np.maximum(np.ceil(t / 50), 1))) + 0.01),
    "cos_warm": (lambda: S.CosineDecay(0.0, 40, alpha=0.1, warmup_target=0.2, warmup_steps=8),
                 lambda t: np.where(t < 8, 0.2 * t / 8, 0.2 * (0.9 * 0.5 * (1 + np.cos(
                     np.pi * (np.minimum(t, 48) - 8) / 40)) + 0.1))),
    "piece": (lambda: S.PiecewiseConstantDecay([5, 20, 60], [0.4, 0.3, 0.2, 0.1]),
              lambda t: np.select([t <= 5, t <= 20, t <= 60], [0.4, 0.3, 0.2], 0.1)),
}


@pytest.mark.parametrize("name", sorted(NUMPY_FORMULAS))
def test_schedules_vs_numpy_at_many_steps(name):
    make, formula = NUMPY_FORMULAS[name]
    s = make()
    steps = np.arange(0, 300)
    np.testing.assert_allclose([s(int(t)) for t in steps], formula(steps.astype(np.float64)),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(NUMPY_FORMULAS) + ["sgdr"])
def test_schedule_as_optimizer_learning_rate_is_evaluated_at_iterations(name):
    from baeum import optimizers

    s = S.CosineDecayRestarts(0.5, 3) if name == "sgdr" else NUMPY_FORMULAS[name][0]()
    opt = optimizers.SGD(learning_rate=s)
    w = np.zeros(1, np.float32)
    for t in range(12):
        assert opt.learning_rate == s(t)
        before = w.copy()
        opt.apply_gradients([(np.ones(1, np.float32), w)])
        assert w[0] == np.float32(before[0] - np.float32(s(t)))   # the step used lr(iterations)
    assert opt.iterations == 12
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
