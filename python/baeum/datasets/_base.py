"""Shared loading for the small offline datasets shipped inside the package.

Data files and descriptions are copies of scikit-learn's (``sklearn/datasets/data`` and
``descr``); see LICENSE-DATA.txt for the licence and the UCI citations.
"""
import os

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))


def data_path(name):
    return os.path.join(_HERE, "data", name)


def read_descr(name):
    with open(os.path.join(_HERE, "descr", name), encoding="utf-8") as f:
        return f.read()


def read_csv_with_header(name):
    """sklearn's layout: first line ``n_samples,n_features,class names...``, then rows of
    features followed by the integer class id."""
    with open(data_path(name), encoding="utf-8") as f:
        header = f.readline().strip().split(",")
        table = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
    n_samples, n_features = int(header[0]), int(header[1])
    if table.shape != (n_samples, n_features + 1):
        raise RuntimeError(f"baeum.datasets: {name} is damaged: expected "
                           f"{(n_samples, n_features + 1)} values, found {table.shape}. "
                           "Fix: reinstall baeum.")
    return table[:, :-1], table[:, -1].astype(np.int64), tuple(header[2:])


def split(x, y, test_split, seed, who):
    """``(x, y)`` for ``test_split=None``; otherwise shuffle with ``seed`` and return
    ``(x_train, y_train), (x_test, y_test)`` with the last ``test_split`` fraction as test
    (the scheme of Keras's ``boston_housing.load_data``)."""
    if test_split is None:
        return x, y
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float)) \
            or not 0.0 <= test_split < 1.0:
        raise ValueError(f"{who}.load_data: test_split must be None or a fraction in "
                         f"[0, 1), received test_split={test_split!r}. Fix: e.g. "
                         "test_split=0.2.")
    order = np.random.RandomState(seed).permutation(len(x))
    x, y = x[order], y[order]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
