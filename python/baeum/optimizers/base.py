"""Optimizer base class: Keras 3's constructor, learning rate, iterations, config — and
one fused C++ step over every trainable parameter (baeum.ops.optimizer_step).

The model packs all trainable variables into one flat float32 buffer and calls
``optimizer.apply_flat(params, grads, segments)`` once per training step. Slots (momentum,
velocity, ...) are flat buffers of the same layout, allocated on the first call.
"""
import warnings

import numpy as np

from baeum import ops
from baeum.optimizers import schedules
from baeum.utils import _interrupt


class Optimizer:
    """Base class. Subclasses set ``_kind`` and implement ``_hyper()`` / ``get_config()``."""

    _kind = None

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        cls = type(self).__name__
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"{cls}: argument(s) not recognized: {kwargs}")
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError(
                f"{cls}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}")
        for k, v in list(clips.items()) + [("weight_decay", weight_decay)]:
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.number))
                                  or not v >= 0):
                raise ValueError(f"{cls}: `{k}` must be a number >= 0 or None, got {v!r}.")
        if use_ema:
            raise NotImplementedError(
                f"{cls}(use_ema=True): the exponential moving average of weights is not "
                "implemented in baeum yet. Fix: use use_ema=False (the default).")
        if loss_scale_factor is not None:
            raise NotImplementedError(
                f"{cls}(loss_scale_factor=...): loss scaling is for mixed precision, which "
                "baeum (float32 only) does not use. Fix: leave it None.")
        if gradient_accumulation_steps is not None:
            raise NotImplementedError(
                f"{cls}(gradient_accumulation_steps=...): not implemented in baeum yet. "
                "Fix: leave it None, or use a larger batch size.")
        self.name = name if name is not None else cls.lower()
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._learning_rate = self._check_lr(learning_rate)
        self._iterations = 0
        self._slots = None          # list of flat float32 arrays, built on first step
        self._u_product = 1.0       # Nadam's running μ product (unused by the others)
        self._var_offsets = None    # apply_gradients: id(var) → (offset, size)
        self._segments = None       # (V, 2) segments of the first step (Keras's var list)

    # ----------------------------------------------------------- learning rate / step
    def _check_lr(self, lr):
        if isinstance(lr, schedules.LearningRateSchedule) or callable(lr):
            return lr
        if isinstance(lr, (float, np.floating)):
            return float(lr)
        raise ValueError(
            f"{type(self).__name__}: argument `learning_rate` should be a float, an instance of "
            "LearningRateSchedule, or a callable (that takes no arguments and returns the "
            f"learning rate). Received instead: learning_rate={lr!r}. Fix: write e.g. "
            f"learning_rate={float(lr) if isinstance(lr, int) else 0.001}.")

    @property
    def learning_rate(self):
        """The learning rate of the next step (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(lr(self._iterations))
        if callable(lr):
            return float(lr())
        return lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, schedules.LearningRateSchedule) or callable(value):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not "
                "settable. If you need the learning rate to be settable, you should "
                "instantiate the optimizer with a float `learning_rate` argument.")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"learning_rate must be a number, got {value!r}.")
        self._learning_rate = float(value)

    @property
    def iterations(self):
        """Number of steps applied so far (Keras's ``optimizer.iterations``)."""
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"iterations must be an integer >= 0, got {value!r}.")
        self._iterations = int(value)

    # ----------------------------------------------------------------- slots
    def _slot_names(self):
        h = self._hyper()
        return ops.optimizer_slot_names(self._kind, momentum=h.get("momentum", 0.0),
                                        centered=h.get("centered", False),
                                        amsgrad=h.get("amsgrad", False))

    def _slot_initial_value(self, slot_name):
        return 0.0

    @property
    def slot_names(self):
        """Names of the flat slot buffers, e.g. ['momentum', 'velocity'] for Adam."""
        return self._slot_names()

    @property
    def slots(self):
        """The flat slot buffers (None until the first step), in ``slot_names`` order."""
        return self._slots

    @property
    def built(self):
        return self._slots is not None

    @property
    def variables(self):
        """Keras's ``optimizer.variables``, in Keras's order: iterations, learning_rate (unless
        a schedule/callable), then each slot kind for every trainable variable (e.g. Adam:
        all momentums, then all velocities), then Nadam's u_product. Slots are 1-D views
        into the flat buffers (writing into them changes the optimizer state); the scalars
        are copies (use set_weights)."""
        out = [np.array(self._iterations, dtype=np.int64)]
        if not callable(self._learning_rate):
            out.append(np.array(self._learning_rate, dtype=np.float32))
        if self.built and self._segments is not None:
            out += [slot[o:o + n] for slot in self._slots for o, n in self._segments]
            if self._kind == "nadam":
                out.append(np.array(self._u_product, dtype=np.float32))
        return out

    def variable_count(self):
        """Scalars in ``variables`` once built (the summary's "Optimizer params"); 0 before
        the first step, when Keras prints no optimizer line."""
        return sum(v.size for v in self.variables) if self.built else 0

    def set_weights(self, weights):
        """Restore ``variables`` (same order and sizes, e.g. from a saved model)."""
        if not self.built or self._segments is None:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Fix: run one training step (or apply_flat) first, then set the weights.")
        current = self.variables
        weights = list(weights)
        if len(weights) != len(current):
            raise ValueError(f"set_weights: the optimizer has {len(current)} variables, got "
                             f"{len(weights)} arrays.")
        for i, (v, w) in enumerate(zip(current, weights)):
            w = np.asarray(w)
            if w.size != v.size:
                raise ValueError(f"set_weights: variable {i} has {v.size} elements, got an "
                                 f"array of shape {w.shape}.")
        has_lr = not callable(self._learning_rate)
        self._iterations = int(np.asarray(weights[0]))
        if has_lr:
            self._learning_rate = float(np.asarray(weights[1]))
        first = 2 if has_lr else 1
        for v, w in zip(current[first:], weights[first:]):
            if v.ndim == 1:
                v[...] = np.asarray(w, dtype=np.float32).reshape(-1)
        if self._kind == "nadam":
            self._u_product = float(np.asarray(weights[-1]))

    def build_flat(self, size):
        """Allocate the slots for ``size`` flat parameters (done by the first step)."""
        if self._slots is not None:
            if size != self._built_size:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}' was built for "
                    f"{self._built_size} parameters but now gets {size}. An optimizer "
                    "belongs to one set of variables; fix: create a new optimizer "
                    "instance (or recompile the model) after changing the variables.")
            return
        self._built_size = int(size)
        self._slots = [np.full(size, self._slot_initial_value(s), dtype=np.float32)
                       for s in self._slot_names()]

    # ----------------------------------------------------------------- the step
    def apply_flat(self, params, grads, segments):
        """One training step: update the flat float32 ``params`` in place.

        params, grads: (n,) flat buffers of every trainable variable (grads is not
        modified); segments: int64 (V, 2) rows (offset, size), one per variable.
        Slots are allocated on the first call; ``iterations`` += 1 afterwards.
        """
        if not isinstance(params, np.ndarray) or params.ndim != 1:
            raise ValueError(f"{type(self).__name__}.apply_flat: params must be a 1-D float32 "
                             f"numpy array, got {type(params).__name__} "
                             f"{getattr(params, 'shape', '')}.")
        self.build_flat(params.shape[0])
        _interrupt.state.critical = True  # Ctrl+C waits until the step is whole (utils/_interrupt)
        try:
            self._apply_flat(params, grads, segments)
        finally:
            _interrupt.state.critical = False
        _interrupt.raise_if_pending()

    def _apply_flat(self, params, grads, segments):
        lr = self.learning_rate           # evaluated at the current iterations (Keras)
        step = self._iterations + 1
        hyper = self._hyper()
        if self._kind == "nadam":         # Keras multiplies its float32 u_product first
            f32 = np.float32
            P = f32(self._u_product) * f32(hyper["beta_1"])
            hyper["u_product"] = float(P * (f32(1) - f32(0.5) * f32(0.96) ** f32(step)))
        ops.optimizer_step(self._kind, params, grads, self._slots, segments, lr=lr, step=step,
                           weight_decay=self.weight_decay, clipnorm=self.clipnorm,
                           clipvalue=self.clipvalue, global_clipnorm=self.global_clipnorm,
                           **hyper)
        if self._kind == "nadam":
            self._u_product = hyper["u_product"]
        if self._segments is None:              # Keras builds on the first variable list
            self._segments = [(int(o), int(n)) for o, n in np.asarray(segments).reshape(-1, 2)]
        self._iterations += 1

    def apply_gradients(self, grads_and_vars):
        """Keras's apply_gradients: a list of (gradient, variable) NumPy pairs.

        Variables (float32 ndarrays) are updated in place. ``None`` gradients are skipped
        with a warning (as Keras). The first call fixes the variable list; later calls may
        pass any subset of it. Returns ``iterations``.
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        cls = type(self).__name__
        for g, v in pairs:
            if not isinstance(v, np.ndarray) or v.dtype != np.float32 or not v.flags.writeable:
                raise TypeError(
                    f"{cls}.apply_gradients: each variable must be a writable float32 "
                    f"numpy array (updated in place), got {type(v).__name__} "
                    f"{getattr(v, 'dtype', '')}. Fix: np.asarray(var, dtype=np.float32).")
        if self._var_offsets is None:
            self._var_offsets, off = {}, 0
            self._vars = []
            for _, v in pairs:
                if id(v) not in self._var_offsets:
                    self._var_offsets[id(v)] = (off, v.size)
                    self._vars.append(v)
                    off += v.size
        missing = [v.shape for _, v in pairs if id(v) not in self._var_offsets]
        if missing:
            raise ValueError(
                f"{cls}.apply_gradients: unknown variable(s) of shape {missing}. This optimizer "
                "can only be called for the variables it was originally built with. Fix: "
                "create a new optimizer instance for a new set of variables.")
        present = [(g, v) for g, v in pairs if g is not None]
        if len(present) < len(pairs):
            warnings.warn(f"Gradients do not exist for {len(pairs) - len(present)} "
                          "variable(s) when minimizing the loss.")
        if not present:
            raise ValueError("No gradients provided for any variable.")
        flat = np.concatenate([v.ravel() for v in self._vars]).astype(np.float32, copy=False)
        gflat = np.zeros_like(flat)
        segments = []
        for g, v in present:
            o, n = self._var_offsets[id(v)]
            g = np.asarray(g, dtype=np.float32)
            if g.shape != v.shape:
                raise ValueError(f"{cls}.apply_gradients: gradient of shape {g.shape} for a "
                                 f"variable of shape {v.shape}.")
            gflat[o:o + n] = g.ravel()
            segments.append((o, n))
        self.apply_flat(flat, gflat, np.array(segments, dtype=np.int64))
        for _, v in present:
            o, n = self._var_offsets[id(v)]
            v[...] = flat[o:o + n].reshape(v.shape)
        return self._iterations

    def apply(self, grads, trainable_variables):
        """Keras's apply(grads, variables) = apply_gradients(zip(grads, variables))."""
        return self.apply_gradients(zip(grads, trainable_variables))

    # ----------------------------------------------------------------- config
    def _hyper(self):
        raise NotImplementedError

    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            raise NotImplementedError(
                f"{type(self).__name__}.get_config: a plain callable learning rate cannot be "
                "serialized. Fix: use a LearningRateSchedule subclass with get_config().")
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self.learning_rate}>"
