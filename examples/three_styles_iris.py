"""Deck 000/001: the three ways to build a model — Sequential, functional and subclassing —
for the same 4-5-10-3 network on iris. With the same initial weights, the same data order
and the same optimizer, the three train to the same test accuracy."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from baeum.datasets import iris  # noqa: E402
from baeum.layers import Dense, Input  # noqa: E402
from baeum.models import Model, Sequential  # noqa: E402
from baeum.utils import set_random_seed  # noqa: E402
from _prep import StandardScaler, train_test_split  # noqa: E402


def build_sequential():
    return Sequential([Input(shape=(4,)), Dense(5, activation="relu"), Dense(10, activation="relu"),
                       Dense(3, activation="softmax")])


def build_functional():
    inputs = Input(shape=(4,))
    x = Dense(5, activation="relu")(inputs)
    x = Dense(10, activation="relu")(x)
    outputs = Dense(3, activation="softmax")(x)
    return Model(inputs=inputs, outputs=outputs)


class CustomModel(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense1 = Dense(5, activation="relu")
        self.dense2 = Dense(10, activation="relu")
        self.dense3 = Dense(3, activation="softmax")

    def call(self, inputs, training=None):
        x = self.dense1(inputs)
        x = self.dense2(x)
        return self.dense3(x)


def main(epochs=100, verbose=0, seed=7):
    set_random_seed(seed)
    x, y = iris.load_data()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    models = {"sequential": build_sequential(), "functional": build_functional(), "subclassed": CustomModel()}
    models["subclassed"].build((None, 4))
    initial = models["sequential"].get_weights()
    results = {}
    for name, model in models.items():
        model.set_weights(initial)  # same starting point for the three styles
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x_train, y_train, epochs=epochs, batch_size=8, shuffle=False, verbose=verbose)
        _, acc = model.evaluate(x_test, y_test, verbose=0)
        print(f"{name:11s} test accuracy: {acc:.4f}")
        results[name] = acc
    return results


if __name__ == "__main__":
    main(verbose=0)
