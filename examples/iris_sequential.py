"""Deck 000/001, "1. Sequential Model": the same 4-5-10-3 network built both ways
(a list, then add()), trained on iris."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from baeum.datasets import iris  # noqa: E402
from baeum.layers import Dense  # noqa: E402
from baeum.models import Sequential  # noqa: E402
from baeum.utils import set_random_seed, to_categorical  # noqa: E402
from _prep import StandardScaler, train_test_split  # noqa: E402


def build_with_list():
    return Sequential([
        Dense(5, activation="relu", input_shape=(4,)),
        Dense(10, activation="relu"),
        Dense(3, activation="softmax"),
    ])


def build_with_add():
    model = Sequential()
    model.add(Dense(5, activation="relu", input_shape=(4,)))
    model.add(Dense(10, activation="relu"))
    model.add(Dense(3, activation="softmax"))
    return model


def main(epochs=150, verbose=0, seed=7):
    set_random_seed(seed)
    x, y = iris.load_data()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    results = {}
    # sparse labels with the list-built model, one-hot labels with the add()-built one
    for name, model, loss, yt, yv in [
        ("list + sparse labels", build_with_list(), "sparse_categorical_crossentropy", y_train, y_test),
        ("add() + one-hot labels", build_with_add(), "categorical_crossentropy",
         to_categorical(y_train, 3), to_categorical(y_test, 3)),
    ]:
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        model.fit(x_train, yt, epochs=epochs, batch_size=8, verbose=verbose)
        _, acc = model.evaluate(x_test, yv, verbose=0)
        print(f"{name:24s} test accuracy: {acc:.4f}")
        results[name] = acc
    return results


if __name__ == "__main__":
    main(verbose=2)
