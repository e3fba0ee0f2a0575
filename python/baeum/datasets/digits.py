"""Handwritten digits (UCI optdigits test set): 1797 images of 8x8 pixels, values
0..16, 10 classes (offline copy).

``load_data()`` -> ``(x, y)``: ``x`` float32 (1797, 64), one flattened image per row
(row-major: pixel_r_c is column 8*r + c; ``x.reshape(-1, 8, 8, 1)`` gives NHWC images),
``y`` int64 digits 0..9. ``load_data(test_split=0.2, seed=113)`` -> ``(x_train,
y_train), (x_test, y_test)`` after a seeded shuffle (test = the last 20%).
"""
import numpy as np

from baeum.datasets import _base

feature_names = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
target_names = list(range(10))
DESCR = _base.read_descr("digits.rst")


def load_data(test_split=None, seed=113):
    """Digits as ``(x, y)``, or ``(x_train, y_train), (x_test, y_test)`` when
    ``test_split`` (a fraction) is given."""
    table = np.loadtxt(_base.data_path("digits.csv.gz"), delimiter=",", dtype=np.float64)
    x, y = table[:, :-1].astype(np.float32), table[:, -1].astype(np.int64)
    return _base.split(x, y, test_split, seed, "digits")
