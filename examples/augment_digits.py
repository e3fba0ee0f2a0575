"""Deck 004, data augmentation: random rotation, zoom and translation in front of a small
dense network, on the bundled 8×8 digits. The augmentation layers change the images only
while training (fit); evaluate/predict see the images as they are.

Only the imports differ from the tensorflow.keras version.
"""
from baeum.datasets import digits
from baeum.layers import Dense, Flatten, Input, RandomRotation, RandomTranslation, RandomZoom, Rescaling
from baeum.models import Sequential
from baeum.utils import set_random_seed


def build_model():
    return Sequential([
        Input(shape=(8, 8, 1)),
        Rescaling(1.0 / 16),                     # pixel values 0..16 → 0..1
        RandomRotation(0.04),                    # ±0.04·360° ≈ ±14°
        RandomZoom(0.1),                         # ±10 %
        RandomTranslation(0.1, 0.1),             # ±10 % of 8 pixels
        Flatten(),
        Dense(128, activation="relu"),
        Dense(64, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def main(epochs=40, verbose=0, seed=0):
    set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.2, seed=113)
    x_train, x_test = x_train.reshape(-1, 8, 8, 1), x_test.reshape(-1, 8, 8, 1)
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=verbose)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return model, accuracy


if __name__ == "__main__":
    main(verbose=2)
