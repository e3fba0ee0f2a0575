"""Saving and loading models and weights (Keras 3's file formats; see docs/saving.md).

Formats:

* ``.keras`` — a zip archive holding ``metadata.json``, ``config.json`` (the model's
  serialized config, its ``build_config`` and ``compile_config``) and ``model.weights.h5``.
* ``.weights.h5`` — just the HDF5 weights file of the archive: groups
  ``layers/<snake_case class name>[_k]/vars/<i>`` (one dataset per variable, in the layer's
  weight order), ``optimizer/vars/<i>`` (iterations, learning_rate, then every slot of
  every trainable variable) and an empty top-level ``vars`` group.
* ``.h5`` / ``.hdf5`` — the legacy (Keras 2) HDF5 model: attributes ``model_config`` and
  ``training_config`` (JSON), groups ``model_weights/<layer name>/<layer name>/<var>`` and
  ``optimizer_weights``. ``save_weights("w.h5")`` writes the legacy weights-only layout.

Guarantees:

* Writes are atomic: the whole file is built in memory, written to a temporary file in the
  target directory, flushed to disk, then renamed over the target (``os.replace``). An
  exception (or a crash) midway leaves the previous file untouched.
* Loads read and check everything first — the file's kind (zip, HDF5, or an HTML page / a
  Git-LFS pointer saved by mistake), its structure, and every variable's shape against the
  model — and assign only when all of it fits, so a failed load leaves the model unchanged.
* The optimizer's state (iterations, learning rate, every slot, Nadam's μ product) is saved
  and restored exactly, and so is the private RNG of a layer created with ``seed=``
  (e.g. ``Dropout(0.5, seed=1)``), so training resumes bit for bit.
"""
import datetime
import io
import json
import logging
import os
import tempfile
import warnings
import zipfile

import numpy as np

from baeum.saving import serialization

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
VARS_FILENAME = "model.weights.h5"
KERAS_VERSION = "3.15.1"   # the Keras release whose layout these files follow

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"
_logger = logging.getLogger("baeum")
_warned_legacy = False


class LoadError(ValueError):
    """A file that cannot be loaded (wrong kind, truncated, or not matching the model)."""


# --------------------------------------------------------------------------- helpers
def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency
        raise ImportError("Saving and loading need h5py: pip install h5py") from e
    return h5py


def _fspath(filepath, what):
    try:
        return os.fspath(filepath)
    except TypeError:
        raise TypeError(f"{what}: filepath must be a str or os.PathLike (e.g. pathlib.Path), "
                        f"received {type(filepath).__name__}: {filepath!r}.") from None


def atomic_write(path, data, overwrite=True):
    """Write ``data`` (bytes) to ``path``: temp file in the same directory, fsync, rename."""
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Cannot save to {path!r}: the directory {directory!r} does not "
                                "exist. Fix: create it first (os.makedirs(..., exist_ok=True)).")
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot save to {path!r}: it is a directory.")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} already exists and overwrite=False. Fix: pass "
                              "overwrite=True or choose another path.")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_all(f, data):
    """Write in 1 MiB pieces (a hook point for the interrupted-save test)."""
    view = memoryview(data)
    for start in range(0, len(view), 1 << 20):
        f.write(view[start:start + (1 << 20)])


def _read_file(path, what):
    """(kind, bytes) with kind 'zip' or 'hdf5'; a clear error for anything else."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what}: no file found at {path!r}. Check the path (and the "
                                "working directory: " + os.getcwd() + ").")
    if os.path.isdir(path):
        raise LoadError(f"{what}: {path!r} is a directory, not a saved model file. (A TensorFlow "
                        "SavedModel directory cannot be loaded by baeum; save with "
                        "model.save('model.keras').)")
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise LoadError(f"{what}: {path!r} is empty (0 bytes) — an interrupted copy or download?")
    if data.startswith(_ZIP_MAGIC) or data.startswith(b"PK\x05\x06"):
        return "zip", data
    if data.startswith(_HDF5_MAGIC):
        return "hdf5", data
    head = data[:512].lstrip().lower()
    if head.startswith(b"version https://git-lfs"):
        raise LoadError(f"{what}: {path!r} is a Git LFS pointer file ({len(data)} bytes of text), "
                        "not the model itself. Fix: run `git lfs pull` in the repository (or "
                        "download the real file).")
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")) or b"<html" in head:
        raise LoadError(f"{what}: {path!r} is an HTML page, not a saved model. The download "
                        "probably saved a web page (a login, error or preview page) instead of "
                        "the file. Fix: download the raw file (e.g. the 'raw' or direct link).")
    raise LoadError(f"{what}: {path!r} is neither a .keras zip archive nor an HDF5 file (first "
                    f"bytes: {data[:16]!r}). It may be corrupt or in another format.")


def _open_h5(data, path, what):
    try:
        return _h5py().File(io.BytesIO(data), "r")
    except OSError as e:
        raise LoadError(f"{what}: {path!r} starts like an HDF5 file but cannot be read — it is "
                        f"truncated or corrupt ({len(data)} bytes; {e}). Fix: save it again or "
                        "re-download it.") from None


def _open_zip(data, path, what):
    try:
        zf = zipfile.ZipFile(io.BytesIO(data), "r")
        bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as e:
        raise LoadError(f"{what}: {path!r} starts like a .keras zip archive but cannot be read — "
                        f"it is truncated or corrupt ({len(data)} bytes; {e}). Fix: save it "
                        "again or re-download it.") from None
    if bad is not None:
        raise LoadError(f"{what}: {path!r}: the archive member {bad!r} is corrupt (CRC mismatch).")
    names = zf.namelist()
    missing = [n for n in (CONFIG_FILENAME, VARS_FILENAME) if n not in names]
    if missing:
        raise LoadError(f"{what}: {path!r} is a zip archive but not a .keras model: it lacks "
                        f"{missing} (it holds {names[:8]}).")
    return zf


def _json_dumps(obj):
    return json.dumps(serialization.to_jsonable(obj))


# --------------------------------------------------------------------------- model walk
def _snake(name):
    from baeum.layers.base import _snake_case

    return _snake_case(name)


def _is_model(obj):
    from baeum.models import Model

    return isinstance(obj, Model)


def _layer_vars(layer):
    """The layer's variables in Keras's saving order: declared trainable first, then
    non-trainable, each in creation order (independent of ``layer.trainable``)."""
    vs = list(layer.variables)
    return ([v for v in vs if getattr(v, "_trainable", True)]
            + [v for v in vs if not getattr(v, "_trainable", True)])


def _walk(model, prefix=""):
    """[(h5 path, layer)] for every layer, Keras's naming: the container is ``layers``, a
    layer's key is the snake_case of its class, ``_1``, ``_2``... for repeats; a nested
    model is itself walked under its own path."""
    out, used = [], {}
    for layer in model.layers:
        key = _snake(type(layer).__name__)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        path = f"{prefix}layers/{key}"
        out.append((path, layer))
        if _is_model(layer):
            out += _walk(layer, path + "/")
    return out


def _layer_rng(layer):
    rng = getattr(layer, "_rng", None)
    return rng if isinstance(rng, np.random.Generator) else None


def _describe(layer):
    return f"layer {layer.name!r} ({type(layer).__name__})"


# --------------------------------------------------------------------------- optimizer state
def _optimizer_layout(model):
    """(optimizer, trainable variables in the flat order, expected sizes of the optimizer's
    variables once built, whether the lr is a variable)."""
    opt = getattr(model, "optimizer", None)
    if opt is None or not hasattr(opt, "_slot_names"):
        return None
    model._pack_weights()
    tv = [v for v in model._flat_vars if v.trainable]
    has_lr = not callable(opt._learning_rate)
    sizes = [1] + ([1] if has_lr else [])
    sizes += [v.size for _ in opt._slot_names() for v in tv]
    if opt._kind == "nadam":
        sizes.append(1)
    return opt, tv, sizes, has_lr


def _optimizer_arrays(model):
    """The optimizer's variables (Keras order) as arrays; slots shaped like their variable."""
    layout = _optimizer_layout(model)
    if layout is None:
        return None, {}
    opt, tv, _, has_lr = layout
    arrays = [np.array(opt.iterations, dtype=np.int64)]
    if has_lr:
        arrays.append(np.array(opt._learning_rate, dtype=np.float32))
    attrs = {"optimizer_class": type(opt).__name__}
    if has_lr:
        attrs["baeum_learning_rate"] = float(opt._learning_rate)  # exact (float64) value
    if opt.built and getattr(opt, "_built_size", None) != model._flat_values.shape[0]:
        warnings.warn(f"The optimizer {opt.name!r} was built for {opt._built_size} parameters, "
                      f"not for this model's {model._flat_values.shape[0]}; its slots are not "
                      "saved (only iterations and the learning rate).", UserWarning, stacklevel=4)
    elif opt.built:
        # Slots are flat buffers over the model's whole parameter arena: take each slot at the
        # offsets of the variables that are trainable NOW (also right after a freeze).
        for slot in opt._slots:
            for v in tv:
                o = model._offsets[id(v)]
                arrays.append(slot[o:o + v.size].reshape(v.shape).copy())
        if opt._kind == "nadam":
            arrays.append(np.array(opt._u_product, dtype=np.float32))
            attrs["baeum_u_product"] = float(opt._u_product)
    return arrays, attrs


def _plan_optimizer(model, arrays, attrs, source):
    """Check the optimizer arrays against the model; returns a function applying them."""
    layout = _optimizer_layout(model)
    if layout is None:
        return None
    opt, tv, sizes, has_lr = layout
    got = [int(np.asarray(a).size) for a in arrays]
    cls = attrs.get("optimizer_class")
    if cls is not None and cls != type(opt).__name__:
        raise LoadError(f"{source}: the file holds the state of a {cls} optimizer but the model's "
                        f"optimizer is {type(opt).__name__}.")
    unbuilt = got == sizes[:len(got)] and len(got) == 1 + has_lr
    if not unbuilt and got != sizes:
        raise LoadError(
            f"{source}: the optimizer state does not fit the model: the file has "
            f"{len(got)} optimizer variables of sizes {got[:12]}{'...' if len(got) > 12 else ''}, "
            f"{type(opt).__name__} for this model needs {len(sizes)} of sizes "
            f"{sizes[:12]}{'...' if len(sizes) > 12 else ''} (slots {opt._slot_names()} for "
            f"{len(tv)} trainable variables).")

    def apply():
        opt._iterations = int(np.asarray(arrays[0]))
        if has_lr:
            opt._learning_rate = float(attrs.get("baeum_learning_rate", np.asarray(arrays[1])))
        if unbuilt:
            return
        model._prepare_training()
        if opt.built and opt._built_size != model._flat_values.shape[0]:
            opt._slots = None   # built for other variables: rebuilt for this model below
        opt.build_flat(model._flat_values.shape[0])
        opt._segments = [(int(model._offsets[id(v)]), int(v.size)) for v in tv]
        k = 1 + has_lr
        for slot in opt._slots:
            for o, n in opt._segments:
                slot[o:o + n] = np.asarray(arrays[k], dtype=np.float32).reshape(-1)
                k += 1
        if opt._kind == "nadam":
            opt._u_product = float(attrs.get("baeum_u_product", np.asarray(arrays[k])))
    return apply


# --------------------------------------------------------------------------- Keras 3 h5
def _write_h5_bytes(fill):
    h5py = _h5py()
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        fill(f)
    return buf.getvalue()


def _fill_weights_h5(f, model, include_optimizer=True):
    f.create_group("vars")
    for path, layer in _walk(model):
        group = f.create_group(path).create_group("vars")
        if _is_model(layer):
            continue
        for i, v in enumerate(_layer_vars(layer)):
            group.create_dataset(str(i), data=np.asarray(v.value, dtype=np.float32))
        rng = _layer_rng(layer)
        if rng is not None:
            group.attrs["baeum_rng_state"] = json.dumps(rng.bit_generator.state)
    if include_optimizer:
        arrays, attrs = _optimizer_arrays(model)
        if arrays is not None:
            group = f.create_group("optimizer").create_group("vars")
            for i, a in enumerate(arrays):
                group.create_dataset(str(i), data=a)
            for k, val in attrs.items():
                group.attrs[k] = val


def _read_vars_group(group):
    keys = sorted(group.keys(), key=lambda k: int(k) if k.isdigit() else 1 << 60)
    return [np.array(group[k]) for k in keys], dict(group.attrs)


def _skip_or_raise(errors, skipped, source, skip_mismatch):
    """With skip_mismatch the layers in `skipped` keep their weights and each gets a warning
    (Keras: load_weights(..., skip_mismatch=True)); otherwise nothing is loaded."""
    if errors and not skip_mismatch:
        raise LoadError(f"{source}: the weights do not fit the model ({len(errors)} problem"
                        f"{'s' if len(errors) > 1 else ''}); nothing was loaded:\n  - "
                        + "\n  - ".join(errors))
    for why in skipped:
        warnings.warn(f"{source}: skipping {why}; that layer keeps its current weights "
                      "(skip_mismatch=True).", UserWarning, stacklevel=4)


def _layer_actions(layer, want, arrays, where, errors):
    """Assignments of `arrays` to the layer's variables `want`, or None (with the reasons in
    `errors`) when they do not fit: a layer is loaded whole or not at all."""
    if len(arrays) != len(want):
        errors.append(f"{_describe(layer)} {where}: the file has {len(arrays)} weights, the model "
                      f"has {len(want)} ({[v.name for v in want]})")
        return None
    bad = [f"{_describe(layer)} {where}: weight {v.name!r} has shape {a.shape} in the file but "
           f"{v.shape} in the model" for v, a in zip(want, arrays) if a.shape != v.shape]
    if bad:
        errors.extend(bad)
        return None
    return [lambda v=v, a=a: v.assign(a) for v, a in zip(want, arrays)]


def _plan_keras3(model, f, source, load_optimizer=True, skip_mismatch=False):
    """Check the Keras 3 weights file ``f`` against ``model``; return the list of actions."""
    errors, actions, skipped = [], [], []
    entries = _walk(model)
    expected = {p for p, _ in entries}
    for path, layer in entries:
        if _is_model(layer):
            continue
        want = _layer_vars(layer)
        node = f.get(path + "/vars") if path in f else None
        if node is None:
            if want:
                errors.append(f"{_describe(layer)} at {path!r}: not in the file "
                              f"(the model needs {len(want)} weights)")
                skipped.append(errors[-1])
            continue
        arrays, attrs = _read_vars_group(node)
        n_errors = len(errors)
        layer_actions = _layer_actions(layer, want, arrays, f"at {path!r}", errors)
        if layer_actions is None:
            skipped.append("; ".join(errors[n_errors:]))
            continue
        actions.extend(layer_actions)
        rng = _layer_rng(layer)
        if rng is not None and "baeum_rng_state" in attrs:
            state = json.loads(attrs["baeum_rng_state"])
            if state.get("bit_generator") == rng.bit_generator.state.get("bit_generator"):
                actions.append(lambda rng=rng, s=state: setattr(rng.bit_generator, "state", s))
    extra = []

    def visit(name, obj):
        if name.endswith("/vars") and name.startswith("layers/") and len(obj):
            p = name[:-5]
            if p not in expected:
                extra.append(p)
    f.visititems(visit)
    if extra:
        errors.append(f"the file has weights for layers the model does not have: {sorted(extra)} "
                      f"(the model's layers: {[p for p, _ in entries]})")
        skipped.append(f"the file's weights for {sorted(extra)} (no such layers in the model)")
    _skip_or_raise(errors, skipped, source, skip_mismatch)
    if load_optimizer and "optimizer/vars" in f and getattr(model, "optimizer", None) is not None:
        arrays, attrs = _read_vars_group(f["optimizer/vars"])
        try:
            apply = _plan_optimizer(model, arrays, attrs, source)
        except LoadError as e:
            if load_optimizer == "strict":
                raise
            warnings.warn(f"{e} The optimizer state was skipped (the weights were loaded).",
                          UserWarning, stacklevel=4)
            apply = None
        if apply is not None:
            actions.append(apply)
    return actions


# --------------------------------------------------------------------------- legacy h5
def _fill_legacy_weights(group, model):
    layers = list(model.layers)
    group.attrs["layer_names"] = [l.name.encode("utf8") for l in layers]
    group.attrs["backend"] = "baeum"
    group.attrs["keras_version"] = KERAS_VERSION
    for layer in layers:
        g = group.create_group(layer.name)
        vs = list(layer.weights) if _is_model(layer) else _layer_vars(layer)
        names = [v.path for v in vs]
        g.attrs["weight_names"] = [n.encode("utf8") for n in names]
        for n, v in zip(names, vs):
            g.create_dataset(n, data=np.asarray(v.value, dtype=np.float32))
        rng = None if _is_model(layer) else _layer_rng(layer)
        if rng is not None:
            g.attrs["baeum_rng_state"] = json.dumps(rng.bit_generator.state)


def _plan_legacy(model, group, source, skip_mismatch=False):
    def dec(x):
        return x.decode("utf8") if isinstance(x, bytes) else str(x)

    names = [dec(n) for n in group.attrs.get("layer_names", [])]
    file_layers = []
    for n in names:
        wn = [dec(w) for w in group[n].attrs.get("weight_names", [])] if n in group else []
        if wn:
            file_layers.append((n, [np.array(group[n][w]) for w in wn]))
    model_layers = [(l, list(l.weights) if _is_model(l) else _layer_vars(l)) for l in model.layers]
    model_layers = [(l, vs) for l, vs in model_layers if vs]
    if len(file_layers) != len(model_layers):
        raise LoadError(
            f"{source}: the file has weights for {len(file_layers)} layers "
            f"{[n for n, _ in file_layers]} but the model has {len(model_layers)} layers with "
            f"weights {[l.name for l, _ in model_layers]}; nothing was loaded.")
    errors, actions, skipped = [], [], []
    for (fname, arrays), (layer, vs) in zip(file_layers, model_layers):
        n_errors = len(errors)
        layer_actions = _layer_actions(layer, vs, arrays, f"(file layer {fname!r})", errors)
        if layer_actions is None:
            skipped.append("; ".join(errors[n_errors:]))
        else:
            actions.extend(layer_actions)
    _skip_or_raise(errors, skipped, source, skip_mismatch)
    # Private RNG states (layers with seed=), matched by position among such layers.
    file_states = [json.loads(group[n].attrs["baeum_rng_state"]) for n in names
                   if n in group and "baeum_rng_state" in group[n].attrs]
    rngs = [r for r in (_layer_rng(l) for l in model.layers if not _is_model(l)) if r is not None]
    if len(file_states) == len(rngs):
        for rng, state in zip(rngs, file_states):
            if state.get("bit_generator") == rng.bit_generator.state.get("bit_generator"):
                actions.append(lambda rng=rng, s=state: setattr(rng.bit_generator, "state", s))
    return actions


def _fill_legacy_optimizer(f, model):
    arrays, attrs = _optimizer_arrays(model)
    if arrays is None:
        return
    opt = model.optimizer
    g = f.create_group("optimizer_weights")
    names = [f"{opt.name}/iterations"] + ([f"{opt.name}/learning_rate"]
                                          if "baeum_learning_rate" in attrs else [])
    tv = [v for v in model._flat_vars if v.trainable]
    if len(arrays) > len(names):
        for slot in opt._slot_names():
            names += [f"{opt.name}/{v.path.replace('/', '_')}_{slot}" for v in tv]
        if opt._kind == "nadam":
            names.append(f"{opt.name}/u_product")
    names = names[:len(arrays)]
    g.attrs["weight_names"] = [n.encode("utf8") for n in names]
    for n, a in zip(names, arrays):
        g.create_dataset(n, data=a)
    for k, val in attrs.items():
        g.attrs[k] = val


# --------------------------------------------------------------------------- compile config
def _serialize_loss_like(obj):
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return {k: _serialize_loss_like(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_serialize_loss_like(o) for o in obj]
    import inspect

    if inspect.isclass(obj):
        return obj.__name__
    return serialization.serialize_keras_object(obj)


def get_compile_config(model):
    """Keras's ``compile_config`` of a compiled model (None if not compiled)."""
    if not getattr(model, "compiled", False):
        return None
    from baeum import optimizers

    explicit = getattr(model, "_compile_config", None)
    if isinstance(explicit, dict):
        cfg = dict(explicit)
    else:
        lw = getattr(model, "_loss_weight", 1.0)
        cfg = {"loss": getattr(model, "_loss_identifier", None),
               "loss_weights": None if lw == 1.0 else lw,
               "metrics": getattr(model, "_metric_identifiers", None) or None,
               "weighted_metrics": None}
    cfg["optimizer"] = optimizers.serialize(model.optimizer)
    cfg["loss"] = _serialize_loss_like(cfg.get("loss"))
    cfg["metrics"] = _serialize_loss_like(cfg.get("metrics"))
    cfg["weighted_metrics"] = _serialize_loss_like(cfg.get("weighted_metrics"))
    cfg.update(run_eagerly=False, steps_per_execution=1, jit_compile=False)
    return serialization.to_jsonable(cfg)


def _deserialize_loss_like(obj, custom_objects, kind):
    if obj is None:
        return None
    if isinstance(obj, list):
        return [_deserialize_loss_like(o, custom_objects, kind) for o in obj]
    if isinstance(obj, str):
        return serialization.deserialize_keras_object(obj, custom_objects)
    if isinstance(obj, dict) and "class_name" not in obj:
        return {k: _deserialize_loss_like(v, custom_objects, kind) for k, v in obj.items()}
    from baeum.saving import object_registration as reg

    cls = None
    for key in (obj.get("registered_name"), obj["class_name"]):
        if key and cls is None:
            cls = reg.get_registered_object(key, custom_objects)
    if cls is None:
        from baeum import losses, metrics

        module = losses if kind == "loss" else metrics
        cls = getattr(module, obj["class_name"], None)
    if cls is None:
        raise LoadError(f"Could not locate the {kind} class {obj['class_name']!r}. Fix: register "
                        "it with @baeum.saving.register_keras_serializable() or pass "
                        "custom_objects=.")
    return cls.from_config(dict(obj.get("config") or {}))


def compile_from_config(model, config, custom_objects=None):
    from baeum import optimizers

    opt = optimizers.deserialize(config["optimizer"], custom_objects=custom_objects)
    kwargs = {"optimizer": opt,
              "loss": _deserialize_loss_like(config.get("loss"), custom_objects, "loss"),
              "metrics": _deserialize_loss_like(config.get("metrics"), custom_objects, "metric")}
    if config.get("loss_weights") is not None:
        kwargs["loss_weights"] = config["loss_weights"]
    if config.get("weighted_metrics"):
        kwargs["weighted_metrics"] = _deserialize_loss_like(config["weighted_metrics"],
                                                            custom_objects, "metric")
    model.compile(**kwargs)


def _model_config(model):
    cfg = serialization.serialize_keras_object(model)
    if getattr(model, "built", False) and getattr(model, "input_shape", None) is not None:
        cfg["build_config"] = {"input_shape": serialization.to_jsonable(model.input_shape)}
    cfg["compile_config"] = get_compile_config(model)
    return cfg


def _model_from_config(cfg, custom_objects, compile, source):
    try:
        model = serialization.deserialize_keras_object(
            {k: cfg[k] for k in ("module", "class_name", "config", "registered_name") if k in cfg},
            custom_objects)
    except (TypeError, ValueError, KeyError) as e:
        raise LoadError(f"{source}: could not rebuild the model from its config: {e}") from e
    build = cfg.get("build_config") or {}
    if not getattr(model, "built", False) and build.get("input_shape") is not None:
        model.build(tuple(build["input_shape"]))
    if compile and cfg.get("compile_config"):
        try:
            compile_from_config(model, cfg["compile_config"], custom_objects)
        except (TypeError, ValueError) as e:
            raise LoadError(f"{source}: the model was rebuilt but could not be compiled as it was "
                            f"saved: {e} Fix: pass the custom loss/metric/optimizer in "
                            "custom_objects= (or register it), or load with compile=False and "
                            "compile it yourself.") from e
    return model


# --------------------------------------------------------------------------- public API
def _check_savable(model, what):
    if not getattr(model, "built", False):
        raise ValueError(f"{what}: model {model.name!r} has not been built yet, so it has no "
                         "weights to save. Fix: give it an Input(shape) / input_shape=, call "
                         "model.build((None, n_features)), or train/predict once first.")


class _DirArchive:
    """An unzipped ``.keras`` (``model.save(path, zipped=False)``): a directory holding the
    archive's files, read through the two methods load_model uses of a ZipFile."""

    def __init__(self, path):
        self.path = path

    def namelist(self):
        return sorted(os.listdir(self.path))

    def read(self, name):
        with open(os.path.join(self.path, name), "rb") as f:
            return f.read()


def _archive_files(model, include_optimizer):
    """(name, bytes) of the three files of a ``.keras`` archive."""
    _check_savable(model, "save")
    config_json = _json_dumps(_model_config(model))
    from baeum import __version__

    metadata = {"keras_version": KERAS_VERSION, "baeum_version": __version__,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    weights = _write_h5_bytes(lambda f: _fill_weights_h5(f, model, include_optimizer))
    return [(METADATA_FILENAME, json.dumps(metadata).encode("utf8")),
            (CONFIG_FILENAME, config_json.encode("utf8")), (VARS_FILENAME, weights)]


def _save_unzipped(model, path, overwrite, include_optimizer):
    """Keras's ``zipped=False``: the archive's files in the directory ``path`` (created),
    each written atomically."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise FileExistsError(f"save(zipped=False): {path!r} exists and is a file; the unzipped "
                              "format is a directory. Fix: choose another path or remove the file.")
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise FileExistsError(f"{path!r} already exists and overwrite=False. Fix: pass "
                              "overwrite=True or choose another path.")
    files = _archive_files(model, include_optimizer)
    os.makedirs(path, exist_ok=True)
    for name, data in files:
        atomic_write(os.path.join(path, name), data, overwrite=True)


def save_model(model, filepath, overwrite=True, zipped=None, include_optimizer=True):
    """``model.save(path)``: ``.keras`` (zip) or legacy ``.h5``/``.hdf5``; atomic. zipped=False
    (Keras): the ``.keras`` archive's files in a directory at ``path`` instead of a zip."""
    path = _fspath(filepath, "save")
    lower = path.lower()
    if zipped is False:
        if lower.endswith((".h5", ".hdf5")):
            raise ValueError(f"save: zipped=False writes the native format as a directory; {path!r} "
                             "ends with .h5. Fix: drop zipped=False, or choose a directory path.")
        _save_unzipped(model, path, overwrite, include_optimizer)
        return
    if lower.endswith(".keras"):
        data = _keras_archive_bytes(model, include_optimizer)
    elif lower.endswith((".h5", ".hdf5")):
        if lower.endswith(".weights.h5"):
            raise ValueError(f"save: {path!r} ends with .weights.h5, the extension of "
                             "save_weights(). Fix: model.save('model.keras') for the whole model "
                             "or model.save_weights(path) for the weights only.")
        global _warned_legacy
        if not _warned_legacy:  # Keras logs this at every save; once per process is enough
            _warned_legacy = True
            _logger.warning("You are saving your model as an HDF5 file via `model.save()`. This "
                            "file format is considered legacy. We recommend using instead the "
                            "native Keras format, e.g. `model.save('my_model.keras')`.")
        data = _legacy_model_bytes(model, include_optimizer)
    else:
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension for "
            "the native Keras format (recommended) or a `.h5` extension. Use "
            f"`model.save_weights()` to save only the weights. Received: filepath={path}.")
    atomic_write(path, data, overwrite=overwrite)


def _keras_archive_bytes(model, include_optimizer):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in _archive_files(model, include_optimizer):
            zf.writestr(name, data)
    return buf.getvalue()


def _legacy_model_bytes(model, include_optimizer):
    _check_savable(model, "save")
    cfg = _model_config(model)
    compile_cfg = cfg.pop("compile_config", None)
    model_config = {"class_name": cfg["class_name"], "config": cfg["config"],
                    "module": cfg.get("module"), "registered_name": cfg.get("registered_name"),
                    "build_config": cfg.get("build_config")}

    def fill(f):
        from baeum import __version__

        f.attrs["backend"] = "baeum"
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["baeum_version"] = __version__
        f.attrs["model_config"] = _json_dumps(model_config)
        if compile_cfg is not None:
            training = {"optimizer_config": compile_cfg["optimizer"], "loss": compile_cfg["loss"],
                        "metrics": compile_cfg["metrics"],
                        "weighted_metrics": compile_cfg["weighted_metrics"],
                        "loss_weights": compile_cfg["loss_weights"]}
            f.attrs["training_config"] = _json_dumps(training)
        _fill_legacy_weights(f.create_group("model_weights"), model)
        if include_optimizer and compile_cfg is not None:
            _fill_legacy_optimizer(f, model)
    return _write_h5_bytes(fill)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model saved by ``model.save`` (``.keras`` or legacy ``.h5``): config,
    weights, and — when compiled — the optimizer with its full state."""
    path = _fspath(filepath, "load_model")
    source = f"load_model({path!r})"
    lower = path.lower()
    unzipped = os.path.isdir(path) and os.path.isfile(os.path.join(path, CONFIG_FILENAME))
    if not unzipped and not lower.endswith((".keras", ".h5", ".hdf5")):
        raise ValueError(f"File format not supported: filepath={path}. baeum loads `.keras` "
                         "files, their unzipped directories (save(..., zipped=False)) and legacy "
                         "`.h5`/`.hdf5` files.")
    kind, data = ("dir", None) if unzipped else _read_file(path, source)
    if kind in ("zip", "dir"):
        if kind == "dir":
            zf = _DirArchive(path)
            if VARS_FILENAME not in zf.namelist():
                raise LoadError(f"{source}: the directory {path!r} has {CONFIG_FILENAME} but no "
                                f"{VARS_FILENAME} (it holds {zf.namelist()[:8]}).")
        else:
            zf = _open_zip(data, path, source)
        try:
            cfg = json.loads(zf.read(CONFIG_FILENAME).decode("utf8"))
        except ValueError as e:
            raise LoadError(f"{source}: config.json is not valid JSON ({e}).") from None
        h5 = _open_h5(zf.read(VARS_FILENAME), path + "/" + VARS_FILENAME, source)
        with h5:
            model = _model_from_config(cfg, custom_objects, compile, source)
            actions = _plan_keras3(model, h5, source, load_optimizer="strict" if compile else False)
    else:
        h5 = _open_h5(data, path, source)
        with h5:
            if "model_config" not in h5.attrs:
                raise LoadError(f"{source}: {path!r} is an HDF5 file without a model config — a "
                                "weights-only file. Fix: build the model in code and call "
                                "model.load_weights(path).")
            cfg = json.loads(_attr_str(h5.attrs["model_config"]))
            training = h5.attrs.get("training_config")
            if training is not None and compile:
                t = json.loads(_attr_str(training))
                cfg["compile_config"] = {"optimizer": t["optimizer_config"], "loss": t.get("loss"),
                                         "metrics": t.get("metrics"),
                                         "weighted_metrics": t.get("weighted_metrics"),
                                         "loss_weights": t.get("loss_weights")}
            model = _model_from_config(cfg, custom_objects, compile, source)
            actions = _plan_legacy(model, h5["model_weights"], source)
            if compile and "optimizer_weights" in h5 and getattr(model, "optimizer", None):
                g = h5["optimizer_weights"]
                names = [_attr_str(n) for n in g.attrs.get("weight_names", [])]
                apply = _plan_optimizer(model, [np.array(g[n]) for n in names], dict(g.attrs),
                                        source)
                if apply is not None:
                    actions.append(apply)
    for act in actions:
        act()
    return model


def _attr_str(x):
    return x.decode("utf8") if isinstance(x, bytes) else str(x)


def save_weights(model, filepath, overwrite=True):
    """``model.save_weights(path)``: ``.weights.h5`` (Keras 3 layout, optimizer state
    included) or ``.h5``/``.hdf5`` (legacy weights-only layout); atomic."""
    path = _fspath(filepath, "save_weights")
    lower = path.lower()
    _check_savable(model, "save_weights")
    if lower.endswith(".weights.h5"):
        data = _write_h5_bytes(lambda f: _fill_weights_h5(f, model, True))
    elif lower.endswith((".h5", ".hdf5")):
        data = _write_h5_bytes(lambda f: _fill_legacy_weights(f, model))
    else:
        raise ValueError("Invalid `filepath` argument: expected a `.weights.h5` extension "
                         f"(or a legacy `.h5`). Received: filepath={path}")
    atomic_write(path, data, overwrite=overwrite)


def load_weights(model, filepath, skip_mismatch=False):
    """``model.load_weights(path)`` from ``.weights.h5``, ``.keras`` or a legacy ``.h5``.
    Everything is checked before anything is assigned. With a compiled model, the
    optimizer state in the file is restored too (a mismatching one is skipped with a
    warning, as Keras does). skip_mismatch=True (Keras): a layer whose weights do not fit
    (count or shapes), or that the file lacks, keeps its weights with a warning naming it
    and why; the others load. A legacy ``.h5`` with a different number of layers still
    raises, as in Keras."""
    path = _fspath(filepath, "load_weights")
    source = f"load_weights({path!r})"
    if not getattr(model, "built", False):
        raise ValueError(f"{source}: model {model.name!r} is not built, so its weights do not "
                         "exist yet. Fix: build it first (Input(shape), model.build(...), or "
                         "call it on data), then load the weights.")
    kind, data = _read_file(path, source)
    if kind == "zip":
        zf = _open_zip(data, path, source)
        h5 = _open_h5(zf.read(VARS_FILENAME), path + "/" + VARS_FILENAME, source)
    else:
        h5 = _open_h5(data, path, source)
    with h5:
        if "layers" in h5 or "vars" in h5:
            actions = _plan_keras3(model, h5, source, load_optimizer=True, skip_mismatch=skip_mismatch)
        elif "model_weights" in h5:
            actions = _plan_legacy(model, h5["model_weights"], source, skip_mismatch)
        elif "layer_names" in h5.attrs:
            actions = _plan_legacy(model, h5, source, skip_mismatch)
        else:
            raise LoadError(f"{source}: {path!r} is an HDF5 file but holds no model weights "
                            f"(top-level entries: {list(h5.keys())[:10]}).")
    for act in actions:
        act()
