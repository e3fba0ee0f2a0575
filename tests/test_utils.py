import random

import numpy as np
import pytest

from baeum import utils
from baeum.utils import _rng


def test_to_categorical_basic():
    y = utils.to_categorical([0, 2, 1, 2])
    assert y.dtype == np.float32 and y.shape == (4, 3)
    np.testing.assert_array_equal(y, [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])


def test_to_categorical_shapes_and_num_classes():
    col = np.array([[1], [0], [3]])
    y = utils.to_categorical(col, num_classes=5)
    assert y.shape == (3, 5)
    np.testing.assert_array_equal(y.argmax(axis=1), [1, 0, 3])
    assert utils.to_categorical(np.array([[0, 1], [1, 1]])).shape == (2, 2, 2)
    np.testing.assert_array_equal(utils.to_categorical(np.array([1.0, 0.0])), [[0, 1], [1, 0]])
    assert utils.to_categorical(np.zeros(0, np.int64), num_classes=4).shape == (0, 4)
    assert utils.to_categorical(np.array([2], np.uint8), 3).tolist() == [[0, 0, 1]]


@pytest.mark.parametrize("y, kwargs, exc, msg", [
    ([0, -1, 2], {}, ValueError, ">= 0"),
    ([0.5, 1.0], {}, ValueError, "whole numbers"),
    ([0, 3], {"num_classes": 3}, ValueError, "num_classes=4"),
    (["a", "b"], {}, TypeError, "integer class ids"),
    ([True, False], {}, TypeError, "integer class ids"),
    ([0, 1], {"num_classes": 0}, ValueError, "positive"),
    ([], {}, ValueError, "empty"),
])
def test_to_categorical_errors(y, kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        utils.to_categorical(np.asarray(y), **kwargs)


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x, axis=0, order=1), [[1.0, 1.0], [0.0, 0.0]])


def test_set_random_seed_seeds_python_numpy_and_baeum():
    def draw():
        return (random.random(), np.random.rand(), _rng.global_generator().random(),
                _rng.next_seed())
    utils.set_random_seed(123)
    a = draw()
    utils.set_random_seed(123)
    assert draw() == a
    utils.set_random_seed(124)
    b = draw()
    assert all(x != y for x, y in zip(a, b))


def test_next_seed_is_63_bit_int():
    utils.set_random_seed(0)
    seeds = [_rng.next_seed() for _ in range(200)]
    assert all(isinstance(s, int) and 0 <= s < 2**63 for s in seeds)
    assert max(seeds) > 2**60 and len(set(seeds)) == 200


def test_generator_with_seed_is_independent_of_global():
    g1 = _rng.generator(5).random(3)
    utils.set_random_seed(99)
    np.testing.assert_array_equal(_rng.generator(5).random(3), g1)
    assert _rng.generator(None) is _rng.global_generator()


@pytest.mark.parametrize("bad", [1.5, "1", None, -1, 2**32, True])
def test_set_random_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed"):
        utils.set_random_seed(bad)
