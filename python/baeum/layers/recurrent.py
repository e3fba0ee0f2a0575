"""Recurrent layers: SimpleRNN, LSTM, GRU (Keras 3 semantics, weight layouts and defaults).

Each layer runs the whole sequence in one C++ call forward and one backward (baeum.ops.rnn;
the per-step math is in baeum.reference.rnn, derivations in docs/rnn.md).

Inputs are (samples, timesteps, features); timesteps may be unknown (input_shape=[None, 1]).
Multi-input / multi-output contract (used by the functional API):
* ``forward([x, *initial_states], ctx, training)`` takes initial states as extra inputs;
  ``backward`` then returns ``[dx, *dstates]``.
* with ``return_state=True`` forward returns ``[output, h]`` (LSTM ``[output, h, c]``) and
  backward receives a list of the same length (arrays, zeros or None where no gradient flows).
* a bool mask (N, T) in ``ctx["mask"]``: masked steps keep the previous state and output the
  previous output (zeros with ``zero_output_for_mask=True``), as Keras.
"""
import numpy as np

from baeum import ops
from baeum.layers.base import Layer
from baeum.utils import _rng


def _is_shape_list(s):
    return isinstance(s, (list, tuple)) and len(s) > 0 and isinstance(s[0], (list, tuple))


class _RNN(Layer):
    """Shared machinery of SimpleRNN, LSTM and GRU (Keras's RNN wrapper around a cell)."""

    _gates = 1
    _num_states = 1
    _has_recurrent_activation = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 **kwargs):
        # Keras's LSTM/GRU cells take `implementation` (1: one product and one dropout mask
        # per gate; 2, the default: fused gates, one input mask); SimpleRNN has no such argument.
        implementation = kwargs.pop("implementation", 2) if self._gates > 1 else None
        super().__init__(**kwargs)
        kind = type(self).__name__
        if implementation not in (None, 1, 2) or isinstance(implementation, bool):
            raise ValueError(f"{kind} {self.name!r}: implementation must be 1 or 2, received {implementation!r}.")
        self.implementation = implementation
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"{kind} {self.name!r}: units must be a positive integer, received {units!r}.")
        if any(c is not None for c in (kernel_constraint, recurrent_constraint, bias_constraint)):
            raise NotImplementedError(f"{kind} {self.name!r}: weight constraints are not supported yet.")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise ValueError(f"{kind} {self.name!r}: {name} must be a number in [0, 1], received {rate!r}.")
        from baeum import initializers, regularizers

        self.units = int(units)
        self.activation = self._activation_name(activation, "activation")
        self.recurrent_activation = (self._activation_name(recurrent_activation, "recurrent_activation")
                                     if self._has_recurrent_activation else "linear")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted for Keras compatibility: the fused kernel never unrolls
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None  # stateful: [h, (c)] carried between batches

    def _activation_name(self, activation, what):
        from baeum import activations

        name = activations.op_name(activation)
        if name is None or name not in ops.rnn.SUPPORTED_ACTIVATIONS:
            raise NotImplementedError(
                f"{type(self).__name__} {self.name!r}: {what}={activation!r} is not supported by "
                f"baeum's recurrent kernels; use one of {', '.join(ops.rnn.SUPPORTED_ACTIVATIONS)}.")
        return name

    # ---- shapes -----------------------------------------------------------------------------
    def _seq_shape(self, input_shape):
        if _is_shape_list(input_shape):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(self._rank_message(input_shape))
        if input_shape[1] == 0:
            raise ValueError(f"{type(self).__name__} {self.name!r}: inputs have 0 timesteps; a sequence "
                             "needs at least one.")
        return input_shape

    def _rank_message(self, shape):
        kind = type(self).__name__
        msg = (f"{kind} {self.name!r} expects 3-D inputs (samples, timesteps, features), received "
               f"shape {tuple(shape)}.")
        if len(shape) == 2:
            msg += (" Fix: for a univariate series add a feature axis, e.g. x[..., None] "
                    "(or reshape to (samples, timesteps, 1)).")
        return msg

    def _maybe_build(self, input_shape):
        return super()._maybe_build(self._seq_shape(input_shape))

    def _check_input(self, shape):
        shape = self._seq_shape(shape)
        want = None if self.input_shape is None else self.input_shape[-1]
        if want is not None and shape[-1] is not None and shape[-1] != want:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) was built for {want} features per "
                f"timestep, received inputs of shape {tuple(shape)}. Fix: pass sequences with {want} "
                "features (any number of timesteps works), or build a new layer.")

    def build(self, input_shape):
        f = self._seq_shape(input_shape)[-1]
        if f is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the number of features (last "
                             f"input dimension) must be known, got {input_shape}.")
        gu = self._gates * self.units
        self.kernel = self.add_weight("kernel", (f, gu), self.kernel_initializer, self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, gu),
                                                self.recurrent_initializer, self.recurrent_regularizer)
        self.bias = (self.add_weight("bias", self._bias_shape(), self._bias_init(), self.bias_regularizer)
                     if self.use_bias else None)

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def compute_output_shape(self, input_shape):
        n, t, _ = self._seq_shape(input_shape)
        out = (n, t, self.units) if self.return_sequences else (n, self.units)
        if self.return_state:
            return [out] + [(n, self.units)] * self._num_states
        return out

    def compute_mask(self, x, mask):
        return mask if self.return_sequences else None

    # ---- computation ------------------------------------------------------------------------
    def _next_seed(self):
        if self._rng is not None:
            return int(self._rng.integers(0, 2**63 - 1))
        return _rng.next_seed()

    def _initial_states(self, states, n):
        kind = type(self).__name__
        if states:
            if len(states) != self._num_states:
                raise ValueError(f"{kind} {self.name!r} expects {self._num_states} initial state(s) "
                                 f"{'[h, c]' if self._num_states == 2 else '[h]'}, received {len(states)}.")
            out = []
            for s in states:
                s = np.ascontiguousarray(s, dtype=np.float32)
                if s.shape != (n, self.units):
                    raise ValueError(f"{kind} {self.name!r}: an initial state has shape {s.shape}, "
                                     f"expected (batch, units) = ({n}, {self.units}).")
                out.append(s)
            return out, True
        if self.stateful and self.states is not None:
            if self.states[0].shape[0] != n:
                raise ValueError(
                    f"{kind} {self.name!r} is stateful and holds states for batches of "
                    f"{self.states[0].shape[0]} samples, received {n}. Fix: use the same batch size "
                    "for every batch (and drop the remainder), or call reset_states() first.")
            return list(self.states), False
        return [None] * self._num_states, False

    def reset_states(self, states=None):
        """Zero (or set) the states a stateful layer carries between batches (Keras reset_states)."""
        if states is None:
            self.states = None if self.states is None else [np.zeros_like(s) for s in self.states]
        else:
            states = states if isinstance(states, (list, tuple)) else [states]
            self.states = [np.array(s, dtype=np.float32) for s in states]

    reset_state = reset_states

    def _run(self, x, init, mask, rmask, imask=None):
        raise NotImplementedError

    def _run_backward(self, ctx, dhs, dc_last, dinp, dh0, dc0):
        raise NotImplementedError

    def forward(self, x, ctx, training):
        if isinstance(x, (list, tuple)):
            x, *states = x
        else:
            states = []
        if x.ndim != 3:
            raise ValueError(self._rank_message(x.shape))
        n, t, f = x.shape
        if t == 0:
            raise ValueError(f"{type(self).__name__} {self.name!r}: inputs have 0 timesteps; a "
                             "sequence needs at least one.")
        init, from_inputs = self._initial_states(states, n)
        mask = ctx.get("mask")
        if mask is not None:
            mask = np.asarray(mask, bool)
            if mask.shape != (n, t):
                raise ValueError(f"{type(self).__name__} {self.name!r}: mask has shape {mask.shape}, "
                                 f"expected (samples, timesteps) = ({n}, {t}).")
            if mask.all():
                mask = None
        dmask = rmask = imask = None
        xin = x
        g = self._gates
        if training and g > 1 and (self.recurrent_dropout > 0.0 or (self.implementation == 1 and self.dropout > 0.0)):
            # Keras: recurrent_dropout switches LSTM / GRU cells to implementation 1 (as does
            # implementation=1), where every gate has its own input mask (G, N, F) and
            # recurrent mask (G, N, U), fixed for all timesteps of the batch (ops run them in
            # the per-gate path).
            if self.dropout > 0.0:
                _, imask = ops.dropout_forward(np.ones((g, n, f), np.float32), self.dropout,
                                               self._next_seed())
            if self.recurrent_dropout > 0.0:
                _, rmask = ops.dropout_forward(np.ones((g, n, self.units), np.float32),
                                               self.recurrent_dropout, self._next_seed())
        else:
            if training and self.dropout > 0.0:  # one (N, F) mask for every timestep and gate
                xin, dmask = ops.dropout_forward(x, self.dropout, self._next_seed(), noise_shape=(n, 1, f))
            if training and self.recurrent_dropout > 0.0:  # SimpleRNN: one (N, U) mask on h_{t−1}
                _, rmask = ops.dropout_forward(np.ones((n, self.units), np.float32),
                                               self.recurrent_dropout, self._next_seed())
        hs, cs, cache = self._run(xin, init, mask, rmask, imask)
        # ctx["mask"] belongs to the executor's mask protocol; the layer keeps its own copy.
        ctx.update(x=xin, init=init, from_inputs=from_inputs, rnn_mask=mask, dmask=dmask, rmask=rmask,
                   imask=imask, hs=hs, cs=cs, cache=cache, n_states=len(states))
        if mask is None:
            y = hs if self.return_sequences else hs[:, -1]
        else:
            y = self._masked_outputs(hs, self._proc_mask(mask))
        if self.stateful:
            self.states = [hs[:, -1].copy()] + ([cs[:, -1].copy()] if cs is not None else [])
        if self.return_state:
            return [y, hs[:, -1].copy()] + ([cs[:, -1].copy()] if cs is not None else [])
        return y

    def _proc_mask(self, mask):
        return mask[:, ::-1] if self.go_backwards else mask

    def _masked_outputs(self, hs, m):
        """Keras output sequence with a mask (processing order): y_s = h_s where m_s, else the
        previous output (zeros before any unmasked step), or 0 with zero_output_for_mask."""
        mm = m[:, :, None]
        if self.zero_output_for_mask:
            ys = np.where(mm, hs, np.float32(0))
        else:
            ys = np.empty_like(hs)
            prev = np.zeros_like(hs[:, 0])
            for s in range(hs.shape[1]):
                prev = np.where(mm[:, s], hs[:, s], prev)
                ys[:, s] = prev
        return ys if self.return_sequences else ys[:, -1]

    def _dstates_from_outputs(self, dy, hs_shape, mask):
        """∂L/∂hs (N, T, U) from ∂L/∂outputs (the inverse map of _masked_outputs)."""
        n, t, u = hs_shape
        if mask is None:
            if self.return_sequences:
                return np.ascontiguousarray(dy, dtype=np.float32)
            dhs = np.zeros(hs_shape, np.float32)
            dhs[:, -1] = dy
            return dhs
        m = self._proc_mask(mask)[:, :, None]
        if self.return_sequences:
            dys = np.asarray(dy, np.float32)
        else:
            dys = np.zeros(hs_shape, np.float32)
            dys[:, -1] = dy
        if self.zero_output_for_mask:
            return np.where(m, dys, np.float32(0)).astype(np.float32)
        dhs = np.zeros(hs_shape, np.float32)
        carry = np.zeros((n, u), np.float32)
        for s in reversed(range(t)):
            g = dys[:, s] + carry
            dhs[:, s] = np.where(m[:, s], g, 0)
            carry = np.where(m[:, s], 0, g)
        return dhs

    def backward(self, dy, ctx, need_dx=True):
        hs = ctx["hs"]
        dstate = []
        if self.return_state:
            dy, *dstate = dy
        n, t, u = hs.shape
        if dy is None:
            dy = np.zeros((n, t, u) if self.return_sequences else (n, u), np.float32)
        dhs = self._dstates_from_outputs(dy, hs.shape, ctx["rnn_mask"])
        dc_last = None
        if dstate:
            if dstate[0] is not None:
                if np.may_share_memory(dhs, dy) or not dhs.flags.writeable:
                    dhs = dhs.copy()  # never write into the caller's gradient
                dhs[:, -1] += dstate[0]
            if len(dstate) > 1 and dstate[1] is not None:
                dc_last = np.ascontiguousarray(dstate[1], dtype=np.float32)
        x = ctx["x"]
        dinp = np.empty(x.shape, np.float32) if need_dx else None
        want_states = ctx["from_inputs"]
        dh0 = np.empty((n, u), np.float32) if want_states else None
        dc0 = np.empty((n, u), np.float32) if want_states and self._num_states == 2 else None
        self._run_backward(ctx, dhs, dc_last, dinp, dh0, dc0)
        if dinp is not None and ctx["dmask"] is not None:
            dinp = ops.dropout_backward(dinp, ctx["dmask"])
        if ctx["n_states"]:
            return [dinp, dh0] + ([dc0] if dc0 is not None else [])
        return dinp

    def _grads(self):
        return dict(dkernel=self.kernel.grad, drecurrent_kernel=self.recurrent_kernel.grad,
                    dbias=None if self.bias is None else self.bias.grad)

    # ---- config -----------------------------------------------------------------------------
    def get_config(self):
        from baeum import initializers, regularizers

        config = super().get_config()
        config.update(
            units=self.units, activation=self.activation, use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            recurrent_regularizer=regularizers.serialize(self.recurrent_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            dropout=self.dropout, recurrent_dropout=self.recurrent_dropout, seed=self.seed,
            return_sequences=self.return_sequences, return_state=self.return_state,
            go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask)
        if self._has_recurrent_activation:
            config["recurrent_activation"] = self.recurrent_activation
        if self.implementation == 1:  # the default (2) stays out of the config, as in Keras
            config["implementation"] = 1
        return config


class SimpleRNN(_RNN):
    """Fully connected RNN (Keras `SimpleRNN`): h_t = activation(x_t·kernel + h_{t−1}·recurrent_kernel + bias).

    Weights: kernel (features, units), recurrent_kernel (units, units), bias (units,)."""

    _gates = 1
    _num_states = 1
    _has_recurrent_activation = False

    def __init__(self, units, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError("SimpleRNN: unexpected keyword argument 'recurrent_activation'.")
        super().__init__(units, activation=activation, **kwargs)

    def _run(self, x, init, mask, rmask, imask=None):
        hs, cache = ops.simple_rnn_forward(x, self.kernel.value, self.recurrent_kernel.value,
                                           None if self.bias is None else self.bias.value, init[0],
                                           mask=mask, activation=self.activation,
                                           go_backwards=self.go_backwards, recurrent_mask=rmask)
        return hs, None, cache

    def _run_backward(self, ctx, dhs, dc_last, dinp, dh0, dc0):
        ops.simple_rnn_backward(dhs, ctx["x"], self.kernel.value, self.recurrent_kernel.value,
                                ctx["init"][0], ctx["hs"], ctx["cache"], mask=ctx["rnn_mask"],
                                activation=self.activation, go_backwards=self.go_backwards,
                                recurrent_mask=ctx["rmask"], dinp=dinp, dh0=dh0, **self._grads())


class _UnitForgetBias:
    """LSTM bias initializer with unit_forget_bias: [init(U), ones(U), init(2U)] (Keras)."""

    def __init__(self, base, units):
        self.base, self.units = base, units

    def __call__(self, shape, dtype=None):
        u = self.units
        return np.concatenate([np.asarray(self.base((u,)), np.float32), np.ones(u, np.float32),
                               np.asarray(self.base((2 * u,)), np.float32)])


class LSTM(_RNN):
    """Long short-term memory (Keras `LSTM`), gate blocks i, f, c, o:
    i, f, o = recurrent_activation(·), g = activation(·), c_t = f⊙c_{t−1} + i⊙g,
    h_t = o⊙activation(c_t). Weights: kernel (features, 4u), recurrent_kernel (u, 4u),
    bias (4u,) initialised with ones for the forget gate when unit_forget_bias (default)."""

    _gates = 4
    _num_states = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True,
                 use_cudnn="auto", **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.use_cudnn = use_cudnn  # accepted for Keras compatibility (CPU only)

    def _bias_init(self):
        if self.unit_forget_bias:
            return _UnitForgetBias(self.bias_initializer, self.units)
        return self.bias_initializer

    def _run(self, x, init, mask, rmask, imask=None):
        return ops.lstm_forward(x, self.kernel.value, self.recurrent_kernel.value,
                                None if self.bias is None else self.bias.value, init[0], init[1],
                                mask=mask, activation=self.activation,
                                recurrent_activation=self.recurrent_activation,
                                go_backwards=self.go_backwards, recurrent_mask=rmask, input_mask=imask)

    def _run_backward(self, ctx, dhs, dc_last, dinp, dh0, dc0):
        ops.lstm_backward(dhs, ctx["x"], self.kernel.value, self.recurrent_kernel.value,
                          ctx["init"][0], ctx["init"][1], ctx["hs"], ctx["cs"], ctx["cache"],
                          dc_last=dc_last, mask=ctx["rnn_mask"], activation=self.activation,
                          recurrent_activation=self.recurrent_activation,
                          go_backwards=self.go_backwards, recurrent_mask=ctx["rmask"],
                          input_mask=ctx["imask"], dinp=dinp, dh0=dh0, dc0=dc0, **self._grads())

    def get_config(self):
        config = super().get_config()
        config.update(unit_forget_bias=self.unit_forget_bias, use_cudnn=self.use_cudnn)
        return config


class GRU(_RNN):
    """Gated recurrent unit (Keras `GRU`), gate blocks z, r, h; h_t = z⊙h_{t−1} + (1−z)⊙ĥ.
    reset_after=True (default): bias (2, 3u) = [input bias, recurrent bias] and
    ĥ = activation(x·W_h + b_xh + r⊙(h_{t−1}·U_h + b_hh)); reset_after=False: bias (3u,) and
    ĥ = activation(x·W_h + b_h + (r⊙h_{t−1})·U_h)."""

    _gates = 3
    _num_states = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True,
                 use_cudnn="auto", **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.reset_after = bool(reset_after)
        self.use_cudnn = use_cudnn  # accepted for Keras compatibility (CPU only)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _run(self, x, init, mask, rmask, imask=None):
        hs, cache = ops.gru_forward(x, self.kernel.value, self.recurrent_kernel.value,
                                    None if self.bias is None else self.bias.value, init[0], mask=mask,
                                    activation=self.activation,
                                    recurrent_activation=self.recurrent_activation,
                                    go_backwards=self.go_backwards, reset_after=self.reset_after,
                                    recurrent_mask=rmask, input_mask=imask)
        return hs, None, cache

    def _run_backward(self, ctx, dhs, dc_last, dinp, dh0, dc0):
        ops.gru_backward(dhs, ctx["x"], self.kernel.value, self.recurrent_kernel.value, ctx["init"][0],
                         ctx["hs"], ctx["cache"], mask=ctx["rnn_mask"], activation=self.activation,
                         recurrent_activation=self.recurrent_activation, go_backwards=self.go_backwards,
                         reset_after=self.reset_after, recurrent_mask=ctx["rmask"],
                         input_mask=ctx["imask"], dinp=dinp, dh0=dh0, **self._grads())

    def get_config(self):
        config = super().get_config()
        config.update(reset_after=self.reset_after, use_cudnn=self.use_cudnn)
        return config
