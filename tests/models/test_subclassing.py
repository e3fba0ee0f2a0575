"""Subclassed models: the recording tape against Sequential and finite differences, layer
tracking, summary before/after build, custom loops with train_on_batch (GAN freezing)."""
import numpy as np
import pytest

import baeum
from baeum.layers import Add, Dense, Dropout, Input
from baeum.models import Model, Sequential
from baeum.optimizers import SGD

from test_functional import assert_grads_match

@pytest.fixture(autouse=True)
def _seeded():
    baeum.utils.set_random_seed(11)  # initial weights the same on every run


RNG = np.random.default_rng(1)
X = RNG.standard_normal((24, 4)).astype(np.float32)


class MLP(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = [Dense(8, activation="relu"), Dense(6, activation="tanh")]
        self.out = Dense(3, activation="softmax")

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.hidden:
            x = layer(x)
        return self.out(x)


def test_subclassed_equals_sequential():
    sub = MLP(name="mlp")
    seq = Sequential([Input((4,)), Dense(8, activation="relu"), Dense(6, activation="tanh"),
                      Dense(3, activation="softmax")])
    assert not sub.built
    lines = []
    sub.summary(print_fn=lines.append)
    assert "0 (unbuilt)" in lines[0] and "│ ?" in lines[0]
    sub.build((None, 4))
    assert sub.built and [l.name for l in sub.layers] == [l.name for l in sub.layers]
    assert len(sub.layers) == 3 and sub.count_params() == seq.count_params()
    sub.set_weights(seq.get_weights())
    np.testing.assert_allclose(sub.predict(X, verbose=0), seq.predict(X, verbose=0), rtol=1e-6)
    y = RNG.integers(0, 3, len(X))
    for m in (seq, sub):
        m.compile(SGD(learning_rate=0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    hs = seq.fit(X, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history
    hb = sub.fit(X, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history
    np.testing.assert_allclose(hb["loss"], hs["loss"], rtol=1e-5)
    for a, b in zip(sub.get_weights(), seq.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    ev = sub.evaluate(X, y, verbose=0)
    assert ev[0] == pytest.approx(seq.evaluate(X, y, verbose=0)[0], rel=1e-5)
    assert sub(X[:2], training=False).shape == (2, 3)
    lines = []
    sub.summary(print_fn=lines.append)
    assert f" Trainable params: {seq.count_params():,}" in lines[0]


class Shared(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.shared = Dense(4, activation="tanh")
        self.a = Dense(3)
        self.b = Dense(3, activation="tanh")
        self.add = Add()
        self.head = Dense(2)

    def call(self, x):  # no training argument: allowed
        h = self.shared(self.shared(x))       # shared layer
        return self.head(self.add([self.a(h), self.b(h)]))  # fan-out of h


def test_shared_layers_and_fan_out_gradients():
    m = Shared()
    y = RNG.standard_normal((len(X), 2)).astype(np.float32)
    assert_grads_match(m, X, y)
    assert [l.name for l in m.layers][:1] == [m.shared.name]


class TwoHeads(Model):
    def __init__(self):
        super().__init__()
        self.body = Dense(5, activation="tanh")
        self.h1, self.h2 = Dense(2), Dense(1, activation="sigmoid")

    def call(self, inputs, training=None):
        a, b = inputs
        h = self.body(a)
        return {"vec": self.h1(h), "prob": self.h2(Add()([h, self.body(b)]))}


def test_multi_input_dict_output_subclassed():
    m = TwoHeads()
    xb = RNG.standard_normal((len(X), 4)).astype(np.float32)
    y = {"vec": RNG.standard_normal((len(X), 2)).astype(np.float32),
         "prob": (RNG.random((len(X), 1)) > 0.5).astype(np.float32)}
    m.compile("adam", loss={"vec": "mse", "prob": "binary_crossentropy"}, metrics={"prob": ["accuracy"]})
    hist = m.fit([X, xb], y, epochs=2, verbose=0).history
    assert sorted(hist) == ["loss", "prob_accuracy", "prob_loss", "vec_loss"]
    p = m.predict([X, xb], verbose=0)
    assert set(p) == {"vec", "prob"} and p["prob"].shape == (24, 1)


def test_numpy_ops_in_call_are_refused_when_training():
    class Bad(Model):
        def __init__(self):
            super().__init__()
            self.d1, self.d2 = Dense(3), Dense(1)

        def call(self, x):
            return self.d2(self.d1(x) * 2.0)

    m = Bad()
    assert m.predict(X, verbose=0).shape == (24, 1)  # inference: fine
    m.compile("sgd", "mse")
    with pytest.raises(ValueError, match="not differentiated"):
        m.fit(X, X[:, :1], verbose=0)


def test_nested_subclassed_and_sequential_inside():
    class Outer(Model):
        def __init__(self):
            super().__init__()
            self.inner = Shared()
            self.seq = Sequential([Dense(3, activation="tanh"), Dense(1)])

        def call(self, x, training=None):
            return self.seq(self.inner(x))

    m = Outer()
    assert_grads_match(m, X, RNG.standard_normal((len(X), 1)).astype(np.float32))
    assert [type(l).__name__ for l in m.layers] == ["Shared", "Sequential"]


def test_dropout_follows_the_training_flag():
    class Drop(Model):
        def __init__(self):
            super().__init__()
            self.drop = Dropout(0.5)

        def call(self, x, training=None):
            return self.drop(x, training=training)

    m = Drop()
    ones = np.ones((40, 4), np.float32)
    np.testing.assert_array_equal(m(ones), ones)
    assert (m(ones, training=True) == 0).any()


def test_gan_train_on_batch_toggling_discriminator_trainable():
    gen = Sequential([Input((2,)), Dense(4, activation="relu"), Dense(2)], name="gen")
    disc = Sequential([Input((2,)), Dense(4, activation="relu"), Dense(1, activation="sigmoid")], name="disc")
    disc.compile(SGD(learning_rate=0.1), "binary_crossentropy")
    z = Input((2,))
    gan = Model(z, disc(gen(z)))
    gan.compile(SGD(learning_rate=0.1), "binary_crossentropy")
    noise = RNG.standard_normal((16, 2)).astype(np.float32)
    real = RNG.standard_normal((16, 2)).astype(np.float32) + 3
    for _ in range(2):
        disc.trainable = True
        d_before = [w.copy() for w in disc.get_weights()]
        disc.train_on_batch(np.concatenate([real, gen.predict(noise, verbose=0)]),
                            np.concatenate([np.ones(16), np.zeros(16)]))
        assert not np.allclose(disc.get_weights()[0], d_before[0])
        disc.trainable = False
        d_before = [w.copy() for w in disc.get_weights()]
        g_before = [w.copy() for w in gen.get_weights()]
        gan.train_on_batch(noise, np.ones(16))
        for a, b in zip(disc.get_weights(), d_before):
            np.testing.assert_array_equal(a, b)
        assert not np.allclose(gen.get_weights()[2], g_before[2])
    assert disc.layers[0].trainable is False  # the model's setter is recursive


class WithLayerArg(Model):
    def __init__(self, head, **kwargs):
        super().__init__(**kwargs)
        self.head = head

    def call(self, inputs, training=None):
        return self.head(inputs)


def test_layers_tracked_in_assignment_order_and_auto_config():
    m = MLP()
    names = [l.name for l in m.layers]
    assert names == [m.hidden[0].name, m.hidden[1].name, m.out.name]
    assert m.get_config() == {"name": m.name, "trainable": True}  # Keras 3's auto-config
    with pytest.raises(NotImplementedError, match="not all plain"):
        WithLayerArg(Dense(2)).get_config()
    with pytest.raises(TypeError, match="inputs= and outputs="):
        Model()


def test_training_a_fully_frozen_model_warns_once():
    m = Sequential([Input((4,)), Dense(2)])
    m.compile("sgd", "mse")
    m.trainable = False
    with pytest.warns(UserWarning, match="none of them is trainable"):
        m.train_on_batch(X, X[:, :2])
    m.train_on_batch(X, X[:, :2])  # once per change of the flags (warnings are errors in tests)
    m.trainable = True
    m.train_on_batch(X, X[:, :2])


def test_user_build_runs_before_the_first_call_and_symbolic_use():
    class Lazy(Model):
        def build(self, input_shape):
            self.proj = Dense(input_shape[-1] * 2)

        def call(self, x):
            return self.proj(x)

    m = Lazy()
    assert m.predict(X, verbose=0).shape == (24, 8)
    i = Input((3,))
    out = Lazy()(i)
    assert out.shape == (None, 6) and len(out._keras_history.layers) == 1
    f = Model(i, Dense(1)(out))
    assert f.predict(X[:, :3], verbose=0).shape == (24, 1)


@baeum.saving.register_keras_serializable(package="tests")
class Widths(Model):
    """The deck's subclassing pattern with a plain constructor argument."""

    def __init__(self, units=5, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.d1 = Dense(units, activation="relu")
        self.d2 = Dense(3, activation="softmax")

    def call(self, inputs, training=None):
        return self.d2(self.d1(inputs))


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_subclassed_model_saves_through_its_auto_config(tmp_path, ext, caplog):
    rng = np.random.default_rng(0)
    x, y = rng.random((30, 4)).astype(np.float32), rng.integers(0, 3, 30)
    m = Widths(units=7, name="widths")
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(x, y, epochs=2, verbose=0)
    assert m.get_config() == {"name": "widths", "trainable": True, "units": 7}
    m.save(tmp_path / f"m.{ext}")
    loaded = baeum.models.load_model(tmp_path / f"m.{ext}")
    assert type(loaded) is Widths and loaded.units == 7
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), m.predict(x, verbose=0))
    baeum.utils.set_random_seed(3)
    m.fit(x, y, epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(m.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
