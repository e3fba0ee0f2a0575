"""Saving and loading: .keras / .weights.h5 / legacy .h5 round trips (predictions and the
next training step bit for bit, optimizer state included), bad files, atomic writes,
custom objects, non-ASCII paths."""
import inspect
import io
import json
import os
import pathlib
import re
import zipfile

import h5py
import numpy as np
import pytest

import baeum
from baeum import layers as L
from baeum import optimizers as O
from baeum.models import Sequential, load_model
from baeum.saving import LoadError, saving_lib
from baeum.utils import set_random_seed

rng0 = np.random.default_rng(0)
X = rng0.standard_normal((40, 4, 6)).astype(np.float32)
Y = np.eye(3, dtype=np.float32)[rng0.integers(0, 3, 40)]

IMG = (6, 7, 2)  # (height, width, channels) for the image layers below
IDS = ("ids", 5)  # Embedding: 5 integer ids per sample in [0, 10)

# Every layer class baeum.layers exports (besides the bases), with constructor arguments.
LAYER_FACTORIES = {
    "Dense": lambda: L.Dense(5, activation="tanh", kernel_regularizer="l2", bias_initializer="ones"),
    "Activation": lambda: L.Activation("relu"),
    "Dropout": lambda: L.Dropout(0.3),
    "Flatten": lambda: L.Flatten(),
    "Reshape": lambda: L.Reshape((6, 4)),
    "ReLU": lambda: L.ReLU(max_value=2.0, negative_slope=0.1),
    "LeakyReLU": lambda: L.LeakyReLU(0.2),
    "PReLU": lambda: L.PReLU(alpha_initializer="ones", shared_axes=[1]),
    "ELU": lambda: L.ELU(0.5),
    "Softmax": lambda: L.Softmax(),
    "RReLU": lambda: L.RReLU(seed=3),
    # image layers: (factory, input shape without the batch)
    "Rescaling": (lambda: L.Rescaling(1 / 255.0, offset=-0.5), IMG),
    "Normalization": (lambda: L.Normalization(mean=0.5, variance=2.0), IMG),
    "RandomFlip": (lambda: L.RandomFlip("horizontal", seed=1), IMG),
    "RandomTranslation": (lambda: L.RandomTranslation(0.2, 0.1, seed=2), IMG),
    "RandomRotation": (lambda: L.RandomRotation(0.1, fill_mode="nearest", seed=3), IMG),
    "RandomZoom": (lambda: L.RandomZoom(0.2, seed=4), IMG),
    "RandomCrop": (lambda: L.RandomCrop(4, 5, seed=5), IMG),
    "RandomContrast": (lambda: L.RandomContrast(0.3, seed=6), IMG),
    "RandomBrightness": (lambda: L.RandomBrightness(0.2, value_range=(0, 1), seed=7), IMG),
    "MaxPooling1D": lambda: L.MaxPooling1D(2, padding="same"),
    "AveragePooling1D": lambda: L.AveragePooling1D(2, strides=1),
    "GlobalMaxPooling1D": lambda: L.GlobalMaxPooling1D(),
    "GlobalAveragePooling1D": lambda: L.GlobalAveragePooling1D(keepdims=True),
    "MaxPooling2D": (lambda: L.MaxPooling2D((2, 3), padding="same"), IMG),
    "AveragePooling2D": (lambda: L.AveragePooling2D(2, strides=1), IMG),
    "GlobalMaxPooling2D": (lambda: L.GlobalMaxPooling2D(), IMG),
    "GlobalAveragePooling2D": (lambda: L.GlobalAveragePooling2D(), IMG),
    "BatchNormalization": (lambda: L.BatchNormalization(momentum=0.9, center=False), IMG),
    "LayerNormalization": lambda: L.LayerNormalization(epsilon=1e-4),
    "UpSampling2D": (lambda: L.UpSampling2D((2, 1)), IMG),
    "ZeroPadding2D": (lambda: L.ZeroPadding2D(((1, 0), (2, 1))), IMG),
    "Cropping2D": (lambda: L.Cropping2D(((1, 0), (2, 1))), IMG),
    "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.3, seed=8), IMG),
    "Conv1D": lambda: L.Conv1D(3, 2, padding="causal", dilation_rate=2, activation="relu"),
    "Conv2D": (lambda: L.Conv2D(4, 3, strides=2, padding="same", activation="relu", kernel_regularizer="l2"), IMG),
    "Conv2DTranspose": (lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same", activation="tanh"), IMG),
    "DepthwiseConv2D": (lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", use_bias=False), IMG),
    "SimpleRNN": lambda: L.SimpleRNN(5, return_sequences=True),
    "LSTM": lambda: L.LSTM(5, return_sequences=True, dropout=0.2, seed=3),
    "GRU": lambda: L.GRU(5, reset_after=False, go_backwards=True),
    "Embedding": (lambda: L.Embedding(10, 3, mask_zero=True), IDS),
    "Masking": lambda: L.Masking(mask_value=0.5),
    "RepeatVector": (lambda: L.RepeatVector(3), (6,)),
    "TimeDistributed": lambda: L.TimeDistributed(L.Dense(2, activation="relu")),
    "Bidirectional": lambda: L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="sum"),
}
NOT_LAYERS = {"Layer", "Variable", "Input", "InputLayer", "KerasTensor",
              # merge layers take several inputs: their round trips are in tests/models/test_functional.py
              "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"}


def exported_layer_names():
    return sorted(n for n in L.__all__ if n not in NOT_LAYERS and inspect.isclass(getattr(L, n)))


def factory(name):
    """(layer factory, input shape) of LAYER_FACTORIES[name]."""
    f = LAYER_FACTORIES[name]
    return f if isinstance(f, tuple) else (f, (4, 6))


def inputs(shape):
    rng = np.random.default_rng(0)
    if shape[0] == "ids":
        return rng.integers(0, 10, (40,) + tuple(shape[1:])).astype(np.float32)
    return rng.standard_normal((40,) + tuple(shape)).astype(np.float32)


def make_model(layer, optimizer="adam", shape=(4, 6)):
    shape = shape[1:] if shape[0] == "ids" else shape
    model = Sequential([baeum.Input(shape), layer, L.Flatten(), L.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def fit_step(model, seed=7, x=X):
    set_random_seed(seed)
    model.fit(x, Y, batch_size=16, epochs=1, verbose=0)


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        np.testing.assert_array_equal(x, y)


def assert_same_optimizer(a, b):
    oa, ob = a.optimizer, b.optimizer
    assert oa.iterations == ob.iterations
    assert oa.learning_rate == ob.learning_rate
    va, vb = oa.variables, ob.variables
    assert len(va) == len(vb)
    for x, y in zip(va, vb):
        np.testing.assert_array_equal(np.asarray(x).ravel(), np.asarray(y).ravel())


def test_every_exported_layer_has_a_factory():
    missing = [n for n in exported_layer_names() if n not in LAYER_FACTORIES]
    for name in missing:  # layers added later: default construction must at least work
        getattr(L, name)()


@pytest.mark.parametrize("name", sorted(LAYER_FACTORIES))
@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_round_trip_every_layer(tmp_path, name, fmt, caplog):
    set_random_seed(1)
    make, shape = factory(name)
    x = inputs(shape)
    model = make_model(make(), shape=shape)
    fit_step(model, 2, x)
    path = tmp_path / f"m.{fmt}"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded.layers[0]) is type(model.layers[0])
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert_same_weights(loaded, model)
    assert_same_optimizer(loaded, model)
    fit_step(model, 3, x)
    fit_step(loaded, 3, x)
    assert_same_weights(loaded, model)
    assert_same_optimizer(loaded, model)


OPTIMIZERS = {
    "sgd": lambda: O.SGD(0.05, momentum=0.9, nesterov=True),
    "sgd_plain": lambda: O.SGD(0.05),
    "rmsprop": lambda: O.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: O.Adagrad(0.05),
    "adam": lambda: O.Adam(0.01, amsgrad=True),
    "adamw": lambda: O.AdamW(0.01, weight_decay=0.01),
    "nadam": lambda: O.Nadam(0.01),
    "adam_clip_schedule": lambda: O.Adam(O.schedules.ExponentialDecay(0.01, 3, 0.5),
                                         clipnorm=1.0),
}


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
@pytest.mark.parametrize("how", ["keras", "h5", "weights"])
def test_training_resumes_exactly_for_every_optimizer(tmp_path, opt, how, caplog):
    set_random_seed(5)
    model = make_model(L.Dropout(0.25), OPTIMIZERS[opt]())
    fit_step(model, 1)
    fit_step(model, 2)
    if how == "weights":
        path = tmp_path / "w.weights.h5"
        model.save_weights(path)
        set_random_seed(99)   # a differently initialised twin
        loaded = make_model(L.Dropout(0.25), OPTIMIZERS[opt]())
        loaded.build((None, 4, 6))
        loaded.load_weights(path)
    else:
        path = tmp_path / f"m.{how}"
        model.save(path)
        loaded = load_model(path)
    assert_same_optimizer(loaded, model)
    for seed in (3, 4):
        fit_step(model, seed)
        fit_step(loaded, seed)
        assert_same_weights(loaded, model)
        assert_same_optimizer(loaded, model)


def test_exact_learning_rate_after_reduce(tmp_path):
    model = make_model(L.Dense(4))
    fit_step(model)
    model.optimizer.learning_rate = 0.1 * 0.3   # not a float32 number
    model.save(tmp_path / "m.keras")
    assert load_model(tmp_path / "m.keras").optimizer.learning_rate == 0.1 * 0.3


def test_seeded_dropout_rng_state_is_restored(tmp_path):
    model = make_model(L.Dropout(0.5, seed=11), "sgd")
    fit_step(model)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    fit_step(model, 9)
    fit_step(loaded, 9)
    assert_same_weights(loaded, model)


def test_keras_archive_layout(tmp_path):
    model = make_model(L.Dense(4))
    fit_step(model)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        meta = json.loads(zf.read("metadata.json"))
        cfg = json.loads(zf.read("config.json"))
        h5 = h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r")
    assert meta["keras_version"] == "3.15.1" and "@" in meta["date_saved"]
    assert cfg["class_name"] == "Sequential" and cfg["module"] == "keras"
    assert [l["class_name"] for l in cfg["config"]["layers"]] == ["InputLayer", "Dense", "Flatten", "Dense"]
    assert cfg["config"]["layers"][1]["module"] == "keras.layers"
    assert cfg["build_config"] == {"input_shape": [None, 4, 6]}
    cc = cfg["compile_config"]
    assert cc["loss"] == "categorical_crossentropy" and cc["metrics"] == ["accuracy"]
    assert cc["optimizer"]["class_name"] == "Adam"
    with h5:
        assert "vars" in h5
        assert h5["layers/dense/vars/0"].shape == (6, 4)          # kernel
        assert h5["layers/dense/vars/1"].shape == (4,)            # bias
        assert h5["layers/dense_1/vars/0"].shape == (16, 3)
        assert len(h5["layers/flatten/vars"]) == 0
        opt = h5["optimizer/vars"]
        assert len(opt) == 2 + 2 * 4                               # iterations, lr, m and v
        assert int(opt["0"][()]) == model.optimizer.iterations == 3
        assert opt["2"].shape == (6, 4)                           # slots shaped like their var


def test_legacy_h5_layout(tmp_path, caplog, monkeypatch):
    model = make_model(L.Dense(4))
    fit_step(model)
    monkeypatch.setattr(saving_lib, "_warned_legacy", False)
    model.save(tmp_path / "m.h5")
    assert "legacy" in caplog.text
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert json.loads(f.attrs["model_config"])["class_name"] == "Sequential"
        assert json.loads(f.attrs["training_config"])["loss"] == "categorical_crossentropy"
        name = model.layers[0].name
        assert f[f"model_weights/{name}/{name}/kernel"].shape == (6, 4)
        names = [n.decode() if isinstance(n, bytes) else n for n in f["model_weights"].attrs["layer_names"]]
        assert names == [l.name for l in model.layers]
        assert "optimizer_weights" in f


@pytest.mark.parametrize("ext", ["weights.h5", "h5", "keras"])
def test_load_weights_formats(tmp_path, ext, caplog):
    model = make_model(L.Dense(4))
    fit_step(model)
    path = tmp_path / f"w.{ext}"
    model.save(path) if ext == "keras" else model.save_weights(path)
    twin = make_model(L.Dense(4))
    twin.build((None, 4, 6))
    twin.load_weights(path)
    assert_same_weights(twin, model)


def test_uncompiled_model_and_compile_false(tmp_path):
    model = Sequential([baeum.Input((2,)), L.Dense(3)])
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert not loaded.compiled
    x = np.ones((2, 2), np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model.compile("sgd", "mse")
    model.save(tmp_path / "c.keras")
    assert not load_model(tmp_path / "c.keras", compile=False).compiled
    assert load_model(tmp_path / "c.keras").compiled


def test_model_built_from_first_data_saves(tmp_path):
    model = Sequential([L.Dense(3), L.Dense(1)])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 5), np.float32), np.ones((4, 1), np.float32), verbose=0)
    model.save(tmp_path / "m.keras")
    np.testing.assert_array_equal(load_model(tmp_path / "m.keras").predict(np.ones((1, 5)), verbose=0),
                                  model.predict(np.ones((1, 5)), verbose=0))


# --------------------------------------------------------------------------- paths
@pytest.mark.parametrize("rel", ["모델 저장/최고.keras", "with space/m.weights.h5", "é/m.h5"])
def test_non_ascii_and_space_paths(tmp_path, rel, caplog):
    path = tmp_path / rel
    path.parent.mkdir()
    model = make_model(L.Dense(2))
    fit_step(model)
    for p in (str(path), pathlib.Path(path)):
        if rel.endswith(".weights.h5"):
            model.save_weights(p)
            twin = make_model(L.Dense(2))
            twin.build((None, 4, 6))
            twin.load_weights(p)
        else:
            model.save(p)
            twin = load_model(p)
        assert_same_weights(twin, model)
    assert os.listdir(path.parent) == [path.name]   # no temp files left behind


def test_bad_extensions_and_unbuilt(tmp_path):
    model = make_model(L.Dense(2))
    with pytest.raises(ValueError, match="Invalid filepath extension"):
        model.save(tmp_path / "m.txt")
    with pytest.raises(ValueError, match=".weights.h5"):
        model.save_weights(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="save_weights"):
        model.save(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="not been built"):
        Sequential([L.Dense(2)]).save(tmp_path / "u.keras")
    with pytest.raises(ValueError, match="File format not supported"):
        load_model(tmp_path / "m.txt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.save(tmp_path / "no such dir" / "m.keras")
    model.save(tmp_path / "m.keras")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp_path / "m.keras", overwrite=False)


# --------------------------------------------------------------------------- bad files
@pytest.fixture
def trained(tmp_path):
    model = make_model(L.Dense(4))
    fit_step(model)
    model.save(tmp_path / "good.keras")
    model.save_weights(tmp_path / "good.weights.h5")
    return model


def snapshot(model):
    return [w.copy() for w in model.get_weights()], model.optimizer.iterations


def assert_unchanged(model, snap):
    for a, b in zip(model.get_weights(), snap[0]):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == snap[1]


BAD = {
    "empty": (b"", "empty"),
    "html": (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head></html>", "HTML page"),
    "lfs": (b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e"
            b"0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n", "Git LFS pointer"),
    "text": (b"just some text", "neither a .keras zip archive nor an HDF5"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize("ext", ["keras", "weights.h5", "h5"])
def test_bad_files_name_the_problem_and_leave_the_model_unchanged(tmp_path, trained, kind, ext):
    data, message = BAD[kind]
    path = tmp_path / f"bad.{ext}"
    path.write_bytes(data)
    snap = snapshot(trained)
    with pytest.raises(LoadError, match=message):
        trained.load_weights(path)
    if ext != "weights.h5":
        with pytest.raises(LoadError, match=message):
            load_model(path)
    assert_unchanged(trained, snap)


def test_missing_file(tmp_path, trained):
    with pytest.raises(FileNotFoundError, match="no file found"):
        load_model(tmp_path / "nope.keras")
    with pytest.raises(FileNotFoundError, match="no file found"):
        trained.load_weights(tmp_path / "nope.weights.h5")


@pytest.mark.parametrize("name", ["good.keras", "good.weights.h5"])
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_files(tmp_path, trained, name, keep):
    data = (tmp_path / name).read_bytes()
    path = tmp_path / ("cut." + name.split(".", 1)[1])
    path.write_bytes(data[:int(len(data) * keep)])
    snap = snapshot(trained)
    with pytest.raises(LoadError, match="truncated or corrupt"):
        trained.load_weights(path)
    assert_unchanged(trained, snap)


def test_zip_that_is_not_a_keras_archive(tmp_path):
    with zipfile.ZipFile(tmp_path / "x.keras", "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(LoadError, match="lacks"):
        load_model(tmp_path / "x.keras")


def test_shape_mismatch_names_each_layer_and_changes_nothing(tmp_path, trained):
    other = make_model(L.Dense(5))   # first Dense has 5 units instead of 4
    other.build((None, 4, 6))
    other.compile("adam", "categorical_crossentropy")
    snap = [w.copy() for w in other.get_weights()]
    for path in (tmp_path / "good.keras", tmp_path / "good.weights.h5"):
        with pytest.raises(LoadError) as e:
            other.load_weights(path)
        msg = str(e.value)
        assert "nothing was loaded" in msg
        assert "weight 'kernel' has shape (6, 4) in the file but (6, 5) in the model" in msg
        assert "weight 'bias' has shape (4,) in the file but (5,) in the model" in msg
        assert "weight 'kernel' has shape (16, 3) in the file but (20, 3) in the model" in msg
        for a, b in zip(other.get_weights(), snap):
            np.testing.assert_array_equal(a, b)
    assert other.optimizer.iterations == 0


def test_layer_count_mismatch(tmp_path, trained):
    small = Sequential([baeum.Input((4, 6)), L.Flatten(), L.Dense(3)])
    with pytest.raises(LoadError, match="layers the model does not have"):
        small.load_weights(tmp_path / "good.weights.h5")
    trained.save(tmp_path / "legacy.h5")
    with pytest.raises(LoadError, match="weights for 2 layers"):
        small.load_weights(tmp_path / "legacy.h5")


def test_optimizer_mismatch_on_load_weights_warns_and_loads_weights(tmp_path, trained):
    twin = make_model(L.Dense(4), "sgd")
    twin.build((None, 4, 6))
    with pytest.warns(UserWarning, match="optimizer state was skipped"):
        twin.load_weights(tmp_path / "good.weights.h5")
    assert_same_weights(twin, trained)
    assert twin.optimizer.iterations == 0


def test_interrupted_save_keeps_the_previous_file(tmp_path, trained, monkeypatch):
    path = tmp_path / "good.keras"
    before = path.read_bytes()

    def broken(f, data):
        f.write(data[:100])
        raise KeyboardInterrupt("simulated Ctrl+C in the middle of the write")
    monkeypatch.setattr(saving_lib, "_write_all", broken)
    fit_step(trained, 11)
    with pytest.raises(KeyboardInterrupt):
        trained.save(path)
    with pytest.raises(KeyboardInterrupt):
        trained.save_weights(tmp_path / "good.weights.h5")
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["good.keras", "good.weights.h5"]
    load_model(path)   # still loads


# --------------------------------------------------------------------------- custom objects
class Scale(L.Layer):
    """y = x · s with one trainable scale per feature."""

    def __init__(self, init=2.0, **kwargs):
        super().__init__(**kwargs)
        self.init = init

    def build(self, input_shape):
        self.s = self.add_weight("s", (input_shape[-1],), initializer=baeum.initializers.Constant(self.init))

    def forward(self, x, ctx, training):
        ctx["x"] = x
        return x * self.s.value

    def backward(self, dy, ctx, need_dx=True):
        self.s.grad += (dy * ctx["x"]).reshape(-1, dy.shape[-1]).sum(0)
        return dy * self.s.value if need_dx else None

    def get_config(self):
        return dict(super().get_config(), init=self.init)


def test_custom_layer_needs_registration_or_custom_objects(tmp_path):
    model = make_model(Scale(3.0))
    fit_step(model)
    model.save(tmp_path / "c.keras")
    with pytest.raises(LoadError, match="custom_objects"):
        load_model(tmp_path / "c.keras")
    loaded = load_model(tmp_path / "c.keras", custom_objects={"Scale": Scale})
    assert isinstance(loaded.layers[0], Scale) and loaded.layers[0].init == 3.0
    assert_same_weights(loaded, model)
    with baeum.saving.custom_object_scope({"Scale": Scale}):
        assert isinstance(load_model(tmp_path / "c.keras").layers[0], Scale)


def test_registered_custom_layer_and_loss(tmp_path):
    @baeum.saving.register_keras_serializable(package="Test")
    class Scale2(Scale):
        pass

    @baeum.utils.register_keras_serializable(package="Test", name="my_mse")
    def my_mse(y_true, y_pred):
        return np.mean((y_true - y_pred) ** 2, axis=-1)

    assert baeum.saving.get_registered_name(Scale2) == "Test>Scale2"
    assert baeum.saving.get_registered_object("Test>my_mse") is my_mse
    model = make_model(Scale2(1.5))
    fit_step(model)
    model.save(tmp_path / "r.keras")
    with zipfile.ZipFile(tmp_path / "r.keras") as zf:
        cfg = json.loads(zf.read("config.json"))
    assert cfg["config"]["layers"][1]["registered_name"] == "Test>Scale2"
    loaded = load_model(tmp_path / "r.keras")
    assert type(loaded.layers[0]) is Scale2
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    with pytest.raises(ValueError, match="get_config"):
        baeum.saving.register_keras_serializable()(type("NoConfig", (), {}))


def test_serialize_round_trip_of_sequential_config():
    model = Sequential([baeum.Input((3,)), L.Dense(2, activation="relu"), L.Dropout(0.1)])
    cfg = baeum.saving.serialize_keras_object(model)
    again = baeum.saving.deserialize_keras_object(json.loads(json.dumps(cfg)))
    assert again.get_config()["layers"] == model.get_config()["layers"]
    assert again.count_params() == model.count_params() == 8


def test_round_trip_after_freezing_a_layer(tmp_path):
    set_random_seed(4)
    model = make_model(L.Dense(4), O.Adam(0.01))
    fit_step(model, 1)
    model.layers[0].trainable = False          # transfer learning: freeze, keep training
    fit_step(model, 2)
    model.save(tmp_path / "f.keras")
    loaded = load_model(tmp_path / "f.keras")
    assert loaded.layers[0].trainable is False
    assert len(loaded.trainable_weights) == 2
    fit_step(model, 3)
    fit_step(loaded, 3)
    assert_same_weights(loaded, model)


def test_custom_loss_function_and_metric_object(tmp_path):
    def my_loss(y_true, y_pred):
        return np.mean(np.abs(y_true - y_pred), axis=-1)

    model = Sequential([baeum.Input((3,)), L.Dense(1)])
    model.compile("sgd", loss=baeum.losses.Huber(delta=0.5), metrics=[baeum.metrics.MeanAbsoluteError()])
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert isinstance(loaded.loss, baeum.losses.Huber) and loaded.loss.get_config() == model.loss.get_config()
    model.compile("sgd", loss=my_loss)
    model.save(tmp_path / "f.keras")
    with pytest.raises(LoadError, match="compile=False"):
        load_model(tmp_path / "f.keras")
    assert load_model(tmp_path / "f.keras", custom_objects={"my_loss": my_loss}).compiled
    assert not load_model(tmp_path / "f.keras", compile=False).compiled


def test_keras_dtype_policy_in_a_layer_config():
    cfg = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
           "config": {"name": "d", "units": 2, "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                                          "config": {"name": "float32"},
                                                          "registered_name": None}}}
    layer = baeum.saving.deserialize_keras_object(cfg)
    assert isinstance(layer, L.Dense) and layer.units == 2


@pytest.mark.parametrize("name", ["good.keras", "good.weights.h5", "legacy.h5"])
def test_skip_mismatch_loads_the_layers_that_fit(tmp_path, trained, name):
    # Keras: load_weights(..., skip_mismatch=True) keeps a mismatching layer's weights, with
    # a warning, and loads the rest.
    trained.save(tmp_path / "legacy.h5")
    other = Sequential([baeum.Input((4, 6)), L.Dense(4), L.Flatten(), L.Dense(5, activation="softmax")])
    other.compile("adam", "categorical_crossentropy")
    last_before = [w.copy() for w in other.layers[-1].get_weights()]
    with pytest.raises(LoadError, match="nothing was loaded"):
        other.load_weights(tmp_path / name)
    with pytest.warns(UserWarning) as record:  # also: the optimizer state does not fit
        other.load_weights(tmp_path / name, skip_mismatch=True)
    pattern = r"skipping layer 'dense_\d+' \(Dense\).*\(16, 3\) in the file but \(16, 5\)"
    assert any(re.search(pattern, str(w.message)) for w in record), [str(w.message) for w in record]
    for a, b in zip(other.layers[0].get_weights(), trained.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(other.layers[-1].get_weights(), last_before):
        np.testing.assert_array_equal(a, b)


def test_skip_mismatch_still_refuses_a_legacy_file_with_other_layers(tmp_path, trained):
    trained.save(tmp_path / "legacy.h5")
    small = Sequential([baeum.Input((4, 6)), L.Flatten(), L.Dense(3)])
    with pytest.raises(LoadError, match="weights for 2 layers"):
        small.load_weights(tmp_path / "legacy.h5", skip_mismatch=True)


def test_unzipped_keras_directory_round_trip(tmp_path, trained):
    # Keras: model.save(path, zipped=False) writes the .keras archive's files into a directory.
    d = tmp_path / "unzipped_model"
    trained.save(d, zipped=False)
    assert sorted(os.listdir(d)) == ["config.json", "metadata.json", "model.weights.h5"]
    with zipfile.ZipFile(tmp_path / "good.keras") as zf:
        assert json.loads((d / "config.json").read_text()) == json.loads(zf.read("config.json"))
    again = load_model(d)
    assert_same_weights(again, trained)
    assert again.optimizer.iterations == trained.optimizer.iterations
    np.testing.assert_array_equal(again.predict(X, verbose=0), trained.predict(X, verbose=0))
    with pytest.raises(FileExistsError, match="overwrite=False"):
        trained.save(d, zipped=False, overwrite=False)
    trained.save(d, zipped=False)  # overwrite=True replaces the files
    with pytest.raises(FileExistsError, match="is a file"):
        trained.save(tmp_path / "good.keras", zipped=False)
    with pytest.raises(ValueError, match="zipped=False"):
        trained.save(tmp_path / "m.h5", zipped=False)
    (d / "model.weights.h5").unlink()
    with pytest.raises(LoadError, match="no model.weights.h5"):
        load_model(d)
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    with pytest.raises(ValueError, match="File format not supported"):
        load_model(empty)
