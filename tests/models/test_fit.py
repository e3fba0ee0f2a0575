"""compile / fit / evaluate: training works, logs follow Keras, bad input fails early."""
import numpy as np
import pytest

import baeum
from baeum import optimizers
from baeum.layers import Dense, Dropout, Input
from baeum.models import Sequential
from baeum.utils import set_random_seed, to_categorical


def blobs(n=200, d=6, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((classes, d)) * 3
    y = rng.integers(0, classes, n)
    x = centers[y] + rng.standard_normal((n, d))
    return x.astype(np.float32), y


def binary_model(d=6, dropout=0.0):
    layers = [Input((d,)), Dense(16, activation="relu")]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(1, activation="sigmoid"))
    m = Sequential(layers)
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def test_binary_classifier_learns_and_history_is_keras_shaped():
    set_random_seed(1)
    x, y = blobs()
    m = binary_model(dropout=0.2)
    h = m.fit(x, y, epochs=15, batch_size=10, validation_split=0.2, verbose=0)
    assert h is m.history
    assert list(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 15 for v in h.history.values())
    assert h.epoch == list(range(15))
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert h.history["val_accuracy"][-1] >= 0.95
    loss, acc = m.evaluate(x, y, verbose=0)
    assert acc >= 0.95 and loss < 0.3


def test_multiclass_sparse_and_onehot_agree_on_accuracy_name():
    set_random_seed(2)
    x, y = blobs(classes=3)
    for loss, target in [("sparse_categorical_crossentropy", y), ("categorical_crossentropy", to_categorical(y, 3))]:
        m = Sequential([Input((6,)), Dense(12, activation="relu"), Dense(3, activation="softmax")])
        m.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        h = m.fit(x, target, epochs=30, batch_size=16, verbose=0)
        assert h.history["accuracy"][-1] > 0.9
        assert m.evaluate(x, target, verbose=0, return_dict=True).keys() == {"loss", "accuracy"}


def test_regression_with_mse():
    set_random_seed(3)
    x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(-1, 1)
    y = 3 * x[:, 0] + 0.5
    m = Sequential([Input((1,)), Dense(1)])
    m.compile(optimizer=optimizers.Adam(learning_rate=0.1), loss="mse", metrics=["mae"])
    m.fit(x, y, epochs=100, batch_size=16, verbose=0)
    w, b = m.get_weights()
    assert abs(w[0, 0] - 3) < 0.05 and abs(b[0] - 0.5) < 0.05
    assert m.evaluate(x, y, verbose=0)[0] < 1e-3


def test_same_seed_same_training():
    x, y = blobs()
    runs = []
    for _ in range(2):
        set_random_seed(123)
        m = binary_model(dropout=0.3)
        m.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
        runs.append(m.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_validation_split_is_the_tail_before_shuffling():
    set_random_seed(4)
    x, y = blobs(n=50)
    m = binary_model()
    h = m.fit(x, y, epochs=1, batch_size=7, validation_split=0.3, shuffle=True, verbose=0)
    split_at = int(50 * 0.7)
    val_loss, val_acc = m.evaluate(x[split_at:], y[split_at:], verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)
    assert h.history["val_accuracy"][0] == pytest.approx(val_acc)


def test_loss_log_is_the_running_mean_of_batch_losses():
    """With lr=0 nothing changes, so the epoch loss equals evaluate()'s loss."""
    x, y = blobs(n=37)
    m = Sequential([Input((6,)), Dense(4, activation="tanh"), Dense(1, activation="sigmoid")])
    m.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy", metrics=["accuracy"])
    h = m.fit(x, y, epochs=1, batch_size=5, shuffle=False, verbose=0)
    loss, acc = m.evaluate(x, y, batch_size=37, verbose=0)
    assert h.history["loss"][0] == pytest.approx(loss, rel=1e-5)
    assert h.history["accuracy"][0] == pytest.approx(acc)


def test_inputs_are_not_modified_and_any_layout_works():
    x, y = blobs(n=40)
    x64 = np.asfortranarray(x.astype(np.float64))
    x_copy, y_copy = x64.copy(), y.copy()
    m = binary_model()
    m.fit(x64, y, epochs=1, verbose=0)
    m.fit(x64.tolist(), (y == 1).tolist(), epochs=1, verbose=0)
    np.testing.assert_array_equal(x64, x_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_pandas_inputs():
    pd = pytest.importorskip("pandas")
    x, y = blobs(n=40)
    df = pd.DataFrame(x, columns=[f"f{i}" for i in range(6)])
    m = binary_model()
    m.fit(df, pd.Series(y), epochs=1, verbose=0)
    df["city"] = "Seoul"
    with pytest.raises(ValueError, match="non-numeric column.*city"):
        m.fit(df, y, epochs=1, verbose=0)


def test_train_test_predict_on_batch():
    x, y = blobs(n=16)
    m = binary_model()
    loss, acc = m.train_on_batch(x, y)
    assert np.isfinite(loss) and 0 <= acc <= 1
    d = m.test_on_batch(x, y, return_dict=True)
    assert set(d) == {"loss", "accuracy"}
    assert m.predict_on_batch(x).shape == (16, 1)


def test_l2_penalty_is_added_once_per_batch():
    x, y = blobs(n=20)
    m = Sequential([Input((6,)), Dense(3, kernel_regularizer=baeum.regularizers.L2(0.5)), Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    plain = Sequential([Input((6,)), Dense(3), Dense(1)])
    plain.compile(optimizer="sgd", loss="mse")
    plain.set_weights(m.get_weights())
    penalty = 0.5 * float(np.sum(m.get_weights()[0].astype(np.float64) ** 2))
    assert m.test_on_batch(x, y) == pytest.approx(plain.test_on_batch(x, y) + penalty, rel=1e-5)


def test_frozen_layer_does_not_change():
    x, y = blobs(n=30)
    m = binary_model()
    m.layers[0].trainable = False
    m.compile(optimizer="adam", loss="binary_crossentropy")
    before = m.get_weights()
    m.fit(x, y, epochs=2, verbose=0)
    after = m.get_weights()
    np.testing.assert_array_equal(before[0], after[0])
    assert not np.array_equal(before[2], after[2])


def test_class_weight_and_sample_weight():
    x, y = blobs(n=30)
    m = binary_model()
    m.fit(x, y, epochs=1, class_weight="balanced", verbose=0)
    m.fit(x, y, epochs=1, class_weight={0: 1.0, 1: 3.0}, verbose=0)
    m.fit(x, y, epochs=1, sample_weight=np.linspace(0, 1, 30), verbose=0)
    with pytest.raises(ValueError, match="not both"):
        m.fit(x, y, epochs=1, sample_weight=np.ones(30), class_weight={0: 1.0}, verbose=0)


def test_verbose_output_format(capsys):
    x, y = blobs(n=20)
    m = binary_model()
    m.fit(x, y, epochs=2, batch_size=10, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2"
    assert out[1].startswith("2/2 - ") and " - accuracy: " in out[1] and out[1].index("accuracy") < out[1].index("loss")
    assert out[2] == "Epoch 2/2"
    m.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


# --- bad input, caught before training ----------------------------------------------------

@pytest.fixture
def model():
    return binary_model()


def test_fit_before_compile():
    m = Sequential([Input((6,)), Dense(1)])
    with pytest.raises(RuntimeError, match="compile"):
        m.fit(np.ones((4, 6)), np.ones(4), verbose=0)


def test_feature_count_mismatch_names_the_layer(model):
    with pytest.raises(ValueError, match=r"dense.*\(None, 6\).*\(None, 5\).*5 features instead of 6"):
        model.fit(np.ones((4, 5)), np.ones(4), verbose=0)
    with pytest.raises(ValueError, match="6 features|\\(None, 6\\)"):
        model.predict(np.ones((4, 5)), verbose=0)


def test_length_mismatch(model):
    with pytest.raises(ValueError, match="x has 4, y has 3"):
        model.fit(np.ones((4, 6)), np.ones(3), verbose=0)


def test_target_shape_rules(model):
    model.fit(np.ones((4, 6)), np.ones(4), verbose=0)  # (N,) is accepted for (N, 1)
    with pytest.raises(ValueError, match=r"y has shape \(4, 2\).*outputs shape \(None, 1\)"):
        model.fit(np.ones((4, 6)), np.ones((4, 2)), verbose=0)


def test_sparse_label_errors():
    m = Sequential([Input((6,)), Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.ones((3, 6))
    with pytest.raises(ValueError, match="1-based: subtract 1"):
        m.fit(x, np.array([1, 2, 3]), verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 2\].*-1"):
        m.fit(x, np.array([0, -1, 2]), verbose=0)
    with pytest.raises(ValueError, match="one-hot"):
        m.fit(x, np.eye(3), verbose=0)


def test_integer_labels_with_categorical_crossentropy():
    m = Sequential([Input((6,)), Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy.*to_categorical"):
        m.fit(np.ones((3, 6)), np.array([0, 1, 2]), verbose=0)


def test_softmax_on_one_unit():
    m = Sequential([Input((6,)), Dense(1, activation="softmax")])
    m.compile(optimizer="adam", loss="binary_crossentropy")
    with pytest.raises(ValueError, match="softmax to a single unit.*sigmoid"):
        m.fit(np.ones((3, 6)), np.array([0, 1, 1]), verbose=0)


def test_nan_and_inf_are_located(model):
    x = np.ones((5, 6))
    x[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN at row 3, column 2"):
        model.fit(x, np.ones(5), verbose=0)
    y = np.ones(5)
    y[4] = np.inf
    with pytest.raises(ValueError, match="y contains inf at row 4"):
        model.fit(np.ones((5, 6)), y, verbose=0)


def test_strings_and_empty_data(model):
    with pytest.raises(ValueError, match="numbers"):
        model.fit(np.array([["a"] * 6] * 2), np.ones(2), verbose=0)
    with pytest.raises(ValueError, match="empty"):
        model.fit(np.ones((0, 6)), np.ones(0), verbose=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"batch_size": -3}, "batch_size must be a positive integer"),
    ({"epochs": -1}, "epochs must be an integer >= 0"),
    ({"verbose": 3}, "verbose"),
])
def test_bad_fit_arguments(model, kwargs, match):
    with pytest.raises(ValueError, match=match):
        model.fit(np.ones((4, 6)), np.ones(4), **kwargs)


def test_unknown_strings_list_the_valid_ones():
    m = Sequential([Input((6,)), Dense(1)])
    with pytest.raises(ValueError, match="adam"):
        m.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="mean_squared_error"):
        m.compile(optimizer="adam", loss="mean_sqared_error")
    with pytest.raises(ValueError, match="relu"):
        Dense(3, activation="rellu")
    with pytest.raises(ValueError, match="glorot_uniform"):
        Dense(3, kernel_initializer="glorot")
    m.compile(optimizer="adam", loss="mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match="accuracy"):
        m.fit(np.ones((4, 6)), np.ones(4), verbose=0)
