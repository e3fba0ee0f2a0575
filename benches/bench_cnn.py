"""pytest-benchmark: one training epoch of the deck-003 CNN (28×28×1, batch 256) and of the
VGG-style net (32×32×3, batch 64), baeum vs PyTorch eager (optional).

    pytest benches/bench_cnn.py --benchmark-enable --benchmark-columns=min,median
"""
import pytest

from cnn import baeum_epoch_times, data, torch_epoch_times

STEPS = 8


@pytest.fixture(scope="module", params=["deck", "vgg"])
def workload(request):
    return request.param, data(request.param, STEPS)


@pytest.mark.parametrize("impl", ["baeum", "torch"])
def test_cnn_epoch(benchmark, workload, impl):
    model, (x, y) = workload
    if impl == "torch":
        pytest.importorskip("torch")
        benchmark.pedantic(torch_epoch_times, args=(model, x, y, 1), rounds=3, iterations=1)
    else:
        benchmark.pedantic(baeum_epoch_times, args=(model, x, y, 1), rounds=3, iterations=1)
