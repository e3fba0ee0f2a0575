"""Deck 002, "keras 맛보기": predict an exam score from study hours, y = 10·x, with one
Dense unit, then with two features (hours studied and slept)."""
import numpy as np

from baeum import optimizers
from baeum.layers import Dense
from baeum.models import Sequential
from baeum.utils import set_random_seed


def main(epochs=500, verbose=0, seed=0):
    set_random_seed(seed)
    x = np.array([[9], [8], [4], [2]], dtype=np.float32)
    y = np.array([90, 80, 40, 20], dtype=np.float32)
    model = Sequential([Dense(1, input_shape=(1,))])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.5), loss="mse")
    model.fit(x, y, epochs=epochs, verbose=verbose)
    pred = float(model.predict(np.array([[5.0]]), verbose=0)[0, 0])
    w, b = model.get_weights()
    print(f"one feature: 5 hours → {pred:.2f} points (w={w[0, 0]:.3f}, b={b[0]:.3f})")

    x2 = np.array([[9, 5], [8, 8], [4, 7], [2, 3]], dtype=np.float32)
    model2 = Sequential([Dense(1, input_shape=(2,))])
    model2.compile(optimizer=optimizers.Adam(learning_rate=0.5), loss="mse")
    model2.fit(x2, y, epochs=epochs, verbose=verbose)
    pred2 = float(model2.predict(np.array([[5.0, 6.0]]), verbose=0)[0, 0])
    print(f"two features: 5 h study, 6 h sleep → {pred2:.2f} points")
    return pred, pred2


if __name__ == "__main__":
    main()
