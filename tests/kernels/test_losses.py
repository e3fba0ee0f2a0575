"""baeum.ops fused cross-entropies vs their NumPy twins in baeum.reference."""
import numpy as np
import pytest

from baeum import _core, ops, reference

SHAPES = [(1, 1), (1, 2), (7, 3), (0, 5), (13, 10), (4, 1), (97, 31), (3, 257)]


def _target(rng, shape, kind):
    if kind == "onehot":
        t = np.zeros(shape, np.float32)
        if shape[0] and shape[1]:
            t[np.arange(shape[0]), rng.integers(0, shape[1], shape[0])] = 1
        return t
    return rng.random(shape).astype(np.float32)


def _check(name, args, kwargs, rtol=2e-6, atol=2e-6):
    loss, grad = getattr(ops, name)(*args, **kwargs)
    rloss, rgrad = getattr(reference, name)(*args, **kwargs)
    assert loss.dtype == np.float32 and grad.dtype == np.float32
    np.testing.assert_allclose(loss, rloss, rtol=rtol, atol=atol)
    np.testing.assert_allclose(grad, rgrad, rtol=rtol, atol=atol)
    return loss, grad


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("ls", [0.0, 0.1])
@pytest.mark.parametrize("kind", ["onehot", "soft"])
def test_softmax_cross_entropy_matches_reference(rng, shape, ls, kind):
    z = (rng.normal(size=shape) * 4).astype(np.float32)
    t = _target(rng, shape, kind)
    dloss = rng.random(shape[0]).astype(np.float32)
    _check("softmax_cross_entropy", (z, t), dict(label_smoothing=ls, dloss=dloss))


@pytest.mark.parametrize("shape", SHAPES)
def test_sparse_softmax_cross_entropy_matches_reference(rng, shape):
    z = (rng.normal(size=shape) * 4).astype(np.float32)
    y = rng.integers(0, shape[1], shape[0])
    loss, grad = _check("sparse_softmax_cross_entropy", (z, y), {})
    # equals the dense kernel on one-hot targets
    l2, g2 = ops.softmax_cross_entropy(z, np.eye(shape[1], dtype=np.float32)[y])
    np.testing.assert_allclose(loss, l2, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grad, g2, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("ls", [0.0, 0.2])
def test_sigmoid_binary_crossentropy_matches_reference(rng, shape, ls):
    z = (rng.normal(size=shape) * 4).astype(np.float32)
    t = (rng.random(shape) > 0.5).astype(np.float32)
    dloss = rng.random(shape[0])
    _check("sigmoid_binary_crossentropy", (z, t), dict(label_smoothing=ls, dloss=dloss))


def test_known_values():
    # softmax([0, ln 3]) = [1/4, 3/4]
    loss, grad = ops.softmax_cross_entropy([[0.0, np.log(3.0)]], [[0.0, 1.0]])
    np.testing.assert_allclose(loss, [-np.log(0.75)], rtol=1e-6)
    np.testing.assert_allclose(grad, [[0.25, -0.25]], rtol=1e-6)
    loss, grad = ops.sigmoid_binary_crossentropy([[0.0, 2.0]], [[1.0, 0.0]])
    np.testing.assert_allclose(loss, [(np.log(2) + np.log1p(np.exp(2.0))) / 2], rtol=1e-6)
    np.testing.assert_allclose(grad, [[-0.25, 0.5 / (1 + np.exp(-2.0))]], rtol=1e-6)


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "sparse_softmax_cross_entropy",
                                  "sigmoid_binary_crossentropy"])
def test_huge_logits_are_finite_and_exact(name):
    z = np.array([[1e4, -1e4, 0.0], [-3e4, 3e4, 1e4], [-1e4, -1e4, -1e4]], np.float32)
    if name == "sparse_softmax_cross_entropy":
        t = np.array([1, 1, 2])
    else:
        t = np.array([[0, 1, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    loss, grad = getattr(ops, name)(z, t)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    rloss, rgrad = getattr(reference, name)(z, t)
    np.testing.assert_allclose(loss, rloss, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grad, rgrad, atol=1e-6)
    if name != "sigmoid_binary_crossentropy":
        np.testing.assert_allclose(loss, [2e4, 0.0, np.log(3.0)], rtol=1e-6)
        np.testing.assert_allclose(grad[0], [1.0, -1.0, 0.0], atol=1e-7)


def test_out_buffers_written_in_place(rng):
    z = rng.normal(size=(5, 4)).astype(np.float32)
    t = _target(rng, (5, 4), "onehot")
    out = np.empty(5, np.float32)
    dz = np.empty((5, 4), np.float32)
    loss, grad = ops.softmax_cross_entropy(z, t, out=out, dlogits=dz)
    assert loss is out and grad is dz
    np.testing.assert_allclose(out, reference.softmax_cross_entropy(z, t)[0], rtol=1e-6)


def test_noncontiguous_and_float64_inputs(rng):
    z = rng.normal(size=(6, 10))[:, ::2]  # float64, strided
    t = _target(rng, (6, 5), "soft").astype(np.float64)
    _check("softmax_cross_entropy", (z, t), {})
    _check("sigmoid_binary_crossentropy", (np.asfortranarray(z), t), {})
    _check("sparse_softmax_cross_entropy", (z, np.array([0, 1, 2, 3, 4, 0], np.int32)), {})


def test_thread_count_does_not_change_results(rng, threads):
    import baeum
    z = rng.normal(size=(400, 100)).astype(np.float32)
    y = rng.integers(0, 100, 400)
    baeum.set_num_threads(1)
    a = ops.sparse_softmax_cross_entropy(z, y)
    baeum.set_num_threads(2)
    b = ops.sparse_softmax_cross_entropy(z, y)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_bad_labels():
    z = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"\[0, 4\).*subtract 1"):
        ops.sparse_softmax_cross_entropy(z, [1, 2, 4])
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        ops.sparse_softmax_cross_entropy(z, [-1, 2, 3])
    with pytest.raises(ValueError, match="integer class indices"):
        ops.sparse_softmax_cross_entropy(z, [0.5, 1, 2])
    with pytest.raises(ValueError, match=r"expected \(3,\)"):
        ops.sparse_softmax_cross_entropy(z, [0, 1])


def test_bad_shapes_and_buffers():
    z = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="to_categorical"):
        ops.softmax_cross_entropy(z, [0, 1, 2])
    with pytest.raises(ValueError, match="2-D"):
        ops.sigmoid_binary_crossentropy(np.zeros(3), np.zeros(3))
    with pytest.raises(TypeError, match="float32"):
        ops.softmax_cross_entropy(z, z, out=np.empty(3))
    with pytest.raises(ValueError, match="expected"):
        ops.softmax_cross_entropy(z, z, dlogits=np.empty((3, 5), np.float32))
    with pytest.raises(ValueError, match="label_smoothing"):
        ops.softmax_cross_entropy(z, z, label_smoothing=1.5)
    with pytest.raises(ValueError, match="dloss"):
        ops.softmax_cross_entropy(z, z, dloss=np.ones(2))


def test_core_checks_sizes_itself():
    """_core refuses mismatched buffers even if called directly (no out-of-bounds access)."""
    z = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError):
        _core.softmax_cross_entropy(z, np.zeros((3, 3), np.float32), np.empty(3, np.float32),
                                    None, None, 0.0)
    with pytest.raises(ValueError):
        _core.sparse_softmax_cross_entropy(z, np.array([0, 1, 9]), np.empty(3, np.float32),
                                           None, None)
    with pytest.raises(ValueError):
        _core.sigmoid_binary_crossentropy(z, z, np.empty(2, np.float32), None, None, 0.0)
    with pytest.raises(ValueError):
        _core.softmax_cross_entropy(z, z, np.empty(3, np.float32),
                                    np.empty((3, 4), np.float32), None, 0.0)


def test_bad_dtypes_raise_type_error():
    z = np.zeros((2, 3), np.float32)
    with pytest.raises(TypeError, match="integers"):
        ops.sparse_softmax_cross_entropy(z, np.array(["a", "b"]))
    with pytest.raises(TypeError, match="real numbers"):
        ops.softmax_cross_entropy(z.astype(np.complex64), z)
    with pytest.raises(TypeError, match="float32"):
        _core.softmax_cross_entropy(z.astype(np.float64), z, np.empty(2, np.float32), None,
                                    None, 0.0)


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "sparse_softmax_cross_entropy",
                                  "sigmoid_binary_crossentropy"])
def test_reference_twin_has_same_signature(name):
    import inspect
    assert inspect.signature(getattr(ops, name)) == inspect.signature(getattr(reference, name))
