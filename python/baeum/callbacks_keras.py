"""Keras's training callbacks (KERAS_SEMANTICS.md §6.2, §6.3, §7.3-§7.7), exported from
``baeum.callbacks``.

Counters follow Keras 3 exactly (e.g. EarlyStopping increments ``wait`` before testing for
an improvement and stops only when ``wait >= patience and epoch > 0``; ReduceLROnPlateau's
cooldown zeroes ``wait``). Epochs are 0-based in hooks and logs (CSVLogger's ``epoch``
column), 1-based in messages and in ModelCheckpoint's ``{epoch}``.

Learning rates are read and written as float32 values, as Keras's float32 variable holds
them (so ReduceLROnPlateau gives Keras's sequence to the last bit).
"""
import collections
import csv
import json
import math
import os
import re
import shutil
import string
import sys
import warnings

import numpy as np

from baeum.callbacks import Callback

_ALIASES = {"acc": "accuracy", "accuracy": "acc", "val_acc": "val_accuracy",
            "val_accuracy": "val_acc"}


def _print(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def fit_log_keys(model, validating, callbacks=()):
    """The keys of the epoch logs ``fit`` will produce: loss, metric names, their val_
    copies when validating, and keys callbacks add (learning_rate)."""
    own = getattr(model, "_expected_log_keys", None)
    if own is not None:
        keys = list(own())
    else:
        keys = ["loss"] + [m.name for m in (getattr(model, "metrics", None) or [])]
    if validating:
        keys += ["val_" + k for k in keys]
    for cb in callbacks:
        keys += list(getattr(cb, "_adds_log_keys", ()))
    return sorted(set(keys))


# ------------------------------------------------------------------------- monitor logic
_MAX_HINTS = ("accuracy", "acc", "auc", "precision", "recall", "f1", "iou", "top_k")


def _metric_direction(metric):
    """'up', 'down' or None for a compiled metric object."""
    d = getattr(metric, "_direction", None)
    if d in ("up", "down"):
        return d
    cls = type(metric).__name__
    if cls.endswith("Accuracy") or cls in ("AUC", "Precision", "Recall", "F1Score", "FBetaScore"):
        return "up"
    if cls.endswith(("Error", "Crossentropy")) or cls in ("Hinge", "SquaredHinge", "KLDivergence",
                                                         "Poisson", "LogCoshError"):
        return "down"
    return None


class _MonitorMixin:
    """Keras's MonitorCallback: the improvement test and the auto mode."""

    def _init_monitor(self, monitor, mode, min_delta, baseline=None):
        self.monitor = monitor
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode {mode} is unknown, fallback to auto mode.",
                          stacklevel=3)
            mode = "auto"
        self.mode = mode
        self.min_delta = abs(min_delta)
        self.baseline = baseline
        self.monitor_op = None
        self._monitor_key = monitor
        self._key_checked = False

    def _check_log_keys(self, keys):
        if self.monitor in keys:
            self._monitor_key = self.monitor
        elif _ALIASES.get(self.monitor) in keys:
            self._monitor_key = _ALIASES[self.monitor]
        else:
            hint = ""
            if self.monitor.startswith("val_") and not any(k.startswith("val_") for k in keys):
                hint = (" This fit has no validation data, so there are no val_ keys: pass "
                        "validation_data=(x_val, y_val) or validation_split=0.2 to fit.")
            raise ValueError(
                f"{type(self).__name__}(monitor={self.monitor!r}): the logs of this fit will not "
                f"contain {self.monitor!r}. Available keys: {keys}.{hint} Fix: monitor one of "
                "the available keys (metric names come from compile(metrics=[...]))."
            )
        self._key_checked = True

    def _value(self, logs):
        logs = logs or {}
        if self._monitor_key in logs:
            return logs[self._monitor_key]
        alias = _ALIASES.get(self.monitor)
        if alias in logs:
            return logs[alias]
        return None

    def _set_monitor_op(self):
        if self.mode == "min":
            op = np.less
        elif self.mode == "max":
            op = np.greater
        else:
            name = self._monitor_key
            name = name[4:] if name.startswith("val_") else name
            op = np.less if name == "loss" else None
            if op is None:
                for m in getattr(self.model, "metrics", None) or []:
                    if getattr(m, "name", None) in (name, _ALIASES.get(name)):
                        d = _metric_direction(m)
                        op = {"up": np.greater, "down": np.less}.get(d)
            if op is None and (name.endswith("loss")):
                op = np.less
            if op is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor} but baeum "
                    "isn't able to automatically determine whether that metric should be "
                    "maximized or minimized. Pass `mode='max'` in order to monitor based on the "
                    "highest metric value, or pass `mode='min'` in order to use the lowest value.")
        self.monitor_op = op
        self._sign = -1.0 if op is np.less else 1.0

    def _is_improvement(self, current, reference):
        if reference is None:
            return True
        return bool(self.monitor_op(current - self._sign * self.min_delta, reference))

    def _initial_best(self):
        return math.inf if self.monitor_op is np.less else -math.inf


# ------------------------------------------------------------------------- EarlyStopping
class EarlyStopping(_MonitorMixin, Callback):
    """Stop training when ``monitor`` has stopped improving (Keras 3 semantics).

    Per epoch (from ``start_from_epoch`` on): ``wait += 1``; on an improvement (beyond
    ``min_delta``) remember the epoch (and the weights if ``restore_best_weights``) and
    reset ``wait`` — only if ``baseline`` is None or also beaten; otherwise stop when
    ``wait >= patience`` (and epoch > 0). ``restore_best_weights`` restores at the end of
    training even when it ran to completion (Keras 3).
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self._init_monitor(monitor, mode, min_delta, baseline)
        self.patience = patience
        self.verbose = verbose
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        # Keras resets these but not `best` (set once, with the monitor direction).
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
            self.best = self._initial_best()
        current = self._value(logs)
        if current is None:
            if not self._key_checked:
                warnings.warn(
                    f"Early stopping conditioned on metric `{self.monitor}` which is not "
                    f"available. Available metrics are: {','.join(list((logs or {}).keys()))}",
                    stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # the current weights are the best
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print("Restoring model weights from the end of the best epoch: "
                       f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        return self._value(logs)


# ------------------------------------------------------------------------- ModelCheckpoint
class ModelCheckpoint(_MonitorMixin, Callback):
    """Save the model (or its weights) during training (Keras 3).

    ``filepath`` may hold ``str.format`` fields: ``{epoch}`` (1-based), any log key
    (``{val_loss:.2f}``) and ``{batch}`` (1-based, with an integer ``save_freq``). It must
    end in ``.keras`` or ``.h5`` — ``.weights.h5`` with ``save_weights_only=True``. Files
    are written atomically; missing directories are created.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self._init_monitor(monitor, mode, 0)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self.best = initial_value_threshold
        self._batches_seen_since_last_saving = 0
        self._current_epoch = 0
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or integer values")
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                    "provided must end in `.weights.h5` (Keras weights format). Received: "
                    f"filepath={self.filepath}")
        elif not self.filepath.endswith((".keras", ".h5", ".hdf5")) or \
                self.filepath.endswith(".weights.h5"):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format) or `.h5` "
                f"(legacy). Received: filepath={self.filepath}")

    def _check_log_keys(self, keys):
        if self.save_best_only:
            super()._check_log_keys(keys)
        fields = {f for _, f, _, _ in string.Formatter().parse(self.filepath) if f}
        allowed = set(keys) | {"epoch"} | ({"batch"} if self.save_freq != "epoch" else set())
        bad = sorted(f for f in fields if re.split(r"[.\[]", f)[0] not in allowed)
        if bad:
            raise ValueError(
                f"ModelCheckpoint filepath {self.filepath!r} uses {bad}, which this fit's logs "
                f"will not contain. Available: epoch{', batch' if 'batch' in allowed else ''} and "
                f"{keys}.")

    def on_train_begin(self, logs=None):
        if self.save_best_only and self.monitor_op is None:
            self._set_monitor_op()
            if self.best is None:
                self.best = self._initial_best()

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches_seen_since_last_saving += 1
            if self._batches_seen_since_last_saving >= self.save_freq:
                self._batches_seen_since_last_saving = 0
                self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None:
                return self.filepath.format(epoch=epoch + 1, **(logs or {}))
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **(logs or {}))
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e}") from e

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        dirname = os.path.dirname(filepath)
        if dirname and not os.path.exists(dirname):
            os.makedirs(dirname, exist_ok=True)
        if self.save_best_only:
            if self.monitor_op is None:
                self._set_monitor_op()
                if self.best is None:
                    self.best = self._initial_best()
            current = self._value(logs)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available.",
                              stacklevel=2)
                self._write(filepath, epoch)
                return
            if self._is_improvement(current, self.best):
                if self.verbose > 0:
                    _print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                           f"{current:.5f}, saving model to {filepath}")
                self.best = current
                self._write(filepath, epoch)
            elif self.verbose > 0:
                _print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
        else:
            if self.verbose > 0:
                _print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            self._write(filepath, epoch)

    def _write(self, filepath, epoch):
        if os.path.isdir(filepath):
            raise IOError("Please specify a non-directory filepath for ModelCheckpoint. "
                          f"Filepath used is an existing directory: {filepath}")
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            _print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")


# ------------------------------------------------------------------------- learning rate
def _lr_f32(optimizer):
    if not hasattr(optimizer, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute.')
    return float(np.float32(optimizer.learning_rate))


class ReduceLROnPlateau(_MonitorMixin, Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs; then wait ``cooldown`` epochs; never below ``min_lr``.

    Keras's own rules (not EarlyStopping's): mode "auto" means max if "acc" is in the
    monitor's name, else min; improvement is ``current < best − min_delta`` (min) or
    ``current > best + min_delta`` (max), min_delta as given (not its absolute value).
    """

    _adds_log_keys = ("learning_rate",)

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            warnings.warn("`epsilon` argument is deprecated and will be removed, use "
                          "`min_delta` instead.", stacklevel=2)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected arguments {sorted(kwargs)}.")
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.monitor = monitor
        self._monitor_key = monitor
        self._key_checked = False
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0
        self.best = 0
        self.mode = mode
        self.monitor_op = None
        self._reset()

    def _reset(self):
        if self.mode not in {"auto", "min", "max"}:
            warnings.warn(f"Learning rate reduction mode {self.mode} is unknown, fallback to "
                          "auto mode.", stacklevel=2)
            self.mode = "auto"
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = math.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _lr_f32(self.model.optimizer)
        current = self._value(logs)
        if current is None:
            if not self._key_checked:
                warnings.warn(
                    "Learning rate reduction is conditioned on metric "
                    f"`{self.monitor}` which is not available. Available metrics are: "
                    f"{','.join(list(logs.keys()))}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = _lr_f32(self.model.optimizer)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr  # the step rounds to float32
                    if self.verbose > 0:
                        _print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                               f"to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)``), epoch 0-based; the value must be a float."""

    _adds_log_keys = ("learning_rate",)

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = _lr_f32(self.model.optimizer)
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:  # support for the old API: schedule(epoch)
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.float32, np.float64)):
            raise ValueError("The output of the `schedule` function should be a float. "
                             f"Got: {lr}")
        self.model.optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            _print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _lr_f32(self.model.optimizer)


# ------------------------------------------------------------------------- CSVLogger
class CSVLogger(Callback):
    """Stream epoch results to a CSV file: ``epoch`` (0-based) then the sorted log keys
    (``val_`` columns added when the first epoch has none; missing values ``NA``)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        self.csv_file = open(self.filename, mode)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}

        def handle_value(k):
            is_zero_dim_ndarray = isinstance(k, np.ndarray) and k.ndim == 0
            if isinstance(k, str):
                return k
            if isinstance(k, collections.abc.Iterable) and not is_zero_dim_ndarray:
                return f"\"[{', '.join(map(str, k))}]\""
            return k

        if self.keys is None:
            self.keys = sorted(logs.keys())
            if not any(k.startswith("val_") for k in self.keys):
                self.keys.extend(["val_" + k for k in self.keys])
        if not self.writer:
            class CustomDialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=CustomDialect)
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.writer = None


# ------------------------------------------------------------------------- small ones
class TerminateOnNaN(Callback):
    """Stop training (or raise, with ``raise_error=True``) when a batch loss is NaN/Inf."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (np.isnan(loss) or np.isinf(loss)):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. "
                                   "Stopping training.")
            _print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions: ``on_epoch_end=lambda epoch, logs: ...``; any
    ``on_*`` keyword becomes that hook."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end}
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


# ------------------------------------------------------------------------- BackupAndRestore
class BackupAndRestore(Callback):
    """Resume an interrupted ``fit`` (Keras 3): the weights (with the optimizer state) go to
    ``backup_dir/latest.weights.h5`` and the progress to ``backup_dir/training_metadata.json``
    at the end of every epoch (``save_freq="epoch"``) or every ``save_freq`` batches; the next
    ``fit`` with a BackupAndRestore on the same ``backup_dir`` reloads them and continues from
    the first unfinished epoch (with batch-level saving, that epoch restarts from its first
    batch with the saved weights, as in Keras). The backup is deleted when training ends
    normally (``delete_checkpoint=True``). Every write is atomic, so a crash during a backup
    leaves the previous one intact (Keras's ``double_checkpoint`` is not needed)."""

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq < 1):
            raise ValueError("Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq}. Expected either 'epoch' or an integer "
                             "value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._current_epoch = 0
        self._last_batch_seen = 0
        self._batches_seen_since_last_saving = 0
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, your model must be built "
                             "before you call `fit()`. Fix: start it with baeum.Input(shape), "
                             "or call it on a batch of data first.")
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path, "r") as f:
                self.model._initial_epoch = json.loads(f.read())["epoch"]

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._last_batch_seen = batch + 1
        self._batches_seen_since_last_saving += 1
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save_model()

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def _save_model(self):
        from baeum.saving.saving_lib import atomic_write

        os.makedirs(self.backup_dir, exist_ok=True)
        self.model.save_weights(self._weights_path, overwrite=True)
        meta = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        atomic_write(self._training_metadata_path, json.dumps(meta).encode())

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
