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


@pytest.mark.parametrize("recurrent_dropout", [0.0, 0.2])
def test_lstm_epoch_recurrent_dropout(benchmark, xy, recurrent_dropout):
    """The same baeum model with recurrent_dropout (per-gate masks, rnn_gatemask_*) and without."""
    x, y = xy
    cfg = CONFIGS["small"]
    epoch = baeum_trainer(x, y, cfg["units"], cfg["batch"], recurrent_dropout=recurrent_dropout)
    benchmark.pedantic(epoch, rounds=3, iterations=1)
