"""Learning-rate schedules: values at several steps equal Keras's formulas (§6.1)."""
import math

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
