"""A small convolutional autoencoder on the bundled 8×8 digits: two strided Conv2D layers
squeeze each image to a 2×2×4 code (16 numbers for 64 pixels), two Conv2DTranspose layers
grow it back. Prints the reconstruction loss (MSE) before and after training, and that of
the mean image (the best an autoencoder that ignored its input could do)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from baeum.datasets import digits  # noqa: E402
from baeum.layers import Conv2D, Conv2DTranspose, Input  # noqa: E402
from baeum.models import Sequential  # noqa: E402
from baeum.utils import set_random_seed  # noqa: E402


def build():
    return Sequential([
        Input((8, 8, 1)),
        Conv2D(16, 3, strides=2, padding="same", activation="relu"),           # (4, 4, 16)
        Conv2D(4, 3, strides=2, padding="same", activation="relu"),            # (2, 2, 4): the code
        Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),  # (4, 4, 16)
        Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid"),  # (8, 8, 1)
    ])


def main(epochs=30, verbose=0, seed=0):
    set_random_seed(seed)
    (x_train, _), (x_test, _) = digits.load_data(test_split=0.2)
    x_train, x_test = (x.reshape(-1, 8, 8, 1) / 16.0 for x in (x_train, x_test))
    model = build()
    model.compile(optimizer="adam", loss="mse")
    before = model.evaluate(x_test, x_test, verbose=0)
    model.fit(x_train, x_train, epochs=epochs, batch_size=32, verbose=verbose)
    after = model.evaluate(x_test, x_test, verbose=0)
    mean_image = float(np.mean((x_test - x_train.mean(axis=0)) ** 2))  # what no code at all achieves
    print(f"conv autoencoder reconstruction MSE on test digits: {before:.4f} before training, {after:.4f} after "
          f"(the mean training image scores {mean_image:.4f})")
    return before, after, mean_image


if __name__ == "__main__":
    main(verbose=1)
