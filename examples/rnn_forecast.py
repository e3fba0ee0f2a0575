"""Hands-On ML (2nd ed., ch. 15), "Forecasting a Time Series": predict the next value of
series made of two sine waves plus noise, 50 steps each.

The book's models, in order: the naive forecast (predict the last value), a linear model,
SimpleRNN(1), a deep SimpleRNN, and LSTM / GRU versions of the deep RNN. The book uses 10,000
series and 20 epochs; this script uses 2,000 series (the same 70/20/10 split, in order) and
fewer epochs so that it runs in seconds, with a larger learning rate to make up for it.
Every model is scored by its MSE on the held-out test series.
"""
import numpy as np

from baeum import layers, optimizers
from baeum.datasets import generate_time_series, window_split
from baeum.models import Sequential
from baeum.utils import set_random_seed


def mse(y_true, y_pred):
    return float(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2))


def build(name):
    L = layers
    if name == "linear":
        return Sequential([L.Flatten(input_shape=[50, 1]), L.Dense(1)])
    if name == "simple_rnn":
        return Sequential([L.SimpleRNN(1, input_shape=[None, 1])])
    if name == "deep_rnn":
        return Sequential([L.SimpleRNN(20, return_sequences=True, input_shape=[None, 1]),
                           L.SimpleRNN(20), L.Dense(1)])
    if name == "lstm":
        return Sequential([L.LSTM(20, return_sequences=True, input_shape=[None, 1]), L.LSTM(20), L.Dense(1)])
    if name == "gru":
        return Sequential([L.GRU(20, return_sequences=True, input_shape=[None, 1]), L.GRU(20), L.Dense(1)])
    raise ValueError(name)


# (epochs, learning rate) per model: fewer epochs than the book's 20 (and a larger learning rate
# than Adam's default) reach the book's ranking in a few seconds
SETTINGS = {"linear": (20, 0.01), "simple_rnn": (20, 0.01), "deep_rnn": (3, 0.01),
            "lstm": (3, 0.01), "gru": (3, 0.01)}


def main(n_series=2000, n_steps=50, models=("linear", "simple_rnn", "deep_rnn", "lstm", "gru"),
         epoch_scale=1.0, verbose=0, seed=42):
    set_random_seed(seed)
    series = generate_time_series(n_series, n_steps + 1, seed=seed)
    (X_train, y_train), (X_valid, y_valid), (X_test, y_test) = window_split(series, n_steps)

    results = {"naive": mse(y_test, X_test[:, -1])}  # tomorrow = today
    print(f"naive forecast            test MSE {results['naive']:.4f}")
    for name in models:
        epochs, lr = SETTINGS[name]
        model = build(name)
        model.compile(loss="mse", optimizer=optimizers.Adam(learning_rate=lr))
        model.fit(X_train, y_train, epochs=max(1, int(epochs * epoch_scale)), batch_size=32,
                  validation_data=(X_valid, y_valid), verbose=verbose)
        results[name] = mse(y_test, model.predict(X_test, verbose=0))
        print(f"{name:<12} {model.count_params():>6} params  test MSE {results[name]:.4f}")
    return results


if __name__ == "__main__":
    main(verbose=2)
