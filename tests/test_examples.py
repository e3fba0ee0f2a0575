"""The course workflows in examples/ run end to end and reach what a course expects."""
import importlib.util
import pathlib
import subprocess
import sys

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


def test_cnn_digits_reaches_course_accuracy(capsys):
    model, accuracy = load("cnn_digits").main()
    assert accuracy >= 0.97
    assert [layer.count_params() for layer in model.layers] == [160, 1160, 0, 11790, 620, 210]
    assert "test accuracy" in capsys.readouterr().out


def test_conv_autoencoder_learns_to_reconstruct():
    before, after, mean_image = load("conv_autoencoder").main()
    assert after < 0.25 * before
    assert after < 0.5 * mean_image
