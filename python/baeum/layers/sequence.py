"""Sequence tooling (Keras semantics): Embedding, Masking, RepeatVector and the wrappers
TimeDistributed and Bidirectional.

The math is in baeum.reference.sequence (NumPy; these layers are gathers, selects and
copies, memory-bound, so there is no C++ twin). The recurrent layers themselves
(SimpleRNN, LSTM, GRU) live in their own module; Bidirectional wraps any of them.

Masks: a layer that creates a mask defines ``compute_mask(x, mask)`` returning a bool
(N, T) array (Embedding with mask_zero=True, Masking); the executor puts the incoming mask
in ``ctx["mask"]`` before ``forward``. TimeDistributed and Bidirectional pass the mask on
to the layers they wrap. Derivations and the book's workflow: docs/sequences.md.
"""
import copy
import warnings

import numpy as np

from baeum.layers.base import Layer, _fmt_shape
from baeum.reference import sequence as ref


# ---- (de)serialising a wrapped layer -------------------------------------------------------------
def _serialize_layer(layer):
    """Keras's nested form {module, class_name, config, registered_name}."""
    return {"module": "keras.layers", "class_name": type(layer).__name__, "config": layer.get_config(),
            "registered_name": None}


def _deserialize_layer(config, what):
    if isinstance(config, Layer):
        return config
    import baeum.layers

    name = config.get("class_name") if isinstance(config, dict) else None
    cls = getattr(baeum.layers, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"{what}: cannot rebuild the wrapped layer from {config!r}: unknown class_name {name!r}. "
                         "Fix: pass a layer instance, or a config of a layer in baeum.layers.")
    return cls.from_config(copy.deepcopy(config["config"]))


def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, received {value!r}.")
    return int(value)


# ---- Embedding ---------------------------------------------------------------------------------
class Embedding(Layer):
    """Turns integer ids into dense vectors: out[..., :] = embeddings[ids[...]] (Keras `Embedding`).

    embeddings (input_dim, output_dim), initialised U(−0.05, 0.05) ("uniform", Keras's default).
    Input of any shape S → output (*S, output_dim). The model's data path delivers ids as
    float32; they must hold whole numbers in [0, input_dim) (a clear error names the bad value
    otherwise; Keras would silently truncate floats). float32 is exact up to 2²⁴, so larger
    vocabularies are refused for float inputs.

    mask_zero=True: id 0 is padding; compute_mask returns ids != 0 (so input_dim must be the
    vocabulary size + 1). input_length= is accepted and ignored with Keras 3's warning.
    Backward is a scatter-add (deterministic: the bits of np.add.at); the ids get no gradient (zeros).
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, lora_rank=None, lora_alpha=None,
                 activity_regularizer=None, **kwargs):
        input_length = kwargs.pop("input_length", None)
        if input_length is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", UserWarning, stacklevel=2)
        kwargs.pop("quantization_config", None)
        super().__init__(**kwargs)
        from baeum import initializers, regularizers

        self.input_dim = _positive_int(input_dim, f"Embedding {self.name!r}: input_dim (the vocabulary size)")
        self.output_dim = _positive_int(output_dim, f"Embedding {self.name!r}: output_dim")
        if embeddings_constraint is not None:
            raise NotImplementedError(f"Embedding {self.name!r}: embeddings_constraint is not supported yet.")
        if lora_rank:
            raise NotImplementedError(f"Embedding {self.name!r}: LoRA (lora_rank) is not supported.")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        if weights is not None:
            weights = weights[0] if isinstance(weights, (list, tuple)) and len(weights) == 1 else weights
            if np.shape(weights) != (self.input_dim, self.output_dim):
                raise ValueError(f"Embedding {self.name!r}: weights must have shape "
                                 f"({self.input_dim}, {self.output_dim}), received {np.shape(weights)}.")
        self._initial_weights = weights

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer, self.embeddings_regularizer)
        if self._initial_weights is not None:
            self.embeddings.assign(self._initial_weights)
            self._initial_weights = None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _ids(self, x):
        """int64 ids from integer or whole-valued float inputs, with clear errors."""
        x = np.asarray(x)
        if x.dtype.kind == "f":
            bad = ~np.isfinite(x) | (x != np.trunc(x))
            if bad.any():
                pos = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"Embedding {self.name!r}: inputs must be integer ids, received the non-integer value "
                    f"{float(x[pos])!r} at position {pos}. Fix: pass token ids (whole numbers in [0, {self.input_dim})), "
                    "e.g. x.astype('int64'); put real-valued features into a Dense layer instead.")
            if x.dtype == np.float32 and self.input_dim > 2 ** 24:
                raise ValueError(
                    f"Embedding {self.name!r}: input_dim={self.input_dim} exceeds 2**24, the largest id float32 "
                    "inputs hold exactly. Fix: use a smaller vocabulary (e.g. hash the ids).")
        elif x.dtype.kind not in "iub":
            raise ValueError(f"Embedding {self.name!r}: inputs must be integer ids, received dtype {x.dtype}.")
        ids = x.astype(np.int64)
        out = (ids < 0) | (ids >= self.input_dim)
        if out.any():
            pos = tuple(int(i) for i in np.argwhere(out)[0])
            bad_id = int(ids[pos])
            fix = (f"set input_dim to at least {int(ids.max()) + 1} (the largest id + 1)" if bad_id >= 0
                   else "ids must be non-negative (map unknown tokens to a reserved id such as 1)")
            raise ValueError(
                f"Embedding {self.name!r}: id {bad_id} at position {pos} is out of range: ids must be in "
                f"[0, {self.input_dim}) (input_dim={self.input_dim}); {int(out.sum())} id(s) out of range in all. "
                f"Fix: {fix}.")
        return ids

    def forward(self, x, ctx, training):
        ids = self._ids(x)
        ctx["ids"], ctx["shape"] = ids, np.shape(x)
        return ref.embedding_forward(ids, self.embeddings.value)

    def backward(self, dy, ctx, need_dx=True):
        if self.embeddings.trainable:
            ref.embedding_backward(dy, ctx["ids"], self.embeddings.grad)
        return np.zeros(ctx["shape"], np.float32) if need_dx else None  # ids are not differentiable

    def compute_mask(self, x, mask=None):
        if not self.mask_zero:
            return None
        return np.asarray(x) != 0

    def get_config(self):
        from baeum import initializers, regularizers

        config = super().get_config()
        config.update(input_dim=self.input_dim, output_dim=self.output_dim,
                      embeddings_initializer=initializers.serialize(self.embeddings_initializer),
                      embeddings_regularizer=regularizers.serialize(self.embeddings_regularizer),
                      activity_regularizer=regularizers.serialize(self.activity_regularizer),
                      embeddings_constraint=None, mask_zero=self.mask_zero)
        return config


# ---- Masking -----------------------------------------------------------------------------------
class Masking(Layer):
    """Masks timesteps whose features all equal mask_value (Keras `Masking`).

    mask[n, t] = any_d(x[n, t, d] != mask_value); out = x · mask[..., None] (masked steps
    become zeros). compute_mask returns that (N, T) bool mask for the layers downstream.
    """

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float, np.number)):
            raise ValueError(f"Masking {self.name!r}: mask_value must be a number, received {mask_value!r}.")
        self.mask_value = float(mask_value)

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f"Masking {self.name!r} expects inputs (samples, timesteps, features), received shape "
                f"{_fmt_shape(input_shape)}. Fix: add a features axis, e.g. x[..., None].")

    def forward(self, x, ctx, training):
        y, keep = ref.masking_forward(x, self.mask_value)
        ctx["keep"] = keep
        return y

    def backward(self, dy, ctx, need_dx=True):
        return ref.masking_backward(dy, ctx["keep"]) if need_dx else None

    def compute_mask(self, x, mask=None):
        return np.any(np.asarray(x, np.float32) != np.float32(self.mask_value), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


# ---- RepeatVector ------------------------------------------------------------------------------
class RepeatVector(Layer):
    """Repeats the input n times: (N, D) → (N, n, D) (Keras `RepeatVector`), e.g. to feed an
    encoder's summary vector to every step of a decoder RNN. Backward sums the n copies."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise TypeError(f"RepeatVector {self.name!r}: n must be a non-negative integer, received {n!r}.")
        self.n = int(n)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                f"RepeatVector {self.name!r} expects 2-D inputs (samples, features), received shape "
                f"{_fmt_shape(input_shape)}. Fix: Flatten() first, or use an RNN with return_sequences=False.")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, x, ctx, training):
        return ref.repeat_vector_forward(x, self.n)

    def backward(self, dy, ctx, need_dx=True):
        return ref.repeat_vector_backward(dy) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


# ---- wrappers ----------------------------------------------------------------------------------
class _Wrapper(Layer):
    """A layer made of other layers: its weights are theirs (Keras order: own, then each
    sub-layer's), and trainable=False freezes them all."""

    def _sublayers(self):
        return []

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        Layer.trainable.fset(self, value)
        for layer in self._sublayers():
            layer.trainable = value

    @property
    def weights(self):
        return self._own(True) + self._own(False) + [v for l in self._sublayers() for v in l.weights]

    @property
    def trainable_weights(self):
        return self._own(True) + [v for l in self._sublayers() for v in l.trainable_weights]

    @property
    def non_trainable_weights(self):
        return self._own(False) + [v for l in self._sublayers() for v in l.non_trainable_weights]

    def _own(self, trainable):
        return [v for v in self._weights if v.trainable == trainable]

    @property
    def variables(self):
        return list(self._weights) + [v for l in self._sublayers() for v in l.variables]

    def count_params(self):
        if not self.built:
            return super().count_params()  # the "not built" error
        return int(sum(v.size for v in self.variables))


class TimeDistributed(_Wrapper):
    """Applies `layer` to every timestep (Keras `TimeDistributed`): (N, T, …) → (N, T, …out).

    Time is folded into the batch — (N, T, …) is reshaped to (N·T, …), the wrapped layer runs
    once on it, and the result is unfolded — so one call of e.g. a Dense is one GEMM; backward
    folds the same way. The weights are the wrapped layer's (one set shared by all steps), so
    TimeDistributed(Dense(10)) on 20 features has 210 parameters, as in Keras.

    Masks: the incoming (N, T) mask passes through to the output unchanged
    (supports_masking). A mask with more axes than (N, T) is folded like the input and given
    to the wrapped layer; a plain (N, T) mask says nothing per step, so the wrapped layer gets none.
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if isinstance(layer, dict):
            layer = _deserialize_layer(layer, f"TimeDistributed {self.name!r}")
        if not isinstance(layer, Layer):
            raise ValueError(
                f"TimeDistributed {self.name!r} wraps a layer instance, received {type(layer).__name__}: "
                f"{layer!r}. Fix: TimeDistributed(Dense(10)).")
        self.layer = layer
        if not self._trainable:
            layer.trainable = False

    def _sublayers(self):
        return [self.layer]

    def _child_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed {self.name!r} ({type(self.layer).__name__} at every timestep) needs inputs "
                f"with a time axis, (samples, timesteps, ...), of rank >= 3; received shape "
                f"{_fmt_shape((None,) + tuple(input_shape[1:]))}. Fix: give it sequences (e.g. an RNN with return_sequences=True "
                "before it, or x[..., None]); for 2-D inputs use the wrapped layer directly.")
        return (None,) + tuple(input_shape[2:])

    def _check_input(self, shape):
        """Rank >= 3 and a per-step shape the wrapped layer accepts; any number of timesteps."""
        self.layer._check_input(self._child_shape(shape))

    def build(self, input_shape):
        child = self._child_shape(input_shape)
        self.layer._check_input(child)
        self.layer._maybe_build(child)

    def compute_output_shape(self, input_shape):
        out = self.layer.compute_output_shape(self._child_shape(input_shape))
        if out and isinstance(out[0], (tuple, list)):
            raise NotImplementedError(f"TimeDistributed {self.name!r}: wrapped layers with several outputs "
                                      "are not supported.")
        return (input_shape[0], input_shape[1]) + tuple(out[1:])

    def forward(self, x, ctx, training):
        self._child_shape(x.shape)
        n, t = x.shape[0], x.shape[1]
        inner = {}
        mask = ctx.get("mask")
        if mask is not None:
            if tuple(mask.shape[:2]) != (n, t):
                raise ValueError(f"TimeDistributed {self.name!r}: the mask has shape {mask.shape}, expected "
                                 f"({n}, {t}, ...) to match the inputs {x.shape}.")
            if mask.ndim > 2:
                inner["mask"] = mask.reshape((n * t,) + mask.shape[2:])
        y = self.layer.forward(np.ascontiguousarray(x).reshape((n * t,) + x.shape[2:]), inner, training)
        ctx["inner"], ctx["nt"], ctx["x_shape"] = inner, (n, t), x.shape
        return y.reshape((n, t) + y.shape[1:])

    def backward(self, dy, ctx, need_dx=True):
        n, t = ctx["nt"]
        dy2 = np.ascontiguousarray(dy).reshape((n * t,) + dy.shape[2:])
        dx = self.layer.backward(dy2, ctx["inner"], need_dx)
        return None if dx is None or not need_dx else dx.reshape(ctx["x_shape"])

    def get_config(self):
        config = super().get_config()
        config["layer"] = _serialize_layer(self.layer)
        return config


class Bidirectional(_Wrapper):
    """Runs a recurrent layer forwards and backwards in time and merges the two (Keras
    `Bidirectional`).

    The forward copy ``forward_<name>`` and the backward copy ``backward_<name>`` (go_backwards=True)
    are rebuilt from `layer`'s config, so they have fresh weights (as in Keras); weights are all
    forward weights, then all backward weights. With return_sequences the backward output is
    flipped back to forward time before merging. merge_mode: 'concat' (forward first), 'sum',
    'mul', 'ave', or None (the list [forward, backward]). With return_state the output is
    [merged, *forward_states, *backward_states] (LSTM: out, h_f, c_f, h_b, c_b).
    The incoming mask goes to both directions; with return_sequences it is the output mask.
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        what = f"Bidirectional {self.name!r}"
        if isinstance(layer, dict):
            layer = _deserialize_layer(layer, what)
        if isinstance(backward_layer, dict):
            backward_layer = _deserialize_layer(backward_layer, what)
        if not isinstance(layer, Layer):
            raise ValueError(f"{what} wraps a recurrent layer instance, received {type(layer).__name__}: "
                             f"{layer!r}. Fix: Bidirectional(LSTM(10)).")
        self._check_recurrent(layer, "layer")
        if backward_layer is not None:
            if not isinstance(backward_layer, Layer):
                raise ValueError(f"{what}: backward_layer must be a layer instance, received "
                                 f"{type(backward_layer).__name__}.")
            self._check_recurrent(backward_layer, "backward_layer")
        if merge_mode not in ref.MERGE_MODES:
            raise ValueError(f"{what}: invalid merge_mode {merge_mode!r}. "
                             "Merge mode should be one of {'sum', 'mul', 'ave', 'concat', None}.")
        config = copy.deepcopy(layer.get_config())
        config["name"] = "forward_" + _removeprefix(layer.name, "forward_")
        self.forward_layer = type(layer).from_config(config)
        if backward_layer is None:
            config = copy.deepcopy(layer.get_config())
            config["go_backwards"] = True
            config["name"] = "backward_" + _removeprefix(layer.name, "backward_")
            backward_layer = type(layer).from_config(config)
        self.backward_layer = backward_layer
        self._verify()
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):  # Keras forces this with return_sequences
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = bool(layer.return_sequences)
        self.return_state = bool(layer.return_state)
        self.stateful = bool(getattr(layer, "stateful", False))
        if self._declared_input_shape is None and layer._declared_input_shape is not None:
            self._declared_input_shape = layer._declared_input_shape  # LSTM(…, input_shape=…) inside
        self._initial_weights = None if weights is None else list(weights)
        if not self._trainable:
            self.trainable = False

    def _check_recurrent(self, layer, arg):
        missing = [a for a in ("go_backwards", "return_sequences", "return_state") if not hasattr(layer, a)]
        if missing:
            raise ValueError(
                f"Bidirectional {self.name!r}: {arg} must be a recurrent layer (SimpleRNN, LSTM, GRU) with "
                f"go_backwards, return_sequences and return_state; received {type(layer).__name__} "
                f"{layer.name!r}, which has no {', '.join(missing)}. Fix: Bidirectional(LSTM(units)); "
                "to apply a layer to every timestep use TimeDistributed(layer).")

    def _verify(self):
        fw, bw = self.forward_layer, self.backward_layer
        if fw.go_backwards == bw.go_backwards:
            raise ValueError(
                f"Bidirectional {self.name!r}: the forward and backward layers must have different go_backwards "
                f"values, received forward_layer.go_backwards={fw.go_backwards}, backward_layer.go_backwards="
                f"{bw.go_backwards}. Fix: build backward_layer with go_backwards=True (and layer without).")
        for a in ("stateful", "return_sequences", "return_state"):
            if getattr(fw, a, False) != getattr(bw, a, False):
                raise ValueError(
                    f"Bidirectional {self.name!r}: forward and backward layers must have the same {a}, received "
                    f"{getattr(fw, a, False)} (forward) and {getattr(bw, a, False)} (backward).")

    def _sublayers(self):
        return [self.forward_layer, self.backward_layer]

    def _check_input(self, shape):
        self.forward_layer._check_input(shape)  # the recurrent layer's own rules (any T)

    @staticmethod
    def _sequence_shape(input_shape):
        """The sequence's shape when initial states come as extra inputs ([x, *states])."""
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list)):
            return tuple(input_shape[0])
        return tuple(input_shape)

    def build(self, input_shape):
        input_shape = self._sequence_shape(input_shape)
        for sub in self._sublayers():
            sub._check_input(input_shape)
            sub._maybe_build(input_shape)
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_weights(weights)

    def _n_states(self):
        shape = self.forward_layer.output_shape
        return len(shape) - 1 if self.return_state else 0

    def compute_output_shape(self, input_shape):
        out = self.forward_layer.compute_output_shape(self._sequence_shape(input_shape))
        states = []
        if self.return_state:
            out, states = tuple(out[0]), [tuple(s) for s in out[1:]]
        out = tuple(out)
        if self.merge_mode == "concat":
            out = out[:-1] + (None if out[-1] is None else 2 * out[-1],)
        if self.merge_mode is None:
            return [out, out] + states + states
        return [out] + states + states if self.return_state else out

    def forward(self, x, ctx, training):
        fctx, bctx = {}, {}
        mask = ctx.get("mask")
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            fctx["mask"] = bctx["mask"] = mask
        xf = xb = x
        n_init = 0
        if isinstance(x, (list, tuple)):  # initial_state: first half forward, second half backward (Keras)
            x, states = x[0], list(x[1:])
            n_init = len(states)
            if n_init % 2:
                raise ValueError(f"Bidirectional {self.name!r}: initial_state must hold the forward states then "
                                 f"the backward states (an even number), received {n_init} arrays.")
            xf = [x] + states[:n_init // 2] if n_init else x
            xb = [x] + states[n_init // 2:] if n_init else x
        ctx["n_init"] = n_init
        y = self.forward_layer.forward(xf, fctx, training)
        y_rev = self.backward_layer.forward(xb, bctx, training)
        fstates, bstates = [], []
        if self.return_state:
            y, fstates = y[0], list(y[1:])
            y_rev, bstates = y_rev[0], list(y_rev[1:])
        if self.return_sequences:  # back to forward time (Keras flips before merging)
            y_rev = np.ascontiguousarray(y_rev[:, ::-1])
        out = ref.merge_forward(y, y_rev, self.merge_mode)
        ctx.update(fw=fctx, bw=bctx, y=y, y_rev=y_rev, fstates=fstates, bstates=bstates)
        if not self.return_state:
            return out
        return (out if self.merge_mode is None else [out]) + fstates + bstates

    def backward(self, dy, ctx, need_dx=True):
        y, y_rev = ctx["y"], ctx["y_rev"]
        fstates, bstates = ctx["fstates"], ctx["bstates"]
        if self.return_state or self.merge_mode is None:
            dy = list(dy)
            k = 2 if self.merge_mode is None else 1
            dmerged = dy[:k] if self.merge_mode is None else dy[0]
            dfs, dbs = dy[k:k + len(fstates)], dy[k + len(fstates):]
        else:
            dmerged, dfs, dbs = dy, [], []
        if self.merge_mode is None:
            dmerged = [np.zeros_like(y) if dmerged[0] is None else dmerged[0],
                       np.zeros_like(y_rev) if dmerged[1] is None else dmerged[1]]
        elif dmerged is None:
            dmerged = np.zeros_like(ref.merge_forward(y, y_rev, self.merge_mode))
        dyf, dyb = ref.merge_backward(dmerged, y, y_rev, self.merge_mode)
        if self.return_sequences:
            dyb = dyb[:, ::-1]
        dyf, dyb = np.ascontiguousarray(dyf, np.float32), np.ascontiguousarray(dyb, np.float32)
        if self.return_state:
            dyf = [dyf] + [np.zeros_like(s) if d is None else np.asarray(d, np.float32) for s, d in zip(fstates, dfs)]
            dyb = [dyb] + [np.zeros_like(s) if d is None else np.asarray(d, np.float32) for s, d in zip(bstates, dbs)]
        dxf = self.forward_layer.backward(dyf, ctx["fw"], need_dx)
        dxb = self.backward_layer.backward(dyb, ctx["bw"], need_dx)
        if ctx["n_init"]:  # [dx, *d fw states] and [dx, *d bw states]
            return [dxf[0] + dxb[0]] + list(dxf[1:]) + list(dxb[1:])
        return dxf + dxb if need_dx else None

    def compute_mask(self, x, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        masks = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return masks + [None] * (2 * self._n_states())
        return masks if self.merge_mode is None else out

    def reset_states(self, states=None):
        if not self.stateful:
            raise AttributeError(f"Bidirectional {self.name!r}: layer must be stateful to reset its states.")
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def get_config(self):
        config = super().get_config()
        config.update(merge_mode=self.merge_mode, layer=_serialize_layer(self.forward_layer),
                      backward_layer=_serialize_layer(self.backward_layer))
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**copy.deepcopy(config))


def _removeprefix(text, prefix):
    return text[len(prefix):] if text.startswith(prefix) else text
