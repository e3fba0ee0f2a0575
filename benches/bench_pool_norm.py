"""pytest-benchmark: max pooling and batch norm kernels, baeum vs PyTorch (optional).

    pytest benches/bench_pool_norm.py --benchmark-enable --benchmark-columns=min,median
"""
import pytest

from pool_norm import baeum_cases, torch_cases

SHAPE = (64, 32, 64)
KERNELS = ["maxpool fwd", "maxpool bwd", "batchnorm fwd (train)", "batchnorm bwd"]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("impl", ["baeum", "torch"])
def test_pool_norm(benchmark, kernel, impl):
    benchmark.group = kernel
    if impl == "torch":
        torch = pytest.importorskip("torch")
        with torch.no_grad():
            benchmark(torch_cases(torch, *SHAPE)[kernel])
    else:
        benchmark(baeum_cases(*SHAPE)[kernel])
