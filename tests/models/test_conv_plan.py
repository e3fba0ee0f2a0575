"""The fused training step with a Conv2D prefix (Conv2D → … → Flatten → Dense …, the deck-003
CNN; models/mlp_plan.py, csrc/baeum/mlp.cpp) gives the layer path's bits, for any thread
count, and is used exactly when every convolution runs on the direct kernels."""
import numpy as np
import pytest

import baeum
from baeum import _core
from baeum.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from baeum.models import Sequential
from baeum.utils import set_random_seed

pytestmark = pytest.mark.skipif(not _core.isa_supported("avx2"),
                                reason="the direct convolution kernels need AVX2")

DECK = [("conv", 16, 3, 2, "same", "relu"), ("conv", 8, 3, 2, "same", None)]


def _layers(spec, shape):
    layers = [Input(shape)]
    for kind, *a in spec:
        if kind == "conv":
            filters, k, s, pad, act, *rest = a
            kw = rest[0] if rest else {}
            layers.append(Conv2D(filters, k, strides=s, padding=pad, activation=act, **kw))
        elif kind == "flatten":
            layers.append(Flatten())
        elif kind == "drop":
            layers.append(Dropout(a[0]))
        elif kind == "pool":
            layers.append(MaxPooling2D())
        else:
            layers.append(Dense(a[0], activation=a[1]))
    return layers


def _model(spec, shape, head, loss, fused):
    set_random_seed(7)
    m = Sequential(_layers(spec + [("flatten",)] + head, shape))
    m.fused_step = fused
    m.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return m


def _data(shape, n, classes=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n,) + shape).astype(np.float32)
    labels = rng.integers(0, classes, n)
    return x, labels, np.eye(classes, dtype=np.float32)[labels]


def _train_both(spec, shape, head, loss="categorical_crossentropy", n=37, batch=16, epochs=2):
    x, labels, onehot = _data(shape, n)
    y = labels if loss == "sparse_categorical_crossentropy" else onehot
    runs = []
    for fused in (True, False):
        m = _model(spec, shape, head, loss, fused)
        h = m.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, validation_split=0.2)
        assert (m._plan is not None) == fused
        runs.append((m.get_weights(), h.history))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]
    return runs[0]


HEAD = [("dense", 12, "relu"), ("dense", 5, "softmax")]

CASES = [
    ((28, 28, 1), DECK),                                                       # the deck's model
    ((9, 11, 3), [("conv", 8, 3, 1, "valid", "relu")]),                        # one conv, odd sizes
    ((13, 10, 2), [("conv", 16, (3, 2), (2, 1), "same", None),
                   ("conv", 8, 3, 1, "same", "relu"), ("conv", 24, 2, 2, "valid", "relu")]),
    ((12, 12, 8), [("conv", 8, 3, 1, "same", "relu", {"dilation_rate": 2}),
                   ("conv", 32, 5, 1, "valid", None, {"use_bias": False})]),
    ((7, 7, 1), [("conv", 8, 7, 1, "valid", "relu")]),                         # kernel = image
    # padded in width only, and the stride skips the last input row; even kernel 'same'
    ((12, 9, 8), [("conv", 8, (1, 3), 2, "same", "relu"), ("conv", 16, (2, 3), 1, "same", None),
                  ("conv", 8, 3, 1, "same", "relu")]),
]


@pytest.mark.parametrize("shape,spec", CASES)
def test_fused_conv_step_equals_layer_path_bit_for_bit(shape, spec):
    weights, history = _train_both(spec, shape, HEAD)
    assert np.isfinite(history["loss"]).all()
    assert any(np.abs(w).sum() > 0 for w in weights)


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "binary_crossentropy"])
def test_fused_conv_step_other_losses_and_dropout(loss):
    head = [("drop", 0.3), ("dense", 6, "tanh"), ("drop", 0.5)]
    if loss == "binary_crossentropy":
        x, labels, _ = _data((10, 10, 1), 30)
        y = (labels > 2).astype(np.float32)
        outs = []
        for fused in (True, False):
            m = _model(DECK, (10, 10, 1), head + [("dense", 1, "sigmoid")], loss, fused)
            m.fit(x, y, batch_size=8, epochs=2, verbose=0)
            assert (m._plan is not None) == fused
            outs.append(m.get_weights())
        for a, b in zip(*outs):
            np.testing.assert_array_equal(a, b)
    else:
        _train_both(DECK, (10, 10, 1), head + [("dense", 5, "softmax")], loss=loss)


def test_fused_conv_step_thread_count_does_not_matter(threads):
    x, _, y = _data((28, 28, 1), 40)
    outs = []
    for t in (1, 2):
        baeum.set_num_threads(t)
        m = _model(DECK, (28, 28, 1), HEAD, "categorical_crossentropy", True)
        m.fit(x, y, batch_size=20, epochs=1, verbose=0)
        assert m._plan is not None
        outs.append(m.get_weights())
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_fused_conv_step_single_image_batches():
    _train_both(DECK, (6, 6, 1), HEAD, n=3, batch=1, epochs=1)


@pytest.mark.parametrize("spec", [
    [("conv", 12, 3, 1, "same", "relu")],                              # filters not a multiple of 8
    [("conv", 8, 3, 1, "same", "tanh")],                               # activation other than relu/linear
    [("conv", 8, 3, 1, "same", "relu", {"groups": 2})],               # grouped
    [("conv", 8, 1, 1, "valid", "relu")],                              # 1×1: the GEMM path
    [("conv", 8, 3, 1, "same", "relu"), ("conv", 8, 3, 1, "same", None)],  # 2nd conv: C = 8 ok ...
])
def test_plan_only_where_every_conv_is_direct(spec):
    shape = (8, 8, 4)
    x, _, y = _data(shape, 12)
    m = _model(spec, shape, HEAD, "categorical_crossentropy", True)
    m.fit(x, y, batch_size=6, epochs=1, verbose=0)
    fusable = spec[-1][-1] is None  # only the last case qualifies
    assert (m._plan is not None) == fusable


def test_no_plan_with_pooling_or_on_the_generic_path():
    shape = (8, 8, 1)
    x, _, y = _data(shape, 12)
    m = Sequential(_layers([("conv", 8, 3, 1, "same", "relu"), ("pool",), ("flatten",)] + HEAD, shape))
    m.compile("adam", "categorical_crossentropy")
    m.fit(x, y, batch_size=6, epochs=1, verbose=0)
    assert m._plan is None
    previous = _core.gemm_isa()
    _core.set_gemm_isa("generic")
    try:
        m2 = _model(DECK, shape, HEAD, "categorical_crossentropy", True)
        m2.fit(x, y, batch_size=6, epochs=1, verbose=0)
        assert m2._plan is None
    finally:
        _core.set_gemm_isa(previous)


def test_fused_conv_step_rejects_wrong_images():
    x, _, y = _data((28, 28, 1), 8)
    m = _model(DECK, (28, 28, 1), HEAD, "categorical_crossentropy", True)
    m.fit(x, y, batch_size=8, epochs=1, verbose=0)
    plan = m._plan._plan
    with pytest.raises(ValueError, match=r"expected \(N, H, W, C\) with H·W·C = 784"):
        plan.step(x.reshape(8, 784), y, [])
    with pytest.raises(ValueError, match="expected"):
        plan.step(np.ones((8, 28, 27, 1), np.float32), y, [])


def test_binding_checks_conv_layers():
    f32 = np.float32
    grads = np.zeros(3 * 3 * 1 * 8 + 8 + 8 * 8 * 8 * 3 + 3, f32)
    w, b = np.ones((3, 3, 1, 8), f32), np.zeros(8, f32)
    dw, db = grads[:72].reshape(3, 3, 1, 8), grads[72:80]
    wd, dwd = np.ones((512, 3), f32), grads[80:80 + 1536].reshape(512, 3)
    geo = (8, 8, 8, 8, 1, 1, 1, 1, 1, 1)
    dense = ("dense", wd, None, dwd, None, 4, 0.0, True)
    plan = _core.MlpPlan([("conv", w, b, dw, db, 1, 0.0, False, geo), dense], 1, 0.0, grads)
    loss, pred = plan.step(np.ones((2, 8, 8, 1), f32), np.eye(3, dtype=f32)[:2], [])
    assert loss.shape == (2,) and pred.shape == (2, 3)
    with pytest.raises(ValueError, match="10 entries"):
        _core.MlpPlan([("conv", w, b, dw, db, 1, 0.0, False, geo[:9]), dense], 1, 0.0, grads)
    with pytest.raises(ValueError, match=">= 1"):
        _core.MlpPlan([("conv", w, b, dw, db, 1, 0.0, False, (8, 8, 8, 8, 0, 1, 1, 1, 1, 1)), dense], 1, 0.0, grads)
    with pytest.raises(ValueError, match="too large"):
        _core.MlpPlan([("conv", w, b, dw, db, 1, 0.0, False, (8, 8, 8, 8, 2**62, 1, 1, 1, 1, 1)), dense], 1, 0.0,
                      grads)
    with pytest.raises(ValueError, match="direct kernels"):
        _core.MlpPlan([("conv", w, b, dw, db, 3, 0.0, False, geo), dense], 1, 0.0, grads)  # tanh
    with pytest.raises(ValueError, match="expects 512 inputs but the previous layer gives 288"):
        _core.MlpPlan([("conv", w, b, dw, db, 1, 0.0, False, (6, 6, 6, 6, 1, 1, 1, 1, 1, 1)), dense], 1, 0.0, grads)
    with pytest.raises(ValueError, match="before every Dense"):
        _core.MlpPlan([dense, ("conv", w, b, dw, db, 1, 0.0, False, geo)], 1, 0.0, grads)
    with pytest.raises(ValueError, match="bias/dbias must have 8"):
        _core.MlpPlan([("conv", w, b[:4], dw, db[:4], 1, 0.0, False, geo), dense], 1, 0.0, grads)
    assert _core.MlpPlan.conv_supported(8, 8, 1, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, False)
    assert not _core.MlpPlan.conv_supported(8, 8, 1, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, True)  # C = 1
    assert not _core.MlpPlan.conv_supported(8, 8, 1, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 99, False)


def test_batches_gathered_one_by_one_train_the_same():
    # fit gathers shuffled batches into one reused buffer when the fused step runs and x is
    # large (models/model.py); the layer path gathers once per epoch: same bits, and the
    # caller's x is untouched.
    x, _, y = _data((28, 28, 1), 100)
    assert x.size >= 1 << 16
    x_before = x.copy()
    _train_both(DECK, (28, 28, 1), HEAD, n=100, batch=32, epochs=2)
    outs = []
    for fused in (True, False):
        m = _model(DECK, (28, 28, 1), HEAD, "categorical_crossentropy", fused)
        m.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle="batch")
        outs.append(m.get_weights())
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(x, x_before)
