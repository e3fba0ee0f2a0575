import math

import numpy as np
import pytest

import baeum
from baeum import initializers as I
from baeum.utils import set_random_seed

TRUNC = 0.87962566103423978


@pytest.mark.parametrize("shape, fans", [
    ((), (1, 1)), ((7,), (7, 7)), ((5, 3), (5, 3)),
    ((3, 3, 16, 32), (144, 288)), ((2, 4, 6), (8, 12)), ((2, 3, 5, 7, 11), (210, 330)),
])
def test_compute_fans(shape, fans):
    assert I.compute_fans(shape) == fans


def test_compute_fans_explicit_axes():
    assert I.compute_fans((2, 3, 5), input_axes=[0, 1], output_axes=[2]) == (6, 5)


# (initializer, shape, expected limit for uniform / expected realised std, kind)
FAN_CASES = [
    (I.GlorotUniform, (500, 200), math.sqrt(6 / 700), "uniform"),
    (I.HeUniform, (3, 3, 64, 192), math.sqrt(6 / 576), "uniform"),
    (I.LecunUniform, (250, 400), math.sqrt(3 / 250), "uniform"),
    (I.GlorotNormal, (500, 200), math.sqrt(2 / 700), "truncated"),
    (I.HeNormal, (3, 3, 64, 192), math.sqrt(2 / 576), "truncated"),
    (I.LecunNormal, (250, 400), math.sqrt(1 / 250), "truncated"),
]


@pytest.mark.parametrize("cls, shape, value, kind", FAN_CASES)
def test_variance_scaling_presets_statistics(cls, shape, value, kind):
    x = cls(seed=3)(shape)
    assert x.shape == shape and x.dtype == np.float32
    n = x.size
    assert n >= 90_000
    assert abs(x.mean()) < 5 * x.std() / math.sqrt(n)
    if kind == "uniform":
        limit = value
        assert np.abs(x).max() <= limit
        assert np.abs(x).max() > 0.999 * limit
        np.testing.assert_allclose(x.std(), limit / math.sqrt(3), rtol=0.01)
    else:
        sigma = value / TRUNC
        assert np.abs(x).max() <= 2 * sigma * (1 + 1e-6)
        assert np.abs(x).max() > 1.99 * sigma
        np.testing.assert_allclose(x.std(), value, rtol=0.01)


def test_glorot_uniform_conv_limit_matches_keras_run():
    # KERAS_SEMANTICS.md §3.2: 3x3x16x32 kernel, max ~= 0.11785
    x = I.get("glorot_uniform")((3, 3, 16, 32))
    assert 0.115 < np.abs(x).max() <= math.sqrt(6 / (144 + 288)) < 0.11786


def test_variance_scaling_modes_and_untruncated():
    vs = I.VarianceScaling(scale=4.0, mode="fan_out", distribution="untruncated_normal",
                           seed=1)
    x = vs((100, 1000)).astype(np.float64)
    np.testing.assert_allclose(x.std(), math.sqrt(4.0 / 1000), rtol=0.01)
    assert np.abs(x).max() > 3 * math.sqrt(4.0 / 1000)  # not truncated
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    # fan_avg of a (0-sized) shape divides by max(1, fan)
    assert I.VarianceScaling(mode="fan_avg")._variance((0, 0)) == 1.0


@pytest.mark.parametrize("kwargs, msg", [
    ({"scale": 0.0}, "scale"), ({"mode": "fan"}, "mode"), ({"distribution": "cauchy"},
                                                             "distribution")])
def test_variance_scaling_bad_args(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        I.VarianceScaling(**kwargs)


def test_random_normal_uniform_truncated_defaults():
    x = I.RandomNormal(seed=0)((400, 250)).astype(np.float64)
    assert abs(x.mean()) < 1e-3
    np.testing.assert_allclose(x.std(), 0.05, rtol=0.01)
    u = I.RandomUniform(seed=0)((400, 250))
    assert u.min() >= -0.05 and u.max() <= 0.05 and u.max() > 0.0499 and u.min() < -0.0499
    t = I.TruncatedNormal(seed=0)((400, 250)).astype(np.float64)
    assert np.abs(t).max() <= 0.1 + 1e-7
    np.testing.assert_allclose(t.std(), 0.05 * TRUNC, rtol=0.01)  # no re-scaling
    m = I.RandomNormal(mean=3.0, stddev=2.0, seed=0)((100_000,)).astype(np.float64)
    np.testing.assert_allclose([m.mean(), m.std()], [3.0, 2.0], rtol=0.01)


def test_orthogonal_is_orthogonal():
    for shape in [(6, 6), (10, 4), (4, 10), (3, 3, 8, 16)]:
        q = I.Orthogonal(seed=5)(shape).astype(np.float64)
        assert q.shape == shape
        m = q.reshape(-1, shape[-1])
        small = min(m.shape)
        gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)
    q = I.Orthogonal(gain=2.5, seed=1)((5, 5)).astype(np.float64)
    np.testing.assert_allclose(q.T @ q, 6.25 * np.eye(5), atol=1e-4)
    with pytest.raises(ValueError, match="2-D"):
        I.Orthogonal()((5,))


def test_constant_initializers():
    assert np.array_equal(I.Zeros()((2, 3)), np.zeros((2, 3), np.float32))
    assert I.Ones()((4,)).dtype == np.float32 and I.Ones()((4,)).sum() == 4
    c = I.Constant(2.5)((3, 2))
    assert c.dtype == np.float32 and np.all(c == 2.5)
    e = I.Identity(gain=3.0)((2, 3))
    np.testing.assert_array_equal(e, [[3, 0, 0], [0, 3, 0]])
    with pytest.raises(ValueError, match="2-D"):
        I.Identity()((2, 2, 2))
    assert I.Zeros()((2,), dtype="int64").dtype == np.int64


def test_seeded_instance_repeats_and_unseeded_differs():
    a = I.GlorotUniform(seed=42)
    np.testing.assert_array_equal(a((8, 9)), a((8, 9)))
    np.testing.assert_array_equal(a((8, 9)), I.GlorotUniform(seed=42)((8, 9)))
    assert not np.array_equal(a((8, 9)), I.GlorotUniform(seed=43)((8, 9)))
    b = I.HeNormal()
    assert not np.array_equal(b((8, 9)), b((8, 9)))


def test_set_random_seed_makes_unseeded_repeatable():
    def run():
        set_random_seed(7)
        return [I.get(name)((5, 4)) for name in ("glorot_uniform", "he_normal",
                                                 "orthogonal", "random_normal")]
    for x, y in zip(run(), run()):
        np.testing.assert_array_equal(x, y)
    set_random_seed(8)
    assert not np.array_equal(run()[0], I.get("glorot_uniform")((5, 4)))


@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", I.GlorotUniform), ("GlorotUniform", I.GlorotUniform),
    ("glorot_normal", I.GlorotNormal), ("he_normal", I.HeNormal), ("he_uniform", I.HeUniform),
    ("lecun_normal", I.LecunNormal), ("lecun_uniform", I.LecunUniform),
    ("orthogonal", I.Orthogonal), ("zeros", I.Zeros), ("zero", I.Zeros), ("ones", I.Ones),
    ("one", I.Ones), ("constant", I.Constant), ("identity", I.Identity),
    ("random_normal", I.RandomNormal), ("normal", I.RandomNormal),
    ("random_uniform", I.RandomUniform), ("uniform", I.RandomUniform),
    ("truncated_normal", I.TruncatedNormal), ("variance_scaling", I.VarianceScaling),
])
def test_get_by_name(name, cls):
    assert type(I.get(name)) is cls


def test_get_other_identifiers():
    inst = I.HeNormal(seed=1)
    assert I.get(inst) is inst
    assert I.get(None) is None
    assert type(I.get(I.Ones)) is I.Ones
    fn = lambda shape, dtype=None: np.full(shape, 7.0, np.float32)  # noqa: E731
    assert I.get(fn) is fn
    r = I.get({"class_name": "RandomUniform", "config": {"minval": 1.0, "maxval": 2.0,
                                                         "seed": 3}})
    assert (r.minval, r.maxval, r.seed) == (1.0, 2.0, 3)
    arr = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(I.get(arr)((2, 3)), arr)
    with pytest.raises(ValueError, match="Expected shape"):
        I.get(arr)((3, 2))
    with pytest.raises(ValueError, match="glorot_uniform") as e:
        I.get("xavier")
    assert "he_normal" in str(e.value)
    with pytest.raises(ValueError, match="Could not interpret"):
        I.get(3.5)


def test_get_config_round_trip():
    for init in [I.VarianceScaling(2.0, "fan_out", "uniform", seed=4), I.HeNormal(seed=2),
                 I.RandomNormal(1.0, 0.5, seed=9), I.TruncatedNormal(0.0, 0.1, seed=9),
                 I.RandomUniform(-1, 1, seed=9), I.Orthogonal(gain=2.0, seed=1),
                 I.Constant(3.0), I.Identity(0.5), I.Zeros()]:
        clone = type(init).from_config(init.get_config())
        assert clone.get_config() == init.get_config()
        np.testing.assert_array_equal(clone((4, 4)), init((4, 4)))
        ser = I.serialize(init)
        assert ser["class_name"] == type(init).__name__
        assert I.deserialize(ser).get_config() == init.get_config()
    assert I.GlorotUniform(seed=3).get_config() == {"seed": 3, "input_axes": None,
                                                    "output_axes": None}
    assert I.RandomNormal().get_config() == {"seed": None, "mean": 0.0, "stddev": 0.05}


def test_bad_shape_dtype_seed():
    with pytest.raises(ValueError, match="non-negative"):
        I.GlorotUniform()((3, -1))
    with pytest.raises(ValueError, match="float"):
        I.GlorotUniform()((3, 3), dtype="int32")
    with pytest.raises(ValueError, match="seed"):
        I.GlorotUniform(seed="abc")
    with pytest.raises(ValueError, match="seed"):
        I.GlorotUniform(seed=-1)
    big = I.GlorotUniform(seed=2**40)  # any non-negative int works as an instance seed
    np.testing.assert_array_equal(big((2, 2)), big((2, 2)))
    assert I.GlorotUniform(seed=1)((3, 3), dtype="float64").dtype == np.float64
    assert I.HeNormal(seed=1)((0, 5)).shape == (0, 5)


def test_exported_from_package():
    assert baeum.initializers.he_normal is I.HeNormal
