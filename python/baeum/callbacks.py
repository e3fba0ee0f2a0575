"""Training callbacks (Keras ``keras.callbacks``): ``Callback``, ``CallbackList``,
``History``, ``ProgbarLogger``.

Hook order during ``fit(epochs=2, validation_split=...)`` (KERAS_SEMANTICS.md §7.1)::

    on_train_begin
      on_epoch_begin(0)
        on_train_batch_begin(i) -> on_train_batch_end(i, running-mean logs)   per batch
        on_test_begin -> on_test_batch_begin/end(i) ... -> on_test_end   (validation)
      on_epoch_end(0, {loss, <metrics>, val_loss, val_<metrics>})
      ...
    on_train_end(logs of the last epoch)

``CallbackList`` hands every callback the same "pythonified" logs dict per event: values
as Python floats, keys sorted alphabetically (so the bar shows ``accuracy`` before
``loss``). Its order is: user callbacks, then ``History``, then ``ProgbarLogger``.
``params`` = ``{"verbose": v, "epochs": E, "steps": steps_per_epoch}``.

The Keras callbacks (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau,
LearningRateScheduler, CSVLogger, TerminateOnNaN, LambdaCallback, BackupAndRestore) live in
``baeum/callbacks_keras.py`` and are re-exported here.

One difference from Keras, on purpose: a ``monitor`` that the logs of this ``fit`` will not
contain fails at the START of ``fit`` (ValueError listing the keys ``fit`` produces);
Keras only warns at every epoch end. ``val_acc`` / ``acc`` are accepted for
``val_accuracy`` / ``accuracy`` and vice versa.
"""
import sys

from baeum.utils.progbar import Progbar, write

_LATER = ("TensorBoard", "RemoteMonitor", "SwapEMAWeights")


def pythonify_logs(logs):
    """New dict: keys sorted, values converted with ``float()`` where possible, nested
    dicts flattened (Keras ``python_utils.pythonify_logs``)."""
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            pass
        result[key] = value
    return result


class Callback:
    """Base class: every hook is a no-op. ``self.model`` and ``self.params`` are set by
    the model before training. ``on_train_batch_begin/end`` call the legacy
    ``on_batch_begin/end``, as in Keras."""

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


class History(Callback):
    """Records the epoch logs: ``history[key]`` is a list with one value per epoch
    (``loss``, metrics, ``val_*``); ``epoch`` lists the epoch indices. The model's
    ``fit`` returns this object and stores it as ``model.history``."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints progress (Keras ``ProgbarLogger``): "Epoch i/E" headers when E > 1, then a
    bar per epoch (verbose=1) or one line per epoch (verbose=2); verbose 0 prints nothing.
    Validation inside ``fit`` is silent (its ``val_*`` values join the epoch line);
    ``evaluate`` and ``predict`` get their own bar.

    ``stream``, ``time_fn`` and ``dynamic`` (keyword-only, not in Keras) are passed to
    ``baeum.utils.Progbar``: where to write, the clock, and whether to redraw in place.
    """

    def __init__(self, *, stream=None, time_fn=None, dynamic=None):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False
        self._bar_kwargs = {"stream": stream, "time_fn": time_fn, "dynamic": dynamic}

    def set_params(self, params):
        super().set_params(params)
        verbose = params["verbose"]
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params["epochs"]
        self.target = params["steps"]

    def _print(self, text):
        stream = self._bar_kwargs["stream"]
        write(stream if stream is not None else sys.stdout, text + "\n")

    def on_train_begin(self, logs=None):
        self._called_in_fit = True  # validation inside fit shows no bar of its own

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            self._print(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)  # predictions are not metrics

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None:
            # stateless_metrics=set(): logs are already running means, shown as given.
            self.progbar = Progbar(target=self.target, verbose=self.verbose,
                                   unit_name="step", stateless_metrics=set(),
                                   **self._bar_kwargs)

    def _update_progbar(self, batch, logs=None):
        self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs):
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)


class CallbackList(Callback):
    """Calls every callback in order (Keras ``CallbackList``).

    Args:
        callbacks: list of ``Callback`` (nested lists are flattened).
        add_history: append a ``History`` unless one is in ``callbacks``.
        add_progbar: append a ``ProgbarLogger`` unless one is in ``callbacks``.
        model: passed to every callback's ``set_model`` (and ``model.history`` is set).
        **params: if given, passed to every callback's ``set_params``.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        super().__init__()
        self.callbacks = _flatten(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"CallbackList: every callback must be a baeum.callbacks.Callback, "
                    f"received {type(cb).__name__}. Fix: subclass Callback and override "
                    "the hooks you need."
                )
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)),
                             None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def check_log_keys(self, validating):
        """Called by fit before on_train_begin: every callback with a ``monitor`` (or a
        filepath template) checks it against the keys this fit's logs will hold."""
        from baeum.callbacks_keras import fit_log_keys

        keys = fit_log_keys(self.model, validating, self.callbacks)
        for cb in self.callbacks:
            check = getattr(cb, "_check_log_keys", None)
            if check is not None:
                check(keys)

    _BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end",
                    "on_test_batch_begin", "on_test_batch_end")

    @property
    def wants_batch_logs(self):
        """Whether any callback does something per batch. When none does (History, a
        verbose=2 or 0 progress logger), the training loop skips the per-batch calls and
        the running-average logs they would receive: at batch size 10 that is a large
        share of the step's Python time, and nothing observable changes."""
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                if cb.verbose == 1:
                    return True
            elif not isinstance(cb, History) and any(
                    getattr(type(cb), h) is not getattr(Callback, h) or h in vars(cb)
                    for h in self._BATCH_HOOKS):  # vars: LambdaCallback's instance hooks
                return True
        return False

    def set_params(self, params):
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def _call(self, hook, *args, logs=None):
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            getattr(cb, hook)(*args, logs)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs=logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs=logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs=logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs=logs)


def _flatten(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    out = []
    for cb in callbacks:
        out.extend(_flatten(cb) if isinstance(cb, (list, tuple)) else [cb])
    return out


def __getattr__(name):
    if name in _LATER:
        raise NotImplementedError(
            f"baeum.callbacks.{name} is not implemented in baeum. Available: "
            + ", ".join(__all__[:-1]) + "."
        )
    raise AttributeError(f"module 'baeum.callbacks' has no attribute {name!r}")


from baeum.callbacks_keras import (  # noqa: E402  (they subclass Callback above)
    BackupAndRestore, CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler,
    ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN)

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
           "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger",
           "TerminateOnNaN", "LambdaCallback", "BackupAndRestore", "pythonify_logs"]
