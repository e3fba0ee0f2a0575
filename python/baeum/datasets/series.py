"""Synthetic time series and chronological windowing for sequence models.

After Aurélien Géron, *Hands-On Machine Learning with Scikit-Learn, Keras and TensorFlow*,
2nd ed. (O'Reilly, 2019), chapter 15 "Processing Sequences Using RNNs and CNNs",
section "Forecasting a Time Series": the ``generate_time_series`` function and the
train/valid/test split of its 10,000 series (7,000 / 2,000 / 1,000, in order).
"""
import numpy as np


def generate_time_series(batch_size, n_steps, seed=None):
    """`batch_size` univariate series of `n_steps` steps: two sine waves plus noise.

    Exactly the book's function (Hands-On ML 2nd ed., ch. 15)::

        freq1, freq2, offsets1, offsets2 = rand(4, batch_size, 1)
        time = linspace(0, 1, n_steps)
        series  = 0.5 * sin((time - offsets1) * (freq1 * 10 + 10))   # wave 1
        series += 0.2 * sin((time - offsets2) * (freq2 * 20 + 20))   # + wave 2
        series += 0.1 * (rand(batch_size, n_steps) - 0.5)           # + noise
        return series[..., newaxis].astype(float32)

    seed=None draws from NumPy's global generator, as the book does (so ``np.random.seed(42)``
    before the call reproduces the book's data); an int seed uses ``np.random.RandomState(seed)``,
    the same stream, without touching global state: ``generate_time_series(n, T, seed=42)``
    equals ``np.random.seed(42); generate_time_series(n, T)``.

    Returns float32 of shape (batch_size, n_steps, 1): (samples, timesteps, features), the
    layout RNN layers expect.
    """
    for value, what in ((batch_size, "batch_size"), (n_steps, "n_steps")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"generate_time_series: {what} must be a non-negative integer, received {value!r}.")
    rand = np.random.rand if seed is None else np.random.RandomState(seed).rand
    freq1, freq2, offsets1, offsets2 = rand(4, batch_size, 1)
    time = np.linspace(0, 1, n_steps)
    series = 0.5 * np.sin((time - offsets1) * (freq1 * 10 + 10))
    series += 0.2 * np.sin((time - offsets2) * (freq2 * 20 + 20))
    series += 0.1 * (rand(batch_size, n_steps) - 0.5)
    return series[..., np.newaxis].astype(np.float32)


def _fractions(splits, what):
    splits = tuple(float(s) for s in splits)
    if len(splits) != 2 or min(splits) < 0 or sum(splits) > 1 + 1e-9:
        raise ValueError(f"{what}: splits must be (train_fraction, valid_fraction), both >= 0 with sum <= 1 "
                         f"(the rest is the test set), received {splits!r}.")
    return splits


def window_split(series, n_steps, horizon=1, splits=(0.7, 0.2)):
    """Inputs of `n_steps` steps and targets of the next `horizon` steps, split in order
    into train / valid / test — never shuffled across time.

    Two layouts:

    * a batch of series, shape (samples, timesteps, features) — e.g. from
      ``generate_time_series(10000, n_steps + horizon)``: the book's split (Hands-On ML 2nd
      ed., ch. 15): the first ``splits[0]`` of the series train, the next ``splits[1]``
      validate, the rest test; X = each series' first `n_steps` steps, y = the `horizon`
      steps after them. ``window_split(generate_time_series(10000, 51), 50)`` gives the
      book's ``X_train = series[:7000, :50], y_train = series[:7000, -1]`` and so on.
    * one long series, shape (timesteps,) or (timesteps, features): the time axis is cut
      chronologically at ``splits[0]`` and ``splits[0] + splits[1]`` of its length, and each
      part is cut into sliding windows (stride 1) that stay inside it — so no target of an
      earlier part is an input of a later part and the test windows are the most recent.

    y has shape (windows, horizon) for one feature, (windows, horizon, features) otherwise;
    X has shape (windows, n_steps, features). All arrays are float32.

    Returns ((X_train, y_train), (X_valid, y_valid), (X_test, y_test)).
    """
    what = "window_split"
    series = np.asarray(series, dtype=np.float32)
    n_steps, horizon = int(n_steps), int(horizon)
    if n_steps <= 0 or horizon <= 0:
        raise ValueError(f"{what}: n_steps and horizon must be positive, received n_steps={n_steps}, "
                         f"horizon={horizon}.")
    f_train, f_valid = _fractions(splits, what)
    need = n_steps + horizon
    if series.ndim == 3:
        if series.shape[1] < need:
            raise ValueError(f"{what}: each series has {series.shape[1]} steps but n_steps + horizon = {need} "
                             f"are needed. Fix: generate longer series, e.g. generate_time_series(n, {need}).")
        X = series[:, :n_steps]
        y = series[:, n_steps:need]
        n = len(series)
        cuts = [0, int(round(n * f_train)), int(round(n * (f_train + f_valid))), n]
        parts = [(X[a:b], y[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
    elif series.ndim in (1, 2):
        if series.ndim == 1:
            series = series[:, None]
        T = len(series)
        cuts = [0, int(round(T * f_train)), int(round(T * (f_train + f_valid))), T]
        parts = []
        for a, b in zip(cuts[:-1], cuts[1:]):
            count = max(0, b - a - need + 1)
            idx = a + np.arange(count)[:, None] + np.arange(need)[None, :]
            windows = series[idx] if count else np.zeros((0, need, series.shape[1]), np.float32)
            parts.append((windows[:, :n_steps], windows[:, n_steps:]))
        if parts[0][0].shape[0] == 0:
            raise ValueError(f"{what}: the training part has {cuts[1]} steps, fewer than n_steps + horizon = {need}: "
                             "no window fits. Fix: use a longer series or smaller n_steps.")
    else:
        raise ValueError(f"{what}: series must have shape (timesteps,), (timesteps, features) or "
                         f"(samples, timesteps, features), received {series.shape}.")
    out = []
    for X, y in parts:
        if y.shape[-1] == 1:
            y = y[..., 0]
        out.append((np.ascontiguousarray(X), np.ascontiguousarray(y)))
    return tuple(out)


def sequence_targets(series, n_steps, horizon):
    """Sequence-to-sequence targets: at every step t, the next `horizon` values.

    Y[:, t, k] = series[:, t + 1 + k, 0] for t < n_steps, k < horizon — the book's
    ``Y[:, :, step_ahead - 1] = series[:, step_ahead:step_ahead + n_steps, 0]`` (Hands-On ML
    2nd ed., ch. 15, "Forecasting Several Time Steps Ahead"). series: (samples, ≥ n_steps +
    horizon, features) → Y float32 (samples, n_steps, horizon), for a model with
    return_sequences=True and TimeDistributed(Dense(horizon)).
    """
    series = np.asarray(series, dtype=np.float32)
    if series.ndim != 3 or series.shape[1] < n_steps + horizon:
        raise ValueError(f"sequence_targets: series must be (samples, timesteps >= n_steps + horizon = "
                         f"{n_steps + horizon}, features), received {series.shape}.")
    Y = np.empty((len(series), n_steps, horizon), np.float32)
    for step_ahead in range(1, horizon + 1):
        Y[:, :, step_ahead - 1] = series[:, step_ahead:step_ahead + n_steps, 0]
    return Y
