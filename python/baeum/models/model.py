"""Model: compile / fit / evaluate / predict over a tape of layer calls (Keras `keras.Model`).

Training step, in order (``_train_step``):
  1. forward: each layer call appends (layer, ctx) to the tape;
  2. loss and d(loss)/d(output) — fused with the output activation when the pair has a
     stable fused form (sigmoid + binary CE, softmax + categorical CE);
  3. all gradients zeroed at once (one flat buffer), then backward walks the tape in reverse;
  4. regularisation penalties added to the loss and their gradients to the weights;
  5. ONE optimizer call updates every trainable weight (flat buffers, C++).
"""
import math

import numpy as np

from baeum.layers.base import Layer, unique_name, _snake_case
from baeum.models import checks
from baeum.models.data import class_weights_to_sample_weights, to_array, unpack_validation_data
from baeum.utils import _interrupt


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _auto_config(cls, args, kwargs):
    """{argument: value} of cls(*args, **kwargs) if every value is plain JSON, else None."""
    import inspect

    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except TypeError:
        return None
    config = {}
    for name, value in list(bound.arguments.items())[1:]:
        param = inspect.signature(cls.__init__).parameters[name]
        if param.kind == param.VAR_KEYWORD:
            config.update(value)
        elif param.kind == param.VAR_POSITIONAL:
            if value:
                return None
        else:
            config[name] = value
    return config if _plain(config) else None


class Model(Layer):
    """Base class of models, in Keras's three styles:

    * `Sequential([...])` (models/sequential.py);
    * functional `Model(inputs, outputs)` (returns a `Functional`, models/functional.py);
    * subclassing: `class M(Model)` creating layers in `__init__` and using them in
      `call(self, inputs, training=None)`; the call is recorded on the tape as it runs.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from baeum.models.functional import Functional

            return Functional.__new__(Functional)
        obj = super().__new__(cls)
        # Keras 3's auto-config: a subclassed model's constructor arguments, when they are
        # plain JSON values, are its config (so it saves without a get_config of its own).
        obj._auto_config = _auto_config(cls, args, kwargs)
        return obj

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        from baeum.models import graph_training

        graph_training.install_for_subclass(cls)

    def __init__(self, *args, **kwargs):
        if type(self) is Model:
            raise TypeError("Model(...) needs inputs= and outputs= (the functional API), e.g. "
                            "Model(inputs=baeum.Input((4,)), outputs=...); or subclass baeum.Model and define call().")
        if args:
            raise TypeError(f"{type(self).__name__}: unexpected positional arguments {args!r}; "
                            "pass name=/trainable= by keyword.")
        name = kwargs.pop("name", None) or unique_name(_snake_case(type(self).__name__))
        self.__dict__["_tracked"] = []  # layers assigned as attributes (subclassed models)
        super().__init__(name=name, **kwargs)
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.history = None
        self.stop_training = False
        self._flat_vars = None
        self._fuse = None
        self._has_activity = False
        self._seg_version = None
        self._plan = None

    # ---- layer tracking (subclassed models) ------------------------------------------------
    def __setattr__(self, name, value):
        tracked = self.__dict__.get("_tracked")
        if tracked is not None and not name.startswith("_") and (
                isinstance(value, Layer) or (isinstance(value, (list, tuple)) and value
                                             and all(isinstance(v, Layer) for v in value))):
            for layer in (value if isinstance(value, (list, tuple)) else [value]):
                if not any(layer is t for t in tracked):
                    tracked.append(layer)
        object.__setattr__(self, name, value)

    @property
    def layers(self):
        """Layers assigned as attributes, in assignment order (a subclassed model)."""
        return list(self.__dict__.get("_tracked", []))

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        # Keras: recursive over every sub-layer (so freezing a model freezes its layers).
        Layer.trainable.fset(self, value)
        for layer in self.layers:
            layer.trainable = value

    @property
    def variables(self):
        return [v for layer in self.layers for v in layer.variables]

    def compute_output_shape(self, input_shape):
        return self.output_shape

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "input_layers" in config and "output_layers" in config:  # a functional model's config
            from baeum.models.functional import Functional

            return Functional.from_config(config, custom_objects=custom_objects)
        return cls(**config)

    # ---- a model used as a layer (inside another model) -----------------------------------
    def forward(self, x, ctx, training):
        from baeum.models.graph_training import Tape

        tape = Tape()
        y = self._forward(x, training, tape)
        ctx["tape"] = tape
        penalty = self._activity_penalty(tape)
        if penalty:
            ctx["activity_penalty"] = penalty
        return y

    def backward(self, dy, ctx, need_dx=True):
        return self._backward_nested(dy, ctx["tape"], need_dx)

    # ---- weights ---------------------------------------------------------------------------
    @property
    def weights(self):
        return [v for layer in self.layers for v in layer.weights]

    @property
    def trainable_weights(self):
        return [v for layer in self.layers for v in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [v for layer in self.layers for v in layer.non_trainable_weights]

    def count_params(self):
        self._require_built("count_params()")
        return int(sum(v.size for v in self.weights))

    def get_layer(self, name=None, index=None):
        if (name is None) == (index is None):
            raise ValueError("get_layer: provide exactly one of name= or index=.")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: index {index} is out of range; the model has {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers are: {[l.name for l in self.layers]}.")

    def _pack_weights(self):
        """Move every weight into one flat value buffer and one flat gradient buffer, so the
        optimizer updates all of them in one call and gradients are zeroed with one fill."""
        variables = [v for layer in self.layers for v in layer.variables]
        if self._flat_vars is not None and len(variables) == len(self._flat_vars) and all(
                a is b and a.value.base is self._flat_values for a, b in zip(variables, self._flat_vars)):
            return  # (a layer shared with another model that packed it since moves back here)
        total = sum(v.size for v in variables)
        values = np.empty(total, np.float32)
        grads = np.zeros(total, np.float32)
        offset = 0
        self._offsets = {}
        for v in variables:
            n = v.size
            values[offset:offset + n] = v.value.reshape(-1)
            v.value = values[offset:offset + n].reshape(v.shape)
            v.grad = grads[offset:offset + n].reshape(v.shape)
            self._offsets[id(v)] = offset
            offset += n
        self._flat_vars, self._flat_values, self._flat_grads = variables, values, grads

    def _segments(self):
        """(offset, size) of every trainable weight: what the optimizer updates."""
        seg = [(self._offsets[id(v)], v.size) for v in self._flat_vars if v.trainable]
        return np.array(seg, dtype=np.int64).reshape(-1, 2)

    # ---- compile ---------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1, jit_compile="auto",
                auto_scale_loss=True):
        from baeum import losses, optimizers

        if loss is None:
            raise ValueError("compile: loss is required, e.g. loss='binary_crossentropy'. "
                             f"Valid names: {losses.VALID_NAMES if hasattr(losses, 'VALID_NAMES') else '...'}")
        if isinstance(loss, (list, dict)) and not (isinstance(loss, list) and len(loss) == 1):
            raise NotImplementedError("compile: one loss per output; multi-output models are not implemented yet.")
        if isinstance(loss, list):
            loss = loss[0]
        if loss_weights is not None and not isinstance(loss_weights, (int, float)):
            raise NotImplementedError("compile: loss_weights must be a single number for a single-output model.")
        if weighted_metrics:
            raise NotImplementedError("compile: weighted_metrics are not implemented yet; use metrics=.")
        if steps_per_execution != 1:
            raise NotImplementedError("compile: steps_per_execution other than 1 is not implemented.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss if isinstance(loss, str) and loss in ("crossentropy", "ce") else losses.get(loss)
        self._loss_identifier = loss
        self._loss_weight = 1.0 if loss_weights is None else float(loss_weights)
        if metrics is None:
            metrics = []
        elif not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        self._metric_identifiers = list(metrics)
        self.metrics = None  # resolved at the first fit/evaluate, when shapes are known
        self.compiled = True

    def _resolve_loss_and_metrics(self, y_shape, pred_shape):
        from baeum import losses, metrics as metrics_mod

        if isinstance(self.loss, str):  # 'crossentropy' resolves by shapes, like 'accuracy'
            sparse = len(y_shape) < len(pred_shape) or (y_shape[-1] == 1 and pred_shape[-1] > 1)
            name = ("binary_crossentropy" if pred_shape[-1] == 1 else
                    "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy")
            self.loss = losses.get(name)
        if self.metrics is None:
            self.metrics = [metrics_mod.get(m, y_true_shape=y_shape, y_pred_shape=pred_shape, loss=self.loss)
                            for m in self._metric_identifiers]
        self._fuse = checks.fused_output_activation(self)

    # ---- the step ---------------------------------------------------------------------------
    def _loss_and_grad(self, y, y_pred, sw, tape):
        """(loss value, d loss / d output, whether the gradient is w.r.t. the output's logits)."""
        if self._fuse is not None:
            layer, ctx = tape[-1]
            res = self.loss.value_and_grad_logits(y, layer.logits(ctx), self._fuse, sample_weight=sw)
            if res is not None:
                return res[0], res[1], True
        value, grad = self.loss.value_and_grad(y, y_pred, sample_weight=sw)
        return value, grad, False

    def _regularization(self, add_gradients):
        """Σ penalties of trainable weights (Keras adds them once per batch, not per sample)."""
        penalty = 0.0
        for v in self._reg_vars:
            penalty += float(v.regularizer(v.value))
            if add_gradients:
                v.grad += v.regularizer.gradient(v.value)
        return penalty

    def _train_step(self, x, y, sw):
        fused = self._plan.step(x, y) if self._plan is not None and sw is None else None
        if fused is not None:  # the whole forward/loss/backward in one C++ call
            value, y_pred = fused
        else:
            tape = []
            y_pred = self._forward(x, True, tape)
            value, dy, from_logits = self._loss_and_grad(y, y_pred, sw, tape)
            if self._loss_weight != 1.0:
                value, dy = value * self._loss_weight, dy * self._loss_weight
            self._flat_grads.fill(0.0)
            self._backward(dy, tape, from_logits)
            if self._has_activity:
                value += self._activity_penalty(tape)
        if self._reg_vars:
            value += self._regularization(add_gradients=True)
        self.optimizer.apply_flat(self._flat_values, self._flat_grads, self._seg)
        return value, y_pred

    def _test_step(self, x, y, sw):
        tape = []
        y_pred = self._forward(x, False, tape)
        value, _, _ = self._loss_and_grad(y, y_pred, sw, tape)
        value = value * self._loss_weight + self._activity_penalty(tape)
        if self._reg_vars:
            value += self._regularization(add_gradients=False)
        return value, y_pred

    # ---- data preparation -------------------------------------------------------------------
    def _prepare(self, x, y, sample_weight=None, class_weight=None, what="fit"):
        self._require_compiled(what)
        x = to_array(x, "x")
        y = to_array(y, "y")
        if len(x) == 0:
            raise ValueError(f"{what}: x is empty (0 samples). Fix: pass at least one sample.")
        if len(x) != len(y):
            raise ValueError(
                f"{what}: x and y have different numbers of samples: x has {len(x)}, y has {len(y)}. "
                "Fix: pass matching arrays (e.g. the same train/test split for both)."
            )
        self._build_for(x.shape, what)
        pred_shape = self.output_shape
        y = checks.check_targets(self, y, pred_shape, what)
        self._resolve_loss_and_metrics(y.shape, pred_shape)
        checks.check_labels_for_loss(self, y, pred_shape, what)
        if sample_weight is not None and class_weight is not None:
            raise ValueError(f"{what}: pass sample_weight or class_weight, not both.")
        if class_weight is not None:
            sample_weight = class_weights_to_sample_weights(class_weight, y)
        if sample_weight is not None:
            sample_weight = to_array(sample_weight, "sample_weight")
            if len(sample_weight) != len(x):
                raise ValueError(f"{what}: sample_weight has {len(sample_weight)} entries for {len(x)} samples.")
        return x, y, sample_weight

    def _prepare_training(self):
        from baeum.layers.base import _trainable_version

        self._pack_weights()
        version = (_trainable_version[0], id(self._flat_vars))
        if self._seg_version != version:  # trainable flags or weights changed: re-derive
            self._seg = self._segments()
            self._seg_version = version
        self._reg_vars = [v for v in self._flat_vars if v.trainable and v.regularizer is not None]
        self._has_activity = any(l.activity_regularizer is not None for l in self.layers)
        self._plan = self._fused_plan()

    def _warn_if_nothing_trains(self, what):
        """Frozen weights take effect at the next fit/train_on_batch in baeum; Keras keeps the
        trainable state of compile() time. Training a fully frozen model is then a likely
        port of the Keras GAN recipe (discriminator frozen after its own compile): say so."""
        if len(self._seg) or not self._flat_vars or self.__dict__.get("_warned_frozen") == self._seg_version:
            return
        self._warned_frozen = self._seg_version
        import warnings

        warnings.warn(
            f"{what}: model {self.name!r} has weights but none of them is trainable (its layers have "
            "trainable=False), so training changes nothing. baeum applies `trainable` at the next "
            "fit/train_on_batch, while Keras keeps the state it had at compile(). If you froze this model "
            "after compiling it (e.g. a GAN discriminator frozen for the combined model), set "
            "`trainable = True` before training it, and False again before training the combined model.",
            UserWarning, stacklevel=3)

    def _fused_plan(self):
        """A fused C++ training step for this model, or None (the layer-by-layer path)."""
        return None

    def _build_for(self, x_shape, what):
        raise NotImplementedError

    # ---- fit ---------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        from baeum import callbacks as cbm
        from baeum.utils import _rng as brandom

        batch_size = checks.batch_size_arg(batch_size, "fit")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit: epochs must be an integer >= 0, received {epochs!r}.")
        if steps_per_epoch is not None or validation_steps is not None:
            raise NotImplementedError("fit: steps_per_epoch / validation_steps are not implemented yet.")
        verbose = checks.verbose_arg(verbose)
        x, y, sample_weight = self._prepare(x, y, sample_weight, class_weight, "fit")
        if validation_data is not None:
            vx, vy, vsw = unpack_validation_data(validation_data)
            vx, vy, vsw = self._prepare(vx, vy, vsw, None, "fit (validation_data)")
        elif validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"fit: validation_split must be in (0, 1), received {validation_split!r}.")
            split_at = int(math.floor(len(x) * (1.0 - validation_split)))
            if split_at in (0, len(x)):
                raise ValueError(
                    f"fit: validation_split={validation_split} leaves "
                    f"{'no training' if split_at == 0 else 'no validation'} samples out of {len(x)}."
                )
            # Keras: the LAST samples validate, split before any shuffling.
            vx, vy = x[split_at:], y[split_at:]
            vsw = None if sample_weight is None else sample_weight[split_at:]
            x, y = x[:split_at], y[:split_at]
            sample_weight = None if sample_weight is None else sample_weight[:split_at]
        else:
            vx = None
        self._prepare_training()
        self._warn_if_nothing_trains("fit")

        n = len(x)
        steps = -(-n // batch_size)
        cb = cbm.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                              verbose=verbose, epochs=epochs, steps=steps)
        cb.check_log_keys(validating=vx is not None)  # a bad monitor= fails now, not at epoch end
        batch_cb = cb.wants_batch_logs
        rng = brandom.global_generator()
        per_batch = self._plan is not None and isinstance(x, np.ndarray) and x.size >= (1 << 16)
        xbuf = np.empty((min(batch_size, n),) + x.shape[1:], x.dtype) if per_batch else None
        self.stop_training = False
        epoch_logs = {}
        _interrupt.install()  # Ctrl+C: never half an optimizer step (baeum/utils/_interrupt.py)
        cb.on_train_begin()
        # BackupAndRestore sets _initial_epoch in on_train_begin to resume a run (Keras).
        initial_epoch, self._initial_epoch = getattr(self, "_initial_epoch", None) or initial_epoch, None
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            cb.on_epoch_begin(epoch)
            if shuffle == "batch":
                order = np.arange(n)
                for s in range(0, n, batch_size):
                    rng.shuffle(order[s:s + batch_size])
            elif shuffle:
                order = rng.permutation(n)
            else:
                order = None
            # One gather per epoch, then every batch is a contiguous slice (no copy per step).
            # With the fused C++ step (which keeps no reference to its input) the images are
            # instead gathered batch by batch into one reused buffer: no epoch-sized copy to
            # page in and stream through memory, and the step reads a batch still in cache.
            xe, ye = (x, y) if order is None else (x if per_batch else x[order], y[order])
            swe = None if sample_weight is None else (sample_weight if order is None else sample_weight[order])
            total, count = 0.0, 0
            pending = []  # batches whose metric update waits for the end of the epoch
            for step in range(steps):
                if batch_cb:
                    cb.on_train_batch_begin(step)
                lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
                yb = ye[lo:hi]
                if per_batch and order is not None:
                    xb = np.take(x, order[lo:hi], axis=0, out=xbuf[:hi - lo], mode="clip")
                else:
                    xb = xe[lo:hi]
                value, y_pred = self._train_step(xb, yb, None if swe is None else swe[lo:hi])
                total += value * (hi - lo)
                count += hi - lo
                if batch_cb:
                    for m in self.metrics:
                        m.update_state(yb, y_pred)
                elif self.metrics:
                    # Nobody reads per-batch values: update the metrics once per epoch on
                    # all predictions (same totals; ~5 µs a step saved at batch size 10).
                    pending.append(y_pred)
                if batch_cb:
                    cb.on_train_batch_end(step, self._logs(total / count))
                if self.stop_training:
                    break
            if pending:
                y_pred_all = np.concatenate(pending, axis=0)
                for m in self.metrics:
                    m.update_state(ye[:len(y_pred_all)], y_pred_all)
            epoch_logs = self._logs(total / max(count, 1))
            if vx is not None and checks.should_validate(epoch, validation_freq):
                val = self._evaluate_arrays(vx, vy, vsw, validation_batch_size or batch_size, cb)
                epoch_logs.update({"val_" + k: v for k, v in val.items()})
            cb.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cb.on_train_end(epoch_logs)
        _interrupt.uninstall()
        return self.history

    def _logs(self, loss):
        logs = {"loss": float(loss)}
        for m in self.metrics:
            logs[m.name] = float(m.result())
        return dict(sorted(logs.items()))

    def _reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    @staticmethod
    def _activity_penalty(tape):
        """Σ activity-regulariser penalties recorded by the forward pass (already / batch size)."""
        return sum(ctx.get("activity_penalty", 0.0) for _, ctx in tape)

    # ---- evaluate / predict ------------------------------------------------------------------
    def _evaluate_arrays(self, x, y, sw, batch_size, cb=None):
        self._reset_metrics()
        n = len(x)
        steps = -(-n // batch_size)
        batch_cb = cb is not None and cb.wants_batch_logs
        if cb is not None:
            cb.on_test_begin()
        total = 0.0
        for step in range(steps):
            lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
            if batch_cb:
                cb.on_test_batch_begin(step)
            value, y_pred = self._test_step(x[lo:hi], y[lo:hi], None if sw is None else sw[lo:hi])
            total += value * (hi - lo)
            for m in self.metrics:
                m.update_state(y[lo:hi], y_pred)
            if batch_cb:
                cb.on_test_batch_end(step, self._logs(total / hi))
        logs = self._logs(total / n)
        if cb is not None:
            cb.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        from baeum import callbacks as cbm

        batch_size = checks.batch_size_arg(batch_size, "evaluate")
        if steps is not None:
            raise NotImplementedError("evaluate: steps= is not implemented yet.")
        verbose = checks.verbose_arg(verbose)
        x, y, sample_weight = self._prepare(x, y, sample_weight, None, "evaluate")
        self._prepare_training()
        steps_n = -(-len(x) // batch_size)
        cb = cbm.CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                              verbose=verbose, epochs=1, steps=steps_n)
        logs = self._evaluate_arrays(x, y, sample_weight, batch_size, cb)
        return self._format_results(logs, return_dict)

    def _format_results(self, logs, return_dict):
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[m.name] for m in self.metrics]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        batch_size = checks.batch_size_arg(batch_size, "predict")
        if steps is not None:
            raise NotImplementedError("predict: steps= is not implemented yet.")
        x = to_array(x, "x")
        self._build_for(x.shape, "predict")
        outs = [self._forward(x[lo:lo + batch_size], False, []) for lo in range(0, len(x), batch_size)]
        if not outs:
            return np.zeros((0,) + tuple(self.output_shape[1:]), np.float32)
        return np.concatenate(outs, axis=0)

    def predict_on_batch(self, x):
        x = to_array(x, "x")
        self._build_for(x.shape, "predict_on_batch")
        return self._forward(x, False, [])

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        x, y, sample_weight = self._prepare(x, y, sample_weight, class_weight, "train_on_batch")
        self._prepare_training()
        self._warn_if_nothing_trains("train_on_batch")
        self._reset_metrics()
        value, y_pred = self._train_step(x, y, sample_weight)
        for m in self.metrics:
            m.update_state(y, y_pred)
        return self._format_results(self._logs(value), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        x, y, sample_weight = self._prepare(x, y, sample_weight, None, "test_on_batch")
        self._prepare_training()
        self._reset_metrics()
        value, y_pred = self._test_step(x, y, sample_weight)
        for m in self.metrics:
            m.update_state(y, y_pred)
        return self._format_results(self._logs(value), return_dict)

    def __call__(self, *args, **kwargs):
        from baeum.layers import node as _node

        x = args[0] if args else kwargs.get("inputs")
        if _node.contains_tensor(x) or _node.active_recorder() is not None:
            return Layer.__call__(self, *args, **kwargs)  # a node in a graph / an entry on the tape
        if len(args) == 2 and (args[1] is None or isinstance(args[1], bool)) and "training" not in kwargs:
            kwargs["training"] = args[1]  # model(x, True)
        elif len(args) > 1:
            raise TypeError(f"Model {self.name!r}: pass training= by keyword, e.g. model(x, training=True).")
        training = kwargs.pop("training", False)
        return self._call_eager(x, bool(training))

    def _call_eager(self, x, training):
        x = to_array(x, "x")
        self._build_for(x.shape, "call")
        return self._forward(x, training, [])

    # ---- summary -----------------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        from baeum.models.summary import print_summary

        self._require_built("summary()")
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_trainable=show_trainable)

    # ---- saving (the work is in baeum.saving; docs/saving.md) --------------------------------
    def save(self, filepath, overwrite=True, zipped=None, include_optimizer=True):
        """Save config, weights and optimizer state: `.keras` (zip) or legacy `.h5`;
        zipped=False: the `.keras` archive's files in a directory at `filepath`."""
        from baeum import saving

        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer,
                          zipped=zipped)

    def save_weights(self, filepath, overwrite=True):
        """Weights (+ optimizer state) to `.weights.h5`, or the legacy `.h5` weights layout."""
        from baeum import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        """Weights from `.weights.h5`, `.keras` or `.h5`; checked in full before assigning.
        skip_mismatch=True: layers that do not fit keep their weights (with a warning)."""
        from baeum import saving

        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def get_compile_config(self):
        from baeum.saving import saving_lib

        return saving_lib.get_compile_config(self)

    def compile_from_config(self, config):
        from baeum.saving import saving_lib

        saving_lib.compile_from_config(self, config)

    # ---- errors ------------------------------------------------------------------------------
    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(
                f"{what}: the model must be compiled first. Fix: call "
                "model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy']) "
                "(with the loss that fits your task) before fit/evaluate/train_on_batch."
            )

    def _require_built(self, what):
        if not self.built:
            raise ValueError(
                f"{what}: model {self.name!r} has not been built yet, so its weights and shapes are unknown. "
                "Fix one of: (1) start the model with baeum.Input(shape=(n_features,)) or give the first "
                "layer input_shape=/input_dim=; (2) call model.build((None, n_features)); "
                "(3) call the model on data first, e.g. model.fit(...) or model.predict(x)."
            )
