"""baeum.ops.matmul against its NumPy twin, on every micro-kernel path this CPU can run."""
import itertools

import numpy as np
import pytest

import baeum
from baeum import _core, ops, reference

SIZES = [0, 1, 2, 3, 7, 17, 64, 65, 127]
BIG = [257, 1000]
EPS32 = np.finfo(np.float32).eps


def operands(rng, m, n, k, ta, tb):
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
    return a, b


def error_bound(a, b, ta, tb, k, alpha=1.0, beta=0.0, c0=None):
    """Deterministic float32 summation bound: |fl(Σ) − Σ| ≤ (k+2)·eps·Σ|a||b| (+ beta term)."""
    a64 = np.abs(a.astype(np.float64))
    b64 = np.abs(b.astype(np.float64))
    mag = (a64.T if ta else a64) @ (b64.T if tb else b64)
    bound = (k + 3) * EPS32 * abs(alpha) * mag + 1e-30
    if c0 is not None and beta != 0.0:
        bound = bound + 3 * EPS32 * abs(beta) * np.abs(c0)
    return bound


def assert_matches(got, want, bound):
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    assert got.shape == want.shape
    assert np.all(err <= bound + 2 * EPS32 * np.abs(want)), f"max err {err.max()}"


@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
def test_all_small_shapes(isa, rng, ta, tb):
    for m, n, k in itertools.product(SIZES, repeat=3):
        a, b = operands(rng, m, n, k, ta, tb)
        got = ops.matmul(a, b, transpose_a=ta, transpose_b=tb)
        want = reference.matmul(a, b, transpose_a=ta, transpose_b=tb)
        assert_matches(got, want, error_bound(a, b, ta, tb, k))


@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
def test_large_and_mixed_shapes(isa, rng, ta, tb):
    shapes = [(m, n, k) for m in BIG + [7] for n in BIG + [17] for k in BIG + [65]]
    shapes += [(10, 64, 30), (256, 30, 392), (64, 128, 4096), (32, 1000, 1024), (1, 1000, 1000)]
    for m, n, k in shapes:
        a, b = operands(rng, m, n, k, ta, tb)
        got = ops.matmul(a, b, transpose_a=ta, transpose_b=tb)
        want = reference.matmul(a, b, transpose_a=ta, transpose_b=tb)
        assert_matches(got, want, error_bound(a, b, ta, tb, k))


@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (0.5, -2.0), (-1.5, 0.25), (0.0, 3.0), (2.0, 0.0)])
def test_alpha_beta(isa, rng, alpha, beta):
    for m, n, k in [(7, 17, 65), (65, 257, 300), (3, 2, 0), (130, 40, 600)]:
        for ta, tb in itertools.product([False, True], repeat=2):
            a, b = operands(rng, m, n, k, ta, tb)
            c0 = rng.uniform(-1, 1, (m, n)).astype(np.float32)
            got = ops.matmul(a, b, transpose_a=ta, transpose_b=tb, alpha=alpha, beta=beta, out=c0.copy())
            want = reference.matmul(a, b, transpose_a=ta, transpose_b=tb, alpha=alpha, beta=beta, out=c0.copy())
            assert_matches(got, want, error_bound(a, b, ta, tb, k, alpha, beta, c0))


def test_beta_zero_never_reads_out(isa, rng):
    a, b = operands(rng, 19, 33, 300, False, False)
    out = np.full((19, 33), np.nan, dtype=np.float32)
    ops.matmul(a, b, out=out)
    assert np.isfinite(out).all()
    out[:] = np.nan
    ops.matmul(np.zeros((19, 0), np.float32), np.zeros((0, 33), np.float32), out=out)
    assert (out == 0).all()


def test_out_is_written_in_place_and_returned(rng):
    a, b = operands(rng, 5, 6, 7, False, False)
    out = np.empty((5, 6), np.float32)
    assert ops.matmul(a, b, out=out) is out


def test_naive_kernel_matches_reference(rng):
    for m, n, k in [(0, 3, 4), (7, 17, 65), (33, 5, 1)]:
        for ta, tb in itertools.product([False, True], repeat=2):
            a, b = operands(rng, m, n, k, ta, tb)
            c = rng.uniform(-1, 1, (m, n)).astype(np.float32)
            want = reference.matmul(a, b, transpose_a=ta, transpose_b=tb, alpha=0.5, beta=2.0, out=c.copy())
            got = c.copy()
            _core.gemm_naive(a, b, got, ta, tb, 0.5, 2.0)
            assert_matches(got, want, error_bound(a, b, ta, tb, k, 0.5, 2.0, c))


def test_simd_paths_are_bit_identical(rng):
    """AVX2 and AVX-512 both do one FMA per k in the same order, so they agree exactly."""
    if not (_core.isa_supported("avx2") and _core.isa_supported("avx512")):
        pytest.skip("needs both AVX2 and AVX-512")
    previous = _core.gemm_isa()
    try:
        for m, n, k in [(7, 17, 65), (300, 129, 700), (10, 64, 30)]:
            for ta, tb in itertools.product([False, True], repeat=2):
                a, b = operands(rng, m, n, k, ta, tb)
                results = []
                for name in ("avx2", "avx512"):
                    _core.set_gemm_isa(name)
                    results.append(ops.matmul(a, b, transpose_a=ta, transpose_b=tb))
                np.testing.assert_array_equal(results[0], results[1])
    finally:
        _core.set_gemm_isa(previous)


def test_thread_count_does_not_change_results(isa, rng, threads):
    for m, n, k in [(257, 1000, 65), (1000, 17, 257), (64, 4096, 300), (600, 600, 600)]:
        for ta, tb in itertools.product([False, True], repeat=2):
            a, b = operands(rng, m, n, k, ta, tb)
            outs = []
            for t in (1, 2, 3):
                baeum.set_num_threads(t)
                outs.append(ops.matmul(a, b, transpose_a=ta, transpose_b=tb))
            np.testing.assert_array_equal(outs[0], outs[1])
            np.testing.assert_array_equal(outs[0], outs[2])


# --- input conventions -------------------------------------------------------------------

def test_any_real_dtype_and_layout(rng):
    a64 = rng.uniform(-2, 2, (23, 31))
    b64 = rng.uniform(-2, 2, (31, 19))
    want = reference.matmul(a64, b64)
    tol = error_bound(a64.astype(np.float32), b64.astype(np.float32), False, False, 31) + 1e-5
    cases = {
        "float64": (a64, b64),
        "fortran": (np.asfortranarray(a64), np.asfortranarray(b64)),
        "negative strides": (a64[::-1, ::-1].copy()[::-1, ::-1], b64[::-1][::-1]),
        "lists": (a64.tolist(), b64.tolist()),
    }
    for name, (a, b) in cases.items():
        np.testing.assert_array_less(np.abs(ops.matmul(a, b) - want), tol, err_msg=name)
    big = rng.uniform(-1, 1, (60, 80))
    sliced_a, sliced_b = big[1:47:2, 3:34], big[5:36, 2:78:4]  # 23×31 and 31×19, strided
    want = reference.matmul(sliced_a, sliced_b)
    np.testing.assert_allclose(ops.matmul(sliced_a, sliced_b), want, rtol=1e-5, atol=1e-5)
    flipped = big[::-1, ::-2]
    np.testing.assert_allclose(ops.matmul(flipped[:, :31], flipped[:31, :5]),
                               reference.matmul(flipped[:, :31], flipped[:31, :5]), rtol=1e-5, atol=1e-5)
    ro_a = a64.astype(np.float32)
    ro_a.setflags(write=False)
    np.testing.assert_allclose(ops.matmul(ro_a, b64), reference.matmul(ro_a, b64), rtol=1e-5, atol=1e-5)
    ints_a = rng.integers(-5, 5, (4, 6))
    ints_b = rng.integers(-5, 5, (6, 3)).astype(np.int8)
    np.testing.assert_array_equal(ops.matmul(ints_a, ints_b), (ints_a @ ints_b).astype(np.float32))
    bools = rng.random((4, 6)) > 0.5
    np.testing.assert_array_equal(ops.matmul(bools, ints_b), (bools.astype(int) @ ints_b).astype(np.float32))


def test_inputs_are_not_modified(rng):
    a = rng.uniform(-1, 1, (9, 8)).astype(np.float32)
    b = rng.uniform(-1, 1, (8, 7))
    a0, b0 = a.copy(), b.copy()
    ops.matmul(a, b, transpose_a=False)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


def test_empty_dimensions(isa):
    for m, n, k in [(0, 5, 3), (5, 0, 3), (5, 3, 0), (0, 0, 0)]:
        got = ops.matmul(np.ones((m, k)), np.ones((k, n)))
        assert got.shape == (m, n)
        assert (got == 0).all()
    out = np.full((4, 3), 2.0, np.float32)
    ops.matmul(np.ones((4, 0)), np.ones((0, 3)), beta=0.5, out=out)
    assert (out == 1.0).all()


# --- bad input -----------------------------------------------------------------------------

def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"3x4 but b is 5x2.*transpose"):
        ops.matmul(np.ones((3, 4)), np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"a\.T is 4x3"):
        ops.matmul(np.ones((3, 4)), np.ones((5, 2)), transpose_a=True)
    with pytest.raises(ValueError, match="2-D"):
        ops.matmul(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match="2-D"):
        ops.matmul(np.ones((2, 3, 4)), np.ones((4, 2)))


def test_bad_out_is_refused_never_copied():
    a, b = np.ones((3, 4), np.float32), np.ones((4, 5), np.float32)
    with pytest.raises(TypeError, match="float32"):
        ops.matmul(a, b, out=np.empty((3, 5), np.float64))
    with pytest.raises(TypeError, match="ndarray"):
        ops.matmul(a, b, out=[[0.0] * 5] * 3)
    with pytest.raises(ValueError, match=r"shape \(5, 3\), expected \(3, 5\)"):
        ops.matmul(a, b, out=np.empty((5, 3), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        ops.matmul(a, b, out=np.empty((5, 3), np.float32).T)
    ro = np.empty((3, 5), np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        ops.matmul(a, b, out=ro)
    sq = np.ones((4, 4), np.float32)
    with pytest.raises(ValueError, match="overlaps"):
        ops.matmul(sq, sq, out=sq)
    with pytest.raises(ValueError, match="beta"):
        ops.matmul(a, b, beta=1.0)


def test_non_numeric_inputs_are_refused():
    with pytest.raises(TypeError, match="real numbers"):
        ops.matmul(np.array([["a", "b"]]), np.ones((2, 2)))
    with pytest.raises(TypeError, match="real numbers"):
        ops.matmul(np.ones((2, 2), np.complex64), np.ones((2, 2)))
    with pytest.raises(TypeError, match="alpha"):
        ops.matmul(np.ones((2, 2)), np.ones((2, 2)), alpha="x")


def test_core_checks_buffers_itself():
    """Whatever reaches _core directly, it never reads or writes outside the arrays."""
    f = np.ones((3, 4), np.float32)
    g = np.ones((4, 5), np.float32)
    with pytest.raises(TypeError, match="float32"):
        _core.gemm(f.astype(np.float64), g, np.empty((3, 5), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.gemm(np.ones((4, 3), np.float32).T, g, np.empty((3, 5), np.float32))
    with pytest.raises(ValueError, match="inner dimensions"):
        _core.gemm(f, g, np.empty((3, 5), np.float32), True, False)
    with pytest.raises(ValueError, match="expected"):
        _core.gemm(f, g, np.empty((3, 4), np.float32))
    with pytest.raises(ValueError, match="2-D"):
        _core.gemm(f, g, np.empty(15, np.float32))
    ro = np.empty((3, 5), np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        _core.gemm(f, g, ro)


def test_isa_controls():
    assert _core.best_isa() in ("generic", "avx2", "avx512")
    assert _core.isa_supported("generic")
    with pytest.raises(ValueError, match="valid"):
        _core.set_gemm_isa("sse9")


@pytest.fixture
def tiny_blocks():
    """Shrink the cache blocks so small matrices cross every MC/KC/NC edge."""
    b = _core.gemm_blocking()
    _core.set_gemm_blocking(2 * b["mr"], 5, 2 * b["nr"])
    yield _core.gemm_blocking()
    _core.set_gemm_blocking(0, 0, 0)


def test_every_blocking_edge(isa, rng, tiny_blocks, threads):
    mr, nr = tiny_blocks["mr"], tiny_blocks["nr"]
    sizes_m = [1, mr - 1, mr, 2 * mr + 1, 5 * mr + 3]
    sizes_n = [1, nr + 1, 2 * nr, 4 * nr + 5]
    for t in (1, 2):
        baeum.set_num_threads(t)
        for m, n, k in itertools.product(sizes_m, sizes_n, [1, 5, 11]):
            for ta, tb in itertools.product([False, True], repeat=2):
                a, b = operands(rng, m, n, k, ta, tb)
                c0 = rng.uniform(-1, 1, (m, n)).astype(np.float32)
                got = ops.matmul(a, b, transpose_a=ta, transpose_b=tb, alpha=0.75, beta=0.5, out=c0.copy())
                want = reference.matmul(a, b, transpose_a=ta, transpose_b=tb, alpha=0.75, beta=0.5, out=c0.copy())
                assert_matches(got, want, error_bound(a, b, ta, tb, k, 0.75, 0.5, c0))


def test_fast_path_keeps_flag_semantics(rng):
    """Truthy non-bool flags and integer alpha behave as in the checked path."""
    a = rng.uniform(-1, 1, (6, 5)).astype(np.float32)
    b = rng.uniform(-1, 1, (6, 4)).astype(np.float32)
    out = np.empty((5, 4), np.float32)
    ops.matmul(a, b, transpose_a=1, alpha=2, out=out)
    np.testing.assert_allclose(out, 2 * a.T @ b, rtol=1e-5, atol=1e-6)
    out64 = np.empty((5, 4), np.float64)
    with pytest.raises(TypeError, match="out must be float32"):
        ops.matmul(a, b, transpose_a=True, out=out64)


@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
def test_narrow_in_place_a_path(isa, rng, tiny_blocks, threads, ta, tb):
    """alpha = 1 and at most 4 column panels: A is read in place instead of packed. Check it
    against the reference and bit for bit against the packed path (the first columns of a wide
    product, alpha = 1 but too wide for the in-place path), across KC/MC blocks and threads."""
    nr = tiny_blocks["nr"]
    wide = 4 * nr + 9
    for m, n, k in itertools.product([1, 5, 6, 7, 13, 40], [1, 7, 16, 30, 4 * nr], [1, 4, 11, 37]):
        a, b = operands(rng, m, wide, k, ta, tb)
        bn = np.ascontiguousarray(b[:n] if tb else b[:, :n])
        c0 = rng.uniform(-1, 1, (m, wide)).astype(np.float32)
        results = []
        for t in (1, 2):
            baeum.set_num_threads(t)
            got = ops.matmul(a, bn, transpose_a=ta, transpose_b=tb, beta=0.5,
                             out=c0[:, :n].copy())
            packed = ops.matmul(a, b, transpose_a=ta, transpose_b=tb, beta=0.5, out=c0.copy())
            np.testing.assert_array_equal(got, packed[:, :n])
            results.append(got)
        np.testing.assert_array_equal(results[0], results[1])
        want = reference.matmul(a, bn, transpose_a=ta, transpose_b=tb, beta=0.5,
                                out=c0[:, :n].copy())
        assert_matches(results[0], want, error_bound(a, bn, ta, tb, k, 1.0, 0.5, c0[:, :n]))


def test_small_b_read_in_place_or_packed_same_bits(isa, rng, threads):
    """Small B without transpose is read in place for few row tiles and packed when its rows
    straddle cache lines (ldb % 16 != 0) and many row tiles reuse it: same bits either way,
    on 1 and 2 threads, and close to the reference."""
    mr = _core.gemm_blocking()["mr"]
    for n in (1, 7, 16, 20, 30, 32, 33):
        for k in (1, 17, 256):
            a = rng.uniform(-1, 1, (20 * mr + 5, k)).astype(np.float32)
            b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
            outs = []
            for t in (1, 2):
                baeum.set_num_threads(t)
                big = ops.matmul(a, b)  # > 8 row tiles: packed unless ldb % 16 == 0
                for m in (1, mr, 8 * mr):  # <= 8 row tiles: B read in place
                    np.testing.assert_array_equal(ops.matmul(a[:m], b), big[:m])
                outs.append(big)
            np.testing.assert_array_equal(outs[0], outs[1])
            assert_matches(outs[0], reference.matmul(a, b), error_bound(a, b, False, False, k))
