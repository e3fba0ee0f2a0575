"""Deck 003, "CNN": the course's convolutional network on handwritten digits.

    Conv2D(16, 3, strides=2, padding="same", relu) → Conv2D(8, 3, strides=2, padding="same")
    → Flatten → Dense(30) → Dense(20) → Dense(10, softmax)

The deck trains it on 28×28 MNIST; offline we use the bundled 8×8 digits (1,797 images)
upscaled to 28×28 by bilinear interpolation (plain NumPy), so the model and its summary are
exactly the deck's: (None,14,14,16) 160 · (None,7,7,8) 1,160 · (None,392) 0 · 11,790 · 620 · 210.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from baeum.datasets import digits  # noqa: E402
from baeum.layers import Conv2D, Dense, Flatten  # noqa: E402
from baeum.models import Sequential  # noqa: E402
from baeum.utils import set_random_seed  # noqa: E402


def upscale(images, size=28):
    """Bilinear resize of (N, h, w) images to (N, size, size), pixel centres aligned."""
    n, h, w = images.shape
    def axis(src, dst):
        pos = np.clip((np.arange(dst) + 0.5) * src / dst - 0.5, 0, src - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, src - 1)
        return lo, hi, (pos - lo).astype(np.float32)
    (r0, r1, fr), (c0, c1, fc) = axis(h, size), axis(w, size)
    rows = images[:, r0] * (1 - fr)[None, :, None] + images[:, r1] * fr[None, :, None]
    return rows[:, :, c0] * (1 - fc) + rows[:, :, c1] * fc


def load(test_split=0.2, seed=113):
    """NHWC 28×28×1 images standardised with the training set's mean and std."""
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=test_split, seed=seed)
    x_train, x_test = (upscale(x.reshape(-1, 8, 8))[..., None] for x in (x_train, x_test))
    mean, std = x_train.mean(), x_train.std()
    return ((x_train - mean) / std).astype(np.float32), y_train, ((x_test - mean) / std).astype(np.float32), y_test


def build():
    return Sequential([
        Conv2D(16, 3, strides=2, padding="same", activation="relu", input_shape=(28, 28, 1)),
        Conv2D(8, 3, strides=2, padding="same"),
        Flatten(),
        Dense(30, activation="relu"),
        Dense(20, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def main(epochs=30, verbose=0, seed=1):
    set_random_seed(seed)
    x_train, y_train, x_test, y_test = load()
    model = build()
    if verbose:
        model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=verbose)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"CNN on digits upscaled to 28x28: test accuracy {accuracy:.4f}")
    return model, accuracy


if __name__ == "__main__":
    main(verbose=1)
