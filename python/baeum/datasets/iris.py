"""Fisher's Iris flowers: 150 samples x 4 features, 3 classes of 50 (offline copy).

``load_data()`` -> ``(x, y)``: ``x`` float32 (150, 4) in cm, ``y`` int64 class ids
0 setosa, 1 versicolor, 2 virginica, in file order (sorted by class: shuffle before
splitting by hand!). ``load_data(test_split=0.2, seed=113)`` -> ``(x_train, y_train),
(x_test, y_test)`` after a seeded shuffle (test = the last 20%).
"""
import numpy as np

from baeum.datasets import _base

feature_names = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                 "petal width (cm)"]
target_names = ["setosa", "versicolor", "virginica"]
DESCR = _base.read_descr("iris.rst")


def load_data(test_split=None, seed=113):
    """Iris as ``(x, y)``, or ``(x_train, y_train), (x_test, y_test)`` when
    ``test_split`` (a fraction) is given."""
    x, y, _ = _base.read_csv_with_header("iris.csv")
    return _base.split(x.astype(np.float32), y, test_split, seed, "iris")
