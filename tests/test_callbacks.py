import io

import numpy as np
import pytest

from baeum import callbacks as C
from baeum.utils import Progbar

BAR = "\u2501"
B, G, W, R = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


class Clock:
    def __init__(self, t=0.0):
        self.t = t

    def __call__(self):
        return self.t


class Recorder(C.Callback):
    def __init__(self, name, events):
        super().__init__()
        self.name, self.events = name, events

    def __getattribute__(self, attr):
        if attr.startswith("on_") and attr not in ("on_batch_begin", "on_batch_end"):
            def hook(*args, **kwargs):
                self.events.append((self.name, attr)
                                   + tuple(a for a in args if isinstance(a, int)))
                logs = kwargs.get("logs", args[-1] if args else None)
                if logs is not None:
                    self.events.append(("logs-id", id(logs)))
            return hook
        return super().__getattribute__(attr)


class FakeModel:
    stop_training = False


# One 2-epoch, 3-step run with validation. Times are binary fractions so that every
# printed number is exact. (epoch-begin time, [batch-end times], epoch-end time)
TIMES = [(8.0, [8.5, 8.75, 9.0], 9.25),
         (20.0, [20.0009765625, 20.001953125, 20.0029296875], 23.0009765625)]
BATCH_LOGS = [[{"loss": 1.25, "accuracy": 0.25}, {"loss": 1.0, "accuracy": 0.5},
               {"loss": 0.75, "accuracy": 0.5}],
              [{"loss": 1e-4, "accuracy": np.float32(1.0), "mae": -0.5}] * 3]
EPOCH_LOGS = [{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.0005, "val_accuracy": 0.5},
              {"loss": 1e-4, "accuracy": 1.0, "mae": -0.5, "val_loss": 2.0,
               "val_accuracy": 0.0}]


def run_fit(callbacks, clock, epochs=2, verbose=1, validate=True):
    model = FakeModel()
    cbs = C.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                         verbose=verbose, epochs=epochs, steps=3)
    cbs.on_train_begin()
    for epoch in range(epochs):
        t0, batch_times, t_end = TIMES[epoch]
        clock.t = t0
        cbs.on_epoch_begin(epoch)
        for b, tb in enumerate(batch_times):
            cbs.on_train_batch_begin(b)
            clock.t = tb
            cbs.on_train_batch_end(b, BATCH_LOGS[epoch][b])
        if validate:
            cbs.on_test_begin()
            cbs.on_test_batch_begin(0)
            cbs.on_test_batch_end(0, {"loss": 9.0})
            cbs.on_test_end({"loss": 9.0})
        clock.t = t_end
        cbs.on_epoch_end(epoch, EPOCH_LOGS[epoch])
    cbs.on_train_end(EPOCH_LOGS[epochs - 1])
    return model, cbs


def bar1(cur, filled, info, end=""):
    return (f"\r{B}{cur}/3{R} " + (f"{G}{BAR * filled}{R}" if filled else "")
            + f"{W}{BAR * (20 - filled)}{R} {B}{info[0]}{R} {info[1]}{info[2]}{end}")


def test_progbar_verbose1_terminal_exact_output():
    out, clock = io.StringIO(), Clock()
    pl = C.ProgbarLogger(stream=out, time_fn=clock, dynamic=True)
    run_fit([pl], clock)
    e1 = " - accuracy: 0.2500 - loss: 1.2500", " - accuracy: 0.5000 - loss: 1.0000", \
        " - accuracy: 0.5000 - loss: 0.7500"
    e2 = " - accuracy: 1.0000 - loss: 1.0000e-04 - mae: -0.5000"
    expected = (
        "Epoch 1/2\n"
        + bar1(1, 6, ("1s", "500ms/step", e1[0]))
        + bar1(2, 13, ("0s", "250ms/step", e1[1]))
        + bar1(3, 20, ("0s", "250ms/step", e1[2]))
        + bar1(3, 20, ("1s", "375ms/step", " - accuracy: 0.7500 - loss: 0.5000"
                       " - val_accuracy: 0.5000 - val_loss: 5.0000e-04"), "\n")
        + "Epoch 2/2\n"
        + bar1(1, 6, ("0s", "977us/step", e2))
        # 2nd and 3rd batch come < 0.05 s later: redraw throttled
        + bar1(3, 20, ("3s", "2s/step", " - accuracy: 1.0000 - loss: 1.0000e-04 - mae:"
                       " -0.5000 - val_accuracy: 0.0000e+00 - val_loss: 2.0000"), "\n")
    )
    assert out.getvalue() == expected


def test_progbar_verbose1_not_a_terminal_prints_final_lines_only():
    out, clock = io.StringIO(), Clock()
    run_fit([C.ProgbarLogger(stream=out, time_fn=clock, dynamic=False)], clock)
    assert out.getvalue() == (
        "Epoch 1/2\n"
        f"3/3 {BAR * 20} 1s 375ms/step - accuracy: 0.7500 - loss: 0.5000"
        " - val_accuracy: 0.5000 - val_loss: 5.0000e-04\n"
        "Epoch 2/2\n"
        f"3/3 {BAR * 20} 3s 2s/step - accuracy: 1.0000 - loss: 1.0000e-04 - mae: -0.5000"
        " - val_accuracy: 0.0000e+00 - val_loss: 2.0000\n")


def test_progbar_verbose2_exact_output():
    out, clock = io.StringIO(), Clock()
    run_fit([C.ProgbarLogger(stream=out, time_fn=clock)], clock, verbose=2)
    # verbose=2 measures (end - epoch start) / steps; and tests v > 1e-3 without abs,
    # so a negative value prints in scientific notation (Keras quirk).
    assert out.getvalue() == (
        "Epoch 1/2\n"
        "3/3 - 1s - 417ms/step - accuracy: 0.7500 - loss: 0.5000 - val_accuracy: 0.5000"
        " - val_loss: 5.0000e-04\n"
        "Epoch 2/2\n"
        "3/3 - 3s - 1s/step - accuracy: 1.0000 - loss: 1.0000e-04 - mae: -5.0000e-01"
        " - val_accuracy: 0.0000e+00 - val_loss: 2.0000\n")


def test_progbar_verbose0_and_single_epoch():
    out, clock = io.StringIO(), Clock()
    run_fit([C.ProgbarLogger(stream=out, time_fn=clock)], clock, verbose=0)
    assert out.getvalue() == ""
    out = io.StringIO()
    run_fit([C.ProgbarLogger(stream=out, time_fn=clock)], clock, epochs=1, verbose=2)
    assert out.getvalue().startswith("3/3 - 1s")  # no "Epoch 1/1" header


def test_evaluate_and_predict_get_their_own_bar():
    out, clock = io.StringIO(), Clock(1.0)
    pl = C.ProgbarLogger(stream=out, time_fn=clock, dynamic=False)
    cbs = C.CallbackList([pl], verbose=1, epochs=1, steps=None)  # steps unknown
    cbs.on_test_begin()
    for b in range(4):
        clock.t += 0.125
        cbs.on_test_batch_end(b, {"loss": 0.5, "accuracy": 1.0})
    cbs.on_test_end({"loss": 0.375, "accuracy": 0.875})
    # the model builds a fresh list per evaluate / predict call
    pl = C.ProgbarLogger(stream=out, time_fn=clock, dynamic=False)
    cbs = C.CallbackList([pl], verbose=1, epochs=1, steps=1)
    cbs.on_predict_begin()
    clock.t += 0.5
    cbs.on_predict_batch_end(0, {"outputs": np.zeros(3)})
    cbs.on_predict_end()
    assert out.getvalue() == (
        f"4/4 {BAR * 20} 0s 125ms/step - accuracy: 0.8750 - loss: 0.3750\n"
        f"1/1 {BAR * 20} 0s 500ms/step\n")


def test_progbar_formats():
    out, clock = io.StringIO(), Clock(0.0)
    p = Progbar(10000, stream=out, time_fn=clock, dynamic=False, verbose=2)
    clock.t = 3 * 3600 + 5.0
    p.update(10000, [("loss", 123456.789), ("tiny", 1e-3), ("neg", -2e-4)])
    assert out.getvalue() == ("10000/10000 - 10805s - 1s/step - loss: 123456.7890 - "
                              "tiny: 1.0000e-03 - neg: -2.0000e-04\n")
    # ETA formats (h:mm:ss, m:ss, s) and right-aligned counts
    for step_time, eta in [(50.0, "1:23:20"), (1.0, "1:40"), (0.1, "10s")]:
        out, clock = io.StringIO(), Clock(0.0)
        p = Progbar(101, stream=out, time_fn=clock, dynamic=True)
        clock.t = step_time
        p.update(1)  # ETA = step time * 100 steps left
        line = out.getvalue()
        assert line.startswith(f"\r{B}  1/101{R} ") and f" {B}{eta}{R} " in line, line


def test_progbar_pads_shorter_redraw_and_averages_by_default():
    out, clock = io.StringIO(), Clock(0.0)
    p = Progbar(5, stream=out, time_fn=clock, dynamic=True)
    clock.t = 1.0
    p.update(1, [("loss", 1234.5)])
    clock.t = 2.0
    p.update(2, [("loss", 1.5)])  # default Progbar averages: (1234.5 + 1.5) / 2 = 618
    first, second = out.getvalue().split("\r")[1:]
    assert "loss: 618.0000" in second
    visible = lambda s: len(s.replace(B, "").replace(G, "").replace(W, "").replace(R, ""))  # noqa
    assert visible(second) == visible(first)  # the old tail is blanked with spaces
    assert second.endswith(" ")


def test_history_records_epoch_logs():
    clock = Clock()
    model, cbs = run_fit([], clock, verbose=0)
    h = model.history
    assert isinstance(h, C.History) and h is cbs.callbacks[-1]
    assert h.epoch == [0, 1]
    assert h.history == {"accuracy": [0.75, 1.0], "loss": [0.5, 1e-4], "mae": [-0.5],
                         "val_accuracy": [0.5, 0.0], "val_loss": [0.0005, 2.0]}
    assert list(h.history)[:2] == ["accuracy", "loss"]  # epoch logs arrive sorted
    assert h.params == {"verbose": 0, "epochs": 2, "steps": 3}
    assert h.model is model


def test_callback_list_order_and_shared_logs():
    events, clock = [], Clock()
    a, b = Recorder("a", events), Recorder("b", events)
    model, cbs = run_fit([a, [b]], clock, epochs=1, verbose=1)
    assert [type(c) for c in cbs.callbacks] == [Recorder, Recorder, C.History,
                                                C.ProgbarLogger]
    names = [e for e in events if e[0] != "logs-id"]
    a_events = [e[1:] for e in names if e[0] == "a"]
    assert a_events == [
        ("on_train_begin",), ("on_epoch_begin", 0),
        ("on_train_batch_begin", 0), ("on_train_batch_end", 0),
        ("on_train_batch_begin", 1), ("on_train_batch_end", 1),
        ("on_train_batch_begin", 2), ("on_train_batch_end", 2),
        ("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0),
        ("on_test_end",), ("on_epoch_end", 0), ("on_train_end",)]
    # a then b for every event
    assert [e[0] for e in names] == ["a", "b"] * len(a_events)
    ids = [e[1] for e in events if e[0] == "logs-id"]
    assert all(x == y for x, y in zip(ids[::2], ids[1::2]))  # the same dict object


def test_logs_are_pythonified_and_sorted():
    seen = []

    class Spy(C.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(logs)
    cbs = C.CallbackList([Spy()])
    cbs.on_epoch_end(0, {"loss": np.float32(0.5), "acc": np.array(0.25), "name": "x",
                         "nested": {"z": np.float64(1.0)}})
    logs = seen[0]
    assert list(logs) == ["acc", "loss", "name", "z"]
    assert type(logs["loss"]) is float and type(logs["acc"]) is float
    assert logs["name"] == "x"


def test_callback_base_and_legacy_batch_hooks():
    calls = []

    class Legacy(C.Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch, logs["loss"]))
    cb = Legacy()
    cb.on_train_batch_begin(3)
    cb.on_train_batch_end(3, {"loss": 1.0})
    assert calls == [("begin", 3), ("end", 3, 1.0)]
    base = C.Callback()
    assert base.model is None and base.params is None
    base.set_params({"epochs": 1})
    base.set_model("m")
    assert base.params == {"epochs": 1} and base.model == "m"
    for hook in ("on_epoch_begin", "on_epoch_end", "on_test_batch_end",
                 "on_predict_batch_begin"):
        assert getattr(base, hook)(0, {}) is None


def test_existing_history_and_progbar_are_not_duplicated():
    h, p = C.History(), C.ProgbarLogger()
    cbs = C.CallbackList([p, h], add_history=True, add_progbar=True)
    assert cbs.callbacks == [p, h]


def test_bad_callbacks_and_later_names():
    with pytest.raises(TypeError, match="Callback"):
        C.CallbackList([object()])
    with pytest.raises(NotImplementedError, match="TensorBoard"):
        C.TensorBoard
    with pytest.raises(AttributeError):
        C.NoSuchThing


# =========================================================================== Keras callbacks
import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402

import baeum  # noqa: E402
from baeum import layers as BL  # noqa: E402
from baeum import metrics as BM  # noqa: E402
from baeum.utils import set_random_seed  # noqa: E402


class FakeOpt:
    def __init__(self, lr):
        self.learning_rate = lr


class Scripted:
    """A model stand-in whose weights are the epoch index they were set at."""

    def __init__(self, metrics=(), lr=1.0):
        self.stop_training = False
        self.metrics = list(metrics)
        self.w = [np.zeros(2)]
        self.optimizer = FakeOpt(lr)
        self.saved = []

    def get_weights(self):
        return [a.copy() for a in self.w]

    def set_weights(self, ws):
        self.w = [np.array(a) for a in ws]

    def save(self, path, overwrite=True):
        self.saved.append(path)

    save_weights = save


def drive(cb, values, key="val_loss", model=None, max_epochs=None):
    """Run cb over scripted epoch logs; returns (model, epochs run, logs seen)."""
    model = model or Scripted()
    cb.set_model(model)
    cb.on_train_begin({})
    seen = []
    for epoch, v in enumerate(values[:max_epochs]):
        model.w = [np.full(2, float(epoch))]
        cb.on_epoch_begin(epoch, {})
        logs = {key: v}
        cb.on_epoch_end(epoch, logs)
        seen.append(logs)
        if model.stop_training:
            break
    cb.on_train_end({})
    return model, epoch, seen


@pytest.mark.parametrize("values, patience, stop", [
    ([5, 4, 4.5, 4.6, 4.7, 4.8], 2, 3),     # Keras run: stops after epoch index 3
    ([5, 4, 4.5, 4.6, 4.7, 4.8], 0, 2),     # patience 0: the first non-improvement
    ([5, 5, 5], 0, 1),                      # equal is not an improvement
    ([3, 2, 1, 0], 1, 3),                   # always improving: runs to the end
    ([1, 2, 3, 4, 5, 6], 3, 3),
])
def test_early_stopping_patience(values, patience, stop):
    model, last, _ = drive(C.EarlyStopping(patience=patience), values)
    assert last == stop
    assert model.stop_training == (stop < len(values) - 1)


def test_early_stopping_min_delta_baseline_start_from_epoch():
    # min_delta: 0.95 does not beat 1.0 by 0.1 -> wait grows
    cb = C.EarlyStopping(min_delta=0.1, patience=1)
    _, last, _ = drive(cb, [1.0, 0.95, 0.92, 0.5])
    assert last == 1 and cb.best == 1.0
    # baseline: improving but never below the baseline does not reset wait
    cb = C.EarlyStopping(patience=2, baseline=1.0)
    _, last, _ = drive(cb, [2.0, 1.9, 1.95, 1.0])
    assert last == 2 and cb.wait == 3
    cb = C.EarlyStopping(patience=2)
    _, last, _ = drive(cb, [2.0, 1.9, 1.95, 1.96])
    assert last == 3   # without the baseline: wait 0, 0, 1, 2 -> stop at 3
    # start_from_epoch: the first two epochs are ignored
    cb = C.EarlyStopping(patience=0, start_from_epoch=2)
    _, last, _ = drive(cb, [1, 5, 6, 7, 8])
    assert last == 3 and cb.best == 6


def test_early_stopping_restores_best_weights_also_on_normal_end(capsys):
    cb = C.EarlyStopping(patience=10, restore_best_weights=True, verbose=1)
    model, last, _ = drive(cb, [3.0, 1.0, 2.0, 2.5])
    assert last == 3 and not model.stop_training
    np.testing.assert_array_equal(model.w[0], [1.0, 1.0])   # weights of epoch index 1
    assert capsys.readouterr().out == "Restoring model weights from the end of the best epoch: 2.\n"
    cb = C.EarlyStopping(patience=1, restore_best_weights=True, verbose=1)
    model, last, _ = drive(cb, [3.0, 1.0, 2.0, 2.5])
    assert last == 2
    np.testing.assert_array_equal(model.w[0], [1.0, 1.0])
    assert capsys.readouterr().out == ("Epoch 3: early stopping\n"
                                       "Restoring model weights from the end of the best epoch: 2.\n")


def test_early_stopping_modes():
    acc = BM.get("accuracy", y_true_shape=(4, 1), y_pred_shape=(4, 1))
    model = Scripted(metrics=[acc])
    _, last, _ = drive(C.EarlyStopping(monitor="val_accuracy"), [0.5, 0.6, 0.55], "val_accuracy", model)
    assert last == 2   # auto -> max for accuracy
    _, last, _ = drive(C.EarlyStopping(monitor="val_accuracy", mode="min"), [0.5, 0.6], "val_accuracy",
                       Scripted(metrics=[acc]))
    assert last == 1
    mae = BM.get("mae")
    _, last, _ = drive(C.EarlyStopping(monitor="mae"), [0.5, 0.4, 0.45], "mae", Scripted(metrics=[mae]))
    assert last == 2   # auto -> min for an error metric
    custom = BM.MeanMetricWrapper(lambda a, b: a, name="thing")
    with pytest.raises(ValueError, match="mode='max'"):
        drive(C.EarlyStopping(monitor="thing"), [1.0], "thing", Scripted(metrics=[custom]))
    with pytest.warns(UserWarning, match="fallback to auto"):
        C.EarlyStopping(mode="sideways")


def test_reduce_lr_on_plateau_sequence_with_cooldown_and_min_lr(capsys):
    cb = C.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.2, verbose=1)
    model, _, seen = drive(cb, [1.0] * 9, model=Scripted(lr=1.0))
    f02 = float(np.float32(0.2))   # logs hold the float32 value, as Keras's variable
    assert [l["learning_rate"] for l in seen] == [1, 1, 1, 0.5, 0.5, 0.25, 0.25, f02, f02]
    assert model.optimizer.learning_rate == 0.2
    out = capsys.readouterr().out
    assert out == ("\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.5.\n"
                   "\nEpoch 5: ReduceLROnPlateau reducing learning rate to 0.25.\n"
                   "\nEpoch 7: ReduceLROnPlateau reducing learning rate to 0.2.\n")
    # improvements reset wait; float32 arithmetic as Keras's variable
    cb = C.ReduceLROnPlateau(factor=0.1, patience=1, min_delta=0.0)
    model, _, seen = drive(cb, [3, 2, 2, 1, 1, 1], model=Scripted(lr=0.001))
    lr1 = float(np.float32(float(np.float32(0.001)) * 0.1))
    lr2 = float(np.float32(lr1 * 0.1))
    lr3 = float(np.float32(lr2 * 0.1))
    f = float(np.float32(0.001))
    assert [l["learning_rate"] for l in seen] == [f, f, f, lr1, lr1, lr2]
    assert float(np.float32(model.optimizer.learning_rate)) == lr3
    with pytest.raises(ValueError, match="factor >= 1.0"):
        C.ReduceLROnPlateau(factor=1.0)


def test_learning_rate_scheduler():
    cb = C.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    model, _, seen = drive(cb, [1.0, 1.0, 1.0], model=Scripted(lr=0.8))
    assert [l["learning_rate"] for l in seen] == [float(np.float32(0.8)), float(np.float32(0.4)),
                                                  float(np.float32(0.2))]
    cb = C.LearningRateScheduler(lambda epoch: 0.1 * (epoch + 1))   # one-argument schedule
    model, _, _ = drive(cb, [1.0, 1.0], model=Scripted(lr=0.8))
    assert model.optimizer.learning_rate == pytest.approx(0.2)
    with pytest.raises(ValueError, match="should be a float"):
        drive(C.LearningRateScheduler(lambda epoch: 1), [1.0])


def test_model_checkpoint_save_best_only_and_messages(capsys):
    cb = C.ModelCheckpoint("best.keras", save_best_only=True, verbose=1)
    model, _, _ = drive(cb, [0.5, 0.6, 0.4, 0.4])
    assert model.saved == ["best.keras", "best.keras"]
    out = capsys.readouterr().out
    assert out == ("\nEpoch 1: val_loss improved from inf to 0.50000, saving model to best.keras\n"
                   "\nEpoch 1: finished saving model to best.keras\n"
                   "\nEpoch 2: val_loss did not improve from 0.50000\n"
                   "\nEpoch 3: val_loss improved from 0.50000 to 0.40000, saving model to best.keras\n"
                   "\nEpoch 3: finished saving model to best.keras\n"
                   "\nEpoch 4: val_loss did not improve from 0.40000\n")
    cb = C.ModelCheckpoint("m-{epoch:02d}-{val_loss:.2f}.keras")
    model, _, _ = drive(cb, [0.5, 0.25])
    assert model.saved == ["m-01-0.50.keras", "m-02-0.25.keras"]   # 1-based epoch
    cb = C.ModelCheckpoint("b.h5", monitor="val_accuracy", save_best_only=True, initial_value_threshold=0.7)
    acc = BM.get("accuracy", y_true_shape=(4, 1), y_pred_shape=(4, 1))
    model, _, _ = drive(cb, [0.6, 0.8, 0.75], "val_accuracy", Scripted(metrics=[acc]))
    assert model.saved == ["b.h5"]
    for bad in ("m.txt", "m.weights.h5"):
        with pytest.raises(ValueError, match=".keras"):
            C.ModelCheckpoint(bad)
    with pytest.raises(ValueError, match=".weights.h5"):
        C.ModelCheckpoint("m.keras", save_weights_only=True)


def test_csv_logger_rows_and_append(tmp_path):
    path = tmp_path / "log.csv"
    cb = C.CSVLogger(path, separator=";")
    drive(cb, [0.5, 0.25], key="loss")
    text = path.read_text()
    assert text.splitlines() == ["epoch;loss;val_loss", "0;0.5;NA", "1;0.25;NA"]
    cb = C.CSVLogger(path, separator=";", append=True)
    drive(cb, [0.125], key="loss")
    assert path.read_text().splitlines()[-1] == "0;0.125;NA" and text.count("epoch") == 1


# --------------------------------------------------------------------------- with fit
def small_model(optimizer="adam", metrics=("accuracy",)):
    set_random_seed(3)
    model = baeum.Sequential([baeum.Input((4,)), BL.Dense(8, activation="relu"),
                              BL.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=list(metrics))
    return model


XR = np.random.default_rng(1).standard_normal((48, 4)).astype(np.float32)
YR = (XR[:, 0] + XR[:, 1] > 0).astype(np.float32)


def test_monitor_key_missing_fails_at_start_listing_keys():
    model = small_model()
    before = model.get_weights()
    with pytest.raises(ValueError) as e:
        model.fit(XR, YR, epochs=2, verbose=0, callbacks=[C.EarlyStopping()])
    msg = str(e.value)
    assert "monitor='val_loss'" in msg and "['accuracy', 'loss']" in msg and "validation_split" in msg
    assert model.optimizer.iterations == 0
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="val_auc"):
        model.fit(XR, YR, validation_split=0.25, verbose=0,
                  callbacks=[C.ReduceLROnPlateau(monitor="val_auc")])
    with pytest.raises(ValueError, match=r"\['val_los'\]"):
        model.fit(XR, YR, validation_split=0.25, verbose=0,
                  callbacks=[C.ModelCheckpoint("m-{epoch}-{val_los:.2f}.keras")])


def test_val_acc_alias_and_history_learning_rate(tmp_path):
    model = small_model()
    es = C.EarlyStopping(monitor="val_acc", patience=50)
    rl = C.ReduceLROnPlateau(monitor="acc", patience=1, factor=0.5)
    h = model.fit(XR, YR, validation_split=0.25, epochs=4, batch_size=8, verbose=0, callbacks=[es, rl])
    assert es.best == max(h.history["val_accuracy"]) and es.monitor_op is np.greater
    assert len(h.history["learning_rate"]) == 4
    model2 = small_model(metrics=["acc"])
    h = model2.fit(XR, YR, validation_split=0.25, epochs=2, verbose=0,
                   callbacks=[C.EarlyStopping(monitor="val_accuracy")])
    assert "val_acc" in h.history


def test_checkpoint_files_in_fit(tmp_path):
    model = small_model()
    pattern = str(tmp_path / "ck" / "m-{epoch:02d}-{val_loss:.2f}.keras")
    h = model.fit(XR, YR, validation_split=0.25, epochs=3, verbose=0,
                  callbacks=[C.ModelCheckpoint(pattern)])
    want = sorted(f"m-{e + 1:02d}-{v:.2f}.keras" for e, v in enumerate(h.history["val_loss"]))
    assert sorted(os.listdir(tmp_path / "ck")) == want
    best = tmp_path / "best.weights.h5"
    model.fit(XR, YR, validation_split=0.25, epochs=2, verbose=0,
              callbacks=[C.ModelCheckpoint(best, monitor="val_accuracy", save_best_only=True,
                                           save_weights_only=True)])
    assert best.exists()


def test_csv_logger_in_fit_matches_history(tmp_path):
    model = small_model()
    path = tmp_path / "train.csv"
    h = model.fit(XR, YR, validation_split=0.25, epochs=3, verbose=0, callbacks=[C.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    for e, row in enumerate(rows[1:]):
        assert int(row[0]) == e
        assert [float(v) for v in row[1:]] == [h.history[k][e] for k in rows[0][1:]]


def test_terminate_on_nan_and_lambda_callback(capsys):
    model = small_model()
    events = []

    def poison(batch, logs):
        if batch == 2:
            model.layers[0].kernel.value[...] = np.nan
    cb = C.LambdaCallback(on_train_batch_begin=poison,
                          on_train_batch_end=lambda b, logs: events.append(("batch", b)),
                          on_epoch_end=lambda e, logs: events.append(("epoch", e)))
    h = model.fit(XR, YR, epochs=3, batch_size=8, verbose=0, callbacks=[cb, C.TerminateOnNaN()])
    assert events == [("batch", 0), ("batch", 1), ("batch", 2), ("epoch", 0)]
    assert h.epoch == [0] and "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out
    model = small_model()
    cb = C.LambdaCallback(on_train_batch_begin=lambda b, logs: model.layers[0].kernel.value.fill(np.inf))
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        model.fit(XR, YR, epochs=1, batch_size=8, verbose=0,
                  callbacks=[cb, C.TerminateOnNaN(raise_error=True)])


class Interrupt(C.Callback):
    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch = epoch, batch

    def on_epoch_end(self, epoch, logs=None):
        if self.batch is None and epoch == self.epoch:
            raise KeyboardInterrupt

    def on_train_batch_end(self, batch, logs=None):
        if self.batch is not None and batch == self.batch and self.epoch == self.model._epoch_seen:
            raise KeyboardInterrupt

    def on_epoch_begin(self, epoch, logs=None):
        self.model._epoch_seen = epoch


def test_backup_and_restore_resumes_exactly(tmp_path):
    ref = small_model()
    ref.fit(XR, YR, epochs=5, batch_size=8, shuffle=False, verbose=0)
    model = small_model()
    backup = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        model.fit(XR, YR, epochs=5, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[C.BackupAndRestore(backup), Interrupt(2)])
    assert model.history.epoch == [0, 1]   # epoch 2 was interrupted in on_epoch_end
    assert json.loads((backup / "training_metadata.json").read_text()) == {"epoch": 3, "batch": 0}
    fresh = small_model()   # a new process: new model, same code
    h = fresh.fit(XR, YR, epochs=5, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[C.BackupAndRestore(backup)])
    assert h.epoch == [3, 4]
    assert not backup.exists()   # deleted at normal end
    for a, b in zip(fresh.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert fresh.optimizer.iterations == ref.optimizer.iterations == 30


def test_ctrl_c_in_a_batch_keeps_the_model_usable():
    model = small_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(XR, YR, epochs=3, batch_size=8, verbose=0, callbacks=[Interrupt(1, batch=2)])
    assert model.history.epoch == [0]
    assert model.optimizer.iterations == 6 + 3
    assert np.isfinite(model.predict(XR, verbose=0)).all()
    h = model.fit(XR, YR, epochs=1, batch_size=8, verbose=0)   # training continues
    assert h.epoch == [0] and model.optimizer.iterations == 15
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_during_the_optimizer_step_waits_for_the_whole_step(monkeypatch):
    ref = small_model()
    ref.fit(XR[:8], YR[:8], epochs=1, batch_size=8, shuffle=False, verbose=0)   # one step
    model = small_model()
    real = baeum.ops.optimizer_step

    def interrupted(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)      # Ctrl+C arrives in the middle of the step
        return real(*args, **kwargs)
    monkeypatch.setattr(baeum.ops, "optimizer_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.fit(XR, YR, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert model.optimizer.iterations == 1          # the step completed, then the stop
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setattr(baeum.ops, "optimizer_step", real)
    model.fit(XR, YR, epochs=1, batch_size=8, verbose=0)
    assert model.optimizer.iterations == 7
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_early_stopping_reused_keeps_best_like_keras():
    cb = C.EarlyStopping(patience=0)
    drive(cb, [1.0, 0.5])
    assert cb.best == 0.5
    _, last, _ = drive(cb, [0.9, 0.8, 0.7])   # no value beats 0.5 from the first run
    assert last == 1 and cb.stopped_epoch == 1


def test_reduce_lr_auto_mode_is_keras_name_rule():
    # "acc" in the name -> max; anything else -> min (even an AUC, as in Keras)
    cb = C.ReduceLROnPlateau(monitor="val_acc", patience=1, factor=0.5, min_delta=0.0)
    model, _, _ = drive(cb, [0.5, 0.6, 0.55], "val_acc", Scripted(lr=1.0))
    assert model.optimizer.learning_rate == 0.5
    cb = C.ReduceLROnPlateau(monitor="val_auc", patience=1, factor=0.5, min_delta=0.0)
    model, _, _ = drive(cb, [0.5, 0.6], "val_auc", Scripted(lr=1.0))
    assert model.optimizer.learning_rate == 0.5   # a rising AUC counts as no improvement


def test_backup_and_restore_every_n_batches(tmp_path):
    model = small_model()
    backup = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        model.fit(XR, YR, epochs=3, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[C.BackupAndRestore(backup, save_freq=4, delete_checkpoint=False),
                             Interrupt(1, batch=3)])
    # 6 steps per epoch: saved after steps 4 (epoch 0), 8 and ... (epoch 1, batch 2 -> 3 seen)
    assert json.loads((backup / "training_metadata.json").read_text()) == {"epoch": 1, "batch": 2}
    fresh = small_model()
    h = fresh.fit(XR, YR, epochs=3, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[C.BackupAndRestore(backup, save_freq=4)])
    assert h.epoch == [1, 2] and not backup.exists()
    assert fresh.optimizer.iterations == 8 + 12
    with pytest.raises(ValueError, match="save_freq"):
        C.BackupAndRestore(backup, save_freq="batch")


def test_scheduler_sets_the_lr_every_step_of_the_epoch_uses():
    model = small_model(optimizer=baeum.optimizers.SGD(0.1))
    seen = []
    record = C.LambdaCallback(on_train_batch_begin=lambda b, logs: seen.append(model.optimizer.learning_rate))
    sched = C.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
    h = model.fit(XR, YR, epochs=3, batch_size=16, verbose=0, callbacks=[sched, record])
    assert seen == [0.1] * 3 + [0.05] * 3 + [0.025] * 3
    assert h.history["learning_rate"] == [float(np.float32(v)) for v in (0.1, 0.05, 0.025)]


def test_every_exported_callback_exists():
    for name in C.__all__:
        assert getattr(C, name) is not None
