"""The fused Dense/Dropout training step (models/mlp_plan.py, csrc/baeum/mlp.cpp) gives the
same bits as the layer-by-layer path, and is used exactly when it applies."""
import numpy as np
import pytest

import baeum
from baeum import _core
from baeum.layers import Dense, Dropout, Input
from baeum.models import Sequential
from baeum.utils import set_random_seed


def _data(loss, n=53, d=7, c=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    if loss == "binary_crossentropy":
        return x, (rng.random(n) > 0.5).astype(np.float32)
    labels = rng.integers(0, c, n)
    if loss == "sparse_categorical_crossentropy":
        return x, labels
    return x, np.eye(c, dtype=np.float32)[labels]


def _model(spec, loss, fused, d=7, c=4, optimizer="adam", loss_obj=None, **compile_kw):
    set_random_seed(3)
    layers = [Input((d,))]
    for kind, arg in spec:
        layers.append(Dropout(arg) if kind == "drop" else Dense(arg[0], activation=arg[1], use_bias=arg[2]))
    out_act = "sigmoid" if loss == "binary_crossentropy" else "softmax"
    layers.append(Dense(1 if loss == "binary_crossentropy" else c, activation=out_act))
    m = Sequential(layers)
    m.fused_step = fused
    m.compile(optimizer=optimizer, loss=loss_obj or loss, metrics=["accuracy"], **compile_kw)
    return m


SPECS = [
    [("dense", (16, "relu", True)), ("drop", 0.3), ("dense", (8, "relu", True)), ("drop", 0.5)],
    [("drop", 0.2), ("dense", (5, "elu", False)), ("dense", (6, "tanh", True)), ("drop", 0.0)],
    [("dense", (9, "gelu", True)), ("drop", 1.0), ("dense", (3, "leaky_relu", True))],
    [("dense", (4, "softmax", True)), ("dense", (11, "sigmoid", True))],
    [],
]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("loss", ["binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
def test_fused_step_equals_layer_path_bit_for_bit(spec, loss):
    x, y = _data(loss)
    runs = []
    for fused in (True, False):
        m = _model(spec, loss, fused)
        h = m.fit(x, y, batch_size=10, epochs=2, verbose=0, validation_split=0.2)
        assert (m._plan is not None) == fused
        runs.append((m.get_weights(), h.history))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]


def test_label_smoothing_and_other_optimizers_match():
    x, y = _data("categorical_crossentropy")
    spec = SPECS[0]
    outs = []
    for fused in (True, False):
        m = _model(spec, "categorical_crossentropy", fused, optimizer="rmsprop",
                   loss_obj=baeum.losses.CategoricalCrossentropy(label_smoothing=0.1))
        m.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
        assert (m._plan is not None) == fused
        outs.append(m.get_weights())
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_thread_count_does_not_change_the_fused_step(threads):
    x, y = _data("binary_crossentropy", n=40)
    outs = []
    for t in (1, 2):
        baeum.set_num_threads(t)
        m = _model(SPECS[0], "binary_crossentropy", True)
        m.fit(x, y, batch_size=10, epochs=1, verbose=0)
        outs.append(m.get_weights())
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_plan_only_where_it_applies():
    x, y = _data("binary_crossentropy", n=20)
    m = _model(SPECS[0], "binary_crossentropy", True)
    m.fit(x, y, epochs=1, verbose=0)
    assert m._plan is not None
    plan = m._plan
    m.fit(x, y, epochs=1, verbose=0)
    assert m._plan is plan  # cached while nothing changed
    # sample weights: that batch takes the layer path (and still trains)
    m.fit(x, y, epochs=1, verbose=0, sample_weight=np.ones(len(x)))
    # not eligible: MSE, an activity regularizer, a loss weight, logits loss, other layers
    for kwargs in ({"loss_obj": "mse"}, {"loss_weights": 0.5},
                   {"loss_obj": baeum.losses.BinaryCrossentropy(from_logits=True)}):
        m2 = _model(SPECS[0], "binary_crossentropy", True, **kwargs)
        m2.fit(x, y, epochs=1, verbose=0)
        assert m2._plan is None, kwargs
    m3 = Sequential([Input((7,)), Dense(4, activity_regularizer="l2"), Dense(1, activation="sigmoid")])
    m3.compile("adam", "binary_crossentropy")
    m3.fit(x, y, epochs=1, verbose=0)
    assert m3._plan is None
    m4 = Sequential([Input((7,)), Dense(4), baeum.layers.ReLU(), Dense(1, activation="sigmoid")])
    m4.compile("adam", "binary_crossentropy")
    m4.fit(x, y, epochs=1, verbose=0)
    assert m4._plan is None


def test_binding_checks_everything():
    grads = np.zeros(4 * 3 + 3, np.float32)
    w = np.ones((4, 3), np.float32)
    b = np.zeros(3, np.float32)
    dw, db = grads[:12].reshape(4, 3), grads[12:]
    ok = [("dense", w, b, dw, db, 4, 0.0, True)]  # softmax output
    plan = _core.MlpPlan(ok, 1, 0.0, grads)
    loss, pred = plan.step(np.ones((2, 4), np.float32), np.eye(3, dtype=np.float32)[:2], [])
    assert loss.shape == (2,) and pred.shape == (2, 3)
    np.testing.assert_allclose(pred, 1 / 3, rtol=1e-6)
    with pytest.raises(ValueError, match="expected"):
        plan.step(np.ones((2, 5), np.float32), np.eye(3, dtype=np.float32)[:2], [])
    with pytest.raises(ValueError, match="target"):
        plan.step(np.ones((2, 4), np.float32), np.ones((2, 2), np.float32), [])
    with pytest.raises(ValueError, match="seed"):
        plan.step(np.ones((2, 4), np.float32), np.eye(3, dtype=np.float32)[:2], [1])
    with pytest.raises(ValueError, match="inside grads"):
        _core.MlpPlan([("dense", w, b, np.zeros((4, 3), np.float32), db, 0, 0.0, True)], 1, 0.0, grads)
    with pytest.raises(ValueError, match="dweight has shape"):
        _core.MlpPlan([("dense", np.ones((5, 3), np.float32), None, dw, None, 0, 0.0, True)], 1, 0.0, grads)
    g2 = np.zeros(24, np.float32)
    with pytest.raises(ValueError, match="expects 4 inputs but the previous layer gives 3"):
        _core.MlpPlan([("dense", w, None, g2[:12].reshape(4, 3), None, 0, 0.0, False),
                       ("dense", w, None, g2[12:].reshape(4, 3), None, 0, 0.0, True)], 1, 0.0, g2)
    with pytest.raises(ValueError, match="last layer"):
        _core.MlpPlan(ok + [("dropout", 3, 0.5)], 1, 0.0, grads)
    with pytest.raises(ValueError, match="overlaps"):
        _core.MlpPlan([("dense", dw, b, dw, db, 0, 0.0, True)], 1, 0.0, grads)
    sparse = _core.MlpPlan(ok, 2, 0.0, grads)
    with pytest.raises(ValueError, match="class index"):
        sparse.step(np.ones((2, 4), np.float32), np.array([0, 3], np.float32), [])
    with pytest.raises(ValueError, match="class index"):
        sparse.step(np.ones((2, 4), np.float32), np.array([0, 1.5], np.float32), [])
    with pytest.raises(TypeError):
        plan.step(np.ones((2, 4), np.float64), np.eye(3, dtype=np.float32)[:2], [])


def test_core_mlp_plan_rejects_overlapping_gradient_views():
    # Found by fuzzing _core.MlpPlan: two layers given the same dW slice were accepted and
    # would sum each other's gradients.
    f32 = np.float32
    grads = np.zeros(4 * 4 + 4, f32)
    dw, db = grads[:16].reshape(4, 4), grads[16:]
    w, b = np.ones((4, 4), f32), np.zeros(4, f32)
    layers = [("dense", w, b, dw, db, 1, 0.0, False), ("dense", w, b, dw, db, 0, 0.0, True)]
    with pytest.raises(ValueError, match="MlpPlan: gradient views 0 and 2 .* overlap"):
        _core.MlpPlan(layers, 1, 0.0, grads)


def test_core_mlp_plan_step_rejects_grads_made_read_only():
    f32 = np.float32
    grads = np.zeros(4 * 3 + 3, f32)
    layers = [("dense", np.ones((4, 3), f32), np.zeros(3, f32), grads[:12].reshape(4, 3), grads[12:], 0, 0.0, True)]
    plan = _core.MlpPlan(layers, 1, 0.0, grads)
    grads.flags.writeable = False
    with pytest.raises(ValueError, match="grads became read-only"):
        plan.step(np.ones((2, 4), f32), np.eye(2, 3, dtype=f32), [])
