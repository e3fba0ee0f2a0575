"""Merge layers: forward against NumPy, backward against finite differences (float64 through
the reference), Keras shape rules and errors, config round trips."""
import numpy as np
import pytest

import baeum
from baeum.layers import (Add, Average, Concatenate, Dense, Dot, Input, Maximum, Minimum, Multiply, Subtract,
                          add, concatenate, dot)
from baeum.reference import merging as ref


def fd_grads(f, xs, r, eps=1e-6):
    """d Σ(r · f(xs)) / d xs[i] by central differences, float64."""
    out = []
    for x in xs:
        g = np.zeros_like(x)
        flat, gf = x.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = np.sum(r * f(xs))
            flat[i] = old - eps
            down = np.sum(r * f(xs))
            flat[i] = old
            gf[i] = (up - down) / (2 * eps)
        out.append(g)
    return out


ELEMENTWISE = [("add", lambda a: a[0] + a[1] + a[2]), ("multiply", lambda a: a[0] * a[1] * a[2]),
               ("average", lambda a: (a[0] + a[1] + a[2]) / 3), ("maximum", lambda a: np.maximum(np.maximum(a[0], a[1]), a[2])),
               ("minimum", lambda a: np.minimum(np.minimum(a[0], a[1]), a[2]))]


@pytest.mark.parametrize("op,numpy_fn", ELEMENTWISE)
@pytest.mark.parametrize("shapes", [[(3, 4)] * 3, [(2, 3, 5)] * 3, [(3, 4), (3, 1), (3, 4)], [(1, 1)] * 3])
def test_elementwise_reference_forward_and_backward(op, numpy_fn, shapes):
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal(s) for s in shapes]
    y = ref.merge_forward(op, xs)
    np.testing.assert_allclose(y, numpy_fn(xs), rtol=1e-12)
    r = rng.standard_normal(y.shape)
    got = ref.merge_backward(op, r, xs)
    want = fd_grads(lambda a: ref.merge_forward(op, a), xs, r)
    for g, w, x in zip(got, want, xs):
        assert g.shape == x.shape
        np.testing.assert_allclose(g, w, atol=1e-6)


def test_subtract_reference():
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))]
    r = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(ref.merge_forward("subtract", xs), xs[0] - xs[1])
    got = ref.merge_backward("subtract", r, xs)
    np.testing.assert_array_equal(got[0], r)
    np.testing.assert_array_equal(got[1], -r)


def test_maximum_ties_go_to_the_first_input():
    xs = [np.array([[1.0, 2.0]]), np.array([[1.0, 3.0]])]
    g = ref.merge_backward("maximum", np.ones((1, 2)), xs)
    np.testing.assert_array_equal(g[0], [[1.0, 0.0]])
    np.testing.assert_array_equal(g[1], [[0.0, 1.0]])


@pytest.mark.parametrize("shapes,axis", [([(2, 3), (2, 5)], -1), ([(2, 3, 4), (2, 1, 4), (2, 2, 4)], 1),
                                         ([(1, 2, 3), (1, 2, 1)], 2)])
def test_concatenate_reference(shapes, axis):
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal(s) for s in shapes]
    y = ref.concatenate_forward(xs, axis)
    np.testing.assert_array_equal(y, np.concatenate(xs, axis=axis))
    r = rng.standard_normal(y.shape)
    for g, w in zip(ref.concatenate_backward(r, xs, axis), fd_grads(lambda a: ref.concatenate_forward(a, axis), xs, r)):
        np.testing.assert_allclose(g, w, atol=1e-6)


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("s0,s1,axes", [((4, 5), (4, 5), (1, 1)), ((3, 2, 5), (3, 5, 4), (2, 1)),
                                        ((3, 6, 2), (3, 6, 3), (1, 1)), ((2, 3, 4), (2, 4), (2, 1))])
def test_dot_reference(normalize, s0, s1, axes):
    rng = np.random.default_rng(4)
    x0, x1 = rng.standard_normal(s0), rng.standard_normal(s1)
    y = ref.dot_forward(x0, x1, axes, normalize)
    a0, a1 = x0, x1
    if normalize:
        a0 = x0 / np.linalg.norm(x0, axis=axes[0], keepdims=True)
        a1 = x1 / np.linalg.norm(x1, axis=axes[1], keepdims=True)
    want = np.stack([np.tensordot(a0[n], a1[n], axes=(axes[0] - 1, axes[1] - 1)) for n in range(len(x0))])
    np.testing.assert_allclose(y, want.reshape(y.shape), rtol=1e-10)
    r = rng.standard_normal(y.shape)
    got = ref.dot_backward(r, x0, x1, axes, normalize)
    fd = fd_grads(lambda a: ref.dot_forward(a[0], a[1], axes, normalize), [x0, x1], r)
    for g, w in zip(got, fd):
        np.testing.assert_allclose(g, w, atol=1e-6)


def test_dot_of_vectors_is_n_by_1():
    a, b = Input((5,)), Input((5,))
    assert Dot(axes=1)([a, b]).shape == (None, 1)
    x0 = np.ones((2, 5), np.float32)
    np.testing.assert_allclose(Dot(axes=1)([x0, 2 * x0]), [[10.0], [10.0]])
    np.testing.assert_allclose(Dot(axes=1, normalize=True)([x0, 2 * x0]), [[1.0], [1.0]], rtol=1e-6)


@pytest.mark.parametrize("cls,fn", [(Add, np.add), (Subtract, np.subtract), (Multiply, np.multiply),
                                    (Maximum, np.maximum), (Minimum, np.minimum)])
def test_layers_eager_match_numpy(cls, fn):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 4)).astype(np.float32)
    out = cls()([a, b])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, fn(a, b), rtol=1e-6)
    np.testing.assert_allclose(Average()([a, b]), (a + b) / 2, rtol=1e-6)


def test_symbolic_shapes():
    a, b, c = Input((4,)), Input((4,)), Input((1,))
    assert Add()([a, b]).shape == (None, 4)
    assert Multiply()([a, c]).shape == (None, 4)  # broadcast against 1
    assert Concatenate()([a, b, c]).shape == (None, 9)
    x, y = Input((3, 4)), Input((3, 2))
    assert concatenate([x, y]).shape == (None, 3, 6)
    assert Concatenate(axis=1)([x, x]).shape == (None, 6, 4)
    assert dot([x, x], axes=2).shape == (None, 3, 3)
    assert dot([x, Input((3, 5))], axes=1).shape == (None, 4, 5)
    assert add([a, b, a]).shape == (None, 4)


def test_shape_errors_name_the_layer():
    a, b, c = Input((4,)), Input((5,)), Input((3, 2))
    with pytest.raises(ValueError, match="incompatible shapes"):
        Add(name="adder")([a, b])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        Subtract()([a, a, a])
    with pytest.raises(ValueError, match="list of inputs"):
        Add()(a)
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        Concatenate(axis=1)([c, Input((3, 3))])
    with pytest.raises(ValueError, match="Incompatible input shapes|incompatible input shapes"):
        Dot(axes=1)([a, b])
    with pytest.raises(ValueError, match="list of 2 inputs"):
        Dot(axes=1)([a, a, a])
    with pytest.raises(ValueError, match="'adder'"):
        Add(name="adder")([a, b])


def test_layer_backward_returns_one_gradient_per_input():
    rng = np.random.default_rng(6)
    xs = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2)]
    layer = Concatenate()
    ctx = {}
    y = layer.forward(xs, ctx, False)
    grads = layer.backward(np.ones_like(y), ctx)
    assert [g.shape for g in grads] == [(2, 3), (2, 3)]
    assert layer.backward(np.ones_like(y), ctx, need_dx=False) is None


@pytest.mark.parametrize("layer", [Concatenate(axis=1), Dot(axes=[1, 2], normalize=True), Add(), Maximum()])
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(dict(config, name=config["name"] + "_clone"))
    assert {k: v for k, v in clone.get_config().items() if k != "name"} == \
        {k: v for k, v in config.items() if k != "name"}


def test_merge_in_a_trained_model():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, :1] * x[:, 1:2] > 0).astype(np.float32)
    i = Input((4,))
    h1, h2 = Dense(8, activation="tanh")(i), Dense(8, activation="tanh")(i)
    m = baeum.Model(i, Dense(1, activation="sigmoid")(concatenate([Multiply()([h1, h2]), Add()([h1, h2])])))
    m.compile("adam", "binary_crossentropy")
    before = m.evaluate(x, y, verbose=0)
    m.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert m.evaluate(x, y, verbose=0) < before


def test_eager_call_on_a_nested_list_is_one_input():
    assert Dense(2)([[1.0, 2.0, 3.0]]).shape == (1, 2)
    np.testing.assert_array_equal(Add()([np.ones((1, 2)), np.ones((1, 2))]), [[2.0, 2.0]])
