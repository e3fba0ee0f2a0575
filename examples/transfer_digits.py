"""Deck 004, transfer learning: train a network on the digits 0–4, reuse its lower layers
(frozen) under a new head for the digits 5–9, then fine-tune everything at a small learning
rate (re-compiling after unfreezing, as Keras requires)."""
import numpy as np

from baeum.datasets import digits
from baeum.layers import Dense, Input
from baeum.models import Model, Sequential
from baeum.optimizers import Adam
from baeum.utils import set_random_seed


def split(x, y, classes, seed):
    keep = np.isin(y, classes)
    x, y = x[keep], y[keep] - classes[0]
    idx = np.random.default_rng(seed).permutation(len(x))
    cut = int(0.7 * len(x))
    return x[idx[:cut]], y[idx[:cut]], x[idx[cut:]], y[idx[cut:]]


def main(epochs=20, verbose=0, seed=3):
    set_random_seed(seed)
    x, y = digits.load_data()
    x = x / 16.0
    xa, ya, xa_test, ya_test = split(x, y, [0, 1, 2, 3, 4], seed)
    xb, yb, xb_test, yb_test = split(x, y, [5, 6, 7, 8, 9], seed)

    base = Sequential([Input(shape=(64,)), Dense(64, activation="relu", name="features_1"),
                       Dense(32, activation="relu", name="features_2"),
                       Dense(5, activation="softmax", name="head_0_4")], name="base")
    base.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    base.fit(xa, ya, epochs=epochs, batch_size=32, verbose=verbose)
    base_acc = base.evaluate(xa_test, ya_test, verbose=0)[1]

    # freeze the feature layers, put a new head on the second one
    for layer in base.layers[:-1]:
        layer.trainable = False
    frozen = [w.copy() for layer in base.layers[:-1] for w in layer.get_weights()]
    new_head = Dense(5, activation="softmax", name="head_5_9")(base.layers[-2].output)
    model = Model(base.input, new_head, name="transfer")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if verbose:
        model.summary()
    model.fit(xb, yb, epochs=2 * epochs, batch_size=32, verbose=verbose)
    transfer_acc = model.evaluate(xb_test, yb_test, verbose=0)[1]
    unchanged = all(np.array_equal(a, b) for a, b in zip(
        frozen, [w for layer in base.layers[:-1] for w in layer.get_weights()]))

    # fine-tune: unfreeze, re-compile with a small learning rate, a few more epochs
    for layer in base.layers[:-1]:
        layer.trainable = True
    model.compile(optimizer=Adam(learning_rate=1e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xb, yb, epochs=5, batch_size=32, verbose=verbose)
    tuned_acc = model.evaluate(xb_test, yb_test, verbose=0)[1]
    print(f"base (digits 0-4) test accuracy:        {base_acc:.4f}")
    print(f"frozen features + new head (digits 5-9): {transfer_acc:.4f} (frozen weights unchanged: {unchanged})")
    print(f"after fine-tuning everything:            {tuned_acc:.4f}")
    return {"base": base_acc, "transfer": transfer_acc, "fine_tuned": tuned_acc, "frozen_unchanged": unchanged}


if __name__ == "__main__":
    main()
