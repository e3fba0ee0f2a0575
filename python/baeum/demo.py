"""python -m baeum demo — the course's first notebook (churn DNN) on offline data.

The churn notebook trains Dense 128-64-32-1 with Dropout on 30 scaled features with Adam and
binary cross-entropy, batch 10, 20 epochs. Here the 30 features are the breast-cancer
Wisconsin data shipped inside baeum (569 samples), so it runs anywhere without a download.
"""
import time

import numpy as np


def run(epochs=20, seed=42, verbose=2):
    import baeum
    from baeum.datasets import breast_cancer
    from baeum.layers import Dense, Dropout, Input
    from baeum.models import Sequential

    baeum.utils.set_random_seed(seed)
    x, y = breast_cancer.load_data()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    n_test = len(x) // 4
    test, train = order[:n_test], order[n_test:]
    lo, hi = x[train].min(axis=0), x[train].max(axis=0)
    scale = lambda a: (a - lo) / np.where(hi > lo, hi - lo, 1)  # MinMaxScaler fitted on train
    x_train, x_test, y_train, y_test = scale(x[train]), scale(x[test]), y[train], y[test]

    print(f"breast cancer Wisconsin: {len(x_train)} training and {len(x_test)} test samples, "
          f"{x.shape[1]} features\n")
    model = Sequential([
        Input(shape=(30,)),
        Dense(128, activation="relu"), Dropout(0.3),
        Dense(64, activation="relu"), Dropout(0.5),
        Dense(32, activation="relu"), Dropout(0.2),
        Dense(1, activation="sigmoid"),
    ])
    model.summary()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(x_train, y_train, validation_data=(x_test, y_test), epochs=epochs, batch_size=10,
              verbose=verbose)
    seconds = time.perf_counter() - t0
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"\ntrained {epochs} epochs in {seconds:.2f} s ({baeum.get_num_threads()} thread(s), "
          f"simd={baeum._core.gemm_isa()})")
    print(f"test accuracy: {accuracy:.4f}   test loss: {loss:.4f}")
    return accuracy
