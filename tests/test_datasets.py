import numpy as np
import pytest

from baeum import datasets
from baeum.datasets import _base, breast_cancer, digits, iris


@pytest.mark.parametrize("mod, shape, counts, lo, hi", [
    (iris, (150, 4), [50, 50, 50], 0.1, 7.9),
    (breast_cancer, (569, 30), [212, 357], 0.0, 4254.0),
    (digits, (1797, 64), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180], 0.0, 16.0),
])
def test_load_data(mod, shape, counts, lo, hi):
    x, y = mod.load_data()
    assert x.shape == shape and x.dtype == np.float32
    assert y.shape == (shape[0],) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), counts)
    assert x.min() == pytest.approx(lo) and x.max() == pytest.approx(hi)
    assert np.isfinite(x).all()
    assert len(mod.feature_names) == shape[1]
    assert len(mod.target_names) == len(counts)
    assert isinstance(mod.DESCR, str) and len(mod.DESCR) > 500


def test_known_rows():
    x, y = iris.load_data()
    np.testing.assert_allclose(x[0], [5.1, 3.5, 1.4, 0.2], rtol=1e-6)
    assert y[0] == 0 and y[-1] == 2
    x, y = breast_cancer.load_data()
    assert x[0, 0] == pytest.approx(17.99) and y[0] == 0  # first row malignant
    x, _ = digits.load_data()
    assert np.all(x == np.round(x))  # integer pixel counts 0..16


def test_target_names_match_file_headers():
    assert list(_base.read_csv_with_header("iris.csv")[2]) == iris.target_names
    assert list(_base.read_csv_with_header("breast_cancer.csv")[2]) == \
        breast_cancer.target_names
    assert breast_cancer.feature_names[0] == "mean radius"
    assert breast_cancer.feature_names[-1] == "worst fractal dimension"
    assert digits.feature_names[9] == "pixel_1_1"


def test_test_split_is_seeded_partition():
    (xa, ya), (xb, yb) = iris.load_data(test_split=0.2, seed=1)
    assert xa.shape == (120, 4) and xb.shape == (30, 4)
    x, y = iris.load_data()
    # a partition of the original rows, shuffled (not the sorted tail)
    both = np.concatenate([xa, xb])
    assert sorted(map(tuple, both)) == sorted(map(tuple, x))
    assert len(np.unique(yb)) == 3
    (xa2, _), _ = iris.load_data(test_split=0.2, seed=1)
    np.testing.assert_array_equal(xa, xa2)
    (xa3, _), _ = iris.load_data(test_split=0.2, seed=2)
    assert not np.array_equal(xa, xa3)
    (_, _), (x0, y0) = digits.load_data(test_split=0.0)
    assert x0.shape == (0, 64) and y0.shape == (0,)


@pytest.mark.parametrize("bad", [1.0, -0.1, "0.2", True])
def test_bad_test_split(bad):
    with pytest.raises(ValueError, match="test_split"):
        iris.load_data(test_split=bad)


def test_online_keras_datasets_raise_clearly():
    with pytest.raises(NotImplementedError, match="offline"):
        datasets.mnist
    with pytest.raises(AttributeError):
        datasets.nonexistent


def test_licence_and_attribution_ship_with_the_data():
    import os
    with open(os.path.join(os.path.dirname(_base.__file__), "LICENSE-DATA.txt"),
              encoding="utf-8") as f:
        text = f.read()
    assert "BSD 3-Clause" in text and "scikit-learn developers" in text
    for doi in ("10.24432/C56C76", "10.24432/C5DW2B", "10.24432/C50P49"):
        assert doi in text
