"""SimpleRNN / LSTM / GRU layers: harness (shape, params, finite-difference backward, config),
Keras parameter counts and weight layouts, gate order against a hand-written Keras cell,
return_state / go_backwards / stateful / initial_state / mask / dropout behaviour, errors,
variable-length inputs, and a small sequence model that learns with fit."""
import numpy as np
import pytest

import baeum
from baeum.layers import GRU, LSTM, Dense, Input, SimpleRNN
from baeum.models import Sequential
from harness import check_layer, numeric_grads


def _sig(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("make,params", [
    (lambda: SimpleRNN(3), 3 * (2 + 3 + 1)),
    (lambda: SimpleRNN(3, return_sequences=True, go_backwards=True, activation="sigmoid"), 3 * (2 + 3 + 1)),
    (lambda: LSTM(3), 4 * 3 * (2 + 3 + 1)),
    (lambda: LSTM(3, return_sequences=True, go_backwards=True, use_bias=False), 4 * 3 * (2 + 3)),
    (lambda: GRU(3), 3 * (2 * 3 + 3 * 3 + 2 * 3)),
    (lambda: GRU(3, reset_after=False, return_sequences=True), 3 * 3 * (2 + 3 + 1)),
])
def test_harness(make, params, rng):
    check_layer(make(), (4, 2), params, rng)


def test_keras_param_counts_and_layouts():
    model = Sequential([Input((None, 1)), LSTM(20, return_sequences=True), LSTM(20), Dense(1)])
    assert [l.count_params() for l in model.layers] == [1760, 4 * (20 * 20 + 20 * 20 + 20), 21]
    assert [w.shape for w in model.layers[0].get_weights()] == [(1, 80), (20, 80), (80,)]
    gru = Sequential([Input((7, 5)), GRU(6)]).layers[0]
    assert gru.count_params() == 3 * (5 * 6 + 6 * 6 + 2 * 6)
    assert [w.shape for w in gru.get_weights()] == [(5, 18), (6, 18), (2, 18)]
    assert [v.name for v in gru.weights] == ["kernel", "recurrent_kernel", "bias"]
    gru0 = Sequential([Input((7, 5)), GRU(6, reset_after=False)]).layers[0]
    assert [w.shape for w in gru0.get_weights()] == [(5, 18), (6, 18), (18,)]
    rnn = Sequential([Input((None, 3)), SimpleRNN(4)]).layers[0]
    assert [w.shape for w in rnn.get_weights()] == [(3, 4), (4, 4), (4,)]


def test_initializers_follow_keras():
    layer = LSTM(4)
    layer(np.zeros((1, 2, 3), np.float32))
    np.testing.assert_array_equal(layer.bias.value, [0] * 4 + [1] * 4 + [0] * 8)  # unit_forget_bias
    rk = layer.recurrent_kernel.value  # orthogonal over the whole (u, 4u) matrix: orthonormal rows
    np.testing.assert_allclose(rk @ rk.T, np.eye(4), atol=1e-5)
    off = LSTM(4, unit_forget_bias=False)
    off(np.zeros((1, 2, 3), np.float32))
    assert not off.bias.value.any()


def test_lstm_gate_order_matches_keras_cell(rng):
    """A hand-written Keras LSTMCell (i, f, c, o blocks) — independent of baeum.reference."""
    layer = LSTM(3, return_sequences=True)
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    layer(x)
    for v in layer.weights:
        v.assign(rng.uniform(-0.8, 0.8, v.shape))
    k, rk, b = layer.get_weights()
    h = c = np.zeros((2, 3))
    want = []
    for t in range(4):
        z = x[:, t] @ k + h @ rk + b
        i, f, g, o = _sig(z[:, :3]), _sig(z[:, 3:6]), np.tanh(z[:, 6:9]), _sig(z[:, 9:])
        c = f * c + i * g
        h = o * np.tanh(c)
        want.append(h)
    np.testing.assert_allclose(layer(x), np.stack(want, 1), rtol=1e-5, atol=1e-6)


def test_gru_reset_after_matches_keras_cell(rng):
    layer = GRU(3)
    x = rng.standard_normal((2, 3, 2)).astype(np.float32)
    layer(x)
    for v in layer.weights:
        v.assign(rng.uniform(-0.8, 0.8, v.shape))
    k, rk, b = layer.get_weights()
    h = np.zeros((2, 3))
    for t in range(3):
        mx, mh = x[:, t] @ k + b[0], h @ rk + b[1]
        z, r = _sig(mx[:, :3] + mh[:, :3]), _sig(mx[:, 3:6] + mh[:, 3:6])
        hh = np.tanh(mx[:, 6:] + r * mh[:, 6:])
        h = z * h + (1 - z) * hh
    np.testing.assert_allclose(layer(x), h, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_return_state_and_go_backwards(cls, rng):
    x = rng.standard_normal((3, 5, 2)).astype(np.float32)
    layer = cls(4, return_sequences=True, return_state=True)
    out = layer(x)
    assert isinstance(out, list) and len(out) == (3 if cls is LSTM else 2)
    assert out[0].shape == (3, 5, 4) and all(s.shape == (3, 4) for s in out[1:])
    np.testing.assert_array_equal(out[0][:, -1], out[1])
    assert layer.compute_output_shape((None, 5, 2)) == [(None, 5, 4)] + [(None, 4)] * (len(out) - 1)
    back = cls(4, return_sequences=True, go_backwards=True)
    back(x)
    back.set_weights(layer.get_weights())
    ys = back(x)
    # Keras: the reversed sequence is processed and returned in processing order
    np.testing.assert_allclose(ys, layer(x[:, ::-1])[0], rtol=1e-6, atol=1e-7)
    if cls is LSTM:
        c = out[2]
        assert not np.allclose(c, out[1])  # the cell state, not h again


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_initial_state_input_and_gradients(cls, rng):
    n_states = 2 if cls is LSTM else 1
    layer = cls(3, return_state=True)
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    states = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(n_states)]
    out0 = layer(x)
    out = layer(x, initial_state=states)
    assert not np.allclose(out[0], out0[0])
    np.testing.assert_allclose(layer([x] + states)[0], out[0])
    ctx = {}
    layer.forward([x] + states, ctx, False)
    r = [rng.standard_normal(o.shape).astype(np.float32) for o in out]
    for v in layer.weights:
        v.grad[...] = 0
    grads = layer.backward(r, ctx)
    assert isinstance(grads, list) and len(grads) == 1 + n_states

    def objective():
        o = layer.forward([x] + states, {}, False)
        return sum(float(np.sum(ri.astype(np.float64) * oi)) for ri, oi in zip(r, o))

    eps = 1e-2
    for arr, g in zip([x] + states, grads):
        want = np.zeros(arr.shape)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + eps
            up = objective()
            arr[i] = old - eps
            down = objective()
            arr[i] = old
            want[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(g, want, atol=2e-2, rtol=2e-2)


def test_stateful_carries_states_and_resets(rng):
    x = rng.standard_normal((2, 6, 1)).astype(np.float32)
    full = LSTM(3, return_sequences=True)
    y = full(x)
    st = LSTM(3, return_sequences=True, stateful=True)
    st(x[:, :3])
    st.set_weights(full.get_weights())
    st.reset_states()
    y1, y2 = st(x[:, :3]), st(x[:, 3:])
    np.testing.assert_allclose(np.concatenate([y1, y2], 1), y, rtol=1e-6, atol=1e-7)
    st.reset_states()
    np.testing.assert_allclose(st(x[:, :3]), y[:, :3], rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="stateful.*same batch size"):
        st(x[:1, :3])


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("zero_output", [False, True])
def test_mask_from_ctx(cls, zero_output, rng):
    layer = cls(3, return_sequences=True, zero_output_for_mask=zero_output)
    x = rng.standard_normal((3, 5, 2)).astype(np.float32)
    mask = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]], bool)
    layer(x)
    for v in layer.weights:
        v.assign(rng.uniform(-0.5, 0.5, v.shape))
    y = layer.forward(x, {"mask": mask}, False)
    # masked steps: previous output (zeros before the first real step) or zeros
    if zero_output:
        np.testing.assert_array_equal(y[0, 2], 0)
    else:
        np.testing.assert_array_equal(y[0, 2], y[0, 1])
        np.testing.assert_array_equal(y[0, 4], y[0, 3])
    np.testing.assert_array_equal(y[1, 0], 0)
    # the unmasked sample equals running the sequence alone; sample 0 equals its real steps only
    np.testing.assert_allclose(y[2], layer(x[2:])[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(y[0, 3], layer(x[:1, [0, 1, 3]])[0, -1], rtol=1e-6, atol=1e-7)
    # backward with the mask vs finite differences
    r = rng.standard_normal(y.shape).astype(np.float32)
    ctx = {"mask": mask}
    layer.forward(x, ctx, False)
    for v in layer.weights:
        v.grad[...] = 0
    dx = layer.backward(r, ctx)

    class Masked:
        weights = layer.weights

        @staticmethod
        def forward(xx, c, training):
            return layer.forward(xx, {"mask": mask}, training)

    want = numeric_grads(Masked, x, r)
    np.testing.assert_allclose(dx, want[0], atol=2e-2, rtol=2e-2)
    for v, g in zip(layer.weights, want[1:]):
        np.testing.assert_allclose(v.grad, g, atol=2e-2, rtol=2e-2)
    assert layer.compute_mask(x, mask) is mask
    assert cls(3).compute_mask(x, mask) is None


def test_dropout_mask_fixed_across_timesteps(rng):
    layer = GRU(4, dropout=0.5, seed=1)
    x = rng.standard_normal((20, 6, 5)).astype(np.float32)
    np.testing.assert_array_equal(layer(x), layer(x))  # inference: no dropout
    ctx = {}
    y = layer.forward(x, ctx, True)
    assert not np.allclose(y, layer(x))
    dx = layer.backward(np.ones_like(y), ctx)
    dropped = ctx["dmask"][:, 0] == 0  # (N, F)
    assert 0.3 < dropped.mean() < 0.7
    assert (dx.transpose(0, 2, 1)[dropped] == 0).all()  # whole time axis dropped together
    assert (dx.transpose(0, 2, 1)[~dropped] != 0).all()


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU, lambda *a, **k: GRU(*a, reset_after=False, **k)])
def test_recurrent_dropout_training_gradients(cls, rng):
    """Keras recurrent dropout: masks on h_{t−1} in the recurrent products (SimpleRNN one (N, U)
    mask, LSTM / GRU one per gate) fixed for the whole sequence, training only. Backward vs
    finite differences with the masks held fixed."""
    layer = cls(4, dropout=0.3, recurrent_dropout=0.4, return_sequences=True, seed=5)
    x = rng.standard_normal((3, 5, 2)).astype(np.float32)
    y_inf = layer(x)
    np.testing.assert_array_equal(layer(x), y_inf)
    for v in layer.weights:
        v.assign(rng.uniform(-0.6, 0.6, v.shape))

    class Fixed:  # the same dropout masks on every call: reseed before each forward
        weights = layer.weights

        @staticmethod
        def forward(xx, c, training):
            layer._rng = np.random.default_rng(11)
            return layer.forward(xx, c, True)

    ctx = {}
    y = Fixed.forward(x, ctx, True)
    assert ctx["rmask"] is not None and (ctx["rmask"] == 0).any()
    assert not np.allclose(y, layer(x))
    r = rng.standard_normal(y.shape).astype(np.float32)
    for v in layer.weights:
        v.grad[...] = 0
    dx = layer.backward(r, ctx)
    want = numeric_grads(Fixed, x, r)
    np.testing.assert_allclose(dx, want[0], atol=2e-2, rtol=2e-2)
    for v, g in zip(layer.weights, want[1:]):
        np.testing.assert_allclose(v.grad, g, atol=2e-2, rtol=2e-2, err_msg=v.name)


def _ref_run(layer, x, **masks):
    from baeum import reference as ref

    w = [v.value for v in layer.weights]
    if isinstance(layer, LSTM):
        return ref.lstm_forward(x, *w, **masks)[0]
    return ref.gru_forward(x, *w, reset_after=layer.reset_after, **masks)[0]


@pytest.mark.parametrize("make", [lambda **k: LSTM(6, **k), lambda **k: GRU(6, **k),
                                  lambda **k: GRU(6, reset_after=False, **k)])
def test_per_gate_dropout_masks_as_keras(make, rng):
    """recurrent_dropout > 0 (Keras implementation 1): independent input masks (G, N, F) and
    recurrent masks (G, N, U), one per gate, fixed over time; the output is the reference cell
    with exactly those masks. Inference is unaffected; a seeded layer reproduces its masks."""
    layer = make(dropout=0.3, recurrent_dropout=0.4, return_sequences=True, go_backwards=True, seed=7)
    n, t, f = 40, 5, 3
    x = rng.standard_normal((n, t, f)).astype(np.float32)
    y_inf = layer(x)
    for v in layer.weights:
        v.assign(rng.uniform(-0.5, 0.5, v.shape))
    y_inf = layer(x)
    g = layer._gates
    ctx = {}
    y = layer.forward(x, ctx, True)
    im, rm = ctx["imask"], ctx["rmask"]
    assert im.shape == (g, n, f) and rm.shape == (g, n, 6) and ctx["dmask"] is None
    keep = np.float32(1 / 0.7)
    assert set(np.unique(im)) == {0, keep} and set(np.unique(rm)) == {0, np.float32(1 / 0.6)}
    assert 0.3 < (rm == 0).mean() < 0.5 and 0.2 < (im == 0).mean() < 0.4
    for a in range(g):  # independent masks per gate
        for b in range(a):
            assert (rm[a] != rm[b]).any() and (im[a] != im[b]).any()
    want = _ref_run(layer, x, go_backwards=True, input_mask=im, recurrent_mask=rm)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=2e-5)
    assert np.abs(y - y_inf).max() > 1e-2
    np.testing.assert_allclose(y_inf, _ref_run(layer, x, go_backwards=True), rtol=1e-4, atol=2e-5)
    ctx2 = {}
    np.testing.assert_array_equal(layer.forward(x, ctx2, False), y_inf)  # inference: no masks
    assert ctx2["imask"] is None and ctx2["rmask"] is None
    # seeded reproducibility: a fresh layer with the same seed and weights draws the same masks
    twin = make(dropout=0.3, recurrent_dropout=0.4, return_sequences=True, go_backwards=True, seed=7)
    twin(x)
    twin.set_weights(layer.get_weights())
    layer._rng = np.random.default_rng(7)
    ca, cb = {}, {}
    np.testing.assert_array_equal(layer.forward(x, ca, True), twin.forward(x, cb, True))
    np.testing.assert_array_equal(ca["rmask"], cb["rmask"])
    other = {}
    layer.forward(x, other, True)  # the next call draws new masks
    assert (other["rmask"] != ca["rmask"]).any()


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_input_dropout_alone_keeps_one_shared_mask(cls, rng):
    """recurrent_dropout == 0 (Keras implementation 2): one (N, F) input mask for all gates."""
    layer = cls(4, dropout=0.5, seed=2)
    x = rng.standard_normal((8, 3, 5)).astype(np.float32)
    layer(x)  # build
    ctx = {}
    layer.forward(x, ctx, True)
    assert ctx["imask"] is None and ctx["rmask"] is None and ctx["dmask"].shape == (8, 1, 5)


@pytest.mark.parametrize("cls,g", [(LSTM, 4), (GRU, 3)])
def test_implementation_1_gives_every_gate_its_own_input_mask(cls, g, rng):
    """Keras's implementation=1: per-gate input dropout masks (G, N, F) even without
    recurrent dropout; the training step differs from implementation 2, inference does not."""
    x = rng.standard_normal((8, 3, 5)).astype(np.float32)
    one, two = cls(4, dropout=0.5, seed=2, implementation=1), cls(4, dropout=0.5, seed=2)
    one(x)
    two(x)
    two.set_weights(one.get_weights())
    ctx = {}
    y1 = one.forward(x, ctx, True)
    assert ctx["imask"].shape == (g, 8, 5) and ctx["rmask"] is None and ctx["dmask"] is None
    assert any((ctx["imask"][k] != ctx["imask"][0]).any() for k in range(1, g))
    assert not np.allclose(y1, two.forward(x, {}, True))
    np.testing.assert_array_equal(one.forward(x, {}, False), two.forward(x, {}, False))
    # the per-gate input masks train (backward through the C++ per-gate path)
    dx = one.backward(np.ones_like(y1), ctx)
    assert dx.shape == x.shape and np.isfinite(dx).all()
    assert one.get_config()["implementation"] == 1 and "implementation" not in two.get_config()
    again = cls.from_config(one.get_config())
    assert again.implementation == 1


def test_implementation_argument_checks():
    with pytest.raises(ValueError, match="implementation must be 1 or 2"):
        LSTM(4, implementation=3)
    with pytest.raises(TypeError):
        SimpleRNN(4, implementation=1)  # Keras's SimpleRNN has no such argument either


def test_gru_recurrent_dropout_model_learns():
    baeum.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    n, t = 256, 12
    freq, off = rng.uniform(0.1, 0.4, (n, 1)), rng.uniform(0, 6, (n, 1))
    series = (np.sin(freq * np.arange(t + 1) + off)).astype(np.float32)[..., None]
    x, y = series[:, :t], series[:, t]
    model = Sequential([Input((None, 1)), GRU(16, dropout=0.1, recurrent_dropout=0.2), Dense(1)])
    model.compile(optimizer=baeum.optimizers.Adam(0.01), loss="mse")
    first = model.evaluate(x, y, verbose=0)
    hist = model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0] / 2
    assert model.evaluate(x, y, verbose=0) < first / 5


def test_errors():
    with pytest.raises(ValueError, match=r"\(samples, timesteps, features\).*x\[\.\.\., None\]"):
        LSTM(3)(np.zeros((4, 10), np.float32))
    model = Sequential([Input((None, 1)), SimpleRNN(2)])
    with pytest.raises(ValueError, match=r"3-D inputs \(samples, timesteps, features\)"):
        model.predict(np.zeros((4, 10), np.float32), verbose=0)
    with pytest.raises(ValueError, match="0 timesteps"):
        GRU(3)(np.zeros((4, 0, 1), np.float32))
    with pytest.raises(NotImplementedError, match="softplus"):
        GRU(3, activation="softplus")
    with pytest.raises(TypeError, match="recurrent_activation"):
        SimpleRNN(3, recurrent_activation="sigmoid")
    with pytest.raises(ValueError, match="units must be a positive integer"):
        LSTM(0)


def test_variable_length_and_fit_learns():
    baeum.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n, t = 256, 16
    freq, off = rng.uniform(0.1, 0.4, (n, 1)), rng.uniform(0, 6, (n, 1))
    series = (np.sin(freq * np.arange(t + 1) + off)).astype(np.float32)[..., None]
    x, y = series[:, :t], series[:, t]
    model = Sequential([Input((None, 1)), LSTM(16, return_sequences=True), GRU(8), Dense(1)])
    model.compile(optimizer=baeum.optimizers.Adam(0.01), loss="mse")
    first = model.evaluate(x, y, verbose=0)
    hist = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < first / 10
    assert model.predict(x[:3, :7], verbose=0).shape == (3, 1)  # other lengths work too


def test_rnn_layers_in_a_functional_model_with_states():
    """Symbolic calls go through Layer.__call__ (no RNN-specific __call__): GRU on a
    variable-length Input, LSTM return_state feeding Dense, eager initial_state calls."""
    from baeum.layers import GRU, LSTM, Dense, Input
    from baeum.models import Model

    x = Input((None, 1))
    h = GRU(8, return_sequences=True)(x)
    o, hs, cs = LSTM(4, return_state=True)(h)
    assert h.shape == (None, None, 8) and o.shape == hs.shape == cs.shape == (None, 4)
    m = Model(x, Dense(1)(o))
    assert m.count_params() == 3 * (1 * 8 + 8 * 8 + 2 * 8) + 4 * (8 * 4 + 4 * 4 + 4) + 5
    lines = []
    m.summary(print_fn=lines.append)
    rows = [r.split("│") for r in "\n".join(lines).splitlines() if r.startswith("│")]
    shapes = "".join(r[2].strip() for r in rows).replace(" ", "")  # the Output Shape column, unwrapped
    assert "[(None,4),(None,4),(None,4)]" in shapes  # several outputs: Keras's list
    m.compile("adam", "mse")
    X = np.random.default_rng(0).random((16, 5, 1)).astype(np.float32)
    before = m.evaluate(X, X[:, -1], verbose=0)
    m.fit(X, X[:, -1], epochs=20, verbose=0)
    assert m.evaluate(X, X[:, -1], verbose=0) < before
    layer = LSTM(3)
    zeros = [np.zeros((16, 3), np.float32)] * 2
    np.testing.assert_array_equal(layer(X, initial_state=zeros), layer(X))
