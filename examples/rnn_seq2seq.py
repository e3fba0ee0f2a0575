"""Hands-On ML (2nd ed., ch. 15), "Forecasting Several Time Steps Ahead": predict the next
10 values at every time step (sequence-to-sequence), with return_sequences=True RNNs and
TimeDistributed(Dense(10)).

Y[:, t, k] is the value k+1 steps after step t (baeum.datasets.sequence_targets); training on
every step gives many more error signals than training on the last step only. The score is
the book's "last_time_step_mse": the MSE of the 10-value forecast made at the last step,
compared with the naive forecast (repeat the last value 10 times). 2,000 series instead of
the book's 10,000, and fewer epochs.
"""
import numpy as np

from baeum import layers, optimizers
from baeum.datasets import generate_time_series, sequence_targets
from baeum.models import Sequential
from baeum.utils import set_random_seed


def last_time_step_mse(Y_true, Y_pred):
    """The book's metric: MSE of the forecast made at the last time step only."""
    return np.mean((Y_true[:, -1] - Y_pred[:, -1]) ** 2, axis=-1)


def build(name):
    L = layers
    if name == "simple_rnn":
        return Sequential([L.SimpleRNN(20, return_sequences=True, input_shape=[None, 1]),
                           L.SimpleRNN(20, return_sequences=True), L.TimeDistributed(L.Dense(10))])
    if name == "lstm":
        return Sequential([L.LSTM(20, return_sequences=True, input_shape=[None, 1]),
                           L.LSTM(20, return_sequences=True), L.TimeDistributed(L.Dense(10))])
    if name == "gru":
        return Sequential([L.GRU(20, return_sequences=True, input_shape=[None, 1]),
                           L.GRU(20, return_sequences=True), L.TimeDistributed(L.Dense(10))])
    raise ValueError(name)


def main(n_series=2000, n_steps=50, models=("simple_rnn", "lstm", "gru"), epochs=2, verbose=0, seed=42):
    set_random_seed(seed)
    series = generate_time_series(n_series, n_steps + 10, seed=seed)
    Y = sequence_targets(series, n_steps, 10)
    X = series[:, :n_steps]
    a, b = int(0.7 * n_series), int(0.9 * n_series)
    X_train, Y_train, X_valid, Y_valid, X_test, Y_test = X[:a], Y[:a], X[a:b], Y[a:b], X[b:], Y[b:]

    naive = float(np.mean((series[b:, n_steps:, 0] - X_test[:, -1]) ** 2))  # repeat the last value
    results = {"naive": naive}
    print(f"naive 10-step forecast   last-step MSE {naive:.4f}")
    for name in models:
        model = build(name)
        model.compile(loss="mse", optimizer=optimizers.Adam(learning_rate=0.01), metrics=[last_time_step_mse])
        model.fit(X_train, Y_train, epochs=epochs, batch_size=32, validation_data=(X_valid, Y_valid),
                  verbose=verbose)
        results[name] = float(np.mean(last_time_step_mse(Y_test, model.predict(X_test, verbose=0))))
        print(f"{name:<12} {model.count_params():>6} params  last-step MSE {results[name]:.4f}")
    return results


if __name__ == "__main__":
    main(verbose=2)
