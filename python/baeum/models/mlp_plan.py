"""The fused training step of a Dense/Dropout Sequential (C++: csrc/baeum/mlp.h).

The course's first model — Dense layers with Dropout between them, a sigmoid or softmax
output and a cross-entropy loss — trains at batch size 10, where going back to Python
between layers costs as much as the layers themselves. For exactly that model, `fit` runs
forward, loss and backward as one C++ call (`_core.MlpPlan.step`) that calls the same
kernels in the same order as the layer-by-layer path, so the numbers are the same bits
(tests/models/test_mlp_plan.py). Anything else — other layers, sample weights, activity
regularizers, loss weights, other losses — takes the general path.

The same step takes a prefix of Conv2D layers followed by Flatten (the course's deck-003 CNN)
when every convolution runs on the direct kernels (`_core.MlpPlan.conv_supported`): it then
runs all convolutions on one image before the next and back, so activations stay in cache
(csrc/baeum/mlp.h), again with the layer path's bits.
"""
import numpy as np

from baeum import _core
from baeum.layers.conv import Conv2D
from baeum.layers.core import Dense, Dropout, Flatten
from baeum.ops.conv import _geometry
from baeum.ops.nn import _resolved

_LOSS_KIND = {"BinaryCrossentropy": 0, "CategoricalCrossentropy": 1, "SparseCategoricalCrossentropy": 2}


class MlpStep:
    """Per-step wrapper: draws the Dropout seeds in layer order (as the layers would), runs
    the C++ step and reduces the per-sample loss as losses.py's fused path does."""

    def __init__(self, plan, dropouts, x_shape, y_shape):
        self._plan = plan
        self._dropouts = dropouts
        self._x_shape = x_shape
        self._y_shape = y_shape

    def step(self, x, y):
        """(loss value, predictions), or None when this batch needs the general path."""
        if tuple(x.shape[1:]) != self._x_shape or y.shape[1:] != self._y_shape or not len(x):
            return None
        seeds = [d._next_seed() for d in self._dropouts]
        loss, pred = self._plan.step(x, y, seeds)
        return float(loss.sum(dtype=np.float64)) / len(x), pred


def _loss_kind(model):
    loss = model.loss
    kind = _LOSS_KIND.get(type(loss).__name__)
    if (kind is None or getattr(loss, "from_logits", True) or getattr(loss, "ignore_class", None) is not None
            or loss.reduction not in ("sum_over_batch_size", "mean")):
        return None
    expected = {0: "sigmoid", 1: "softmax", 2: "softmax"}[kind]
    return kind if model._fuse == expected else None


def _conv_prefix(layers, input_shape):
    """(specs of the leading Conv2D layers, the number of layers they and the Flatten after
    them take, the flattened width), or None when they cannot all run in the fused step."""
    spec, shape = [], tuple(input_shape[1:])
    for i, layer in enumerate(layers):
        if type(layer) is Flatten:
            return (spec, i + 1, int(np.prod(shape))) if spec else None
        if type(layer) is not Conv2D or layer.groups != 1 or any(v is None for v in shape):
            return None
        h, w, c = shape
        kh, kw, _, oc = layer.kernel.value.shape
        s, d, (oh, ow), (pt, pl) = _geometry("Conv2D", (h, w), (kh, kw), layer.strides, layer.padding,
                                             layer.dilation_rate)
        _, act, alpha = _resolved(layer.activation, None, "Conv2D")
        if not _core.MlpPlan.conv_supported(h, w, c, oh, ow, oc, kh, kw, s[0], s[1], d[0], d[1], pt, pl, 1,
                                            int(act), bool(spec)):
            return None
        b = layer.bias
        spec.append(("conv", layer.kernel.value, None if b is None else b.value, layer.kernel.grad,
                     None if b is None else b.grad, int(act), float(alpha), bool(layer._needs_preact),
                     (h, w, oh, ow, s[0], s[1], d[0], d[1], pt, pl)))
        shape = (oh, ow, oc)
    return None


def build(model):
    """An MlpStep for `model` (a built, compiled Sequential whose weights are packed), or
    None when the model is not a Dense/Dropout stack (optionally behind Conv2D layers and a
    Flatten) with a fused cross-entropy."""
    layers = model.layers
    if (model._fuse is None or model._loss_weight != 1.0 or model._has_activity or not layers
            or len(model.input_shape) not in (2, 4) or type(layers[-1]) is not Dense):
        return None
    kind = _loss_kind(model)
    if kind is None:
        return None
    spec, dropouts = [], []
    width = model.input_shape[1]
    if len(model.input_shape) == 4:
        prefix = _conv_prefix(layers, model.input_shape)
        if prefix is None:
            return None
        spec, skip, width = prefix
        layers = layers[skip:]
    for layer in layers:
        if type(layer) is Dropout:
            if layer.noise_shape is not None:
                return None
            if layer.rate > 0.0:  # rate 0 is the identity and draws no seed
                spec.append(("dropout", width, float(layer.rate)))
                dropouts.append(layer)
        elif type(layer) is Dense:
            _, act, alpha = _resolved(layer.activation, None, "Dense")
            keep = layer is layers[-1] or layer._needs_preact
            b = layer.bias
            spec.append(("dense", layer.kernel.value, None if b is None else b.value, layer.kernel.grad,
                         None if b is None else b.grad, int(act), float(alpha), bool(keep)))
            width = layer.units
        else:
            return None
    ls = float(getattr(model.loss, "label_smoothing", 0.0) or 0.0)
    plan = _core.MlpPlan(spec, kind, ls, model._flat_grads)
    y_shape = () if kind == 2 else (layers[-1].units,)
    return MlpStep(plan, dropouts, tuple(model.input_shape[1:]), y_shape)
