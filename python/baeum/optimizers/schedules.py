"""Learning-rate schedules (keras.optimizers.schedules): callables of the optimizer step.

An optimizer built with a schedule uses ``lr = schedule(optimizer.iterations)`` for each
step, where ``iterations`` counts the updates already applied (0 for the first step).
Values are computed in float64 and returned as Python floats (the kernel rounds the lr to
float32, as Keras's float32 schedule does).
"""
import math

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts",
           "serialize", "deserialize", "get"]


def _check_decay_steps(name, decay_steps):
    if not decay_steps > 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={decay_steps}")


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """lr0 · decay_rate^(step / decay_steps); the exponent is floored if staircase."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate) * float(self.decay_rate) ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0]; values[i] while boundaries[i-1] < step <=
    boundaries[i]; values[-1] after the last boundary (a step equal to a boundary still
    gets the earlier value)."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return float(v)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """(lr0 − end)·(1 − s/D)^power + end with s = min(step, D); with cycle=True, D grows to
    the first multiple of decay_steps >= step (D = decay_steps at step 0)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        s, D = float(step), float(self.decay_steps)
        if self.cycle:
            D *= 1.0 if s == 0 else math.ceil(s / D)
        else:
            s = min(s, D)
        lr0, end = float(self.initial_learning_rate), float(self.end_learning_rate)
        return (lr0 - end) * (1.0 - s / D) ** float(self.power) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """lr0 / (1 + decay_rate · step / decay_steps); the ratio is floored if staircase."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate) / (1.0 + float(self.decay_rate) * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay with optional linear warmup (Keras 3).

    No warmup (warmup_target=None): s = min(step, D),
    lr = lr0 · ((1 − α)·½(1 + cos(π s/D)) + α).
    With warmup_target: step is first capped at D + W; for step < W the lr rises linearly
    lr0 + (target − lr0)·step/W, then decays as above from ``target`` with s = step − W.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def _decay(self, s, from_lr):
        cosine = 0.5 * (1.0 + math.cos(math.pi * s / float(self.decay_steps)))
        return from_lr * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        s, D, lr0 = float(step), float(self.decay_steps), float(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(min(s, D), lr0)
        W, target = float(self.warmup_steps), float(self.warmup_target)
        s = min(s, D + W)
        if s < W:
            return (target - lr0) * (s / W) + lr0
        return self._decay(s - W, target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2016), Keras's form.

    f = step / first_decay_steps. Period i lasts first_decay_steps · t_mulⁱ steps, so with
    t_mul ≠ 1 the restart index is i = ⌊log(1 − f(1 − t_mul)) / log(t_mul)⌋ and the
    fraction inside the period is (f − (1 − t_mulⁱ)/(1 − t_mul)) / t_mulⁱ; with t_mul = 1,
    i = ⌊f⌋ and the fraction is f − i. Then
    lr = lr0 · ((1 − α) · ½ · m_mulⁱ · (1 + cos(π · fraction)) + α).
    (i is corrected by ±1 where the logarithm's rounding would put an exact restart step in
    the wrong period.)
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        _check_decay_steps("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def _period_start(self, i):
        """Completed fraction (in first periods) at which period i starts."""
        t = float(self._t_mul)
        return float(i) if t == 1.0 else (1.0 - t ** i) / (1.0 - t)

    def __call__(self, step):
        f = float(step) / float(self.first_decay_steps)
        t = float(self._t_mul)
        if t == 1.0:
            i = math.floor(f)
        else:
            i = math.floor(math.log(1.0 - f * (1.0 - t)) / math.log(t))
            while i > 0 and self._period_start(i) > f:
                i -= 1
            while self._period_start(i + 1) <= f:
                i += 1
        frac = (f - self._period_start(i)) / (t ** i)
        cosine = 0.5 * float(self._m_mul) ** i * (1.0 + math.cos(math.pi * frac))
        return float(self.initial_learning_rate) * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_ALL = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
                                InverseTimeDecay, CosineDecay, CosineDecayRestarts)}


def serialize(schedule):
    """Keras's nested-object form: {module, class_name, config, registered_name}."""
    return {"module": "keras.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """Inverse of serialize (custom schedules via custom_objects={name: class})."""
    classes = dict(_ALL, **(custom_objects or {}))
    name = config.get("class_name")
    if name not in classes:
        raise ValueError(f"Unknown learning rate schedule {name!r}; known: "
                         f"{', '.join(sorted(_ALL))} (pass others via custom_objects).")
    return classes[name].from_config(dict(config.get("config", {})))


def get(identifier):
    """A schedule from an instance (returned as is) or a serialized dict."""
    if isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret learning rate schedule identifier: {identifier!r}")
