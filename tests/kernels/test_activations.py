"""baeum.ops activations vs baeum.reference (forward, backward, ReLU family, errors)."""
import numpy as np
import pytest

import baeum.activations as A
from baeum import ops
from baeum import reference as ref

NAMES = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu", "gelu",
         "gelu_tanh", "silu", "swish", "softplus", "softsign", "hard_sigmoid", "exponential"]
SHAPES = [(0, 5), (1,), (1, 1), (3, 7), (13, 31), (2, 3, 5), (300, 257)]
TOL = dict(rtol=2e-5, atol=2e-6)


def _x(rng, shape, scale=3.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_backward_match_reference(name, shape, rng):
    x = _x(rng, shape)
    dout = _x(rng, shape, 1.0)
    y = ops.activation_forward(x, name)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, ref.activation_forward(x, name), **TOL)
    dx = ops.activation_backward(dout, x, y, name)
    # reference in x-form (independent of how the kernel chose to compute it)
    want = (ref.activation_backward(dout, None, y, "softmax") if name == "softmax"
            else ref.activation_backward(dout, x, None, name))
    np.testing.assert_allclose(dx, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_backward_reads_only_what_it_declares(name, rng):
    x = _x(rng, (4, 6))
    y = ops.activation_forward(x, name)
    dout = _x(rng, (4, 6), 1.0)
    full = ops.activation_backward(dout, x, y, name)
    if ops.activation_needs_input(name):
        part = ops.activation_backward(dout, x, None, name)
        with pytest.raises(ValueError, match="needs x"):
            ops.activation_backward(dout, None, y, name)
    else:
        part = ops.activation_backward(dout, None, y, name)
    np.testing.assert_array_equal(part, full)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("v", [80.0, -80.0, 1e4, -1e4, 0.0])
def test_extreme_inputs_stay_finite(name, v):
    x = np.full((2, 3), v, dtype=np.float32)
    x[0, 0] = -v
    y = ops.activation_forward(x, name)
    want = ref.activation_forward(x, name)
    if name == "exponential" and abs(v) > 80:
        assert np.isinf(y[x > 88]).all() and (y[x < 0] == 0).all()
        return
    assert np.isfinite(y).all(), (name, v, y)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    dx = ops.activation_backward(np.ones_like(x), x, y, name)
    assert np.isfinite(dx).all(), (name, v, dx)


def test_known_values():
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0], dtype=np.float32)
    f = ops.activation_forward
    np.testing.assert_allclose(f(x, "leaky_relu"), [-0.6, -0.2, 0, 1, 3], rtol=1e-6)
    np.testing.assert_allclose(f(x, "leaky_relu", alpha=0.3), [-0.9, -0.3, 0, 1, 3], rtol=1e-6)
    np.testing.assert_allclose(f(x, "hard_sigmoid"), [0, 1 / 3, 0.5, 2 / 3, 1], rtol=1e-6)
    np.testing.assert_allclose(f(x, "gelu")[3], 0.8413447, rtol=1e-6)       # exact erf form
    np.testing.assert_allclose(f(x, "gelu_tanh")[3], 0.8411920, rtol=1e-6)  # tanh form
    np.testing.assert_allclose(f(x, "selu")[3], 1.0507009873554805, rtol=1e-6)
    np.testing.assert_allclose(f(x, "elu", alpha=2.0)[1], 2 * np.expm1(-1), rtol=1e-6)
    np.testing.assert_allclose(f(x, "softplus")[2], np.log(2), rtol=1e-6)
    np.testing.assert_allclose(f(x[None], "softmax").sum(), 1.0, rtol=1e-6)


def test_float64_and_noncontiguous_inputs(rng):
    x64 = rng.standard_normal((9, 14)) * 2
    xs = x64[:, ::2]
    for name in ("gelu", "sigmoid", "softmax"):
        np.testing.assert_allclose(ops.activation_forward(xs, name),
                                   ref.activation_forward(xs, name), **TOL)
    out = np.empty((9, 7), np.float32)
    assert ops.activation_forward(xs, "tanh", out=out) is out
    np.testing.assert_allclose(out, np.tanh(xs), **TOL)


def test_large_parallel_matches_single_thread(rng, threads):
    import baeum
    x = _x(rng, (300, 700))
    baeum.set_num_threads(1)
    one = ops.activation_forward(x, "gelu")
    baeum.set_num_threads(2)
    two = ops.activation_forward(x, "gelu")
    np.testing.assert_array_equal(one, two)


def test_errors():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="unknown activation 'bogus'.*Valid names:.*gelu"):
        ops.activation_forward(x, "bogus")
    with pytest.raises(ValueError, match="no alpha"):
        ops.activation_forward(x, "relu", alpha=0.1)
    with pytest.raises(TypeError, match="float32"):
        ops.activation_forward(x, "relu", out=np.empty((2, 3), np.float64))
    with pytest.raises(ValueError, match="shape"):
        ops.activation_forward(x, "relu", out=np.empty((3, 2), np.float32))
    with pytest.raises(ValueError, match="dinp has shape"):
        ops.activation_backward(x, x, x, "relu", dinp=np.empty((3, 2), np.float32))
    with pytest.raises(ValueError, match="must match"):
        ops.activation_backward(x, None, np.zeros((3, 2)), "tanh")
    with pytest.raises(TypeError, match="real numbers"):
        ops.activation_forward(np.array(["a"]), "relu")


# ---- ReLU (layer semantics), PReLU, RReLU ----------------------------------------------

RELU_OPTS = [dict(), dict(negative_slope=0.1), dict(max_value=6.0), dict(threshold=0.5),
             dict(negative_slope=0.3, max_value=2.0, threshold=1.0)]


@pytest.mark.parametrize("kw", RELU_OPTS)
@pytest.mark.parametrize("shape", [(0, 3), (1,), (17, 5), (4, 3, 2)])
def test_relu_layer_matches_reference(kw, shape, rng):
    x = _x(rng, shape, 4.0)
    dout = _x(rng, shape, 1.0)
    np.testing.assert_allclose(ops.relu_forward(x, **kw), ref.relu_forward(x, **kw), **TOL)
    np.testing.assert_allclose(ops.relu_backward(dout, x, **kw),
                               ref.relu_backward(dout, x, **kw), **TOL)


def test_relu_keras_values():
    x = np.array([-2.0, 0.0, 0.7, 1.0, 3.0, 10.0], np.float32)
    y = ops.relu_forward(x, negative_slope=0.5, max_value=6.0, threshold=1.0)
    np.testing.assert_allclose(y, [-1.5, -0.5, -0.15, 0.0, 3.0, 6.0], rtol=1e-6)
    with pytest.raises(ValueError, match="negative_slope must be >= 0"):
        ops.relu_forward(x, negative_slope=-1.0)
    np.testing.assert_allclose(A.relu(x, max_value=6.0), np.clip(x, 0, 6))


@pytest.mark.parametrize("shape", [(0, 4), (1, 1), (7, 5), (3, 4, 2)])
def test_prelu_matches_reference_and_accumulates(shape, rng):
    x = _x(rng, shape)
    alpha = rng.uniform(-0.5, 0.5, shape[1:]).astype(np.float32)
    dout = _x(rng, shape, 1.0)
    np.testing.assert_allclose(ops.prelu_forward(x, alpha), ref.prelu_forward(x, alpha), **TOL)
    da = np.zeros(shape[1:], np.float32)
    da_ref = np.zeros(shape[1:], np.float32)
    dx = ops.prelu_backward(dout, x, alpha, dalpha=da)
    dx_ref = ref.prelu_backward(dout, x, alpha, dalpha=da_ref)
    np.testing.assert_allclose(dx, dx_ref, **TOL)
    np.testing.assert_allclose(da, da_ref, rtol=1e-5, atol=1e-5)
    ops.prelu_backward(dout, x, alpha, dalpha=da)
    np.testing.assert_allclose(da, 2 * da_ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="non-batch shape"):
        ops.prelu_forward(x, np.zeros((99,), np.float32))


def test_rrelu(rng, threads):
    import baeum
    x = _x(rng, (257, 301))
    slopes = np.empty_like(x)
    y = ops.rrelu_forward(x, 0.125, 1 / 3, 7, training=True, slopes=slopes)
    s_ref = np.empty_like(x)
    np.testing.assert_allclose(y, ref.rrelu_forward(x, 0.125, 1 / 3, 7, training=True,
                                                    slopes=s_ref), **TOL)
    np.testing.assert_array_equal(slopes, s_ref)
    assert slopes.min() >= 0.125 and slopes.max() < 1 / 3
    assert abs(slopes.mean() - (0.125 + 1 / 3) / 2) < 0.002
    baeum.set_num_threads(1)
    s1 = np.empty_like(x)
    ops.rrelu_forward(x, 0.125, 1 / 3, 7, training=True, slopes=s1)
    np.testing.assert_array_equal(s1, slopes)
    y_inf = ops.rrelu_forward(x, 0.1, 0.3, 7, training=False)
    np.testing.assert_allclose(y_inf, np.where(x >= 0, x, 0.2 * x), rtol=1e-6)
    dout = _x(rng, x.shape, 1.0)
    np.testing.assert_allclose(ops.rrelu_backward(dout, x, slopes),
                               ref.rrelu_backward(dout, x, slopes), **TOL)
    with pytest.raises(ValueError, match="lower <= upper"):
        ops.rrelu_forward(x, 0.5, 0.1, 0, training=True)


# ---- keras.activations surface -----------------------------------------------------------

def test_keras_activations_module(rng):
    x = _x(rng, (3, 5))
    assert A.get(None) is A.linear and A.get("swish") is A.silu and A.get(np.tanh) is np.tanh
    np.testing.assert_allclose(A.leaky_relu(x), np.where(x >= 0, x, 0.2 * x), rtol=1e-6)
    np.testing.assert_allclose(A.gelu(x, approximate=True),
                               ref.activation_forward(x, "gelu_tanh"), **TOL)
    np.testing.assert_allclose(A.softmax(x, axis=0), ref.softmax_forward(x, axis=0), **TOL)
    assert A.serialize("swish") == "silu" and A.serialize(A.relu) == "relu"
    assert A.op_name(None) == "linear" and A.op_name("gelu") == "gelu"
    assert A.op_name(lambda t: t) is None
    for name in ("relu", "sigmoid", "tanh", "elu", "selu", "softplus", "softsign",
                 "hard_sigmoid", "exponential", "silu"):
        np.testing.assert_allclose(A.get(name)(x), ref.activation_forward(x, name), **TOL)
    with pytest.raises(ValueError, match="Valid names: elu, exponential"):
        A.get("nope")
    with pytest.raises(NotImplementedError, match="mish"):
        A.get("mish")


OPS_NAMES = ["activation_forward", "activation_backward", "activation_needs_input",
             "relu_forward", "relu_backward", "prelu_forward", "prelu_backward",
             "rrelu_forward", "rrelu_backward", "dense_forward", "dense_backward",
             "dropout_forward", "dropout_backward", "softmax_forward", "softmax_backward",
             "bias_add", "bias_grad"]


@pytest.mark.parametrize("name", OPS_NAMES)
def test_reference_twin_has_same_signature(name):
    import inspect
    assert name in ops.__all__ and name in ref.__all__
    assert inspect.signature(getattr(ops, name)) == inspect.signature(getattr(ref, name))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "exponential", "silu", "elu", "selu",
                                  "softplus", "gelu", "softsign"])
def test_accuracy_sweep_in_ulps(name):
    """The kernels use libm-free exp/tanh/expm1 so loops vectorise: check they stay within a
    few float32 ulps of the float64 reference over the whole useful range."""
    x = np.concatenate([np.linspace(-88, 88, 40_001), np.geomspace(1e-8, 1, 2001),
                        -np.geomspace(1e-8, 1, 2001)]).astype(np.float32)
    got = ops.activation_forward(x, name).astype(np.float64)
    want = ref.activation_forward(x, name, out=np.empty(x.shape, np.float64))
    keep = np.isfinite(want.astype(np.float32)) & (np.abs(want) > 1e-30)
    ulps = np.abs(got - want)[keep] / np.spacing(np.abs(want[keep]).astype(np.float32))
    assert ulps.max() <= 4.0, (name, ulps.max(), x[keep][ulps.argmax()])


@pytest.mark.parametrize("name", [n for n in NAMES if n != "linear"])
def test_nan_propagates(name):
    """A NaN input must give NaN (TerminateOnNaN and friends rely on it), never a number."""
    x = np.array([[np.nan, 1.0, -1.0]], np.float32)
    y = ops.activation_forward(x, name)
    assert np.isnan(y[0, 0]), (name, y)
    if name != "softmax":
        assert np.isfinite(y[0, 1:]).all()
    assert np.isnan(ops.relu_forward(x, max_value=6.0, negative_slope=0.1)[0, 0])
