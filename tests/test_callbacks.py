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
    with pytest.raises(NotImplementedError, match="EarlyStopping"):
        C.EarlyStopping
    with pytest.raises(AttributeError):
        C.NoSuchThing
