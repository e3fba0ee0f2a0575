"""Breast Cancer Wisconsin (Diagnostic): 569 samples x 30 features, 2 classes
(offline copy).

``load_data()`` -> ``(x, y)``: ``x`` float32 (569, 30) (means, standard errors and worst
values of 10 cell-nucleus measurements, on very different scales: standardise before
training), ``y`` int64: 0 malignant (212), 1 benign (357).
``load_data(test_split=0.2, seed=113)`` -> ``(x_train, y_train), (x_test, y_test)``
after a seeded shuffle (test = the last 20%).
"""
import numpy as np

from baeum.datasets import _base

_MEASURES = ["radius", "texture", "perimeter", "area", "smoothness", "compactness",
             "concavity", "concave points", "symmetry", "fractal dimension"]
feature_names = ([f"mean {m}" for m in _MEASURES] + [f"{m} error" for m in _MEASURES]
                 + [f"worst {m}" for m in _MEASURES])
target_names = ["malignant", "benign"]
DESCR = _base.read_descr("breast_cancer.rst")


def load_data(test_split=None, seed=113):
    """Breast cancer as ``(x, y)``, or ``(x_train, y_train), (x_test, y_test)`` when
    ``test_split`` (a fraction) is given."""
    x, y, _ = _base.read_csv_with_header("breast_cancer.csv")
    return _base.split(x.astype(np.float32), y, test_split, seed, "breast_cancer")
