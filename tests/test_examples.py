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
