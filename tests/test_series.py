"""baeum.datasets.series: the Hands-On ML (2nd ed., ch. 15) series generator and chronological windowing."""
import numpy as np
import pytest

from baeum.datasets import generate_time_series, sequence_targets, window_split


def _book(batch_size, n_steps):
    """The book's function, verbatim, on NumPy's global generator."""
    freq1, freq2, offsets1, offsets2 = np.random.rand(4, batch_size, 1)
    time = np.linspace(0, 1, n_steps)
    series = 0.5 * np.sin((time - offsets1) * (freq1 * 10 + 10))
    series += 0.2 * np.sin((time - offsets2) * (freq2 * 20 + 20))
    series += 0.1 * (np.random.rand(batch_size, n_steps) - 0.5)
    return series[..., np.newaxis].astype(np.float32)


def test_matches_the_book_seeded_and_global():
    state = np.random.get_state()
    try:
        np.random.seed(42)
        book = _book(50, 51)
        np.random.seed(42)
        ours_global = generate_time_series(50, 51)
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(ours_global, book)
    np.testing.assert_array_equal(generate_time_series(50, 51, seed=42), book)
    assert book.dtype == np.float32 and book.shape == (50, 51, 1)


def test_seed_reproducible_and_leaves_global_state_alone():
    before = np.random.get_state()[1].copy()
    a = generate_time_series(10, 20, seed=7)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.testing.assert_array_equal(a, generate_time_series(10, 20, seed=7))
    assert not np.array_equal(a, generate_time_series(10, 20, seed=8))


def test_statistics():
    s = generate_time_series(4000, 50, seed=0)[..., 0].astype(np.float64)
    # |0.5 sin| + |0.2 sin| + |0.1 (u − 0.5)| ≤ 0.75
    assert np.abs(s).max() <= 0.75
    # mean of the sum of two sines with uniform phases is ~0; variance ≈ 0.5²/2 + 0.2²/2 + 0.1²/12
    assert abs(s.mean()) < 0.02
    assert s.var() == pytest.approx(0.125 + 0.02 + 0.01 / 12, rel=0.08)
    # smooth (low-frequency) series: neighbouring steps are strongly correlated
    a, b = s[:, :-1].ravel(), s[:, 1:].ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.85
    # the noise: subtract the two waves (their parameters are the stream's first 4·N draws)
    freq1, freq2, off1, off2 = np.random.RandomState(0).rand(4, 4000, 1)
    time = np.linspace(0, 1, 50)
    noise = s - 0.5 * np.sin((time - off1) * (freq1 * 10 + 10)) - 0.2 * np.sin((time - off2) * (freq2 * 20 + 20))
    assert -0.05 - 1e-6 < noise.min() < -0.0499 and 0.0499 < noise.max() < 0.05 + 1e-6  # 0.1·(U − 0.5)
    assert noise.var() == pytest.approx(0.01 / 12, rel=0.02)
    # the frequencies: wave 1 in [10, 20) rad per unit time, so at most ~3.2 cycles per series


def test_window_split_batch_of_series_is_the_books_split():
    series = generate_time_series(100, 51, seed=3)
    (xt, yt), (xv, yv), (xs, ys) = window_split(series, 50)
    np.testing.assert_array_equal(xt, series[:70, :50])
    np.testing.assert_array_equal(yt, series[:70, -1])
    np.testing.assert_array_equal(xv, series[70:90, :50])
    np.testing.assert_array_equal(yv, series[70:90, -1])
    np.testing.assert_array_equal(xs, series[90:, :50])
    np.testing.assert_array_equal(ys, series[90:, -1])
    assert yt.shape == (70, 1) and xt.shape == (70, 50, 1)
    # ten steps ahead: the book's Y = series[:, -10:, 0]
    series = generate_time_series(20, 60, seed=3)
    (xt, yt), _, (xs, ys) = window_split(series, 50, horizon=10, splits=(0.5, 0.25))
    np.testing.assert_array_equal(yt, series[:10, -10:, 0])
    assert xt.shape == (10, 50, 1) and ys.shape == (5, 10)


def test_window_split_one_long_series_is_chronological():
    t = np.arange(100, dtype=np.float32)  # value = time index
    (xt, yt), (xv, yv), (xs, ys) = window_split(t, 5, horizon=2, splits=(0.6, 0.2))
    # parts: [0, 60), [60, 80), [80, 100); windows of 7 steps inside each part, in time order
    assert xt.shape == (54, 5, 1) and yt.shape == (54, 2)
    assert xv.shape == (14, 5, 1) and xs.shape == (14, 5, 1)
    np.testing.assert_array_equal(xt[0, :, 0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(yt[0], [5, 6])
    np.testing.assert_array_equal(yt[-1], [58, 59])
    np.testing.assert_array_equal(xv[0, :, 0], [60, 61, 62, 63, 64])
    assert yt.max() < xv.min() and yv.max() < xs.min()  # nothing leaks backwards in time
    assert (np.diff(xt[:, 0, 0]) == 1).all()  # not shuffled
    # multivariate: y keeps the feature axis
    t2 = np.stack([t, -t], 1)
    (xt, yt), _, _ = window_split(t2, 3, horizon=1)
    assert xt.shape[1:] == (3, 2) and yt.shape[1:] == (1, 2)
    np.testing.assert_array_equal(yt[0], [[3, -3]])


def test_sequence_targets_are_the_books():
    series = generate_time_series(4, 60, seed=1)
    Y = sequence_targets(series, 50, 10)
    assert Y.shape == (4, 50, 10)
    for step_ahead in range(1, 11):
        np.testing.assert_array_equal(Y[:, :, step_ahead - 1], series[:, step_ahead:step_ahead + 50, 0])
    np.testing.assert_array_equal(Y[:, -1], series[:, 50:, 0])  # the last step's targets: the 10 future values


def test_errors():
    with pytest.raises(ValueError, match=r"51 steps but n_steps \+ horizon = 60.*generate_time_series\(n, 60\)"):
        window_split(generate_time_series(5, 51, seed=0), 50, horizon=10)
    with pytest.raises(ValueError, match="splits must be"):
        window_split(np.zeros(100), 5, splits=(0.8, 0.3))
    with pytest.raises(ValueError, match="no window fits"):
        window_split(np.zeros(10), 8)
    with pytest.raises(ValueError, match="series must have shape"):
        window_split(np.zeros((2, 3, 4, 5)), 1)
    with pytest.raises(ValueError, match="n_steps must be a non-negative integer"):
        generate_time_series(3, -1)
    with pytest.raises(ValueError, match="sequence_targets"):
        sequence_targets(generate_time_series(2, 10, seed=0), 8, 5)
