"""Graph bookkeeping shared by the functional API and subclassed models.

* A **node** is one call of a layer on symbolic tensors (``KerasTensor``): the layer, the
  inbound tensors (tensor-valued call kwargs such as ``initial_state=[h, c]`` appended after
  the positional inputs), the non-tensor call kwargs and the outbound tensors. The functional
  executor (``baeum.models.functional``) runs nodes in topological order.
* A **recorder** is the tape of a subclassed model's ``call`` while a training/test step is
  active: every ``Layer.__call__`` on arrays appends ``(layer, ctx)`` to the tape and links
  (input arrays → output arrays) so backward can route gradients (fan-out sums, shared layers
  get one ctx per call).
"""
import numpy as np


class KerasTensor:
    """A symbolic tensor: a shape (batch first, None) and where it comes from.

    `Input(shape)` returns one; calling a layer on KerasTensors returns new ones. Keras's
    `_keras_history` is (layer, node_index, tensor_index); baeum keeps the layer there (what
    Sequential.add reads) and the node and index as `_node` / `_index`.
    """

    def __init__(self, shape, layer, node=None, index=0):
        self.shape = tuple(shape)
        self._keras_history = layer
        self._node = node
        self._index = index
        self.name = layer.name if node is None or (index == 0 and not node.multi_out) else f"{layer.name}_{index}"

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def dtype(self):
        return "float32"

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"KerasTensor {self.name!r} is symbolic (a placeholder in a functional model), not data: "
            "NumPy cannot compute with it. Fix: use layers (e.g. baeum.layers.Add) on symbolic tensors, "
            "and call the model on arrays to get numbers.")


class Node:
    """One call of `layer` on symbolic tensors."""

    __slots__ = ("layer", "inputs", "outputs", "kwargs", "training", "multi_in", "multi_out", "index",
                 "n_args", "tensor_kwargs")

    def __init__(self, layer, inputs, kwargs, training, multi_in):
        self.layer = layer
        self.inputs = list(inputs)
        self.outputs = []
        self.kwargs = dict(kwargs)
        self.training = training  # None: the model's training flag; True/False: forced
        self.multi_in = multi_in
        self.multi_out = False
        self.index = len(layer._inbound_nodes)  # node index within its layer (summary: name[i][j])
        self.n_args = None  # None: one positional tensor; n: a list of n; then tensor kwargs [(key, count, is_list)]
        self.tensor_kwargs = []


def flatten_tensors(obj):
    """KerasTensors found in obj (a tensor, list/tuple/dict of tensors) in order."""
    if isinstance(obj, KerasTensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in flatten_tensors(o)]
    if isinstance(obj, dict):
        return [t for k in obj for t in flatten_tensors(obj[k])]
    return []


def contains_tensor(obj):
    return bool(flatten_tensors(obj))


# ---- recording (subclassed models) --------------------------------------------------------
class Recorder:
    """The tape of one forward pass of a subclassed model's `call`."""

    __slots__ = ("tape", "links", "training", "produced", "sources", "keep_logits")

    def __init__(self, tape, training, sources, keep_logits=False):
        self.tape = tape          # [(layer, ctx)], shared with the model's step
        self.links = []           # [(inputs list, outputs list, multi_in, multi_out)] per tape entry
        self.training = training
        self.produced = set()     # id() of every array a recorded layer returned
        self.sources = sources    # the model's input arrays (constants for backward)
        self.keep_logits = keep_logits  # ask sigmoid/softmax layers to keep logits (fused loss)

    def check_input(self, layer, arr):
        if id(arr) in self.produced or any(arr is s for s in self.sources):
            return
        base = arr
        while isinstance(base, np.ndarray) and base.base is not None:
            base = base.base
            if any(base is s for s in self.sources):
                return
        if self.training:
            raise ValueError(
                f"Layer {layer.name!r} ({type(layer).__name__}) was called in call() on an array that no "
                "layer of this model produced (the model inputs excepted): NumPy operations inside call() "
                "are not differentiated by baeum, so its gradient would be lost. Fix: compute it with "
                "layers (e.g. baeum.layers.Add/Multiply/Concatenate, or a Dense) so the tape records it."
            )


_stack = []


def active_recorder():
    return _stack[-1] if _stack else None


def push(recorder):
    _stack.append(recorder)


def pop():
    _stack.pop()
