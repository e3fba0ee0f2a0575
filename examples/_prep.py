"""The two scikit-learn helpers the course notebooks use, in plain NumPy (so the examples
need nothing but baeum): train_test_split and MinMaxScaler."""
import numpy as np


def train_test_split(x, y, test_size=0.25, random_state=None, stratify=None):
    rng = np.random.default_rng(random_state)
    n = len(x)
    n_test = int(np.ceil(n * test_size))
    if stratify is None:
        idx = rng.permutation(n)
        test, train = idx[:n_test], idx[n_test:]
    else:  # keep class proportions, as sklearn's stratify= does
        test, train = [], []
        for c in np.unique(stratify):
            members = rng.permutation(np.flatnonzero(stratify == c))
            k = int(round(len(members) * n_test / n))
            test += list(members[:k])
            train += list(members[k:])
        test, train = rng.permutation(test), rng.permutation(train)
    return x[train], x[test], y[train], y[test]


class MinMaxScaler:
    """x → (x − min) / (max − min), with min and max learned from the training data."""

    def fit(self, x):
        self.min_ = x.min(axis=0)
        span = x.max(axis=0) - self.min_
        self.scale_ = np.where(span > 0, span, 1.0)
        return self

    def transform(self, x):
        return (x - self.min_) / self.scale_

    def fit_transform(self, x):
        return self.fit(x).transform(x)


class StandardScaler:
    def fit(self, x):
        self.mean_, self.std_ = x.mean(axis=0), x.std(axis=0)
        self.std_ = np.where(self.std_ > 0, self.std_, 1.0)
        return self

    def transform(self, x):
        return (x - self.mean_) / self.std_
