"""pytest-benchmark: Dense forward + backward of the narrow course layers (see benches/dense.py).

    pytest benches/bench_dense.py --benchmark-enable --benchmark-group-by=param:stack \
        --benchmark-columns=min,median
"""
import pytest

from dense import STACKS, baeum_step, make_stack, numpy_step, torch_step


@pytest.mark.parametrize("impl", ["baeum", "numpy", "torch"])
@pytest.mark.parametrize("stack", list(STACKS))
def test_dense_step(benchmark, stack, impl):
    layers = make_stack(stack)
    if impl == "torch":
        step = torch_step(pytest.importorskip("torch"), layers)
    elif impl == "numpy":
        step = numpy_step(layers)
    else:
        step = baeum_step(layers)
    benchmark(step)
