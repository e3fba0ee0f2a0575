"""Sequence tooling: Embedding, Masking, RepeatVector, TimeDistributed, Bidirectional.

Numbers against plain NumPy, backward against finite differences (the harness), masks, Keras
shapes/param counts, and the error messages. Bidirectional is tested around a small NumPy
SimpleRNN defined here (_TinyRNN) so that its merge/flip/state/mask logic is checked
independently of the C++ recurrent layers; the tests at the end use the real ones.
"""
import numpy as np
import pytest

import baeum
from baeum import layers as L
from baeum.layers import Dense, Input
from baeum.layers.base import Layer
from baeum.models import Sequential
from baeum.reference import sequence as ref
from harness import check_layer, numeric_grads


# ---- a tiny NumPy SimpleRNN (no bias), Keras RNN semantics incl. masks and go_backwards ----------
class _TinyRNN(Layer):
    def __init__(self, units, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        self.units, self.return_sequences, self.return_state = units, return_sequences, return_state
        self.go_backwards, self.stateful, self.zero_output_for_mask = go_backwards, stateful, zero_output_for_mask

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, self.units))

    def compute_output_shape(self, input_shape):
        out = (input_shape[0], input_shape[1], self.units) if self.return_sequences else (input_shape[0], self.units)
        return [out, (input_shape[0], self.units)] if self.return_state else out

    def forward(self, x, ctx, training):
        n, t, _ = x.shape
        W, U = self.kernel.value.astype(np.float64), self.recurrent_kernel.value.astype(np.float64)
        m = ctx.get("mask")
        m = np.ones((n, t), bool) if m is None else m
        xs, ms = (x[:, ::-1], m[:, ::-1]) if self.go_backwards else (x, m)
        h = np.zeros((n, self.units))
        hs, hns, outs = [h], [], []
        for s in range(t):
            hn = np.tanh(xs[:, s] @ W + h @ U)
            keep = ms[:, s, None]
            outs.append(np.where(keep, hn, 0.0 if self.zero_output_for_mask else h))
            h = np.where(keep, hn, h)
            hs.append(h)
            hns.append(hn)
        ctx.update(xs=xs, ms=ms, hs=hs, hns=hns)
        y = np.stack(outs, 1).astype(np.float32) if self.return_sequences else h.astype(np.float32)
        return [y, h.astype(np.float32)] if self.return_state else y

    def backward(self, dy, ctx, need_dx=True):
        xs, ms, hs, hns = ctx["xs"], ctx["ms"], ctx["hs"], ctx["hns"]
        W, U = self.kernel.value.astype(np.float64), self.recurrent_kernel.value.astype(np.float64)
        dstate = None
        if self.return_state:
            dy, dstate = dy
        n, t, _ = xs.shape
        dh = np.zeros((n, self.units)) if self.return_sequences else dy.astype(np.float64)
        if dstate is not None:
            dh = dh + dstate
        dxs = np.zeros(xs.shape)
        dW, dU = np.zeros(W.shape), np.zeros(U.shape)
        for s in reversed(range(t)):
            keep = ms[:, s, None]
            dout = dy[:, s].astype(np.float64) if self.return_sequences else 0.0
            dhn = keep * (dout + dh)
            dprev = (1 - keep) * (dh + (0.0 if self.zero_output_for_mask else dout))
            da = dhn * (1 - hns[s] ** 2)
            dW += xs[:, s].T @ da
            dU += hs[s].T @ da
            dxs[:, s] = da @ W.T
            dh = dprev + da @ U.T
        self.kernel.grad += dW.astype(np.float32)
        self.recurrent_kernel.grad += dU.astype(np.float32)
        if not need_dx:
            return None
        return (dxs[:, ::-1] if self.go_backwards else dxs).astype(np.float32)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards, stateful=self.stateful,
                      zero_output_for_mask=self.zero_output_for_mask)
        return config


@pytest.fixture
def tiny_rnn(monkeypatch):
    monkeypatch.setattr(baeum.layers, "_TinyRNN", _TinyRNN, raising=False)  # so configs can name it
    return _TinyRNN


# ---- Embedding ---------------------------------------------------------------------------------
def test_embedding_forward_shape_params_and_keras_init(rng):
    layer = L.Embedding(50, 7)
    ids = rng.integers(0, 50, size=(4, 9))
    y = layer(ids)
    assert y.shape == (4, 9, 7) and layer.output_shape == (None, 9, 7)
    assert layer.count_params() == 50 * 7
    w = layer.embeddings.value
    assert w.shape == (50, 7) and -0.05 <= w.min() < -0.04 and 0.04 < w.max() <= 0.05  # U(-0.05, 0.05)
    np.testing.assert_array_equal(y, w[ids])
    # float32 ids (the model's data path) give the same rows
    np.testing.assert_array_equal(layer.forward(ids.astype(np.float32), {}, False), w[ids])
    # any input rank: (N,) → (N, D); (N, A, B) → (N, A, B, D)
    assert L.Embedding(5, 7)(np.array([3, 4])).shape == (2, 7)
    assert L.Embedding(5, 2)(np.zeros((2, 3, 4))).shape == (2, 3, 4, 2)


def test_embedding_backward_is_scatter_add(rng):
    layer = L.Embedding(6, 3)
    ids = np.array([[1, 2, 1, 5], [0, 1, 5, 5]])
    layer(ids)
    ctx = {}
    layer.forward(ids.astype(np.float32), ctx, True)
    dy = rng.standard_normal((2, 4, 3)).astype(np.float32)
    layer.embeddings.grad[...] = 1.0  # accumulates (+=), never overwrites
    dx = layer.backward(dy, ctx)
    want = np.ones((6, 3))
    for i in range(2):
        for j in range(4):
            want[ids[i, j]] += dy[i, j]
    np.testing.assert_allclose(layer.embeddings.grad, want, rtol=1e-6)
    assert not want[3].any() - 1  # row 3 never used: only the initial 1s
    np.testing.assert_array_equal(dx, np.zeros(ids.shape))
    assert layer.backward(dy, ctx, need_dx=False) is None
    # deterministic: the same bits as np.add.at (contributions added in position order)
    for shape, vocab in [((2, 4), 6), ((7, 13), 3), ((300,), 1000), ((0, 5), 4), ((50, 9), 2)]:
        many = rng.integers(0, vocab, size=shape)
        d = rng.standard_normal(shape + (5,)).astype(np.float32)
        want = rng.standard_normal((vocab, 5)).astype(np.float32)
        got = want.copy()
        np.add.at(want, many.reshape(-1), d.reshape(-1, 5))
        np.testing.assert_array_equal(ref.embedding_backward(d, many, got), want)


def test_embedding_weights_gradient_vs_finite_differences(rng):
    layer = L.Embedding(5, 2)
    ids = np.array([[0, 4, 4], [2, 0, 1]], np.float32)
    y = layer(ids)
    r = rng.standard_normal(y.shape).astype(np.float32)
    ctx = {}
    layer.forward(ids, ctx, False)
    layer.embeddings.grad[...] = 0
    layer.backward(r, ctx, need_dx=False)

    def objective():
        return float(np.sum(r.astype(np.float64) * layer.forward(ids, {}, False)))

    w = layer.embeddings.value.reshape(-1)
    num = np.zeros(w.size)
    for i in range(w.size):
        old = w[i]
        w[i] = old + 1e-2
        up = objective()
        w[i] = old - 1e-2
        num[i] = (up - objective()) / 2e-2
        w[i] = old
    np.testing.assert_allclose(layer.embeddings.grad.reshape(-1), num, atol=1e-4)


def test_embedding_mask_zero_and_config():
    layer = L.Embedding(10, 4, mask_zero=True, name="emb")
    ids = np.array([[3, 1, 0, 0], [5, 0, 2, 0]], np.float32)
    layer(ids)
    np.testing.assert_array_equal(layer.compute_mask(ids), [[1, 1, 0, 0], [1, 0, 1, 0]])
    assert layer.compute_mask(ids).dtype == bool
    assert L.Embedding(10, 4).compute_mask(ids) is None
    config = layer.get_config()
    assert config["mask_zero"] is True and config["input_dim"] == 10 and config["output_dim"] == 4
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    clone = L.Embedding.from_config(dict(config, name="emb_clone"))
    assert {k: v for k, v in clone.get_config().items() if k != "name"} == \
           {k: v for k, v in config.items() if k != "name"}


def test_embedding_input_length_is_ignored_with_keras_warning():
    with pytest.warns(UserWarning, match="input_length` is deprecated"):
        layer = L.Embedding(10, 3, input_length=4)
    assert layer(np.zeros((2, 6))).shape == (2, 6, 3)  # not tied to 4


def test_embedding_initial_weights():
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    layer = L.Embedding(4, 3, weights=[w])
    np.testing.assert_array_equal(layer(np.array([[2, 0]])), w[[[2, 0]]])
    with pytest.raises(ValueError, match=r"weights must have shape \(4, 3\)"):
        L.Embedding(4, 3, weights=[np.zeros((3, 3))])


@pytest.mark.parametrize("bad,match", [
    (np.array([[1.0, 2.5]]), r"non-integer value 2\.5 at position \(0, 1\).*astype\('int64'\)"),
    (np.array([[1.0, np.nan]]), r"non-integer value nan at position \(0, 1\)"),
    (np.array([[1, -1]]), r"id -1 at position \(0, 1\) is out of range.*\[0, 10\).*non-negative"),
    (np.array([[10, 3], [12, 0]]), r"id 10 at position \(0, 0\) is out of range.*2 id\(s\).*input_dim to at least 13"),
])
def test_embedding_bad_ids(bad, match):
    layer = L.Embedding(10, 2, name="words")
    with pytest.raises(ValueError, match=r"Embedding 'words': .*" + match):
        layer(bad)


def test_embedding_bad_arguments():
    with pytest.raises(ValueError, match="input_dim .* positive integer"):
        L.Embedding(0, 3)
    with pytest.raises(ValueError, match="output_dim must be a positive integer"):
        L.Embedding(3, 2.5)
    with pytest.raises(TypeError, match="unexpected keyword"):
        L.Embedding(3, 2, bogus=1)


def test_embedding_trains_in_a_model(rng):
    baeum.utils.set_random_seed(0)
    ids = rng.integers(0, 8, size=(256, 3)).astype(np.float32)
    y = (ids[:, :1] % 2).astype(np.float32)  # parity of the first token
    model = Sequential([Input((3,)), L.Embedding(8, 4), L.Flatten(), Dense(1, activation="sigmoid")])
    model.compile(baeum.optimizers.Adam(0.02), "binary_crossentropy", metrics=["accuracy"])
    assert model.count_params() == 8 * 4 + 12 + 1
    hist = model.fit(ids, y, epochs=40, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["accuracy"][-1] > 0.95


# ---- Masking -----------------------------------------------------------------------------------
def test_masking_forward_mask_and_backward(rng):
    x = rng.standard_normal((3, 5, 2)).astype(np.float32)
    x[0, 1] = 0.0
    x[2, 4] = 0.0
    x[1, 2, 0] = 0.0  # only one feature equal to the mask value: NOT masked
    layer = L.Masking()
    ctx = {}
    layer(x)
    y = layer.forward(x, ctx, True)
    keep = np.ones((3, 5), bool)
    keep[0, 1] = keep[2, 4] = False
    np.testing.assert_array_equal(layer.compute_mask(x), keep)
    np.testing.assert_array_equal(y, x * keep[..., None])
    dy = rng.standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(dy, ctx), dy * keep[..., None])
    # a non-zero mask value
    x2 = np.full((1, 3, 2), -1.0, np.float32)
    x2[0, 1] = [0.5, -1.0]
    np.testing.assert_array_equal(L.Masking(mask_value=-1.0).compute_mask(x2), [[False, True, False]])


def test_masking_harness(rng):
    check_layer(L.Masking(mask_value=0.3), (4, 3), 0, rng)


def test_masking_errors():
    with pytest.raises(ValueError, match=r"expects inputs \(samples, timesteps, features\).*x\[\.\.\., None\]"):
        L.Masking()(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="mask_value must be a number"):
        L.Masking(mask_value="0")


# ---- RepeatVector ------------------------------------------------------------------------------
def test_repeat_vector(rng):
    y = check_layer(L.RepeatVector(4), (3,), 0, rng)
    assert y.shape == (3, 4, 3)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_array_equal(L.RepeatVector(2)(x), np.stack([x, x], 1))
    dy = rng.standard_normal((2, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(ref.repeat_vector_backward(dy), dy.sum(1), rtol=1e-6)
    with pytest.raises(ValueError, match=r"expects 2-D inputs.*\(None, 2, 3\)"):
        L.RepeatVector(2)(np.zeros((1, 2, 3)))
    with pytest.raises(TypeError, match="n must be a non-negative integer"):
        L.RepeatVector(2.0)


# ---- TimeDistributed ---------------------------------------------------------------------------
def test_time_distributed_dense_equals_per_step_loop(rng):
    layer = L.TimeDistributed(Dense(3, activation="tanh"))
    x = rng.standard_normal((4, 6, 5)).astype(np.float32)
    y = layer(x)
    assert y.shape == (4, 6, 3) and layer.output_shape == (None, 6, 3)
    assert layer.count_params() == 5 * 3 + 3
    assert [v.name for v in layer.weights] == ["kernel", "bias"]
    inner = layer.layer
    for t in range(6):
        np.testing.assert_allclose(y[:, t], inner(x[:, t]), rtol=1e-6, atol=1e-7)


def test_time_distributed_harness(rng):
    check_layer(L.TimeDistributed(Dense(3, activation="sigmoid")), (4, 2), 9, rng)
    check_layer(L.TimeDistributed(L.RepeatVector(2)), (3, 2), 0, rng)  # rank 4 output (N, T, 2, 2)


def test_time_distributed_variable_length_and_summary(capsys):
    model = Sequential([Input((None, 20)), L.TimeDistributed(Dense(10))])
    assert model.output_shape == (None, None, 10)
    assert model.count_params() == 210
    model.summary()
    out = capsys.readouterr().out
    assert "time_distributed" in out and "(None, None, 10)" in out and "210" in out
    assert model.predict(np.zeros((2, 7, 20), np.float32), verbose=0).shape == (2, 7, 10)
    # targets (N, 7, 10) fit an output declared (None, None, 10)
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 7, 20), np.float32), np.zeros((4, 7, 10), np.float32), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"y has shape \(4, 7, 9\)"):
        model.fit(np.ones((4, 7, 20), np.float32), np.zeros((4, 7, 9), np.float32), verbose=0)


def test_time_distributed_masks():
    layer = L.TimeDistributed(Dense(2))
    assert layer.supports_masking
    x = np.ones((2, 3, 4), np.float32)
    layer(x)
    ctx = {"mask": np.array([[1, 1, 0], [1, 0, 0]], bool)}
    layer.forward(x, ctx, False)
    assert "mask" not in ctx["inner"]  # a (N, T) mask has no per-step part
    ctx = {"mask": np.ones((2, 3, 4), bool)}
    layer.forward(x, ctx, False)
    assert ctx["inner"]["mask"].shape == (6, 4)  # folded like the input
    with pytest.raises(ValueError, match=r"mask has shape \(2, 5\)"):
        layer.forward(x, {"mask": np.ones((2, 5), bool)}, False)


def test_time_distributed_trainable_and_errors():
    layer = L.TimeDistributed(Dense(2))
    layer(np.zeros((1, 2, 3)))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    with pytest.raises(ValueError, match=r"rank >= 3; received shape \(None, 3\).*return_sequences=True"):
        L.TimeDistributed(Dense(2))(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="wraps a layer instance, received str"):
        L.TimeDistributed("dense")


def test_time_distributed_trains_in_a_model(rng):
    baeum.utils.set_random_seed(1)
    x = rng.standard_normal((200, 5, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)) + 0.3
    model = Sequential([Input((5, 3)), L.TimeDistributed(Dense(1))])
    model.compile(baeum.optimizers.Adam(0.05), "mse")
    hist = model.fit(x, y, epochs=60, batch_size=20, verbose=0)
    assert hist.history["loss"][-1] < 0.01 * hist.history["loss"][0]


# ---- Bidirectional around _TinyRNN -------------------------------------------------------------
def _flip(a):
    return a[:, ::-1]


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_values_and_gradients(merge_mode, return_sequences, rng, tiny_rnn):
    layer = L.Bidirectional(tiny_rnn(3, return_sequences=return_sequences), merge_mode=merge_mode)
    width = 6 if merge_mode == "concat" else 3
    y = check_layer(layer, (4, 2), 2 * (2 * 3 + 3 * 3), rng, atol=1e-3)
    assert y.shape == ((3, 4, width) if return_sequences else (3, width))
    # the numbers: forward on x, backward on reversed x (flipped back to forward time)
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    fw, bw = layer.forward_layer, layer.backward_layer
    y_f = fw.forward(x, {}, False)
    y_b = bw.forward(x, {}, False)
    probe = tiny_rnn(3, return_sequences=return_sequences)
    probe(x)
    probe.set_weights(bw.get_weights())
    np.testing.assert_allclose(y_b, probe.forward(np.ascontiguousarray(_flip(x)), {}, False), rtol=1e-6)
    if return_sequences:
        y_b = _flip(y_b)
    want = {"concat": np.concatenate([y_f, y_b], -1), "sum": y_f + y_b, "mul": y_f * y_b,
            "ave": (y_f + y_b) / 2}[merge_mode]
    np.testing.assert_allclose(layer(x), want, rtol=1e-6)


def test_bidirectional_names_weights_and_config(tiny_rnn):
    rnn = tiny_rnn(4, name="enc")
    layer = L.Bidirectional(rnn)
    assert layer.forward_layer.name == "forward_enc" and layer.backward_layer.name == "backward_enc"
    assert layer.forward_layer is not rnn and not layer.forward_layer.go_backwards
    assert layer.backward_layer.go_backwards
    layer(np.zeros((1, 3, 2), np.float32))
    assert [v.path for v in layer.weights] == [
        "forward_enc/kernel", "forward_enc/recurrent_kernel", "backward_enc/kernel", "backward_enc/recurrent_kernel"]
    assert layer.count_params() == 2 * (2 * 4 + 16)
    config = layer.get_config()
    assert config["merge_mode"] == "concat"
    assert config["layer"]["class_name"] == "_TinyRNN" and config["layer"]["config"]["name"] == "forward_enc"
    assert config["backward_layer"]["config"]["go_backwards"] is True
    clone = L.Bidirectional.from_config(config)
    assert clone.forward_layer.name == "forward_enc" and clone.backward_layer.name == "backward_enc"
    layer.trainable = False
    assert layer.trainable_weights == [] and not layer.forward_layer.trainable


def test_bidirectional_initial_weights_and_set_weights(tiny_rnn, rng):
    ws = [rng.standard_normal(s).astype(np.float32) for s in [(2, 3), (3, 3), (2, 3), (3, 3)]]
    layer = L.Bidirectional(tiny_rnn(3), weights=ws)
    layer(np.zeros((1, 2, 2), np.float32))
    for got, want in zip(layer.get_weights(), ws):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(layer.backward_layer.kernel.value, ws[2])


def test_bidirectional_merge_none_and_return_state(tiny_rnn, rng):
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    layer = L.Bidirectional(tiny_rnn(4, return_sequences=True, return_state=True), merge_mode=None)
    out = layer(x)
    assert [o.shape for o in out] == [(2, 5, 4), (2, 5, 4), (2, 4), (2, 4)]
    assert [tuple(s) for s in layer.output_shape] == [(None, 5, 4)] * 2 + [(None, 4)] * 2
    y_f, h_f = layer.forward_layer.forward(x, {}, False)
    y_b, h_b = layer.backward_layer.forward(x, {}, False)
    for got, want in zip(out, [y_f, _flip(y_b), h_f, h_b]):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert layer.compute_mask(x, None) == [None, None, None, None]

    layer = L.Bidirectional(tiny_rnn(4, return_state=True))
    out = layer(x)
    assert [o.shape for o in out] == [(2, 8), (2, 4), (2, 4)]  # [merged, h_fw, h_bw]
    assert [tuple(s) for s in layer.output_shape] == [(None, 8), (None, 4), (None, 4)]


def _fd_check(layer, x, ctx_mask, douts, rng, atol=1e-3):
    """Backward of a (possibly multi-output, masked) layer vs central differences of Σ r·out."""
    def run():
        ctx = {} if ctx_mask is None else {"mask": ctx_mask}
        out = layer.forward(x, ctx, False)
        return ctx, out if isinstance(out, list) else [out]

    def objective():
        _, outs = run()
        return sum(float(np.sum(r.astype(np.float64) * o)) for r, o in zip(douts, outs) if r is not None)

    ctx, outs = run()
    for v in layer.weights:
        v.grad[...] = 0
    dx = layer.backward(douts if isinstance(layer.forward(x, {"mask": ctx_mask}, False), list) else douts[0], ctx)
    for arr, got in [(x, dx)] + [(v.value, v.grad) for v in layer.weights]:
        num = np.zeros(arr.shape)
        flat = arr.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + 1e-2
            up = objective()
            flat[i] = old - 1e-2
            num.reshape(-1)[i] = (up - objective()) / 2e-2
            flat[i] = old
        np.testing.assert_allclose(got, num, atol=atol, rtol=1e-2)


def test_bidirectional_return_state_gradients(tiny_rnn, rng):
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    layer = L.Bidirectional(tiny_rnn(3, return_state=True), merge_mode="sum")
    layer(x)
    r = [rng.standard_normal(s).astype(np.float32) for s in [(2, 3), (2, 3), (2, 3)]]
    _fd_check(layer, x, None, r, rng)
    r[1] = None  # an unused state output: no gradient flows from it
    _fd_check(layer, x, None, r, rng)
    layer = L.Bidirectional(tiny_rnn(3, return_sequences=True), merge_mode=None)
    layer(x)
    _fd_check(layer, x, None, [rng.standard_normal((2, 4, 3)).astype(np.float32), None], rng)


def test_bidirectional_passes_the_mask_to_both_directions(tiny_rnn, rng):
    x = rng.standard_normal((2, 5, 2)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    layer = L.Bidirectional(tiny_rnn(3, return_sequences=True))
    layer(x)
    assert layer.forward_layer.zero_output_for_mask and layer.backward_layer.zero_output_for_mask
    ctx = {"mask": mask}
    y = layer.forward(x, ctx, False)
    np.testing.assert_array_equal(ctx["fw"]["mask"], mask)
    np.testing.assert_array_equal(ctx["bw"]["mask"], mask)
    # sample 0 (3 real steps) equals running the layer on its unpadded 3 steps
    short = layer.forward(np.ascontiguousarray(x[:1, :3]), {}, False)
    np.testing.assert_allclose(y[0, :3], short[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(y[0, 3:], 0.0)  # masked steps output zeros (Keras forces it)
    np.testing.assert_array_equal(layer.compute_mask(x, mask), mask)
    assert L.Bidirectional(tiny_rnn(3)).compute_mask(x, mask) is None
    _fd_check(layer, x, mask, [rng.standard_normal(y.shape).astype(np.float32)], rng)


def test_bidirectional_errors(tiny_rnn):
    with pytest.raises(ValueError, match=r"must be a recurrent layer.*Dense 'd'.*no go_backwards.*TimeDistributed"):
        L.Bidirectional(Dense(3, name="d"))
    with pytest.raises(ValueError, match="invalid merge_mode 'max'"):
        L.Bidirectional(tiny_rnn(2), merge_mode="max")
    with pytest.raises(ValueError, match="different go_backwards"):
        L.Bidirectional(tiny_rnn(2), backward_layer=tiny_rnn(2))
    with pytest.raises(ValueError, match="same return_sequences"):
        L.Bidirectional(tiny_rnn(2), backward_layer=tiny_rnn(2, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="wraps a recurrent layer instance"):
        L.Bidirectional(None)
    with pytest.raises(AttributeError, match="must be stateful"):
        L.Bidirectional(tiny_rnn(2)).reset_states()


def test_bidirectional_custom_backward_layer(tiny_rnn, rng):
    bw = tiny_rnn(2, go_backwards=True, name="mine")
    layer = L.Bidirectional(tiny_rnn(2), backward_layer=bw)
    assert layer.backward_layer is bw
    check_layer(layer, (3, 2), 2 * (4 + 4), rng, atol=1e-3)


def test_merge_reference_modes(rng):
    a, b = rng.standard_normal((2, 2, 3)).astype(np.float32)
    d = rng.standard_normal((2, 6)).astype(np.float32)
    da, db = ref.merge_backward(d, a, b, "concat")
    np.testing.assert_array_equal(da, d[:, :3])
    np.testing.assert_array_equal(db, d[:, 3:])
    d = d[:, :3]
    for mode, want in [("sum", (d, d)), ("ave", (d / 2, d / 2)), ("mul", (d * b, d * a))]:
        for got, w in zip(ref.merge_backward(d, a, b, mode), want):
            np.testing.assert_allclose(got, w, rtol=1e-6)
    with pytest.raises(ValueError, match="merge mode"):
        ref.merge_forward(a, b, "max")


# ---- with the real recurrent layers ------------------------------------------------------------
def test_bidirectional_lstm_keras_param_count_and_summary(capsys):
    model = Sequential([Input((None, 5)), L.Bidirectional(L.LSTM(10))])
    assert model.count_params() == 2 * 4 * (5 * 10 + 10 * 10 + 10) == 1280
    assert model.output_shape == (None, 20)
    names = [v.path for v in model.weights]
    assert names[0].startswith("forward_lstm") and names[-1].startswith("backward_lstm")
    assert names[0].endswith("/kernel") and names[2].endswith("/bias")
    model.summary()
    assert "1,280" in capsys.readouterr().out
    seq = Sequential([Input((7, 5)), L.Bidirectional(L.GRU(4, return_sequences=True), merge_mode="sum")])
    assert seq.output_shape == (None, 7, 4) and seq.count_params() == 2 * (3 * 4 * (5 + 4) + 6 * 4)


@pytest.mark.parametrize("rnn", [lambda **k: L.SimpleRNN(3, **k), lambda **k: L.LSTM(3, **k),
                                 lambda **k: L.GRU(3, **k)])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_real_rnns_values_and_gradients(rnn, return_sequences, rng):
    layer = L.Bidirectional(rnn(return_sequences=return_sequences))
    check_layer(layer, (4, 2), layer_params(rnn, 2, 3), rng, atol=2e-2)
    x = rng.standard_normal((2, 5, 2)).astype(np.float32)
    y = layer(x)
    plain = rnn(return_sequences=return_sequences)
    plain(x)
    plain.set_weights(layer.forward_layer.get_weights())
    y_f = plain(x)
    plain.set_weights(layer.backward_layer.get_weights())
    y_b = plain(np.ascontiguousarray(x[:, ::-1]))  # go_backwards ≡ running on reversed time
    if return_sequences:
        y_b = y_b[:, ::-1]
    np.testing.assert_allclose(y, np.concatenate([y_f, y_b], -1), rtol=1e-5, atol=1e-6)


def layer_params(rnn, f, u):
    probe = rnn()
    probe(np.zeros((1, 2, f), np.float32))
    return 2 * probe.count_params()


def test_bidirectional_lstm_return_state_order(rng):
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    layer = L.Bidirectional(L.LSTM(5, return_state=True))
    out = layer(x)
    assert len(out) == 5 and [o.shape for o in out] == [(2, 10)] + [(2, 5)] * 4  # out, h_f, c_f, h_b, c_b
    y_f, h_f, c_f = layer.forward_layer(x)
    y_b, h_b, c_b = layer.backward_layer(x)
    for got, want in zip(out, [np.concatenate([y_f, y_b], -1), h_f, c_f, h_b, c_b]):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    r = [rng.standard_normal(o.shape).astype(np.float32) for o in out]
    r[2] = None  # c_f unused
    _fd_check(layer, x, None, r, rng, atol=2e-2)


def test_bidirectional_lstm_with_mask_end_to_end(rng):
    """Embedding(mask_zero) → Bidirectional(LSTM(return_sequences)) with the mask the executor
    would pass: padded samples give the same outputs as their unpadded versions."""
    ids = np.array([[4, 2, 7, 0, 0], [3, 1, 5, 6, 2]], np.float32)
    emb = L.Embedding(8, 3, mask_zero=True)
    bi = L.Bidirectional(L.LSTM(4, return_sequences=True))
    e = emb(ids)
    mask = emb.compute_mask(ids)
    bi(e)
    ctx = {"mask": mask}
    y = bi.forward(e, ctx, False)
    short = bi.forward(np.ascontiguousarray(e[:1, :3]), {}, False)
    np.testing.assert_allclose(y[0, :3], short[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(y[0, 3:], 0.0)
    np.testing.assert_array_equal(bi.compute_mask(e, mask), mask)
    _fd_check(bi, e, mask, [rng.standard_normal(y.shape).astype(np.float32)], rng, atol=2e-2)


def test_time_distributed_after_an_rnn_and_masks_through_a_model(rng):
    model = Sequential([Input((None,)), L.Embedding(10, 4, mask_zero=True),
                        L.LSTM(6, return_sequences=True), L.TimeDistributed(Dense(2))])
    assert model.output_shape == (None, None, 2)
    assert model.count_params() == 40 + 4 * 6 * (4 + 6 + 1) + 14
    ids = np.array([[1, 2, 3, 0], [4, 5, 0, 0]], np.float32)
    y = model.predict(ids, verbose=0)
    y_short = model.predict(ids[1:, :2], verbose=0)
    np.testing.assert_allclose(y[1, :2], y_short[0], rtol=1e-5, atol=1e-6)  # the mask reached the LSTM
    assert y.shape == (2, 4, 2)
    # a Bidirectional reads the padding first in its backward half: only the mask keeps it out
    model = Sequential([Input((None,)), L.Embedding(10, 4, mask_zero=True), L.Bidirectional(L.GRU(3)), Dense(1)])
    np.testing.assert_allclose(model.predict(ids, verbose=0)[1], model.predict(ids[1:, :2], verbose=0)[0],
                               rtol=1e-5, atol=1e-6)
    unmasked = Sequential([Input((None,)), L.Embedding(10, 4), L.Bidirectional(L.GRU(3)), Dense(1)])
    unmasked.set_weights(model.get_weights())
    assert abs(unmasked.predict(ids, verbose=0)[1, 0] - model.predict(ids, verbose=0)[1, 0]) > 1e-4


def test_functional_models_with_the_wrappers(rng):
    inp = Input((None, 3))
    out, h_f, c_f, h_b, c_b = L.Bidirectional(L.LSTM(5, return_state=True))(inp)
    assert out.shape == (None, 10) and h_b.shape == (None, 5)
    model = baeum.Model(inp, [out, h_b])
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)
    y_out, y_hb = model.predict(x, verbose=0)
    bi = model.layers[1]
    want = bi(x)
    np.testing.assert_allclose(y_out, want[0], rtol=1e-6)
    np.testing.assert_allclose(y_hb, want[3], rtol=1e-6)
    # a seq2seq model through the functional API, trained
    baeum.utils.set_random_seed(3)
    inp = Input((None, 1))
    h = L.Bidirectional(L.GRU(8, return_sequences=True), merge_mode="sum")(inp)
    out = L.TimeDistributed(Dense(2))(h)
    model = baeum.Model(inp, out)
    model.compile(baeum.optimizers.Adam(0.02), "mse")
    x = rng.standard_normal((64, 7, 1)).astype(np.float32)
    y = np.concatenate([x, -x], -1)
    hist = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.1 * hist.history["loss"][0]


def test_sequential_config_round_trip_with_wrappers(rng):
    model = Sequential([Input((None, 4)), L.Masking(-1.0),
                        L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="ave"),
                        L.TimeDistributed(Dense(2)), L.TimeDistributed(L.RepeatVector(2))])
    clone = Sequential.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(l).__name__ for l in clone.layers] == ["Masking", "Bidirectional", "TimeDistributed", "TimeDistributed"]
    assert clone.layers[1].merge_mode == "ave" and clone.layers[1].backward_layer.go_backwards


def test_bidirectional_initial_states_split_forward_then_backward(rng):
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    states = [rng.standard_normal((2, 5)).astype(np.float32) for _ in range(4)]  # h_f, c_f, h_b, c_b
    layer = L.Bidirectional(L.LSTM(5, return_sequences=True))
    layer(x)
    ctx = {}
    y = layer.forward([x] + states, ctx, False)
    y_f = layer.forward_layer.forward([x] + states[:2], {}, False)
    y_b = layer.backward_layer.forward([x] + states[2:], {}, False)
    np.testing.assert_allclose(y, np.concatenate([y_f, y_b[:, ::-1]], -1), rtol=1e-6)
    r = rng.standard_normal(y.shape).astype(np.float32)
    grads = layer.backward(r, ctx)
    assert len(grads) == 5 and grads[0].shape == x.shape

    def objective():
        return float(np.sum(r.astype(np.float64) * layer.forward([x] + states, {}, False)))

    for arr, got in zip([x] + states, grads):
        num = np.zeros(arr.shape)
        flat = arr.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + 1e-2
            up = objective()
            flat[i] = old - 1e-2
            num.reshape(-1)[i] = (up - objective()) / 2e-2
            flat[i] = old
        np.testing.assert_allclose(got, num, atol=2e-2, rtol=2e-2)
    with pytest.raises(ValueError, match="even number"):
        layer.forward([x] + states[:3], {}, False)


def test_eager_calls_take_mask_and_initial_state_keywords(rng):
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]], bool)
    layer = L.Bidirectional(L.GRU(4, return_sequences=True))
    y = layer(x, mask=mask)
    np.testing.assert_allclose(y, layer.forward(x, {"mask": mask}, False), rtol=1e-6)
    np.testing.assert_array_equal(y[0, 2:], 0.0)
    states = [rng.standard_normal((2, 4)).astype(np.float32) for _ in range(2)]
    np.testing.assert_allclose(layer(x, initial_state=states), layer.forward([x] + states, {}, False), rtol=1e-6)


def test_time_distributed_conv1d_on_rank4_inputs(rng):
    """A Conv1D applied to each of T sub-sequences: (N, T, L, C) → (N, T, L', filters)."""
    layer = L.TimeDistributed(L.Conv1D(2, 3, activation="tanh"))
    y = check_layer(layer, (3, 6, 2), 3 * 2 * 2 + 2, rng, atol=2e-2)
    assert y.shape == (3, 3, 4, 2)
    x = rng.standard_normal((2, 3, 6, 2)).astype(np.float32)
    out = layer(x)
    for t in range(3):
        np.testing.assert_allclose(out[:, t], layer.layer(np.ascontiguousarray(x[:, t])), rtol=1e-5, atol=1e-6)
