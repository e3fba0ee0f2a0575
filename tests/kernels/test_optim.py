"""ops.optimizer_step (fused C++) against reference.optimizer_step (NumPy, Keras's rules)."""
import numpy as np
import pytest

import baeum
from baeum import _core, ops, reference

f32 = np.float32

# Every rule × its options.
RULES = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("rmsprop", {}),
    ("rmsprop", {"momentum": 0.5}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"momentum": 0.5, "centered": True, "rho": 0.8}),
    ("adagrad", {}),
    ("adam", {}),
    ("adam", {"amsgrad": True, "beta_1": 0.8, "beta_2": 0.99}),
    ("adamw", {"weight_decay": 0.004}),
    ("adamw", {"weight_decay": 0.1, "amsgrad": True}),
    ("nadam", {}),
]
# Clipping / decay applied before the rule.
EXTRAS = [
    {},
    {"clipnorm": 1.0},
    {"clipvalue": 0.3},
    {"global_clipnorm": 2.0},
    {"weight_decay": 0.05},
    {"weight_decay": 0.05, "global_clipnorm": 0.5},
]


def _nadam_product(P, t, beta_1=0.9):
    """Keras's u_product update (float32): P ← P·β₁·(1 − ½·0.96ᵗ)."""
    return float(f32(P) * f32(beta_1) * (f32(1) - f32(0.5) * f32(0.96) ** f32(t)))


def _layout(sizes, gap=3):
    """Segments for variables of `sizes`, separated by `gap` unused elements."""
    segs, off = [], gap
    for s in sizes:
        segs.append((off, s))
        off += s + gap
    return np.array(segs, dtype=np.int64).reshape(-1, 2), off


def _slots(kind, n, hyper):
    names = ops.optimizer_slot_names(kind, momentum=hyper.get("momentum", 0.0),
                                     centered=hyper.get("centered", False),
                                     amsgrad=hyper.get("amsgrad", False))
    init = 0.1 if kind == "adagrad" else 0.0
    return [np.full(n, init, dtype=f32) for _ in names]


def _run(fn, kind, hyper, segments, n, steps, seed=0, lr=0.01):
    """`steps` steps of `fn` (ops or reference) on a reproducible problem."""
    rng = np.random.default_rng(seed)
    params = rng.standard_normal(n).astype(f32)
    slots = _slots(kind, n, hyper)
    P = 1.0
    for t in range(1, steps + 1):
        grads = (rng.standard_normal(n) * rng.uniform(0.1, 3)).astype(f32)
        extra = {}
        if kind == "nadam":
            P = _nadam_product(P, t, hyper.get("beta_1", 0.9))
            extra["u_product"] = P
        fn(kind, params, grads, slots, segments, lr=lr, step=t, **hyper, **extra)
    return params, slots


def _check_close(kind, hyper, sizes, steps, seed=0):
    segments, n = _layout(sizes)
    p1, s1 = _run(ops.optimizer_step, kind, hyper, segments, n, steps, seed)
    p2, s2 = _run(reference.optimizer_step, kind, hyper, segments, n, steps, seed)
    np.testing.assert_allclose(p1, p2, rtol=1e-5, atol=1e-6)
    for a, b in zip(s1, s2):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # elements outside every segment are never touched
    p0 = np.random.default_rng(seed).standard_normal(n).astype(f32)
    mask = np.ones(n, bool)
    for o, s in segments:
        mask[o:o + s] = False
    np.testing.assert_array_equal(p1[mask], p0[mask])
    assert not np.array_equal(p1[~mask], p0[~mask])   # and the step did something


@pytest.mark.parametrize("extra", EXTRAS, ids=lambda e: ",".join(e) or "plain")
@pytest.mark.parametrize("kind,hyper", RULES, ids=lambda r: str(r))
def test_matches_reference_100_steps(kind, hyper, extra):
    if "weight_decay" in extra and "weight_decay" in hyper:
        extra = {k: v for k, v in extra.items() if k != "weight_decay"}
    _check_close(kind, {**hyper, **extra}, sizes=[1, 7, 1000, 2, 13], steps=100)


@pytest.mark.parametrize("sizes", [[1], [7], [1000], [70000], [70000, 1, 9000]])
@pytest.mark.parametrize("kind,hyper", [("sgd", {"momentum": 0.9, "clipnorm": 1.0}),
                                        ("rmsprop", {"centered": True, "clipvalue": 0.5}),
                                        ("adam", {"global_clipnorm": 5.0}),
                                        ("adamw", {"weight_decay": 0.004, "clipnorm": 2.0}),
                                        ("adagrad", {}),
                                        ("nadam", {"global_clipnorm": 5.0})])
def test_segment_layouts(kind, hyper, sizes, threads):
    baeum.set_num_threads(2)     # 70000 elements cross the threading threshold
    _check_close(kind, hyper, sizes, steps=5 if sum(sizes) > 10000 else 50)


@pytest.mark.parametrize("kind,hyper", [("sgd", {"momentum": 0.9, "nesterov": True}),
                                        ("rmsprop", {"momentum": 0.5, "centered": True}),
                                        ("adagrad", {}),
                                        ("adam", {"amsgrad": True}),
                                        ("adamw", {"weight_decay": 0.004}),
                                        ("nadam", {})])
@pytest.mark.parametrize("clip", [{"global_clipnorm": 3.0}, {"clipnorm": 1.0},
                                  {"clipvalue": 0.5}])
def test_thread_count_bit_identical(kind, hyper, clip, threads):
    if not _core.openmp:
        pytest.skip("built without OpenMP")
    segments, n = _layout([70000, 5, 66000, 1])
    out = []
    for nt in (1, 2):
        baeum.set_num_threads(nt)
        out.append(_run(ops.optimizer_step, kind, {**hyper, **clip}, segments, n, steps=3))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    for a, b in zip(out[0][1], out[1][1]):
        np.testing.assert_array_equal(a, b)


def test_grads_are_not_modified_and_inputs_converted():
    segments, n = _layout([5, 8])
    rng = np.random.default_rng(3)
    params = rng.standard_normal(n).astype(f32)
    grads64 = rng.standard_normal(n) * 10            # float64: converted, not modified
    keep = grads64.copy()
    p_ref = params.copy()
    slots, slots_ref = _slots("adam", n, {}), _slots("adam", n, {})
    ops.optimizer_step("adam", params, grads64, slots, segments.tolist(), lr=0.1, step=1,
                       clipnorm=0.5)
    reference.optimizer_step("adam", p_ref, grads64.astype(f32), slots_ref, segments, lr=0.1,
                             step=1, clipnorm=0.5)
    np.testing.assert_array_equal(grads64, keep)
    np.testing.assert_allclose(params, p_ref, rtol=1e-6)


def test_clipnorm_is_per_variable_and_global_over_all():
    """Direct numbers: g = [3, 4 | 0, 5] → per-variable norms 5 and 5, global norm √50."""
    seg = np.array([[0, 2], [2, 2]])
    g = np.array([3, 4, 0, 5], f32)
    for clip, expected in [({"clipnorm": 1.0}, g / 5),
                           ({"global_clipnorm": 1.0}, g / np.sqrt(50)),
                           ({"clipvalue": 3.5}, np.minimum(g, 3.5)),
                           ({"clipnorm": 10.0}, g)]:
        p = np.zeros(4, f32)
        ops.optimizer_step("sgd", p, g, [], seg, lr=1.0, step=1, **clip)
        np.testing.assert_allclose(-p, expected, rtol=1e-6)


def test_nan_gradient_propagates_through_clipvalue():
    p = np.ones(3, f32)
    ops.optimizer_step("sgd", p, np.array([np.nan, 9, -9], f32), [], [[0, 3]], lr=1.0, step=1,
                       clipvalue=1.0)
    assert np.isnan(p[0]) and p[1] == 0 and p[2] == 2


def test_global_clipnorm_zero_gradient_is_finite():
    p = np.ones(4, f32)
    ops.optimizer_step("adam", p, np.zeros(4, f32), _slots("adam", 4, {}), [[0, 4]], lr=0.1,
                       step=1, global_clipnorm=1.0)
    np.testing.assert_array_equal(p, 1)


def test_empty_problems():
    ops.optimizer_step("adam", np.zeros(0, f32), np.zeros(0, f32),
                       _slots("adam", 0, {}), np.zeros((0, 2), np.int64), lr=0.1, step=1)
    p = np.ones(5, f32)
    ops.optimizer_step("sgd", p, np.ones(5, f32), [], np.zeros((0, 2), np.int64), lr=0.1, step=1)
    np.testing.assert_array_equal(p, 1)             # no segment: nothing is touched
    ops.optimizer_step("sgd", p, np.ones(5, f32), [], [[0, 0], [2, 0], [1, 2]], lr=0.5, step=1,
                       global_clipnorm=1.0)
    np.testing.assert_allclose(p, [1, 1 - 0.5 / np.sqrt(2), 1 - 0.5 / np.sqrt(2), 1, 1])


@pytest.mark.parametrize("segments,match", [
    ([[0, 5], [4, 3]], "overlaps"),
    ([[5, 3], [0, 6]], "overlaps"),
    ([[0, 10], [3, 0], [5, 2]], "overlaps"),
    ([[0, 11]], "outside"),
    ([[9, 2]], "outside"),
    ([[-1, 2]], "outside"),
    ([[2, -1]], "outside"),
    ([[2**62, 2**62]], "outside"),
    (np.array([[0, 2.0]]), "integer"),
    ([[0, 1, 2]], r"\(V, 2\)"),
    ([0, 1], r"\(V, 2\)"),
])
def test_bad_segments_raise(segments, match):
    p = np.zeros(10, f32)
    with pytest.raises(ValueError, match=match):
        ops.optimizer_step("sgd", p, np.zeros(10, f32), [], segments, lr=0.1, step=1)


@pytest.mark.parametrize("segments", [[[0, 5], [4, 3]], [[0, 11]], [[9, 2]], [[-1, 2]],
                                      [[0, 10], [3, 0], [5, 2]], [[2**62, 2**62]]])
def test_binding_checks_segments_too(segments):
    """The C++ binding is the last line: it refuses bad segments without Python's help."""
    p = np.zeros(10, f32)
    with pytest.raises(ValueError):
        _core.optimizer_step("sgd", p, np.zeros(10, f32), [], np.array(segments, np.int64),
                             0.1, 1, 0, 0, 0, 0, 0, False, 0.9, False, 0.9, 0.999, False,
                             1e-7, 1.0)
    with pytest.raises(TypeError):
        _core.optimizer_step("sgd", p, np.zeros(10, f32), [], np.array([[0, 1]], np.int32),
                             0.1, 1, 0, 0, 0, 0, 0, False, 0.9, False, 0.9, 0.999, False,
                             1e-7, 1.0)


def _call(kind="adam", n=6, **kw):
    args = dict(params=np.zeros(n, f32), grads=np.zeros(n, f32), slots=_slots(kind, n, {}),
                segments=[[0, n]], lr=0.1, step=1)
    args.update(kw)
    p, g, s, seg = (args.pop(k) for k in ("params", "grads", "slots", "segments"))
    return ops.optimizer_step(kind, p, g, s, seg, **args)


@pytest.mark.parametrize("kw,exc,match", [
    ({"params": np.zeros(6)}, TypeError, "float32"),
    ({"params": np.zeros(12, f32)[::2]}, ValueError, "C-contiguous"),
    ({"params": np.zeros((2, 3), f32)}, ValueError, "1-D"),
    ({"params": [0.0] * 6}, ValueError, "1-D float32 numpy"),
    ({"grads": np.zeros(5, f32)}, ValueError, "grads has shape"),
    ({"grads": np.array(["a"] * 6)}, TypeError, "real numbers"),
    ({"slots": [np.zeros(6, f32)]}, ValueError, "needs 2 slot arrays"),
    ({"slots": [np.zeros(6, f32), np.zeros(6)]}, TypeError, "float32"),
    ({"slots": [np.zeros(6, f32), np.zeros(7, f32)]}, ValueError, "shape"),
    ({"step": 0}, ValueError, "step must be an integer >= 1"),
    ({"step": 1.5}, ValueError, "step must be an integer >= 1"),
    ({"clipnorm": 1.0, "clipvalue": 1.0}, ValueError, "only one of"),
    ({"clipnorm": -1.0}, ValueError, ">= 0"),
    ({"lr": "fast"}, TypeError, "lr must be a real number"),
])
def test_bad_arguments_raise(kw, exc, match):
    with pytest.raises(exc, match=match):
        _call(**kw)


def test_bad_kinds_and_missing_required_options():
    with pytest.raises(ValueError, match="valid: sgd, rmsprop"):
        _call(kind="adamax")
    with pytest.raises(ValueError, match="adamw' needs weight_decay"):
        _call(kind="adamw")
    with pytest.raises(ValueError, match="u_product"):
        _call(kind="nadam")
    p = np.zeros(6, f32)
    s = np.zeros(6, f32)
    with pytest.raises(ValueError, match="overlaps"):     # a slot aliasing params
        ops.optimizer_step("adagrad", p, np.zeros(6, f32), [p], [[0, 6]], lr=0.1, step=1)
    with pytest.raises(ValueError, match="overlaps"):     # two slots sharing memory
        ops.optimizer_step("adam", p, np.zeros(6, f32), [s, s], [[0, 6]], lr=0.1, step=1)
    ro = np.zeros(6, f32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        ops.optimizer_step("sgd", ro, np.zeros(6, f32), [], [[0, 6]], lr=0.1, step=1)


def test_slot_names_follow_keras():
    assert ops.optimizer_slot_names("sgd") == []
    assert ops.optimizer_slot_names("sgd", momentum=0.9) == ["momentum"]
    assert ops.optimizer_slot_names("rmsprop", momentum=0.1, centered=True) == [
        "velocity", "momentum", "average_gradient"]
    assert ops.optimizer_slot_names("adam", amsgrad=True) == ["momentum", "velocity",
                                                              "velocity_hat"]
    assert ops.optimizer_slot_names("nadam") == ["momentum", "velocity"]
    assert ops.optimizer_slot_names("adagrad") == ["accumulator"]
