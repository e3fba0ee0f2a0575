"""pytest-benchmark: one epoch of the churn-shaped DNN, baeum vs PyTorch eager (optional).

    pytest benches/bench_churn.py --benchmark-enable --benchmark-columns=min,median
"""
import pytest

from churn import baeum_epoch_times, data, torch_epoch_times


@pytest.fixture(scope="module")
def xy():
    return data()


@pytest.mark.parametrize("impl", ["baeum", "torch"])
def test_churn_epoch(benchmark, xy, impl):
    x, y = xy
    if impl == "torch":
        pytest.importorskip("torch")
        benchmark.pedantic(torch_epoch_times, args=(x, y, 1), rounds=3, iterations=1)
    else:
        benchmark.pedantic(baeum_epoch_times, args=(x, y, 1), rounds=3, iterations=1)
