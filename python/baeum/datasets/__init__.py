"""Small classic datasets shipped with baeum (no download needed).

``baeum.datasets.iris``, ``.breast_cancer``, ``.digits``: each has ``load_data()`` ->
``(x, y)`` (float32 features, int64 labels), ``load_data(test_split=0.2, seed=113)`` ->
``(x_train, y_train), (x_test, y_test)``, and ``feature_names``, ``target_names``,
``DESCR``. The data are scikit-learn's copies of the UCI datasets (LICENSE-DATA.txt).

``generate_time_series``, ``window_split``, ``sequence_targets``: the two-sine series of
Hands-On ML (2nd ed., ch. 15) and chronological windowing (baeum.datasets.series).

Keras's downloadable datasets (mnist, cifar10, ...) are not available offline.
"""
from baeum.datasets import breast_cancer, digits, iris
from baeum.datasets.series import generate_time_series, sequence_targets, window_split

_KERAS_ONLINE = ("mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters",
                 "boston_housing", "california_housing")


def __getattr__(name):
    if name in _KERAS_ONLINE:
        raise NotImplementedError(
            f"baeum.datasets.{name} is not available: baeum ships only offline datasets "
            "(iris, breast_cancer, digits) and never downloads. Load the arrays yourself "
            "(e.g. from a local .npz) and pass them to fit()."
        )
    raise AttributeError(f"module 'baeum.datasets' has no attribute {name!r}")


__all__ = ["iris", "breast_cancer", "digits", "generate_time_series", "window_split", "sequence_targets"]
