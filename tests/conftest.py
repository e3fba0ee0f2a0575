import numpy as np
import pytest

import baeum
from baeum import _core

ALL_ISAS = ["generic", "avx2", "avx512"]


@pytest.fixture(params=ALL_ISAS)
def isa(request):
    """Run the test once per micro-kernel path this machine supports (skip the others)."""
    name = request.param
    if not _core.isa_supported(name):
        pytest.skip(f"CPU cannot run the {name} path")
    previous = _core.gemm_isa()
    _core.set_gemm_isa(name)
    yield name
    _core.set_gemm_isa(previous)


@pytest.fixture
def threads():
    """Restore the thread count after a test that changes it."""
    previous = baeum.get_num_threads()
    yield
    baeum.set_num_threads(previous)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
