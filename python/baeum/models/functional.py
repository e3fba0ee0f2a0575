"""Functional models: `Model(inputs, outputs)` over a graph of layer calls (Keras `Functional`).

`Input(shape)` returns a KerasTensor; calling a layer on KerasTensors records a Node (layer,
inbound tensors, call kwargs) and returns new KerasTensors. `Model(inputs, outputs)` walks the
nodes back from the outputs, orders them topologically, and turns them into a list of steps:

    forward:  values[t] for every tensor t; each step runs layer.forward(values of its inputs,
              ctx, training) and appends (layer, ctx) to the tape (one ctx per call, so a
              shared layer has one tape entry per use);
    backward: grads[t]; steps in reverse, each layer turning the gradients of its outputs into
              gradients of its inputs, which ADD into grads[input] (fan-out: a tensor consumed
              twice gets the sum). Weight gradients accumulate in var.grad across uses.

A step whose inputs need no gradient (they come from the model inputs or frozen layers only)
runs backward with need_dx=False, and is skipped entirely when its own weights are frozen too
(transfer learning: a frozen base costs no backward work).
"""
import types

import numpy as np

from baeum.layers.base import _fmt_shape, _trainable_version
from baeum.layers.core import InputLayer
from baeum.layers.node import KerasTensor
from baeum.models.graph_training import GraphTrainer, Multi
from baeum.models.model import Model


def _structure(obj, what):
    """tensor | list | tuple | dict → (list of tensors, names or None, kind)."""
    if isinstance(obj, KerasTensor):
        return [obj], None, "single"
    if isinstance(obj, (list, tuple)):
        for t in obj:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model: all {what} must be KerasTensors (from baeum.Input(...) or a layer call), "
                                f"received {type(t).__name__}: {t!r}.")
        return list(obj), None, "list"
    if isinstance(obj, dict):
        for k, t in obj.items():
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model: {what}[{k!r}] must be a KerasTensor, received {type(t).__name__}.")
        return list(obj.values()), list(obj.keys()), "dict"
    raise TypeError(f"Model: {what} must be a KerasTensor (from baeum.Input(...) or a layer call), or a list/dict "
                    f"of them; received {type(obj).__name__}: {obj!r}.")


class Functional(GraphTrainer, Model):
    """A model defined by its input and output KerasTensors."""

    _graph_model = True

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if inputs is None or outputs is None:
            raise TypeError("Model(inputs, outputs): both inputs= and outputs= are required.")
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._inputs, in_keys, self._input_kind = _structure(inputs, "inputs")
        self._outputs, out_keys, self._output_kind = _structure(outputs, "outputs")
        for t in self._inputs:
            if not isinstance(t._keras_history, InputLayer):
                raise ValueError(
                    f"Model {self.name!r}: input {t.name!r} is the output of layer {t._keras_history.name!r}, not a "
                    "baeum.Input(...). Fix: pass the Input tensors the graph starts from as inputs=.")
        self._build_graph()
        self._input_names = in_keys or [t._keras_history.name for t in self._inputs]
        names = out_keys or [t._keras_history.name if not t._node.multi_out else t.name for t in self._outputs]
        seen = {}
        self._output_names = []
        for n in names:  # the same layer's output twice: name, name_1, ...
            self._output_names.append(n if n not in seen else f"{n}_{seen[n]}")
            seen[n] = seen.get(n, 0) + 1
        self._output_shapes = [t.shape for t in self._outputs]
        self.input_shape = self._inputs[0].shape if len(self._inputs) == 1 else [t.shape for t in self._inputs]
        self.output_shape = self._output_shapes[0] if len(self._outputs) == 1 else list(self._output_shapes)
        self.built = True

    # ---- graph construction -------------------------------------------------------------------
    def _build_graph(self):
        input_ids = {id(t): i for i, t in enumerate(self._inputs)}
        if len(input_ids) != len(self._inputs):
            raise ValueError(f"Model {self.name!r}: the same Input appears twice in inputs=.")
        order, state = [], {}

        def visit(node, path):
            key = id(node)
            if state.get(key) == 2:
                return
            if state.get(key) == 1:
                raise ValueError(f"Model {self.name!r}: the graph has a cycle through layer {node.layer.name!r}.")
            state[key] = 1
            for t in node.inputs:
                if id(t) in input_ids:
                    continue
                if isinstance(t._keras_history, InputLayer):
                    raise ValueError(
                        f"Model {self.name!r}: output {path!r} is not reachable from the inputs: it depends on "
                        f"Input {t.name!r} (shape {_fmt_shape(t.shape)}), which is not in inputs="
                        f"{[i.name for i in self._inputs]}. Fix: add it to inputs=, or build the output from the "
                        "given inputs.")
                visit(t._node, path)
            state[key] = 2
            order.append(node)

        for t in self._outputs:
            if id(t) in input_ids:
                continue
            if isinstance(t._keras_history, InputLayer):
                raise ValueError(
                    f"Model {self.name!r}: output {t.name!r} is not reachable from the inputs: it is the Input "
                    f"{t.name!r}, which is not in inputs={[i.name for i in self._inputs]}.")
            visit(t._node, t.name)
        # tensor ids: model inputs first, then every node output in execution order
        tid = {id(t): i for i, t in enumerate(self._inputs)}
        for node in order:
            for t in node.outputs:
                tid[id(t)] = len(tid)
        used = {id(t) for node in order for t in node.inputs} | {id(t) for t in self._outputs}
        unused = [t.name for t in self._inputs if id(t) not in used]
        if unused:
            raise ValueError(
                f"Model {self.name!r}: input(s) {unused} are never used to compute the outputs "
                f"{[t.name for t in self._outputs]}. Fix: remove them from inputs=, or connect them to the graph.")
        # layers: Input layers (in inputs order), then each layer once, in execution order
        layers = [t._keras_history for t in self._inputs]
        for node in order:
            if not any(node.layer is l for l in layers):
                layers.append(node.layer)
        names = {}
        for layer in layers:
            if layer.name in names and names[layer.name] is not layer:
                raise ValueError(
                    f"Model {self.name!r}: all layers need unique names; {layer.name!r} is used by two different "
                    f"layers ({type(names[layer.name]).__name__} and {type(layer).__name__}). Fix: pass name= to one.")
            names[layer.name] = layer
        self._layers = layers
        self._nodes = order
        self._tid = tid
        self._n_tensors = len(tid)
        self._steps = [(n.layer, [tid[id(t)] for t in n.inputs], [tid[id(t)] for t in n.outputs], n.multi_in,
                        n.multi_out, n.training, n.kwargs) for n in order]
        self._out_ids = [tid[id(t)] for t in self._outputs]
        self._uses_masks = any(hasattr(l, "compute_mask") for l in layers)
        # outputs whose producing call nobody else consumes may fuse the loss with the activation
        consumers = {}
        for n in order:
            for t in n.inputs:
                consumers[id(t)] = consumers.get(id(t), 0) + 1
        self._out_entry = []
        self._keep = set()
        for k, t in enumerate(self._outputs):
            node = t._node
            exclusive = (id(t) not in input_ids and not consumers.get(id(t)) and not node.multi_out
                         and sum(o is t for o in self._outputs) == 1)
            if exclusive:
                i = order.index(node)
                self._out_entry.append(i)
                if getattr(node.layer, "output_activation", None) in ("sigmoid", "softmax"):
                    self._keep.add(i)
            else:
                self._out_entry.append(None)
        self._plans = {}
        # Fast path: every call has one input, one output, no kwargs/forced training flag,
        # no activity regulariser and no masks (most graphs): a tighter loop each way.
        simple = not self._uses_masks and all(
            not mi and not mo and forced is None and not kw and layer.activity_regularizer is None
            for layer, _, _, mi, mo, forced, kw in self._steps)
        self._simple = [(layer, ins[0], outs[0], i in self._keep)
                        for i, (layer, ins, outs, *_) in enumerate(self._steps)] if simple else None

    # ---- public graph attributes ----------------------------------------------------------------
    @property
    def layers(self):
        return list(self._layers)

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return self._inputs[0] if len(self._inputs) == 1 else list(self._inputs)

    @property
    def output(self):
        return self._outputs[0] if len(self._outputs) == 1 else list(self._outputs)

    @property
    def output_names(self):
        return list(self._output_names)

    @property
    def input_names(self):
        return list(self._input_names)

    @property
    def variables(self):
        return [v for layer in self._layers for v in layer.variables]

    def _fused_plan(self):
        """A chain of Dense/Dropout layers with a fused cross-entropy trains with Sequential's
        fused C++ step (models/mlp_plan.py; same bits as the executor), else None."""
        from baeum.models.sequential import Sequential

        if (not Sequential.fused_step or self._simple is None or not self._is_chain()
                or self._out_losses is None or self._out_losses[0] is None):
            return None
        out_layer = self._outputs[0]._keras_history
        fuse = self._fuse_for(0, out_layer)
        key = (id(self._flat_grads), self._out_losses[0], fuse, self._out_weights[0],
               tuple((id(l), getattr(l, "rate", None), getattr(l, "activation", None)) for l in self._layers))
        cached = self.__dict__.get("_plan_cache")
        if cached is None or cached[0] != key:
            from baeum.models import mlp_plan

            shim = types.SimpleNamespace(layers=self._layers[1:], input_shape=self.input_shape, _fuse=fuse,
                                         loss=self._out_losses[0], _loss_weight=self._out_weights[0],
                                         _has_activity=False, _flat_grads=self._flat_grads)
            self._plan_cache = cached = (key, mlp_plan.build(shim))
        return cached[1]

    # ---- forward ------------------------------------------------------------------------------
    def _build_for_inputs(self, xs, what):
        for a, t, name in zip(xs, self._inputs, self._input_names):
            want = t.shape[1:]
            got = a.shape[1:]
            if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
                raise ValueError(
                    f"{what}: input {name!r} of model {self.name!r} expects shape {_fmt_shape(t.shape)}, but the "
                    f"data has shape {_fmt_shape((None,) + tuple(got))}. Fix: pass data with the shape the Input "
                    "was declared with (same features as in training).")

    def _build_for(self, x_shape, what):  # Model.predict-style callers with one input
        if len(self._inputs) != 1:
            raise ValueError(f"{what}: model {self.name!r} has {len(self._inputs)} inputs; pass a list of arrays.")

    def _forward(self, x, training, tape):
        vals = [None] * self._n_tensors
        if isinstance(x, Multi):
            xs = x.items
        elif isinstance(x, (list, tuple)):
            xs = x
        else:
            xs = (x,)
        if len(xs) != len(self._inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self._inputs)} input(s), received {len(xs)}.")
        for i, a in enumerate(xs):
            vals[i] = a
        if self._simple is not None:
            append = tape.append
            for layer, src, dst, keep in self._simple:
                ctx = {"keep_preact": True} if keep else {}
                vals[dst] = layer.forward(vals[src], ctx, training)
                append((layer, ctx))
            if self._output_kind == "single":
                return vals[self._out_ids[0]]
            outs = [vals[t] for t in self._out_ids]
            return dict(zip(self._output_names, outs)) if self._output_kind == "dict" else outs
        masks = [None] * self._n_tensors if self._uses_masks else None
        keep = self._keep
        for i, (layer, ins, outs, multi_in, multi_out, forced, kwargs) in enumerate(self._steps):
            xin = [vals[t] for t in ins] if multi_in else vals[ins[0]]
            ctx = {"keep_preact": True} if i in keep else {}
            if kwargs:
                ctx["call_kwargs"] = kwargs
            if masks is not None:
                mask = [masks[t] for t in ins] if multi_in else masks[ins[0]]
                if mask is not None and (not multi_in or any(m is not None for m in mask)):
                    ctx["mask"] = mask
            y = layer.forward(xin, ctx, training if forced is None else forced)
            if multi_out:
                for t, a in zip(outs, y):
                    vals[t] = a
            else:
                vals[outs[0]] = y
                reg = layer.activity_regularizer
                if reg is not None:
                    ctx["activity_penalty"] = float(reg(y)) / max(len(y), 1)
                    ctx["activity_out"] = y
            if masks is not None:
                compute_mask = getattr(layer, "compute_mask", None)
                if compute_mask is not None:
                    out_mask = compute_mask(xin, mask)
                elif getattr(layer, "supports_masking", False):
                    out_mask = mask
                else:
                    out_mask = None
                for j, t in enumerate(outs):
                    masks[t] = out_mask[j] if multi_out and isinstance(out_mask, (list, tuple)) else out_mask
            tape.append((layer, ctx))
        outs = [vals[t] for t in self._out_ids]
        if self._output_kind == "dict":
            return dict(zip(self._output_names, outs))
        if self._output_kind == "list":
            return outs
        return outs[0]

    def _flat_outputs(self, y):
        if isinstance(y, dict):
            return [y[k] for k in self._output_names]
        return list(y) if isinstance(y, (list, tuple)) else [y]

    def _restructure(self, outs):
        if self._output_kind == "dict":
            return dict(zip(self._output_names, outs))
        return outs[0] if self._output_kind == "single" else list(outs)

    def _output_entry(self, k, tape):
        i = self._out_entry[k]
        if i is None:
            return None
        layer, ctx = tape[i]
        return i, layer, ctx

    def _output_layer(self, k):
        return self._outputs[k]._keras_history

    # ---- backward -----------------------------------------------------------------------------
    def _grad_plan(self, need_dx):
        """Per step (need_dx, run): whether its inputs need a gradient, and whether its
        backward runs at all (inputs need one, or its own weights are trainable)."""
        key = (_trainable_version[0], need_dx)
        plan = self._plans.get(key)
        if plan is None:
            req = [need_dx] * len(self._inputs) + [False] * (self._n_tensors - len(self._inputs))
            plan = []
            for layer, ins, outs, *_ in self._steps:
                need = any(req[t] for t in ins)
                trainable = any(v.trainable for v in layer.variables)
                for t in outs:
                    req[t] = need or trainable
                plan.append((need, need or trainable))
            self._plans = {key: plan, **{k: v for k, v in self._plans.items() if k[0] == key[0]}}
        return plan

    def _backward_graph(self, out_grads, tape, need_dx, preact):
        grads = [None] * self._n_tensors
        for t, g in zip(self._out_ids, out_grads):
            if g is not None:
                grads[t] = g if grads[t] is None else grads[t] + g
        plan = self._grad_plan(need_dx)
        if self._simple is not None:
            simple = self._simple
            for i in range(len(simple) - 1, -1, -1):
                layer, src, dst, _ = simple[i]
                dy = grads[dst]
                need, run = plan[i]
                if dy is None or not run:
                    continue
                if preact is not None and i in preact:
                    dx = layer.backward(dy, tape[i][1], need_dx=need, from_preact=True)
                else:
                    dx = layer.backward(dy, tape[i][1], need_dx=need)
                if need and dx is not None:
                    g = grads[src]
                    grads[src] = dx if g is None else g + dx
            return self._input_grads(grads) if need_dx else None
        for i in range(len(self._steps) - 1, -1, -1):
            layer, ins, outs, multi_in, multi_out, _, _ = self._steps[i]
            need, run = plan[i]
            if multi_out:
                gs = [grads[t] for t in outs]
                if not run or all(g is None for g in gs):
                    continue
                ctx = tape[i][1]
                dy = self._zeros_like_outputs(i, tape, gs)
            else:
                dy = grads[outs[0]]
                if dy is None or not run:
                    continue
                ctx = tape[i][1]
                if "activity_out" in ctx:
                    out = ctx["activity_out"]
                    dy = dy + layer.activity_regularizer.gradient(out) / max(len(out), 1)
            if preact is not None and i in preact:
                dx = layer.backward(dy, ctx, need_dx=need, from_preact=True)
            else:
                dx = layer.backward(dy, ctx, need_dx=need)
            if need:
                for t, d in zip(ins, dx if multi_in else (dx,)):
                    if d is not None:
                        grads[t] = d if grads[t] is None else grads[t] + d
        return self._input_grads(grads) if need_dx else None

    def _input_grads(self, grads):
        return [grads[i] if grads[i] is not None else np.zeros((1,) + tuple(d or 1 for d in t.shape[1:]),
                                                                 np.float32)
                for i, t in enumerate(self._inputs)]

    def _zeros_like_outputs(self, i, tape, gs):
        """Shapes for the zero gradients of outputs that received none (multi-output calls)."""
        ref = next(g for g in gs if g is not None)
        out = []
        for g, t in zip(gs, self._nodes[i].outputs):
            out.append(g if g is not None else np.zeros((len(ref),) + tuple(t.shape[1:]), np.float32))
        return out

    # ---- summary ----------------------------------------------------------------------------
    def _is_chain(self):
        if len(self._inputs) != 1 or len(self._outputs) != 1:
            return False
        prev = self._inputs[0]
        for node in self._nodes:
            if len(node.inputs) != 1 or len(node.outputs) != 1 or node.inputs[0] is not prev:
                return False
            prev = node.outputs[0]
        return len({id(n.layer) for n in self._nodes}) == len(self._nodes)

    def _connections(self, layer):
        local = self._local_node_indices()
        parts = []
        for node in self._nodes:
            if node.layer is layer:
                for t in node.inputs:
                    parts.append(f"{t._keras_history.name}[{local.get(id(t._node), 0)}][{t._index}]")
        return ", ".join(parts) if parts else "-"

    def _local_node_indices(self):
        """Index of each node among its layer's calls in this model (Keras's node_index)."""
        counts, local = {}, {}
        for t in self._inputs:
            local[id(t._node)] = 0
        for node in self._nodes:
            k = id(node.layer)
            local[id(node)] = counts.get(k, 0)
            counts[k] = counts.get(k, 0) + 1
        return local

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        from baeum.models.summary import print_summary

        connections = None if self._is_chain() else {id(l): self._connections(l) for l in self._layers}
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_trainable=show_trainable, connections=connections)

    # ---- config (Keras 3 Functional format) --------------------------------------------------
    def get_config(self):
        local = self._local_node_indices()

        def history(t):
            return [t._keras_history.name, local.get(id(t._node), 0), t._index]

        def tensor(t):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(t.shape), "dtype": "float32", "keras_history": history(t)}}

        layers = []
        for layer in self._layers:
            entry = {"module": "keras.layers" if not isinstance(layer, Model) else "keras.models",
                     "class_name": type(layer).__name__, "config": layer.get_config(), "registered_name": None,
                     "name": layer.name, "inbound_nodes": []}
            if isinstance(layer, InputLayer):
                layers.append(entry)
                continue
            if layer.input_shape is not None:
                entry["build_config"] = {"input_shape": layer.input_shape}
            for node in self._nodes:
                if node.layer is not layer:
                    continue
                pos = node.inputs[:node.n_args] if node.n_args is not None else node.inputs[:1]
                args = [[tensor(t) for t in pos]] if node.n_args is not None else [tensor(pos[0])]
                kwargs = dict(node.kwargs)
                if node.training is not None:
                    kwargs["training"] = node.training
                at = len(pos)
                for key, count, is_list in node.tensor_kwargs:
                    ts = [tensor(t) for t in node.inputs[at:at + count]]
                    kwargs[key] = ts if is_list else ts[0]
                    at += count
                entry["inbound_nodes"].append({"args": args, "kwargs": kwargs})
            layers.append(entry)

        def refs(tensors, keys):
            out = [history(t) for t in tensors]
            return dict(zip(keys, out)) if keys is not None else out

        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": refs(self._inputs, self._input_names if self._input_kind == "dict" else None),
                "output_layers": refs(self._outputs, self._output_names if self._output_kind == "dict" else None)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        created, tensors = {}, {}
        for entry in config["layers"]:
            layer_cls = _resolve_class(entry["class_name"], custom_objects)
            if hasattr(layer_cls, "from_config"):
                try:
                    layer = layer_cls.from_config(dict(entry["config"]), custom_objects=custom_objects)
                except TypeError:
                    layer = layer_cls.from_config(dict(entry["config"]))
            else:
                layer = layer_cls(**entry["config"])
            created[entry.get("name", layer.name)] = layer
            if isinstance(layer, InputLayer):
                tensors[(layer.name, 0)] = [layer.output]

        def resolve(obj):
            if isinstance(obj, dict) and obj.get("class_name") == "__keras_tensor__":
                name, node_index, tensor_index = obj["config"]["keras_history"]
                key = (name, node_index)
                if key not in tensors:
                    raise KeyError(key)
                return tensors[key][tensor_index]
            if isinstance(obj, list):
                return [resolve(o) for o in obj]
            if isinstance(obj, dict):
                return {k: resolve(v) for k, v in obj.items()}
            return obj

        pending = [(entry.get("name"), i, node) for entry in config["layers"]
                   for i, node in enumerate(entry.get("inbound_nodes", []))]
        while pending:
            progress, rest = False, []
            for name, i, node in pending:
                if any((name, j) not in tensors for j in range(i)):
                    rest.append((name, i, node))  # a layer's calls replay in order
                    continue
                try:
                    args = resolve(node["args"])
                    kwargs = resolve(node.get("kwargs", {}))
                except KeyError:
                    rest.append((name, i, node))
                    continue
                out = created[name](*args, **kwargs)
                tensors[(name, i)] = list(out) if isinstance(out, (list, tuple)) else [out]
                progress = True
            if not progress:
                raise ValueError(f"Functional.from_config: cannot connect layers {[p[0] for p in rest]}: their "
                                 "inputs are never produced (a broken config).")
            pending = rest

        def pick(refs):
            if isinstance(refs, dict):
                return {k: tensors[(r[0], r[1])][r[2]] for k, r in refs.items()}
            if refs and not isinstance(refs[0], (list, tuple)):
                refs = [refs]
            return [tensors[(r[0], r[1])][r[2]] for r in refs]

        inputs, outputs = pick(config["input_layers"]), pick(config["output_layers"])
        if isinstance(outputs, list) and len(outputs) == 1:
            outputs = outputs[0]
        if isinstance(inputs, list) and len(inputs) == 1:
            inputs = inputs[0]
        return cls(inputs=inputs, outputs=outputs, name=config.get("name"),
                   trainable=config.get("trainable", True))


def _resolve_class(class_name, custom_objects):
    import baeum.layers as layers_mod
    import baeum.models as models_mod

    if custom_objects and class_name in custom_objects:
        return custom_objects[class_name]
    if class_name in ("Functional", "Model"):
        return Functional
    for mod in (layers_mod, models_mod):
        if hasattr(mod, class_name):
            return getattr(mod, class_name)
    raise ValueError(f"Unknown layer class {class_name!r} in the config. Fix: pass it in custom_objects="
                     "{'" + class_name + "': YourClass}.")
