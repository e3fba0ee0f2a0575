"""pytest-benchmark: baeum.ops.matmul vs numpy (and torch when installed), side by side.

    pytest benches/bench_matmul.py --benchmark-enable --benchmark-group-by=param:shape \
        --benchmark-columns=min,median,ops

Each group is one shape; the rows in it are the implementations. For GFLOP/s and ratios
from one interleaved run use `python benches/compare.py matmul` instead.
"""
import numpy as np
import pytest

from baeum import ops

SQUARES = [(n, n, n, False, False) for n in (64, 128, 256, 512, 1024, 2048)]
TRAINING = []
for m, k, n in [(10, 30, 64), (256, 392, 30), (64, 4096, 128), (32, 1024, 4096)]:
    TRAINING += [(m, n, k, False, False), (m, k, n, False, True), (k, n, m, True, False)]
SHAPES = SQUARES + TRAINING


def shape_id(s):
    m, n, k, ta, tb = s
    return f"{m}x{k}{'ᵀ' if ta else ''}·{k}x{n}{'ᵀ' if tb else ''}"


def torch_or_skip():
    return pytest.importorskip("torch")


@pytest.fixture(params=SHAPES, ids=shape_id)
def shape(request):
    return request.param


@pytest.fixture
def operands(shape):
    m, n, k, ta, tb = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
    return a, b, np.empty((m, n), np.float32), ta, tb


@pytest.mark.parametrize("impl", ["baeum", "numpy", "torch"])
def test_matmul(benchmark, operands, impl, shape):
    a, b, c, ta, tb = operands
    m, n, k = shape[:3]
    benchmark.extra_info["gflop"] = 2.0 * m * n * k * 1e-9
    if impl == "baeum":
        benchmark(lambda: ops.matmul(a, b, transpose_a=ta, transpose_b=tb, out=c))
    elif impl == "numpy":
        an, bn = (a.T if ta else a), (b.T if tb else b)
        benchmark(lambda: np.matmul(an, bn, out=c))
    else:
        torch = torch_or_skip()
        x, y, z = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)
        x, y = (x.T if ta else x), (y.T if tb else y)
        benchmark(lambda: torch.matmul(x, y, out=z))
