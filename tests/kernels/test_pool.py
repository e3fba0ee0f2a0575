"""baeum.ops pooling kernels vs baeum.reference.pool (NHWC, Keras semantics)."""
import numpy as np
import pytest

import baeum
from baeum import ops
from baeum import reference as ref

# (N, H, W, C, pool, strides, padding): odd/even, 1s, primes, pool as large as the input,
# strides smaller/larger than the pool, empty batch.
CASES = [
    (2, 4, 4, 3, (2, 2), None, "valid"),
    (2, 5, 7, 3, (2, 3), (2, 2), "valid"),
    (2, 5, 7, 3, (2, 3), (2, 2), "same"),
    (1, 1, 1, 1, (1, 1), None, "valid"),
    (3, 7, 5, 2, (3, 3), (1, 1), "same"),
    (3, 7, 5, 2, (3, 3), (1, 1), "valid"),
    (1, 6, 6, 5, (6, 6), None, "valid"),      # pool = whole image
    (1, 6, 6, 5, (6, 6), None, "same"),
    (2, 9, 4, 17, (2, 2), (3, 1), "same"),    # stride > pool: gaps
    (2, 13, 11, 8, (3, 2), (2, 3), "same"),
    (0, 4, 4, 3, (2, 2), None, "valid"),      # empty batch
    (2, 4, 4, 3, (2, 2), None, "SAME"),       # case-insensitive padding
    (1, 3, 8, 1, (1, 4), (1, 2), "valid"),
]


def _x(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    if x.size > 4:
        x.reshape(-1)[::7] = 0.5  # ties: the first maximum in window order must win
    return x


@pytest.mark.parametrize("case", CASES)
def test_max_pool2d_forward_backward(case, rng):
    n, h, w, c, k, s, pad = case
    x = _x(rng, (n, h, w, c))
    y, a = ops.max_pool2d_forward(x, k, s, pad)
    yr, ar = ref.max_pool2d_forward(x, k, s, pad)
    np.testing.assert_array_equal(y, yr)
    np.testing.assert_array_equal(a, ar)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = ops.max_pool2d_backward(dy, a, x.shape)
    np.testing.assert_allclose(dx, ref.max_pool2d_backward(dy, ar, x.shape), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_avg_pool2d_forward_backward(case, rng):
    n, h, w, c, k, s, pad = case
    x = _x(rng, (n, h, w, c))
    y = ops.avg_pool2d_forward(x, k, s, pad)
    np.testing.assert_allclose(y, ref.avg_pool2d_forward(x, k, s, pad), rtol=1e-5, atol=1e-6)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = ops.avg_pool2d_backward(dy, x.shape, k, s, pad)
    np.testing.assert_allclose(dx, ref.avg_pool2d_backward(dy, x.shape, k, s, pad), rtol=1e-5, atol=1e-6)


def test_keras_numbers():
    # KERAS_SEMANTICS.md §1.2 (run on Keras 3.15.1): 3x3 input 0..8, pool 2, stride 2, same.
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    np.testing.assert_array_equal(ops.avg_pool2d_forward(x, 2, 2, "same")[0, :, :, 0], [[2, 3.5], [6.5, 8]])
    # max pool 'same' of an all-negative map returns real values (padding never wins)
    y, _ = ops.max_pool2d_forward(-1 - x, 2, 2, "same")
    np.testing.assert_array_equal(y[0, :, :, 0], [[-1, -3], [-7, -9]])
    # 4x4, pool 3, stride 2, 'same': out 2x2, pad 0 before / 1 after (odd cell at the end)
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(ops.max_pool2d_forward(x, 3, 2, "same")[0][0, :, :, 0], [[10, 11], [14, 15]])
    np.testing.assert_allclose(ops.avg_pool2d_forward(x, 3, 2, "same")[0, :, :, 0],
                               [[5, 6.5], [11, 12.5]])


def test_nan_is_not_hidden():
    x = np.array([1, np.nan, 3, np.nan], np.float32).reshape(1, 1, 4, 1)
    y, a = ops.max_pool2d_forward(x, (1, 4), None, "valid")
    assert np.isnan(y[0, 0, 0, 0]) and a[0, 0, 0, 0] == 1


@pytest.mark.parametrize("t,k,s,pad", [(7, 2, None, "valid"), (7, 3, 2, "same"), (1, 1, None, "valid"),
                                       (10, 10, 1, "valid"), (5, 2, 3, "same")])
def test_pool1d(t, k, s, pad, rng):
    x = _x(rng, (3, t, 4))
    y, a = ops.max_pool1d_forward(x, k, s, pad)
    yr, ar = ref.max_pool1d_forward(x, k, s, pad)
    np.testing.assert_array_equal(y, yr)
    np.testing.assert_array_equal(a, ar)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(ops.max_pool1d_backward(dy, a, x.shape), ref.max_pool1d_backward(dy, ar, x.shape),
                               rtol=1e-6, atol=1e-6)
    y = ops.avg_pool1d_forward(x, k, s, pad)
    np.testing.assert_allclose(y, ref.avg_pool1d_forward(x, k, s, pad), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ops.avg_pool1d_backward(dy, x.shape, k, s, pad),
                               ref.avg_pool1d_backward(dy, x.shape, k, s, pad), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(2, 5, 3), (2, 4, 6, 3), (1, 1, 1, 1), (0, 3, 3, 2), (3, 7, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pool(shape, keepdims, rng):
    x = _x(rng, shape)
    y = ops.global_avg_pool_forward(x, keepdims=keepdims)
    np.testing.assert_allclose(y, ref.global_avg_pool_forward(x, keepdims=keepdims), rtol=1e-5, atol=1e-6)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(ops.global_avg_pool_backward(dy, x.shape),
                               ref.global_avg_pool_backward(dy, x.shape), rtol=1e-6, atol=1e-7)
    y, a = ops.global_max_pool_forward(x, keepdims=keepdims)
    yr, ar = ref.global_max_pool_forward(x, keepdims=keepdims)
    np.testing.assert_array_equal(y, yr)
    np.testing.assert_array_equal(a, ar)
    np.testing.assert_array_equal(ops.global_max_pool_backward(dy, a, x.shape),
                                  ref.global_max_pool_backward(dy, ar, x.shape))


@pytest.mark.parametrize("pad", ["valid", "same"])
def test_threads_bit_identical(pad, threads, rng):
    x = rng.standard_normal((8, 33, 31, 16)).astype(np.float32)
    dy_shape = ops.max_pool2d_forward(x, 3, 2, pad)[0].shape
    dy = rng.standard_normal(dy_shape).astype(np.float32)
    results = []
    for nt in (1, 2):
        baeum.set_num_threads(nt)
        y, a = ops.max_pool2d_forward(x, 3, 2, pad)
        ya = ops.avg_pool2d_forward(x, 3, 2, pad)
        results.append((y, a, ya, ops.max_pool2d_backward(dy, a, x.shape),
                        ops.avg_pool2d_backward(dy, x.shape, 3, 2, pad)))
    for r1, r2 in zip(*results):
        np.testing.assert_array_equal(r1, r2)


def test_out_buffers_and_errors(rng):
    x = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
    out = np.empty((2, 2, 2, 3), np.float32)
    arg = np.empty((2, 2, 2, 3), np.int32)
    y, a = ops.max_pool2d_forward(x, 2, out=out, argmax=arg)
    assert y is out and a is arg
    x64 = x.astype(np.float64)[:, ::-1]  # any dtype / layout is converted
    np.testing.assert_array_equal(ops.max_pool2d_forward(x64, 2)[0], ref.max_pool2d_forward(x64, 2)[0])
    with pytest.raises(ValueError, match=r"4-D \(samples, height, width, channels\)"):
        ops.max_pool2d_forward(x[0], 2)
    with pytest.raises(ValueError, match="padding='same'"):
        ops.max_pool2d_forward(x, 5)
    with pytest.raises(ValueError, match="padding must be"):
        ops.avg_pool2d_forward(x, 2, padding="full")
    with pytest.raises(ValueError, match="pool_size"):
        ops.max_pool2d_forward(x, 0)
    with pytest.raises(ValueError, match="out has shape"):
        ops.max_pool2d_forward(x, 2, out=np.empty((2, 3, 3, 3), np.float32))
    bad = a.copy()
    bad[0, 0, 0, 0] = 99  # a corrupt index must never be written through
    with pytest.raises(ValueError, match="outside the input image"):
        ops.max_pool2d_backward(np.ones(a.shape, np.float32), bad, x.shape)


# ---- _core called directly with hostile geometry (found by fuzzing the bindings) ----------
@pytest.mark.parametrize("geo", [(2**62, 2**62, 1, 1, 0, 0), (2, 2, 2**62, 1, 0, 0),
                                 (2, 2, 1, 2**63 - 1, 0, 0), (2, 2, 1, 1, 2**63 - 1, 0)])
def test_core_pool_rejects_geometry_overflowing_int64(geo):
    from baeum import _core
    x, y = np.ones((1, 3, 3, 2), np.float32), np.zeros((1, 5, 5, 2), np.float32)
    with pytest.raises(ValueError, match="pool: .*too large"):
        _core.avgpool_forward(x, y, *geo)
    with pytest.raises(ValueError, match="pool: .*too large"):
        _core.avgpool_backward(y, x.copy(), *geo)
    with pytest.raises(ValueError, match="pool: .*too large"):
        _core.maxpool_forward(x, y, np.zeros(y.shape, np.int32), *geo)
