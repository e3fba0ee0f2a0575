"""baeum.ops dropout, softmax and bias kernels vs baeum.reference."""
import numpy as np
import pytest

import baeum
from baeum import ops
from baeum import reference as ref

SHAPES = [(0, 4), (1,), (1, 1), (7, 13), (3, 5, 11), (97, 257)]


# ---- dropout ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_dropout_matches_reference(shape, rate, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    out, mask = ops.dropout_forward(x, rate, 42)
    out_r, mask_r = ref.dropout_forward(x, rate, 42)
    np.testing.assert_array_equal(mask, mask_r)
    np.testing.assert_array_equal(out, out_r)
    if rate == 0.0:
        np.testing.assert_array_equal(out, x)
    if rate == 1.0:
        assert (out == 0).all()
    dout = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(ops.dropout_backward(dout, mask),
                                  ref.dropout_backward(dout, mask))


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_statistics(rate):
    n = 200_000
    x = np.ones(n, np.float32)
    out, mask = ops.dropout_forward(x, rate, 2024)
    kept = (mask != 0).mean()
    sigma = np.sqrt(rate * (1 - rate) / n)
    assert abs(kept - (1 - rate)) < 4 * sigma
    assert set(np.unique(mask)) == {0.0, np.float32(1 / (1 - rate))}
    assert abs(out.mean() - 1.0) < 4 * sigma / (1 - rate)  # inverted dropout keeps the mean
    # neighbouring elements are not correlated (a bad counter hash would show here)
    k = (mask != 0).astype(np.float64)
    assert abs(np.corrcoef(k[:-1], k[1:])[0, 1]) < 4 / np.sqrt(n)


def test_dropout_seed_determinism_and_threads(threads):
    x = np.ones((400, 300), np.float32)
    baeum.set_num_threads(2)
    _, m2 = ops.dropout_forward(x, 0.3, 5)
    baeum.set_num_threads(1)
    _, m1 = ops.dropout_forward(x, 0.3, 5)
    np.testing.assert_array_equal(m1, m2)
    _, m_same = ops.dropout_forward(x, 0.3, 5)
    np.testing.assert_array_equal(m1, m_same)
    _, m_other = ops.dropout_forward(x, 0.3, 6)
    assert (m_other != m1).mean() > 0.3


def test_dropout_noise_shape(rng):
    x = rng.standard_normal((6, 4, 5)).astype(np.float32)
    out, mask = ops.dropout_forward(x, 0.5, 3, noise_shape=(None, 1, 5))
    assert mask.shape == (6, 1, 5)
    np.testing.assert_array_equal(out, x * mask)
    for j in range(1, 4):  # the same mask on every position of the broadcast axis
        np.testing.assert_array_equal(out[:, j] == 0, out[:, 0] == 0)
    out_r, mask_r = ref.dropout_forward(x, 0.5, 3, noise_shape=(None, 1, 5))
    np.testing.assert_array_equal(mask, mask_r)
    np.testing.assert_array_equal(out, out_r)
    dout = rng.standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(ops.dropout_backward(dout, mask), dout * mask)
    m_buf = np.empty((6, 1, 5), np.float32)
    o_buf = np.empty(x.shape, np.float32)
    o2, m2 = ops.dropout_forward(x, 0.5, 3, noise_shape=(6, 1, 5), out=o_buf, mask=m_buf)
    assert o2 is o_buf and m2 is m_buf
    np.testing.assert_array_equal(m_buf, mask)


def test_dropout_errors():
    x = np.ones((2, 3), np.float32)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"rate must be in \[0, 1\]"):
            ops.dropout_forward(x, bad, 0)
    with pytest.raises(TypeError, match="rate must be a real number"):
        ops.dropout_forward(x, "half", 0)
    with pytest.raises(TypeError, match="seed must be an int"):
        ops.dropout_forward(x, 0.5, None)
    with pytest.raises(ValueError, match="does not broadcast"):
        ops.dropout_forward(x, 0.5, 0, noise_shape=(2, 2))
    with pytest.raises(ValueError, match="one entry per axis"):
        ops.dropout_forward(x, 0.5, 0, noise_shape=(2,))
    with pytest.raises(ValueError, match="mask has shape"):
        ops.dropout_forward(x, 0.5, 0, mask=np.empty((3, 2), np.float32))


# ---- softmax ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,axis", [((0, 3), -1), ((1,), 0), ((5, 1), -1), ((7, 13), -1),
                                        ((7, 13), 0), ((3, 5, 11), 1), ((3, 5, 11), -3),
                                        ((64, 1000), -1)])
def test_softmax_matches_reference(shape, axis, rng):
    x = (rng.standard_normal(shape) * 5).astype(np.float32)
    y = ops.softmax_forward(x, axis=axis)
    np.testing.assert_allclose(y, ref.softmax_forward(x, axis=axis), rtol=1e-5, atol=1e-7)
    if x.size:
        np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=1e-5)
    dout = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ops.softmax_backward(dout, y, axis=axis),
                               ref.softmax_backward(dout, y, axis=axis), rtol=1e-4, atol=1e-6)


def test_softmax_is_stable_for_huge_logits():
    x = np.array([[1e4, 1e4 - 1, -1e4], [-80, -80, -80]], np.float32)
    y = ops.softmax_forward(x)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y[0], [1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0],
                               rtol=1e-6)
    np.testing.assert_allclose(y[1], [1 / 3] * 3, rtol=1e-6)


def test_softmax_errors():
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        ops.softmax_forward(np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="out_fwd has shape"):
        ops.softmax_backward(np.ones((2, 3)), np.ones((3, 2)))


# ---- bias ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(0, 3), (1,), (1, 1), (17, 9), (4, 6, 5)])
def test_bias_add_and_grad(shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape[-1]).astype(np.float32)
    np.testing.assert_allclose(ops.bias_add(x, b), ref.bias_add(x, b), rtol=1e-6)
    db = np.full(shape[-1], 0.5, np.float32)
    db_r = np.full(shape[-1], 0.5, np.float32)
    assert ops.bias_grad(x, dbias=db) is db
    ref.bias_grad(x, dbias=db_r)
    np.testing.assert_allclose(db, db_r, rtol=1e-5, atol=1e-5)


def test_bias_errors():
    with pytest.raises(ValueError, match="bias must match inp's last axis"):
        ops.bias_add(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"dbias has shape \(2,\), expected \(3,\)"):
        ops.bias_grad(np.ones((2, 3)), dbias=np.zeros(2, np.float32))
    with pytest.raises(TypeError, match="dbias must be a numpy.ndarray"):
        ops.bias_grad(np.ones((2, 3)), dbias=[0, 0, 0])


def test_float64_noncontiguous_inputs(rng):
    x64 = rng.standard_normal((12, 10))[::2, ::-1]  # float64, strided, negative stride
    out, mask = ops.dropout_forward(x64, 0.25, 8)
    np.testing.assert_array_equal(out, ref.dropout_forward(x64, 0.25, 8)[0])
    np.testing.assert_allclose(ops.softmax_forward(x64, axis=0),
                               ref.softmax_forward(x64, axis=0), rtol=1e-5, atol=1e-7)
    b = np.arange(10.0)[::-1]
    np.testing.assert_allclose(ops.bias_add(x64, b), x64 + b, rtol=1e-6, atol=1e-6)
    dout = rng.standard_normal((6, 10)).T.T  # same values, Fortran-ordered copy below
    np.testing.assert_allclose(ops.dropout_backward(np.asfortranarray(dout), mask),
                               dout * mask, rtol=1e-6, atol=1e-7)


def test_softmax_out_buffer_is_written_in_place(rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    out = np.empty_like(x)
    assert ops.softmax_forward(x, out=out) is out
    np.testing.assert_allclose(out, ref.softmax_forward(x), rtol=1e-5)
    with pytest.raises(ValueError, match="overlaps an input"):
        ops.softmax_forward(x, out=x)
