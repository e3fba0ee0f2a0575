"""The course workflows in examples/ run end to end and reach what a course expects."""
import importlib.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

# The course code passes input_shape= to the first layer; Keras (and baeum) warn about it.
pytestmark = pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`:UserWarning")

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_churn_notebook_on_breast_cancer(capsys):
    _, accuracy = load("churn_breast_cancer").main(verbose=0)
    assert accuracy >= 0.95
    assert "test accuracy" in capsys.readouterr().out


def test_iris_sequential_both_ways():
    results = load("iris_sequential").main()
    assert len(results) == 2
    for name, accuracy in results.items():
        assert accuracy >= 0.93, name


def test_study_hours_regression():
    one, two = load("study_hours").main()
    assert one == pytest.approx(50.0, abs=0.5)  # y = 10·x
    assert 0 < two < 100


def test_demo_command_runs():
    r = subprocess.run([sys.executable, "-m", "baeum", "demo"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Epoch 20/20" in r.stdout
    acc = float(r.stdout.split("test accuracy:")[1].split()[0])
    assert acc >= 0.93





def test_rnn_forecast_lstm_and_gru_beat_naive(capsys):
    """Hands-On ML ch. 15 on 2,000 series: the naive forecast's MSE is ~0.02; the book's
    ranking holds: linear and RNNs beat it, LSTM and GRU by a wide margin."""
    results = load("rnn_forecast").main()
    naive = results["naive"]
    assert 0.015 < naive < 0.03
    assert results["linear"] < 0.5 * naive
    assert results["simple_rnn"] < naive
    assert results["deep_rnn"] < 0.5 * naive
    assert results["lstm"] < 0.5 * naive
    assert results["gru"] < 0.5 * naive
    assert "test MSE" in capsys.readouterr().out


def test_rnn_seq2seq_beats_naive():
    results = load("rnn_seq2seq").main()
    for name in ("simple_rnn", "lstm", "gru"):  # ~0.1 of the naive 10-step forecast's MSE
        assert results[name] < 0.25 * results["naive"], name


def test_wavenet_and_conv_gru(capsys):
    results = load("wavenet").main()
    if results is None:  # no Conv1D in this build: the script says so
        assert "skipped" in capsys.readouterr().out
        pytest.skip("baeum.layers has no Conv1D")
    for name in ("conv_gru", "wavenet"):  # ~0.06 of the naive 10-step forecast's MSE
        assert results[name] < 0.25 * results["naive"], name


def test_three_styles_on_iris_give_the_same_accuracy():
    results = load("three_styles_iris").main()
    assert set(results) == {"sequential", "functional", "subclassed"}
    assert len(set(results.values())) == 1, results
    assert results["sequential"] >= 0.93


def test_transfer_learning_on_digits():
    r = load("transfer_digits").main()
    assert r["base"] >= 0.95
    assert r["frozen_unchanged"]
    assert r["transfer"] >= 0.7
    assert r["fine_tuned"] >= r["transfer"] - 0.02


def test_autoencoder_and_gan_with_train_on_batch():
    losses, g = load("gan_autoencoder").main()
    assert losses[-1] < 0.5 * losses[0]
    assert all(b < a * 1.05 for a, b in zip(losses, losses[1:]))
    assert abs(g["mean"] - g["real_mean"]) < 0.5 < abs(g["start_mean"] - g["real_mean"])


def test_cnn_digits_reaches_course_accuracy(capsys):
    model, accuracy = load("cnn_digits").main()
    assert accuracy >= 0.97
    assert [layer.count_params() for layer in model.layers] == [160, 1160, 0, 11790, 620, 210]
    assert "test accuracy" in capsys.readouterr().out


def test_conv_autoencoder_learns_to_reconstruct():
    before, after, mean_image = load("conv_autoencoder").main()
    assert after < 0.25 * before
    assert after < 0.5 * mean_image


def test_deck001_exercise_best_model_h5(tmp_path, capsys, caplog):
    result = load("deck001_exercise").main(out_dir=str(tmp_path / "모델 저장"), verbose=0)
    assert result["best_path"] == str(tmp_path / "모델 저장" / "best_model.h5")
    assert os.path.exists(result["best_path"])
    assert result["val_accuracy"] >= 0.80
    # the reloaded file holds the epoch with the best val_accuracy
    assert result["val_accuracy"] == pytest.approx(max(result["history"]["val_accuracy"]), abs=1e-6)
    assert "best model reloaded" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path / "모델 저장")) == (["best_model.h5", "curves.png"]
                                                         if result["plot"] else ["best_model.h5"])


def test_augment_digits(capsys):
    model, accuracy = load("augment_digits").main()
    assert accuracy >= 0.9
    assert "test accuracy" in capsys.readouterr().out
    x = np.random.default_rng(0).uniform(0, 16, (4, 8, 8, 1)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))  # no augmentation


