"""Normalization layers: Keras `BatchNormalization` and `LayerNormalization`.

Formulas (KERAS_SEMANTICS.md §1.3; derivations in docs/pooling_norm.md): biased variance,
ε = 1e-3, moving ← moving·momentum + batch·(1 − momentum). Math: baeum.reference.norm;
kernels: baeum.ops.norm (csrc/baeum/norm.cpp).
"""
import numpy as np

from baeum import initializers, ops, regularizers
from baeum.layers.base import Layer


def _no_constraints(layer, *constraints):
    if any(c is not None for c in constraints):
        raise NotImplementedError(f"{type(layer).__name__} {layer.name!r}: weight constraints are not supported yet.")


class BatchNormalization(Layer):
    """y = γ·(x − μ)/sqrt(σ² + ε) + β per channel (`axis`), Keras `BatchNormalization`.

    Training (``training=True`` and the layer is trainable): μ, σ² are the batch mean and
    biased variance over every axis but `axis`, and moving_mean / moving_variance are
    updated in place: moving ← moving·momentum + batch·(1 − momentum). Inference, or a
    frozen layer (``trainable=False``, as Keras does even inside fit): the moving
    statistics are used and left unchanged. Weights (Keras order): gamma, beta (trainable),
    moving_mean, moving_variance (non-trainable): 4·C parameters, 2·C non-trainable.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        if renorm:
            raise NotImplementedError(f"BatchNormalization {self.name!r}: renorm=True (batch renormalization) "
                                      "is not implemented.")
        _no_constraints(self, beta_constraint, gamma_constraint)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"BatchNormalization {self.name!r}: axis must be an int, received {axis!r}.")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.synchronized = bool(synchronized)  # one process: nothing to synchronise
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma = self.beta = None

    def build(self, input_shape):
        nd = len(input_shape)
        if not -nd <= self.axis < nd or self.axis % nd == 0:
            raise ValueError(f"BatchNormalization {self.name!r}: axis {self.axis} is not a feature axis of inputs "
                             f"of shape {tuple(input_shape)} (axis 0 is the batch). Use axis=-1 for channels_last.")
        c = input_shape[self.axis]
        if c is None:
            raise ValueError(f"BatchNormalization {self.name!r}: the size of axis {self.axis} must be known, "
                             f"received input shape {tuple(input_shape)}.")
        if self.scale:
            self.gamma = self.add_weight("gamma", (c,), self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", (c,), self.beta_initializer, self.beta_regularizer)
        self.moving_mean = self.add_weight("moving_mean", (c,), self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (c,), self.moving_variance_initializer,
                                               trainable=False)

    def forward(self, x, ctx, training):
        batch_stats = bool(training) and self.trainable  # frozen BN runs in inference mode (Keras)
        y, ctx["mean"], ctx["invstd"] = ops.batch_norm_forward(
            x, None if self.gamma is None else self.gamma.value, None if self.beta is None else self.beta.value,
            self.moving_mean.value, self.moving_variance.value, axis=self.axis, momentum=self.momentum,
            epsilon=self.epsilon, training=batch_stats)
        ctx["x"], ctx["batch_stats"] = x, batch_stats
        return y

    def backward(self, dy, ctx, need_dx=True):
        c = self.moving_mean.shape[0]
        s2, s1 = np.zeros(c, np.float32), np.zeros(c, np.float32)  # Σ dy·x̂, Σ dy of this call
        dx = np.empty(dy.shape, np.float32) if need_dx else None
        gamma = None if self.gamma is None else self.gamma.value
        ops.batch_norm_backward(dy, ctx["x"], ctx["mean"], ctx["invstd"], gamma, axis=self.axis,
                                training=ctx["batch_stats"], dgamma=s2, dbeta=s1, dinp=dx)
        if self.gamma is not None:
            self.gamma.grad += s2
        if self.beta is not None:
            self.beta.grad += s1
        if not ctx["batch_stats"]:
            # In inference mode the moving statistics are inputs of y, so their gradients
            # are defined (and free: O(C) from the sums above). They are non-trainable, so no
            # optimizer applies them; they keep finite-difference checks of the layer exact.
            g = 1.0 if gamma is None else gamma
            inv = ctx["invstd"]
            self.moving_mean.grad -= g * inv * s1
            self.moving_variance.grad -= 0.5 * g * inv * inv * s2
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, momentum=self.momentum, epsilon=self.epsilon, center=self.center,
                      scale=self.scale, beta_initializer=initializers.serialize(self.beta_initializer),
                      gamma_initializer=initializers.serialize(self.gamma_initializer),
                      moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
                      moving_variance_initializer=initializers.serialize(self.moving_variance_initializer),
                      beta_regularizer=regularizers.serialize(self.beta_regularizer),
                      gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
                      synchronized=self.synchronized)
        return config


class LayerNormalization(Layer):
    """y = γ·(x − μ)/sqrt(σ² + ε) + β with μ, σ² (biased) over `axis` of each sample,
    Keras `LayerNormalization` (ε = 1e-3; same in training and inference). Weights: gamma,
    beta of shape input_shape[axis] (2·d parameters)."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, rms_scaling=False, **kwargs):
        super().__init__(**kwargs)
        if rms_scaling:
            raise NotImplementedError(f"LayerNormalization {self.name!r}: rms_scaling=True (deprecated in Keras) "
                                      "is not implemented; use center=False with the default scaling.")
        _no_constraints(self, beta_constraint, gamma_constraint)
        if isinstance(axis, (list, tuple)):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise ValueError(f"LayerNormalization {self.name!r}: axis must be an int or a list of ints, "
                             f"received {axis!r}.")
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma = self.beta = None

    def build(self, input_shape):
        nd = len(input_shape)
        axes = [self.axis] if isinstance(self.axis, int) else list(self.axis)
        if not axes or any(not -nd <= a < nd or a % nd == 0 for a in axes):
            raise ValueError(f"LayerNormalization {self.name!r}: axis {self.axis} is not a feature axis of inputs "
                             f"of shape {tuple(input_shape)} (axis 0 is the batch).")
        self._axes = tuple(sorted({a % nd for a in axes}))
        shape = tuple(input_shape[a] for a in self._axes)
        if any(d is None for d in shape):
            raise ValueError(f"LayerNormalization {self.name!r}: the normalised axes must have known sizes, "
                             f"received input shape {tuple(input_shape)}.")
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", shape, self.beta_initializer, self.beta_regularizer)

    def forward(self, x, ctx, training):
        y, ctx["mean"], ctx["invstd"] = ops.layer_norm_forward(
            x, None if self.gamma is None else self.gamma.value, None if self.beta is None else self.beta.value,
            axis=self._axes, epsilon=self.epsilon)
        ctx["x"] = x
        return y

    def backward(self, dy, ctx, need_dx=True):
        dx = np.empty(dy.shape, np.float32) if need_dx else None
        ops.layer_norm_backward(dy, ctx["x"], ctx["mean"], ctx["invstd"],
                                None if self.gamma is None else self.gamma.value, axis=self._axes,
                                dgamma=None if self.gamma is None else self.gamma.grad,
                                dbeta=None if self.beta is None else self.beta.grad, dinp=dx)
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale,
                      beta_initializer=initializers.serialize(self.beta_initializer),
                      gamma_initializer=initializers.serialize(self.gamma_initializer),
                      beta_regularizer=regularizers.serialize(self.beta_regularizer),
                      gamma_regularizer=regularizers.serialize(self.gamma_regularizer))
        return config
