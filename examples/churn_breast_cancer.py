"""The course's churn notebook (deck 000/001), step by step, on the breast-cancer data
(30 features, binary target — the same shape of problem as churn_data.csv).

Only the imports differ from the tensorflow.keras notebook.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from baeum.datasets import breast_cancer  # noqa: E402
from baeum.layers import Dense, Dropout  # noqa: E402
from baeum.models import Sequential  # noqa: E402
from baeum.utils import set_random_seed  # noqa: E402
from _prep import MinMaxScaler, train_test_split  # noqa: E402


def main(epochs=20, verbose=2, seed=42):
    set_random_seed(seed)
    x, y = breast_cancer.load_data()
    X_train, X_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    scaler = MinMaxScaler()
    scaler.fit(X_train)
    X_train = scaler.transform(X_train)
    X_test = scaler.transform(X_test)

    model = Sequential()
    model.add(Dense(128, activation="relu", input_shape=(30,)))
    model.add(Dropout(0.3))
    model.add(Dense(64, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(32, activation="relu"))
    model.add(Dropout(0.2))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(X_train, y_train, validation_data=(X_test, y_test), epochs=epochs, batch_size=10, verbose=verbose)

    try:  # the notebook's plot, when pandas is installed
        import pandas as pd

        losses = pd.DataFrame(model.history.history)
        print(losses[["loss", "val_loss"]].tail(3))
    except ImportError:
        pass
    loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}  (test loss {loss:.4f})")
    return model, accuracy


if __name__ == "__main__":
    main()
