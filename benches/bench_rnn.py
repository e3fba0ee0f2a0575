"""pytest-benchmark: one training epoch of the deep LSTM forecaster, baeum vs PyTorch nn.LSTM.

    pytest benches/bench_rnn.py --benchmark-enable --benchmark-columns=min,median
"""
import pytest

from rnn import CONFIGS, baeum_trainer, data, torch_trainer


@pytest.fixture(scope="module")
def xy():
    return data(**CONFIGS["small"])


@pytest.mark.parametrize("impl", ["baeum", "torch"])
def test_lstm_epoch(benchmark, xy, impl):
    x, y = xy
    cfg = CONFIGS["small"]
    if impl == "torch":
        pytest.importorskip("torch")
        epoch = torch_trainer(x, y, cfg["units"], cfg["batch"])
    else:
        epoch = baeum_trainer(x, y, cfg["units"], cfg["batch"])
    benchmark.pedantic(epoch, rounds=3, iterations=1)
