"""Functional API: the graph executor against Sequential and finite differences, several
inputs/outputs, shared layers, nested models, graph errors, summary, config, transfer learning."""
import numpy as np
import pytest

import baeum
from baeum.layers import Add, Concatenate, Dense, Dropout, Input, Layer
from baeum.models import Model, Sequential
from baeum.optimizers import SGD

@pytest.fixture(autouse=True)
def _seeded():
    baeum.utils.set_random_seed(11)  # initial weights the same on every run


RNG = np.random.default_rng(0)
X = RNG.standard_normal((24, 4)).astype(np.float32)


def grads_by_tape(model, x, y, loss="mse", loss_weights=None):
    """Every weight's gradient from one training step with a zero learning rate."""
    model.compile(SGD(learning_rate=0.0), loss=loss, loss_weights=loss_weights)
    model.train_on_batch(x, y)
    return [v.grad.astype(np.float64).copy() for v in model.weights]


def grads_by_fd(model, x, y, eps=1e-2):
    """Central differences of the test loss (the same loss as the step) in each weight."""
    xp, yp, _ = model._prepare(x, y, what="fd")
    model._prepare_training()
    out = []
    for v in model.weights:
        g = np.zeros(v.shape)
        flat = v.value.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = model._test_step(xp, yp, None)[0]
            flat[i] = old - eps
            down = model._test_step(xp, yp, None)[0]
            flat[i] = old
            g.reshape(-1)[i] = (up - down) / (2 * eps)
        out.append(g)
    return out


def assert_grads_match(model, x, y, **kw):
    got = grads_by_tape(model, x, y, **kw)
    want = grads_by_fd(model, x, y)
    assert len(got) == len(want) > 0
    for g, w, v in zip(got, want, model.weights):
        np.testing.assert_allclose(g, w, atol=2e-3, rtol=2e-2, err_msg=v.path)


def chain_pair():
    seq = Sequential([Input((4,)), Dense(8, activation="relu"), Dense(6, activation="tanh"),
                      Dense(3, activation="softmax")])
    i = Input((4,))
    h = Dense(8, activation="relu")(i)
    h = Dense(6, activation="tanh")(h)
    fun = Model(inputs=i, outputs=Dense(3, activation="softmax")(h))
    fun.set_weights(seq.get_weights())
    return seq, fun


def test_functional_chain_equals_sequential_predict_and_training():
    seq, fun = chain_pair()
    np.testing.assert_allclose(fun.predict(X, verbose=0), seq.predict(X, verbose=0), rtol=1e-6, atol=1e-7)
    y = RNG.integers(0, 3, len(X))
    for m in (seq, fun):
        m.compile(SGD(learning_rate=0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    hs = seq.fit(X, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history
    hf = fun.fit(X, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history
    np.testing.assert_allclose(hf["loss"], hs["loss"], rtol=1e-5)
    assert hf["accuracy"] == hs["accuracy"]
    for a, b in zip(fun.get_weights(), seq.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert fun(X[:2]).shape == (2, 3)
    assert fun.layers[0].name.startswith("input_layer") and len(fun.layers) == 4  # InputLayer included


def test_shared_layer_gradient_is_the_sum_of_both_uses():
    i = Input((4,))
    shared = Dense(4, activation="tanh")
    out = Dense(2)(shared(shared(i)))
    m = Model(i, out)
    y = RNG.standard_normal((len(X), 2)).astype(np.float32)
    assert len(shared._inbound_nodes) == 2 and len(m.layers) == 3
    assert_grads_match(m, X, y)


def test_fan_out_and_merge_gradients():
    i = Input((4,))
    a = Dense(5, activation="tanh")(i)
    b, c = Dense(3)(a), Dense(3, activation="tanh")(a)
    out = Dense(1)(Concatenate()([Add()([b, c]), a]))
    m = Model(i, out)
    y = RNG.standard_normal((len(X), 1)).astype(np.float32)
    assert_grads_match(m, X, y)


def test_nested_functional_and_sequential_gradients():
    inner_in = Input((4,))
    inner = Model(inner_in, Dense(5, activation="tanh")(inner_in), name="inner")
    seq = Sequential([Dense(3, activation="tanh"), Dense(2)], name="seq_head")
    i = Input((4,))
    h = inner(i)
    h2 = inner(i)  # the nested model is shared too
    out = seq(Add(name="plus")([h, h2]))
    m = Model(i, out)
    assert [l.name for l in m.layers] == [m.layers[0].name, "inner", "plus", "seq_head"]
    assert m.count_params() == inner.count_params() + seq.count_params()
    y = RNG.standard_normal((len(X), 2)).astype(np.float32)
    assert_grads_match(m, X, y)


def test_multi_input_multi_output_losses_match_numpy():
    a, b = Input((4,), name="a"), Input((3,), name="b")
    h = Concatenate()([Dense(4, activation="relu")(a), b])
    reg = Dense(1, name="reg")(h)
    cls = Dense(3, activation="softmax", name="cls")(h)
    m = Model({"a": a, "b": b}, {"reg": reg, "cls": cls})
    assert m.output_names == ["reg", "cls"]
    m.compile("adam", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
              loss_weights={"reg": 0.3, "cls": 2.0}, metrics={"cls": ["accuracy"], "reg": "mae"})
    xb = RNG.standard_normal((len(X), 3)).astype(np.float32)
    yr = RNG.standard_normal((len(X), 1)).astype(np.float32)
    yc = RNG.integers(0, 3, len(X))
    logs = m.evaluate({"a": X, "b": xb}, {"reg": yr, "cls": yc}, verbose=0, return_dict=True)
    pred = m.predict({"a": X, "b": xb}, verbose=0)
    assert set(pred) == {"reg", "cls"}
    mse = float(np.mean((pred["reg"].astype(np.float64) - yr) ** 2))
    p = np.clip(pred["cls"].astype(np.float64), 1e-7, 1 - 1e-7)
    ce = float(np.mean(-np.log(p[np.arange(len(yc)), yc])))
    assert sorted(logs) == ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae"]
    assert logs["reg_loss"] == pytest.approx(mse, rel=1e-5)
    assert logs["cls_loss"] == pytest.approx(ce, rel=1e-5)
    assert logs["loss"] == pytest.approx(0.3 * mse + 2.0 * ce, rel=1e-5)
    assert logs["reg_mae"] == pytest.approx(float(np.mean(np.abs(pred["reg"] - yr))), rel=1e-5)
    assert logs["cls_accuracy"] == pytest.approx(float(np.mean(pred["cls"].argmax(1) == yc)))
    values = m.evaluate([X, xb], [yr, yc], verbose=0)
    assert values[0] == pytest.approx(logs["loss"], rel=1e-6) and len(values) == 5
    hist = m.fit([X, xb], [yr, yc], epochs=2, batch_size=8, verbose=0).history
    assert set(hist) == set(logs)


def test_multi_output_gradients_with_loss_weights():
    i = Input((4,))
    h = Dense(5, activation="tanh")(i)
    o1, o2 = Dense(2)(h), Dense(1)(h)
    m = Model(i, [o1, o2])
    y = [RNG.standard_normal((len(X), 2)).astype(np.float32), RNG.standard_normal((len(X), 1)).astype(np.float32)]
    assert_grads_match(m, X, y, loss=["mse", "huber"], loss_weights=[0.5, 2.0])


def test_predict_returns_a_list_for_list_outputs():
    i = Input((4,))
    h = Dense(3)(i)
    m = Model(i, [h, Dense(2)(h)])
    p = m.predict(X, batch_size=7, verbose=0)
    assert isinstance(p, list) and [q.shape for q in p] == [(24, 3), (24, 2)]
    direct = m(X)
    np.testing.assert_allclose(direct[1], p[1], rtol=1e-6)


def test_compile_errors_for_multi_output():
    i = Input((4,))
    m = Model(i, [Dense(1, name="o1")(i), Dense(1, name="o2")(i)])
    m.compile("sgd", loss=["mse"])
    with pytest.raises(ValueError, match="1 entries but the model has 2"):
        m.fit(X, [X[:, :1], X[:, :1]], verbose=0)
    m.compile("sgd", loss={"o3": "mse"})
    with pytest.raises(ValueError, match="not output names"):
        m.fit(X, [X[:, :1], X[:, :1]], verbose=0)
    m.compile("sgd", loss="mse")
    with pytest.raises(ValueError, match="2 ys|2 arrays|pass a list of 2"):
        m.fit(X, X[:, :1], verbose=0)


def test_graph_errors_name_tensors_and_layers():
    a, b = Input((4,), name="in_a"), Input((4,), name="in_b")
    out = Dense(2, name="head")(a)
    with pytest.raises(ValueError, match="in_b.*never used"):
        Model([a, b], out)
    other = Dense(2, name="from_b")(b)
    with pytest.raises(ValueError, match="not reachable from the inputs.*in_b"):
        Model(a, [out, other])
    with pytest.raises(TypeError, match="'head2'.*KerasTensor"):
        Dense(2, name="head2")([a, np.ones((1, 4))])
    h = Dense(3, name="dup")(a)
    with pytest.raises(ValueError, match="unique names.*'dup'"):
        Model(a, Dense(3, name="dup")(h))
    with pytest.raises(TypeError, match="KerasTensor"):
        Model(a, np.zeros(3))
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(a)


def test_wrong_input_shape_names_the_input():
    a = Input((4,), name="feat")
    m = Model(a, Dense(1)(a))
    with pytest.raises(ValueError, match="'feat'.*\\(None, 4\\)"):
        m.predict(np.zeros((2, 5)), verbose=0)


class KwLayer(Layer):
    """Two outputs; a tensor kwarg (initial_state=) becomes an extra input."""

    def compute_output_shape(self, input_shape):
        return [input_shape[0], input_shape[1]]

    def forward(self, x, ctx, training):
        ctx["n"] = len(x)
        return [x[0] * 2.0, x[0] + x[1]]

    def backward(self, dy, ctx, need_dx=True):
        return [2.0 * dy[0] + dy[1], dy[1]]


def test_multi_output_layer_and_tensor_kwargs():
    i, s = Input((3,)), Input((3,))
    o1, o2 = KwLayer()(i, initial_state=s)
    m = Model([i, s], Dense(1)(o2))  # o1 gets no gradient: zeros are filled in
    xs = RNG.standard_normal((24, 3)).astype(np.float32)
    y = RNG.standard_normal((24, 1)).astype(np.float32)
    assert_grads_match(m, [X[:, :3], xs], y)
    cfg = m.get_config()
    kw = next(l for l in cfg["layers"] if l["class_name"] == "KwLayer")["inbound_nodes"][0]
    assert kw["kwargs"]["initial_state"]["config"]["keras_history"][0] == s._keras_history.name


class MaskMaker(Layer):
    def compute_mask(self, x, mask):
        return x[:, :, 0] != 0

    def forward(self, x, ctx, training):
        return x

    def backward(self, dy, ctx, need_dx=True):
        return dy


class MaskReader(Layer):
    seen = []

    def forward(self, x, ctx, training):
        MaskReader.seen.append(ctx.get("mask"))
        return x

    def backward(self, dy, ctx, need_dx=True):
        return dy


class PassThrough(MaskReader):
    supports_masking = True


def test_masks_flow_in_functional_and_sequential():
    x = np.zeros((2, 3, 2), np.float32)
    x[0, :2] = 1.0
    want = np.array([[True, True, False], [False, False, False]])
    for build in ("functional", "sequential"):
        MaskReader.seen = []
        layers = [MaskMaker(), PassThrough(), MaskReader(), MaskReader()]
        if build == "functional":
            t = i = Input((3, 2))
            for layer in layers:
                t = layer(t)
            m = Model(i, t)
        else:
            m = Sequential([Input((3, 2))] + layers)
        m.predict(x, verbose=0)
        np.testing.assert_array_equal(MaskReader.seen[0], want)   # passed through PassThrough
        np.testing.assert_array_equal(MaskReader.seen[1], want)   # the reader itself received it
        assert MaskReader.seen[2] is None                          # MaskReader does not support masking
    plain = Sequential([Input((4,)), Dense(2)])
    assert "_forward" not in plain.__dict__  # the usual loop stays when no layer makes masks


def test_summary_connected_to_only_for_branching_graphs():
    seq, fun = chain_pair()
    lines = []
    fun.summary(print_fn=lines.append)
    assert "Connected to" not in lines[0] and "input_layer" in lines[0]
    a = Input((4,), name="x_in")
    d = Dense(3, name="d1")
    out = Add(name="sum")([d(a), Dense(3, name="d2")(a)])
    m = Model(a, out, name="branchy")
    lines = []
    m.summary(print_fn=lines.append)
    text = lines[0]
    assert 'Model: "branchy"' in text and "Connected to" in text
    assert "│ d1[0][0], d2[0][0]" in text or "d1[0][0]," in text
    assert "x_in[0][0]" in text
    assert " Total params: 30 (120.00 B)" in text
    width = {len(line) for line in text.splitlines()[1:-3]}
    assert width == {min(108, __import__("shutil").get_terminal_size().columns - 4)}


def test_config_round_trip_keras3_format():
    a, b = Input((4,), name="ca"), Input((2,), name="cb")
    shared = Dense(3, name="shared")
    h = Concatenate(name="cat")([shared(a), shared(Dense(4, name="up")(b))])
    m = Model([a, b], [Dense(1, name="o")(h), h], name="cfg")
    cfg = m.get_config()
    assert cfg["input_layers"] == [["ca", 0, 0], ["cb", 0, 0]]
    assert cfg["output_layers"] == [["o", 0, 0], ["cat", 0, 0]]
    sh = next(l for l in cfg["layers"] if l["name"] == "shared")
    assert [n["args"][0]["config"]["keras_history"] for n in sh["inbound_nodes"]] == [["ca", 0, 0], ["up", 0, 0]]
    cat = next(l for l in cfg["layers"] if l["name"] == "cat")
    assert [t["config"]["keras_history"] for t in cat["inbound_nodes"][0]["args"][0]] == \
        [["shared", 0, 0], ["shared", 1, 0]]
    clone = Model.from_config(cfg)
    assert [l.name for l in clone.layers] == [l.name for l in m.layers]
    clone.set_weights(m.get_weights())
    xb = RNG.standard_normal((24, 2)).astype(np.float32)
    for p, q in zip(clone.predict([X, xb], verbose=0), m.predict([X, xb], verbose=0)):
        np.testing.assert_array_equal(p, q)


def test_transfer_learning_freeze_new_head_and_unfreeze():
    base = Sequential([Input((4,)), Dense(6, activation="relu", name="t_hidden"),
                       Dense(3, activation="softmax", name="t_out")])
    y = RNG.integers(0, 3, len(X))
    base.compile("adam", "sparse_categorical_crossentropy")
    base.fit(X, y, epochs=2, verbose=0)
    assert base.input.shape == (None, 4) and base.layers[0].output.shape == (None, 6)
    base.layers[0].trainable = False
    new = Model(base.input, Dense(2, activation="softmax", name="t_new")(base.layers[-2].output))
    assert [l.name for l in new.layers][1:] == ["t_hidden", "t_new"]
    lines = []
    new.summary(print_fn=lines.append)
    assert " Trainable params: 14 (56.00 B)" in lines[0] and " Non-trainable params: 30 (120.00 B)" in lines[0]
    frozen = [w.copy() for w in base.layers[0].get_weights()]
    head = [w.copy() for w in new.layers[-1].get_weights()]
    new.compile("adam", "sparse_categorical_crossentropy")
    new.fit(X, y % 2, epochs=2, batch_size=8, verbose=0)
    for a, b in zip(base.layers[0].get_weights(), frozen):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(new.layers[-1].get_weights()[0], head[0])
    assert new._grad_plan(False)[0] == (False, False)  # the frozen first layer runs no backward
    base.layers[0].trainable = True
    new.compile(SGD(learning_rate=0.01), "sparse_categorical_crossentropy")  # Keras: re-compile to fine-tune
    new.fit(X, y % 2, epochs=1, verbose=0)
    assert not np.allclose(base.layers[0].get_weights()[0], frozen[0])


def test_frozen_prefix_skips_sequential_backward():
    m = Sequential([Input((4,)), Dense(5, name="f1"), Dense(2, name="f2")])
    m.layers[0].trainable = False
    before = m.layers[0].get_weights()[0].copy()
    m.compile(SGD(learning_rate=0.1), "mse")
    m.fit(X, X[:, :2], epochs=1, verbose=0)
    np.testing.assert_array_equal(m.layers[0].get_weights()[0], before)
    assert m._bw_start == 1
    # the partial backward gives the same update of the trainable layer as the full one
    ref = Sequential([Input((4,)), Dense(5), Dense(2)])
    ref.set_weights(m.get_weights())
    ref.compile(SGD(learning_rate=0.1), "mse")
    m2 = Sequential([Input((4,)), Dense(5), Dense(2)])
    m2.set_weights(m.get_weights())
    m2.layers[0].trainable = False
    m2.compile(SGD(learning_rate=0.1), "mse")
    ref.train_on_batch(X, X[:, :2])
    m2.train_on_batch(X, X[:, :2])
    np.testing.assert_allclose(m2.layers[1].get_weights()[0], ref.layers[1].get_weights()[0], rtol=1e-6)


def test_training_kwarg_and_dropout():
    i = Input((4,))
    h = Dropout(0.5)(i, training=True)  # forced on, even in predict
    m = Model(i, h)
    out = m.predict(np.ones((50, 4), np.float32), verbose=0)
    assert set(np.unique(out)) <= {0.0, 2.0} and (out == 0).any()
    i2 = Input((4,))
    m2 = Model(i2, Dropout(0.5)(i2))
    np.testing.assert_array_equal(m2(np.ones((3, 4))), np.ones((3, 4)))
    assert (m2(np.ones((50, 4)), training=True) == 0).any()


def test_freezing_takes_effect_at_the_next_train_on_batch():
    i = Input((4,))
    d1 = Dense(3, name="g1")
    m = Model(i, Dense(1, name="g2")(d1(i)))
    m.compile(SGD(learning_rate=0.1), "mse")
    y = X[:, :1]
    w = d1.get_weights()[0].copy()
    d1.trainable = False
    m.train_on_batch(X, y)
    np.testing.assert_array_equal(d1.get_weights()[0], w)
    d1.trainable = True
    m.train_on_batch(X, y)
    assert not np.array_equal(d1.get_weights()[0], w)


def test_dense_dropout_chain_uses_the_fused_step_with_the_same_bits(monkeypatch):
    def run():
        baeum.utils.set_random_seed(5)
        i = Input((4,))
        h = Dropout(0.3)(Dense(8, activation="relu")(i))
        m = Model(i, Dense(3, activation="softmax")(h))
        m.compile(SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
        y = np.arange(len(X)) % 3
        hist = m.fit(X, y, epochs=2, batch_size=5, shuffle=False, verbose=0).history
        return m, hist

    fused, h1 = run()
    assert fused._plan is not None
    monkeypatch.setattr(Sequential, "fused_step", False)
    plain, h2 = run()
    assert plain._plan is None
    assert h1["loss"] == h2["loss"]
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_nested_multi_output_model_and_subclassed_model_as_layers():
    from test_subclassing import Shared

    j = Input((4,))
    h = Dense(3, activation="tanh")(j)
    two = Model(j, [h, Dense(2)(h)], name="two_out")
    i = Input((4,))
    a, b = two(i)
    assert a.shape == (None, 3) and b.shape == (None, 2)
    sub = Shared()
    out = Dense(1)(Concatenate()([a, b, sub(i)]))
    m = Model(i, out)
    assert_grads_match(m, X, RNG.standard_normal((len(X), 1)).astype(np.float32))


def test_tensor_kwargs_are_extra_inputs_in_all_three_call_modes():
    a, b = X[:3, :3], 2 * X[:3, :3]
    layer = KwLayer()
    eager = layer(a, initial_state=b)
    np.testing.assert_allclose(eager[1], a + b, rtol=1e-6)

    class Sub(Model):
        def __init__(self):
            super().__init__()
            self.kw = KwLayer()
            self.d = Dense(1)

        def call(self, xs):  # the shared Dense is called twice; the kwarg array is an extra input
            return self.kw(self.d(xs[0]), initial_state=[self.d(xs[1])])[1]

    m = Sub()
    out = m.predict([a, b], verbose=0)
    np.testing.assert_allclose(out, m.d(a) + m.d(b), rtol=1e-5)
    assert_grads_match(m, [X[:, :3], 2 * X[:, :3]], RNG.standard_normal((len(X), 1)).astype(np.float32))


def test_mask_kwarg_goes_to_ctx_in_eager_and_recorded_calls():
    m = np.array([[True, False, True]])
    MaskReader.seen = []
    MaskReader()(np.ones((1, 3, 2)), mask=m)

    class Sub(Model):
        def __init__(self):
            super().__init__()
            self.r = MaskReader()

        def call(self, x):
            return self.r(x, mask=m)

    Sub().predict(np.ones((1, 3, 2)), verbose=0)
    assert len(MaskReader.seen) >= 2 and all(s is m for s in MaskReader.seen)
