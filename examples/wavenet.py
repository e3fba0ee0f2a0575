"""Hands-On ML (2nd ed., ch. 15), "Using 1D convolutional layers to process sequences" and
"WaveNet": the 10-steps-ahead sequence-to-sequence task of rnn_seq2seq.py, with

* Conv1D(20, kernel_size=4, strides=2, padding='valid') in front of two GRU(20) layers:
  the convolution halves the sequence, so the targets are Y[:, 3::2] (the output at step i
  sees inputs up to 2i + 3);
* a WaveNet-style stack: Conv1D(20, 2, padding='causal', dilation_rate=r, activation='relu')
  for r in (1, 2, 4, 8) twice, then Conv1D(10, 1) — causal padding keeps every output from
  seeing the future, and the doubling dilations give a receptive field of 31 steps.

2,000 series instead of the book's 10,000, and fewer epochs. Needs baeum.layers.Conv1D; when
it is missing this script says so and skips those models.
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
    if name == "conv_gru":
        return Sequential([
            L.Conv1D(filters=20, kernel_size=4, strides=2, padding="valid", input_shape=[None, 1]),
            L.GRU(20, return_sequences=True),
            L.GRU(20, return_sequences=True),
            L.TimeDistributed(L.Dense(10)),
        ])
    if name == "wavenet":
        model = Sequential()
        model.add(L.InputLayer(input_shape=[None, 1]))
        for rate in (1, 2, 4, 8) * 2:
            model.add(L.Conv1D(filters=20, kernel_size=2, padding="causal", activation="relu", dilation_rate=rate))
        model.add(L.Conv1D(filters=10, kernel_size=1))
        return model
    raise ValueError(name)


SETTINGS = {"conv_gru": (4, 0.01), "wavenet": (5, 0.005)}  # (epochs, learning rate)


def main(n_series=2000, n_steps=50, models=("conv_gru", "wavenet"), epoch_scale=1.0, verbose=0, seed=42):
    if not hasattr(layers, "Conv1D"):
        print("wavenet.py: skipped — baeum.layers has no Conv1D in this build (the Conv1D + GRU and "
              "WaveNet models need it).")
        return None
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
        epochs, lr = SETTINGS[name]
        # Conv1D(4, stride 2, valid): output i sees inputs 2i..2i+3, so it predicts from step 2i+3
        sl = slice(3, None, 2) if name == "conv_gru" else slice(None)
        model = build(name)
        model.compile(loss="mse", optimizer=optimizers.Adam(learning_rate=lr), metrics=[last_time_step_mse])
        model.fit(X_train, Y_train[:, sl], epochs=max(1, int(epochs * epoch_scale)), batch_size=32,
                  validation_data=(X_valid, Y_valid[:, sl]), verbose=verbose)
        results[name] = float(np.mean(last_time_step_mse(Y_test[:, sl], model.predict(X_test, verbose=0))))
        print(f"{name:<12} {model.count_params():>6} params  last-step MSE {results[name]:.4f}")
    return results


if __name__ == "__main__":
    main(verbose=2)
