"""Weight initializers (Keras ``keras.initializers``), KERAS_SEMANTICS.md §3.

Call: ``init(shape, dtype=None) -> ndarray`` (float32 unless ``dtype`` says otherwise).

Fans (``compute_fans``): ``()`` -> 1, 1; ``(n,)`` -> n, n; Dense ``(in, out)`` -> in, out;
conv ``(k1, ..., kr, cin, cout)`` -> ``cin * prod(k)``, ``cout * prod(k)``.

VarianceScaling: ``s = scale / max(1, n)``, n = fan_in | fan_out | (fan_in + fan_out) / 2;
uniform ``U(-sqrt(3 s), sqrt(3 s))``; truncated_normal ``N(0, sqrt(s) / 0.8796...)``
redrawn outside +-2 sigma (0.8796 is the std of a unit normal cut at +-2, so the realised
std is sqrt(s)); untruncated_normal ``N(0, sqrt(s))``.

  glorot_uniform (Keras's Dense/Conv default) = scale 1, fan_avg, uniform
  he_normal = scale 2, fan_in, truncated normal   (PyTorch's kaiming_normal_ is NOT
  truncated and uses fan_in of a (out, in) weight)    lecun_* = scale 1, fan_in.

Seeds: ``seed=None`` draws from baeum's global generator (``baeum.utils.set_random_seed``
makes it repeatable; every call gives new values); ``seed=int`` gives the same values on
every call of that instance.
"""
import inspect
import math
import re

import numpy as np

from baeum.utils import _rng

_TRUNC_STD = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]


def compute_fans(shape, input_axes=None, output_axes=None):
    """``(fan_in, fan_out)`` of a weight shape (Keras rule, see module docstring)."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (int(np.prod([shape[a] for a in input_axes])),
                int(np.prod([shape[a] for a in output_axes])))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = int(np.prod(shape[:-2]))
    return int(shape[-2]) * receptive, int(shape[-1]) * receptive


def _shape(shape, who):
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{who}: shape must be a tuple of ints, received {shape!r}.") from None
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
            raise ValueError(
                f"{who}: shape must be a tuple of non-negative ints, received {shape!r}."
            )
    return tuple(int(d) for d in shape)


def _dtype(dtype, who, floating=True):
    dt = np.dtype(np.float32 if dtype is None else dtype)
    if floating and dt.kind != "f":
        raise ValueError(f"{who}: dtype must be a float type, received {dt}. Fix: dtype=None "
                         "(float32).")
    return dt


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class RandomInitializer(Initializer):
    def __init__(self, seed=None):
        if seed is not None:
            _rng._check_seed(seed, type(self).__name__, upper=None)
            seed = int(seed)
        self.seed = seed

    def _generator(self):
        return _rng.generator(self.seed)

    def get_config(self):
        return {"seed": self.seed}


def _truncated_normal(rng, shape, mean, stddev):
    """N(mean, stddev) with values outside mean +- 2 stddev redrawn (float64)."""
    x = rng.normal(mean, stddev, size=shape)
    bad = np.abs(x - mean) > 2 * stddev
    while bad.any():
        x[bad] = rng.normal(mean, stddev, size=int(bad.sum()))
        bad = np.abs(x - mean) > 2 * stddev
    return x


class RandomNormal(RandomInitializer):
    """``N(mean, stddev)``; defaults mean=0.0, stddev=0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape, dt = _shape(shape, "RandomNormal"), _dtype(dtype, "RandomNormal")
        return self._generator().normal(self.mean, self.stddev, size=shape).astype(dt)

    def get_config(self):
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """``N(mean, stddev)`` redrawn outside ``mean +- 2 stddev``; no std re-scaling
    (so the realised std is ~0.88 stddev). Defaults mean=0.0, stddev=0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape, dt = _shape(shape, "TruncatedNormal"), _dtype(dtype, "TruncatedNormal")
        return _truncated_normal(self._generator(), shape, self.mean, self.stddev).astype(dt)

    def get_config(self):
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """``U(minval, maxval)``; defaults -0.05, 0.05 (Keras's Embedding default)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape, dt = _shape(shape, "RandomUniform"), _dtype(dtype, "RandomUniform")
        return self._generator().uniform(self.minval, self.maxval, size=shape).astype(dt)

    def get_config(self):
        return {"seed": self.seed, "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Keras ``VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal")``;
    ``distribution="normal"`` means truncated normal (as in Keras)."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if not scale > 0.0:
            raise ValueError(f"VarianceScaling: scale must be a positive float, received "
                             f"scale={scale!r}.")
        modes = ("fan_in", "fan_out", "fan_avg")
        if mode not in modes:
            raise ValueError(f"VarianceScaling: mode must be one of {modes}, received {mode!r}.")
        dists = ("truncated_normal", "untruncated_normal", "uniform")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in dists:
            raise ValueError(f"VarianceScaling: distribution must be one of {dists} (or "
                             f"'normal'), received {distribution!r}.")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed)

    def _variance(self, shape):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        return self.scale / max(1.0, n[self.mode])

    def __call__(self, shape, dtype=None):
        who = type(self).__name__
        shape, dt = _shape(shape, who), _dtype(dtype, who)
        s, rng = self._variance(shape), self._generator()
        if self.distribution == "truncated_normal":
            x = _truncated_normal(rng, shape, 0.0, math.sqrt(s) / _TRUNC_STD)
        elif self.distribution == "untruncated_normal":
            x = rng.normal(0.0, math.sqrt(s), size=shape)
        else:
            limit = math.sqrt(3.0 * s)
            x = rng.uniform(-limit, limit, size=shape)
        return x.astype(dt)

    def get_config(self):
        return {"seed": self.seed, "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class _Preset(VarianceScaling):
    _preset = None  # (scale, mode, distribution)

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        scale, mode, dist = self._preset
        super().__init__(scale, mode, dist, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class GlorotUniform(_Preset):
    """``U(-L, L)``, ``L = sqrt(6 / (fan_in + fan_out))`` (Xavier uniform)."""
    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Truncated normal, ``sigma = sqrt(2 / (fan_in + fan_out)) / 0.8796``."""
    _preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """``U(-L, L)``, ``L = sqrt(6 / fan_in)``."""
    _preset = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """Truncated normal, ``sigma = sqrt(2 / fan_in) / 0.8796`` (realised std sqrt(2/fan_in))."""
    _preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    """``U(-L, L)``, ``L = sqrt(3 / fan_in)``."""
    _preset = (1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    """Truncated normal, ``sigma = sqrt(1 / fan_in) / 0.8796``."""
    _preset = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """Random orthogonal matrix times ``gain`` (Keras's recurrent-kernel default).

    Flatten to ``(rows = prod(shape[:-1]), cols = shape[-1])``, draw ``N(0, 1)`` of shape
    ``(max, min)``, ``Q, R = qr(A)``, ``Q *= sign(diag(R))``, transpose if rows < cols.
    Rows (or columns, whichever are fewer) are orthonormal. Rank >= 2 only.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape, dt = _shape(shape, "Orthogonal"), _dtype(dtype, "Orthogonal")
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: the tensor to initialize must be at least 2-D, "
                             f"received shape={shape}.")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = self._generator().normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dt)

    def get_config(self):
        return {"seed": self.seed, "gain": self.gain}


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return np.zeros(_shape(shape, "Zeros"), dtype=_dtype(dtype, "Zeros", floating=False))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return np.ones(_shape(shape, "Ones"), dtype=_dtype(dtype, "Ones", floating=False))


class Constant(Initializer):
    """Every entry ``value`` (default 0.0)."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dt = _dtype(dtype, "Constant", floating=False)
        return np.full(_shape(shape, "Constant"), self.value, dtype=dt)

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """``gain * eye(rows, cols)``; 2-D shapes only."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape, "Identity")
        if len(shape) != 2:
            raise ValueError(f"Identity: only 2-D matrices can be initialized, received "
                             f"shape={shape} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype, "Identity", floating=False))

    def get_config(self):
        return {"gain": self.gain}


def _snake(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


_CLASSES = (Constant, Identity, Ones, Zeros, GlorotNormal, GlorotUniform, HeNormal,
            HeUniform, LecunNormal, LecunUniform, Orthogonal, RandomNormal, RandomUniform,
            TruncatedNormal, VarianceScaling)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({_snake(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update({"IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal,
                         "normal": RandomNormal, "uniform": RandomUniform, "one": Ones,
                         "zero": Zeros})

# Keras also exports each class under its snake_case name (keras.initializers.he_normal).
constant, identity, ones, zeros = Constant, Identity, Ones, Zeros
glorot_normal, glorot_uniform, he_normal, he_uniform = (GlorotNormal, GlorotUniform,
                                                        HeNormal, HeUniform)
lecun_normal, lecun_uniform, orthogonal = LecunNormal, LecunUniform, Orthogonal
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling = VarianceScaling


def serialize(initializer):
    """``{"module", "class_name", "config", "registered_name"}`` (Keras layout)."""
    return {"module": "keras.initializers", "class_name": type(initializer).__name__,
            "config": initializer.get_config(), "registered_name": None}


def _unknown(identifier):
    names = sorted(n for n in ALL_OBJECTS_DICT if n[0].islower())
    return ValueError(
        f"Could not interpret initializer identifier: {identifier!r}. Valid names: "
        f"{', '.join(names)} (or the class names, e.g. 'GlorotUniform')."
    )


def deserialize(config):
    """Initializer from ``{"class_name": ..., "config": {...}}``."""
    name = config.get("class_name")
    cls = ALL_OBJECTS_DICT.get(name)
    if cls is None:
        raise _unknown(name)
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """Resolve an initializer: None, a name ('he_normal', 'HeNormal'), a config dict, a
    class, an instance, a callable ``f(shape, dtype=None)``, or an array (returned as-is
    when the requested shape matches)."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = ALL_OBJECTS_DICT.get(identifier)
        if cls is None:
            raise _unknown(identifier)
        return cls()
    if isinstance(identifier, (np.ndarray, np.generic)):
        value = np.asarray(identifier)

        def initialize_fn(shape, dtype=None):
            if tuple(shape) != value.shape:
                raise ValueError(f"Expected shape {value.shape} for an array used as "
                                 f"initializer, received shape={tuple(shape)}.")
            return value.astype(_dtype(dtype, "initializer", floating=False))
        return initialize_fn
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise _unknown(identifier)


__all__ = ["Initializer", "compute_fans", "get", "serialize", "deserialize"] + \
    [c.__name__ for c in _CLASSES]
