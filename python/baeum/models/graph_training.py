"""Training for functional and subclassed models: several inputs/outputs, a loss (and
metrics, loss weight) per output, the same tape as Sequential.

A graph model provides
  * ``_forward(x, training, tape)`` → its outputs (array, list or dict), recording the tape;
  * ``_flat_outputs(y)`` → the outputs as a list, in output order;
  * ``_output_entry(k, tape)`` → (tape index, layer, ctx) of the call that produced output k
    when nothing else consumed it (so the loss may be fused with its activation), else None;
  * ``_backward_graph(out_grads, tape, need_dx, preact)`` → walks the tape in reverse and
    returns the input gradients (a list) when need_dx; ``preact`` is the tape index whose
    gradient is already w.r.t. the logits (fused loss).

Sequential keeps Model's own single-output step (its benchmarked hot loop).
"""
import types

import numpy as np

from baeum.models import checks
from baeum.models.data import class_weights_to_sample_weights, to_array


class Tape(list):
    """The tape [(layer, ctx)]; a subclassed model also stores its (inputs → outputs) links."""

    __slots__ = ("links", "sources", "outputs")


class Multi:
    """Several per-sample arrays (a model's inputs or targets) that slice together, so the
    fit/evaluate loops index them like one array: len(m), m[lo:hi], m[order]."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = list(items)

    def __len__(self):
        return len(self.items[0])

    def __getitem__(self, index):
        return Multi([a[index] for a in self.items])

    @property
    def shape(self):
        return self.items[0].shape

    def __array_function__(self, func, types_, args, kwargs):
        if func is np.concatenate:  # fit's deferred metric update concatenates predictions
            parts = args[0]
            return Multi([np.concatenate([p.items[k] for p in parts], **kwargs)
                          for k in range(len(parts[0].items))])
        return NotImplemented


class _OutputMetric:
    """A compiled metric bound to output k of a multi-output model, named `<output>_<metric>`."""

    def __init__(self, metric, k, name):
        self.metric, self.k, self.name = metric, k, name

    def update_state(self, y, y_pred, sample_weight=None):
        self.metric.update_state(y.items[self.k], y_pred.items[self.k])

    def result(self):
        return self.metric.result()

    def reset_state(self):
        self.metric.reset_state()


class _LossTracker:
    """`<output>_loss` in the logs: the batch-size-weighted mean of one output's loss (before
    its loss weight), recorded by the step itself; fit's metric updates are no-ops."""

    def __init__(self, name):
        self.name = name
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0

    def record(self, value, n):
        self.total += float(value) * n
        self.count += n

    def update_state(self, *args, **kwargs):
        pass

    def result(self):
        return self.total / self.count if self.count else 0.0


def _per_output(spec, names, what, allow_single=True):
    """A compile argument (single / list / dict keyed by output name) → a list per output."""
    n = len(names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"compile: {what} has keys {unknown} that are not output names; "
                             f"the model's outputs are {names}.")
        return [spec.get(name) for name in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != n:
            raise ValueError(f"compile: {what} is a list of {len(spec)} entries but the model has {n} "
                             f"output(s) {names}. Fix: one entry per output, or a dict keyed by output name.")
        return list(spec)
    if not allow_single and n > 1:
        raise ValueError(f"compile: {what} must be a list or dict with one entry per output {names}.")
    return [spec] * n


def _as_list(obj):
    if obj is None:
        return []
    return list(obj) if isinstance(obj, (list, tuple)) else [obj]


class GraphTrainer:
    """Model methods for functional and subclassed models (see the module docstring)."""

    # ---- compile -----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1, jit_compile="auto",
                auto_scale_loss=True):
        from baeum import losses, optimizers

        if loss is None:
            raise ValueError("compile: loss is required, e.g. loss='binary_crossentropy' (or a list/dict with "
                             "one loss per output).")
        if weighted_metrics:
            raise NotImplementedError("compile: weighted_metrics are not implemented yet; use metrics=.")
        if steps_per_execution != 1:
            raise NotImplementedError("compile: steps_per_execution other than 1 is not implemented.")
        for item in (loss.values() if isinstance(loss, dict) else _as_list(loss)):
            if item is not None and not (isinstance(item, str) and item in ("crossentropy", "ce")):
                losses.get(item)  # unknown names fail now, listing the valid ones
        self.optimizer = optimizers.get(optimizer)
        self._loss_identifier = loss
        self._loss_weights_identifier = loss_weights
        self._metric_identifiers = metrics
        self.loss = loss
        self.metrics = None
        self._out_losses = None  # resolved at the first fit/evaluate, when outputs are known
        self.compiled = True

    def _resolve_graph(self, ys, pred_shapes, what):
        from baeum import losses, metrics as metrics_mod

        names = self._output_names
        n = len(names)
        if self._out_losses is None:
            loss_ids = _per_output(self._loss_identifier, names, "loss")
            if all(l is None for l in loss_ids):
                raise ValueError(f"compile: no output of {self.name!r} has a loss; outputs are {names}.")
            out_losses = []
            for k, (lid, shape) in enumerate(zip(loss_ids, pred_shapes)):
                if lid is None:
                    out_losses.append(None)
                    continue
                if isinstance(lid, str) and lid in ("crossentropy", "ce"):
                    yshape = ys[k].shape
                    sparse = len(yshape) < len(shape) or (yshape[-1] == 1 and shape[-1] > 1)
                    lid = ("binary_crossentropy" if shape[-1] == 1 else
                           "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy")
                out_losses.append(losses.get(lid))
            lw = self._loss_weights_identifier
            if lw is None:
                weights = [1.0] * n
            elif isinstance(lw, (int, float)):
                if n > 1:
                    raise ValueError(f"compile: loss_weights must be a list or dict for a model with {n} outputs "
                                     f"{names}, received {lw!r}.")
                weights = [float(lw)]
            else:
                weights = [1.0 if w is None else float(w) for w in _per_output(lw, names, "loss_weights")]
            self._out_losses, self._out_weights = out_losses, weights
            self.loss = out_losses[0] if n == 1 else out_losses
            self._loss_weight = weights[0]
            self._fuse_cache = {}
        if self.metrics is None:
            ids = self._metric_identifiers
            if ids is None:
                per = [[] for _ in names]
            elif n == 1:
                if isinstance(ids, dict):
                    per = [_as_list(_per_output(ids, names, "metrics")[0])]
                else:
                    per = [_as_list(ids)]
            elif isinstance(ids, dict):
                per = [_as_list(m) for m in _per_output(ids, names, "metrics")]
            elif isinstance(ids, (list, tuple)) and len(ids) == n:
                per = [_as_list(m) for m in ids]
            else:
                raise ValueError(
                    f"compile: for a model with {n} outputs {names}, metrics must be a list with one entry "
                    "(a metric or a list of metrics) per output, or a dict keyed by output name; received "
                    f"{ids!r}.")
            built = []
            if n > 1:
                self._trackers = [_LossTracker(f"{name}_loss") for name, l in zip(names, self._out_losses)
                                  if l is not None]
                built += self._trackers
            else:
                self._trackers = []
            for k, (ms, name) in enumerate(zip(per, names)):
                for m in ms:
                    metric = metrics_mod.get(m, y_true_shape=ys[k].shape, y_pred_shape=pred_shapes[k],
                                             loss=self._out_losses[k])
                    built.append(metric if n == 1 else _OutputMetric(metric, k, f"{name}_{metric.name}"))
            self.metrics = built
        for k in range(n):
            if self._out_losses[k] is None:
                continue
            shim = self._shim(k)
            ys[k] = checks.check_targets(shim, ys[k], pred_shapes[k], what)
            checks.check_labels_for_loss(shim, ys[k], pred_shapes[k], what)
        return ys

    def _shim(self, k):
        """What checks.* read of a single-output model: its loss and its last layer."""
        layer = self._output_layer(k)
        return types.SimpleNamespace(loss=self._out_losses[k], layers=[layer] if layer is not None else [])

    def _fuse_for(self, k, layer):
        key = (k, id(layer))
        fuse = self._fuse_cache.get(key, False)
        if fuse is False:
            fuse = checks.fused_output_activation(
                types.SimpleNamespace(loss=self._out_losses[k], layers=[layer]))
            self._fuse_cache[key] = fuse
        return fuse

    # ---- data ----------------------------------------------------------------------------------
    def _structure(self, data, names, what, kind):
        """User data (array, list, tuple or dict keyed by input/output names) → list of arrays."""
        n = len(names)
        if isinstance(data, dict):
            missing = [k for k in names if k not in data]
            unknown = [k for k in data if k not in names]
            if missing or unknown:
                raise ValueError(f"{what}: {kind} is a dict with keys {sorted(data)}, but the model's {kind} names "
                                 f"are {names}" + (f" (missing {missing})" if missing else "")
                                 + (f" (unknown {unknown})" if unknown else "") + ".")
            items = [data[k] for k in names]
        elif isinstance(data, (list, tuple)) and n > 1:
            if len(data) != n:
                raise ValueError(f"{what}: the model has {n} {kind}s {names}, but {len(data)} arrays were passed. "
                                 f"Fix: pass a list of {n} arrays (in order) or a dict keyed by name.")
            items = list(data)
        elif isinstance(data, (list, tuple)) and len(data) == 1 and isinstance(data[0], np.ndarray):
            items = [data[0]]  # [array] for a one-input/one-output model
        elif isinstance(data, Multi):
            items = list(data.items)
        else:
            if n > 1:
                raise ValueError(f"{what}: the model has {n} {kind}s {names}; pass a list of {n} arrays or a dict "
                                 "keyed by name, not a single array.")
            items = [data]
        arrays = [to_array(a, f"{kind} {name!r}" if n > 1 else kind) for a, name in zip(items, names)]
        lengths = {len(a) for a in arrays}
        if len(lengths) > 1:
            raise ValueError(f"{what}: the {kind} arrays have different numbers of samples: "
                             f"{dict(zip(names, [len(a) for a in arrays]))}.")
        return arrays

    @staticmethod
    def _pack(arrays):
        return arrays[0] if len(arrays) == 1 else Multi(arrays)

    def _prepare(self, x, y, sample_weight=None, class_weight=None, what="fit"):
        self._require_compiled(what)
        xs = self._structure(x, self._input_names_for(x), what, "x")
        if len(xs[0]) == 0:
            raise ValueError(f"{what}: x is empty (0 samples). Fix: pass at least one sample.")
        self._build_for_inputs(xs, what)
        names = self._output_names
        if y is None:
            raise ValueError(f"{what}: y is None. Fix: pass the targets (one array per output {names}).")
        ys = self._structure(y, names, what, "y")
        if len(ys[0]) != len(xs[0]):
            raise ValueError(
                f"{what}: x and y have different numbers of samples: x has {len(xs[0])}, y has {len(ys[0])}. "
                "Fix: pass matching arrays (e.g. the same train/test split for both).")
        ys = self._resolve_graph(ys, self._output_shapes, what)
        if sample_weight is not None and class_weight is not None:
            raise ValueError(f"{what}: pass sample_weight or class_weight, not both.")
        if class_weight is not None:
            if len(names) > 1:
                raise ValueError(f"{what}: class_weight is only supported for single-output models "
                                 f"(this one has outputs {names}); use sample_weight.")
            sample_weight = class_weights_to_sample_weights(class_weight, ys[0])
        if sample_weight is not None:
            sample_weight = to_array(sample_weight, "sample_weight")
            if len(sample_weight) != len(xs[0]):
                raise ValueError(f"{what}: sample_weight has {len(sample_weight)} entries for {len(xs[0])} samples.")
        return self._pack(xs), self._pack(ys), sample_weight

    def _input_names_for(self, x):
        return self._input_names

    # ---- the step --------------------------------------------------------------------------------
    def _losses_and_grads(self, ys, preds, sw, tape, want_grads):
        if len(preds) == 1 and self._out_weights[0] == 1.0:  # the common case, fewer steps
            entry = self._output_entry(0, tape)
            if entry is not None:
                fuse = self._fuse_for(0, entry[1])
                logits = entry[1].logits(entry[2]) if fuse is not None else None
                if logits is not None:
                    res = self._out_losses[0].value_and_grad_logits(ys, logits, fuse, sample_weight=sw)
                    if res is not None:
                        return res[0], [res[1]], {entry[0]: True}
            value, g = self._out_losses[0].value_and_grad(ys, preds[0], sample_weight=sw)
            return value, [g], None
        ylist = ys.items if isinstance(ys, Multi) else [ys]
        total, grads, preact = 0.0, [], None
        n = len(preds)
        for k in range(n):
            loss = self._out_losses[k]
            if loss is None:
                grads.append(None)
                continue
            w = self._out_weights[k]
            res = None
            entry = self._output_entry(k, tape)
            if entry is not None:
                fuse = self._fuse_for(k, entry[1])
                logits = entry[1].logits(entry[2]) if fuse is not None else None
                if logits is not None:
                    res = loss.value_and_grad_logits(ylist[k], logits, fuse, sample_weight=sw)
            if res is not None:
                value, g = res
                if preact is None:
                    preact = {}
                preact[entry[0]] = True
            else:
                value, g = loss.value_and_grad(ylist[k], preds[k], sample_weight=sw)
            if n > 1:
                self._trackers_by_output[k].record(value, len(preds[k]))
            total += w * value
            grads.append(g * w if w != 1.0 else g)
        return total, grads, preact

    def _train_step(self, x, y, sw):
        plan = self._plan
        fused = plan.step(x, y) if plan is not None and sw is None else None
        if fused is not None:  # a Dense/Dropout chain: forward, loss and backward in one C++ call
            value, y_pred = fused
            if self._reg_vars:
                value += self._regularization(add_gradients=True)
            self.optimizer.apply_flat(self._flat_values, self._flat_grads, self._seg)
            return value, y_pred
        tape = Tape()
        out = self._forward(x, True, tape)
        preds = self._flat_outputs(out)
        value, grads, preact = self._losses_and_grads(y, preds, sw, tape, True)
        self._flat_grads.fill(0.0)
        self._backward_graph(grads, tape, False, preact)
        value += self._activity_penalty(tape)
        if self._reg_vars:
            value += self._regularization(add_gradients=True)
        self.optimizer.apply_flat(self._flat_values, self._flat_grads, self._seg)
        return value, (preds[0] if len(preds) == 1 else Multi(preds))

    def _test_step(self, x, y, sw):
        tape = Tape()
        out = self._forward(x, False, tape)
        preds = self._flat_outputs(out)
        value, _, _ = self._losses_and_grads(y, preds, sw, tape, False)
        value += self._activity_penalty(tape)
        if self._reg_vars:
            value += self._regularization(add_gradients=False)
        return value, (preds[0] if len(preds) == 1 else Multi(preds))

    def _prepare_training(self):
        from baeum.models.model import Model

        Model._prepare_training(self)
        self._reg_vars = [v for v in self._flat_vars if v.trainable and v.regularizer is not None]
        names = self._output_names
        if len(names) > 1:
            it = iter(self._trackers)
            self._trackers_by_output = [next(it) if l is not None else None for l in self._out_losses]

    # ---- inference ------------------------------------------------------------------------------
    def _structure_outputs(self, outs):
        return outs[0] if len(outs) == 1 else list(outs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        batch_size = checks.batch_size_arg(batch_size, "predict")
        if steps is not None:
            raise NotImplementedError("predict: steps= is not implemented yet.")
        xs = self._structure(x, self._input_names_for(x), "predict", "x")
        self._build_for_inputs(xs, "predict")
        n = len(xs[0])
        parts = []
        for lo in range(0, n, batch_size):
            batch = [a[lo:lo + batch_size] for a in xs]
            parts.append(self._flat_outputs(self._forward(self._pack(batch), False, [])))
        if not parts:
            outs = [np.zeros((0,) + tuple(s[1:]), np.float32) for s in self._output_shapes]
        else:
            outs = [np.concatenate([p[k] for p in parts], axis=0) for k in range(len(parts[0]))]
        return self._restructure(outs)

    def predict_on_batch(self, x):
        xs = self._structure(x, self._input_names_for(x), "predict_on_batch", "x")
        self._build_for_inputs(xs, "predict_on_batch")
        return self._restructure(self._flat_outputs(self._forward(self._pack(xs), False, [])))

    def _call_eager(self, x, training):
        xs = self._structure(x, self._input_names_for(x), "call", "x")
        self._build_for_inputs(xs, "call")
        return self._forward(self._pack(xs), training, [])

    def _restructure(self, outs):
        return outs[0] if len(outs) == 1 else list(outs)

    def _backward_nested(self, dy, tape, need_dx):
        grads = list(dy) if isinstance(dy, (list, tuple)) else [dy]
        dxs = self._backward_graph(grads, tape, need_dx, None)
        if not need_dx:
            return None
        return dxs[0] if len(dxs) == 1 else dxs


_OVERRIDES = ("compile", "_resolve_graph", "_shim", "_fuse_for", "_structure", "_pack", "_prepare",
              "_input_names_for", "_losses_and_grads", "_train_step", "_test_step", "_prepare_training",
              "_structure_outputs", "predict", "predict_on_batch", "_call_eager", "_restructure",
              "_backward_nested")


def install_for_subclass(cls):
    """A user's `class M(baeum.Model)` trains through the recording tape (models/subclassed.py)."""
    if getattr(cls, "_sequential_fast_path", False) or getattr(cls, "_graph_model", False):
        return
    from baeum.models import subclassed

    user = {name for c in cls.__mro__ if c.__module__ not in ("baeum.models.model", "baeum.layers.base")
            for name in vars(c)}  # what the user's classes define wins
    for klass in (GraphTrainer, subclassed.Subclassed):
        for name, fn in vars(klass).items():
            if name.startswith("__") or name in user:
                continue
            if callable(fn) or isinstance(fn, property):
                setattr(cls, name, fn)
    cls._graph_model = True
