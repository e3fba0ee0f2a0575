"""baeum.ops SimpleRNN / LSTM / GRU sequence kernels vs baeum.reference.rnn (forward states,
caches, every gradient), over shapes with T = 1, N = 1, units not a multiple of the SIMD
width, go_backwards, initial states, masks; 1 vs 2 threads bit-identical; bad input refused."""
import numpy as np
import pytest

import baeum
from baeum import ops
from baeum import reference as ref

CELLS = ["simple_rnn", "lstm", "gru", "gru_rb"]
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3, "gru_rb": 3}
# (N, T, F, U)
SHAPES = [(1, 1, 1, 1), (2, 5, 3, 4), (5, 1, 2, 17), (1, 9, 4, 7), (13, 6, 1, 20), (6, 4, 37, 33),
          (33, 3, 5, 9), (3, 4, 70, 9)]  # F > 64: the input projection and dX take the GEMM path


def _problem(rng, cell, n, t, f, u, bias=True, states=True):
    g = GATES[cell]
    p = dict(
        inp=rng.standard_normal((n, t, f)).astype(np.float32),
        kernel=(rng.standard_normal((f, g * u)) / np.sqrt(f)).astype(np.float32),
        recurrent_kernel=(rng.standard_normal((u, g * u)) / np.sqrt(u)).astype(np.float32),
        bias=(rng.standard_normal((2, 3 * u) if cell == "gru" else (g * u,)) * 0.5).astype(np.float32)
        if bias else None,
        h0=(rng.standard_normal((n, u)) * 0.5).astype(np.float32) if states else None,
        c0=(rng.standard_normal((n, u)) * 0.5).astype(np.float32) if states and cell == "lstm" else None,
    )
    return p


def _forward(m, cell, p, **opts):
    """(hs, cs, cache) from module m (ops or reference)."""
    a = (p["inp"], p["kernel"], p["recurrent_kernel"], p["bias"], p["h0"])
    if cell == "simple_rnn":
        hs, cache = m.simple_rnn_forward(*a, **opts)
        return hs, None, cache
    if cell == "lstm":
        return m.lstm_forward(*a, p["c0"], **opts)
    hs, cache = m.gru_forward(*a, reset_after=cell == "gru", **opts)
    return hs, None, cache


def _backward(m, cell, p, fwd, dhs, dc_last, dtype, **opts):
    n, t, f = p["inp"].shape
    u = p["recurrent_kernel"].shape[0]
    g = {"dkernel": np.zeros(p["kernel"].shape, dtype),
         "drecurrent_kernel": np.zeros(p["recurrent_kernel"].shape, dtype),
         "dbias": None if p["bias"] is None else np.zeros(p["bias"].shape, dtype),
         "dinp": np.empty((n, t, f), dtype), "dh0": np.empty((n, u), dtype)}
    hs, cs, cache = fwd
    if cell == "simple_rnn":
        m.simple_rnn_backward(dhs, p["inp"], p["kernel"], p["recurrent_kernel"], p["h0"], hs, cache, **g, **opts)
    elif cell == "lstm":
        g["dc0"] = np.empty((n, u), dtype)
        m.lstm_backward(dhs, p["inp"], p["kernel"], p["recurrent_kernel"], p["h0"], p["c0"], hs, cs, cache,
                        dc_last=dc_last, **g, **opts)
    else:
        m.gru_backward(dhs, p["inp"], p["kernel"], p["recurrent_kernel"], p["h0"], hs, cache,
                       reset_after=cell == "gru", **g, **opts)
    return g


def _opts(cell, extra):
    o = dict(extra)
    if cell == "simple_rnn":
        o.pop("recurrent_activation", None)
    return o


def _compare(cell, p, rng, **opts):
    fwd = _forward(ops, cell, p, **opts)
    want = _forward(ref, cell, p, **opts)
    for got, exp, name in zip(fwd, want, ("hs", "cs", "cache")):
        if exp is not None:
            np.testing.assert_allclose(got, exp, rtol=1e-4, atol=2e-5, err_msg=name)
    n, t, _ = p["inp"].shape
    u = p["recurrent_kernel"].shape[0]
    dhs = rng.standard_normal((n, t, u)).astype(np.float32)
    dcl = rng.standard_normal((n, u)).astype(np.float32) if cell == "lstm" else None
    got = _backward(ops, cell, p, fwd, dhs, dcl, np.float32, **opts)
    exp = _backward(ref, cell, p, fwd, dhs, dcl, np.float64, **opts)  # same saved forward
    scale = np.sqrt(n * t)
    for name in got:
        if got[name] is not None:
            np.testing.assert_allclose(got[name], exp[name], rtol=2e-4, atol=2e-5 * scale, err_msg=name)
    return fwd, got


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cell", CELLS)
def test_rnn_vs_reference(cell, shape, rng):
    p = _problem(rng, cell, *shape)
    _compare(cell, p, rng)


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm"])
@pytest.mark.parametrize("extra", [{}, {"go_backwards": True, "activation": "relu"}])
def test_recurrent_dropout_mask_vs_reference(cell, extra, rng):
    p = _problem(rng, cell, 9, 5, 3, 11)
    rm = (rng.random((9, 11)) > 0.3) / np.float32(0.7)
    mask = rng.random((9, 5)) > 0.2
    _compare(cell, p, rng, recurrent_mask=rm.astype(np.float32), mask=mask, **extra)
    with pytest.raises(ValueError, match="recurrent_mask has shape"):
        _forward(ops, cell, p, recurrent_mask=rm[:, :3])


def test_recurrent_mask_refused_for_gru(rng):
    p = _problem(rng, "gru", 2, 3, 2, 4)
    from baeum import _core
    with pytest.raises(ValueError, match="SimpleRNN and LSTM only"):
        _core.rnn_forward(2, p["inp"], p["kernel"], p["recurrent_kernel"], p["bias"], None, None, None,
                          np.ones((2, 4), np.float32), np.empty((2, 3, 4), np.float32), None,
                          np.empty((2, 3, 16), np.float32), 3, 2, False)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("variant", ["go_backwards", "no_bias_no_states", "mask", "activations"])
def test_rnn_variants_vs_reference(cell, variant, rng):
    shape = (7, 6, 3, 5)
    p = _problem(rng, cell, *shape, bias=variant != "no_bias_no_states",
                 states=variant != "no_bias_no_states")
    opts = {}
    if variant == "go_backwards":
        opts["go_backwards"] = True
    if variant == "mask":
        mask = rng.random(shape[:2]) > 0.3
        mask[0] = False
        opts.update(mask=mask, go_backwards=True)
    if variant == "activations":
        opts.update(activation="relu" if cell != "lstm" else "linear", recurrent_activation="hard_sigmoid")
    fwd, _ = _compare(cell, p, rng, **_opts(cell, opts))
    if variant == "mask":  # a fully masked row keeps its initial state
        np.testing.assert_array_equal(fwd[0][0], np.broadcast_to(p["h0"][0], fwd[0][0].shape))


def test_go_backwards_equals_reversed_input(rng):
    p = _problem(rng, "lstm", 4, 6, 3, 5)
    hs_b, _, _ = ops.lstm_forward(p["inp"], p["kernel"], p["recurrent_kernel"], p["bias"], go_backwards=True)
    hs_f, _, _ = ops.lstm_forward(p["inp"][:, ::-1], p["kernel"], p["recurrent_kernel"], p["bias"])
    np.testing.assert_array_equal(hs_b, hs_f)  # processing order, not flipped back (Keras)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("shape", [(37, 5, 6, 19), (41, 6, 70, 20)])  # F > 64: dX by GEMM
def test_rnn_threads_bit_identical(cell, shape, rng, threads):
    n, t, f, u = shape
    p = _problem(rng, cell, n, t, f, u)
    dhs = rng.standard_normal((n, t, u)).astype(np.float32)
    results = []
    for nt in (1, 2):
        baeum.set_num_threads(nt)
        fwd = _forward(ops, cell, p)
        g = _backward(ops, cell, p, fwd, dhs, None, np.float32)
        results.append([a for a in fwd if a is not None] + [v for v in g.values() if v is not None])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_backward_accumulates(rng):
    p = _problem(rng, "gru", 3, 4, 2, 5)
    fwd = _forward(ops, "gru", p)
    dhs = rng.standard_normal((3, 4, 5)).astype(np.float32)
    g1 = _backward(ops, "gru", p, fwd, dhs, None, np.float32)
    dk = g1["dkernel"].copy()
    ops.gru_backward(dhs, p["inp"], p["kernel"], p["recurrent_kernel"], p["h0"], *fwd[::2],
                     dkernel=g1["dkernel"], drecurrent_kernel=g1["drecurrent_kernel"], dbias=g1["dbias"])
    np.testing.assert_allclose(g1["dkernel"], 2 * dk, rtol=1e-6)


def test_errors(rng):
    p = _problem(rng, "lstm", 2, 3, 4, 5)
    k, r, b = p["kernel"], p["recurrent_kernel"], p["bias"]
    with pytest.raises(ValueError, match=r"\(samples, timesteps, features\).*x\[\.\.\., None\]"):
        ops.lstm_forward(np.zeros((2, 3), np.float32), k, r, b)
    with pytest.raises(ValueError, match="at least one timestep"):
        ops.lstm_forward(np.zeros((2, 0, 4), np.float32), k, r, b)
    with pytest.raises(ValueError, match=r"kernel has shape \(4, 20\), expected \(features, 4·units\) = \(3, 20\)"):
        ops.lstm_forward(np.zeros((2, 3, 3), np.float32), k, r, b)
    with pytest.raises(ValueError, match="bias has shape"):
        ops.lstm_forward(p["inp"], k, r, b[:-1])
    with pytest.raises(ValueError, match="expected \\(batch, units\\)"):
        ops.lstm_forward(p["inp"], k, r, b, np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="mask has shape"):
        ops.lstm_forward(p["inp"], k, r, b, mask=np.ones((2, 4), bool))
    with pytest.raises(NotImplementedError, match="activation='softplus'"):
        ops.lstm_forward(p["inp"], k, r, b, activation="softplus")
    # the binding refuses what the Python checks would let through (last line of defence)
    from baeum import _core
    hs = np.empty((2, 3, 5), np.float32)
    with pytest.raises(ValueError, match="cache has shape"):
        _core.rnn_forward(1, p["inp"], k, r, b, None, None, None, None, hs, np.empty_like(hs),
                          np.empty((2, 3, 20), np.float32), 3, 2, False)
    with pytest.raises(ValueError, match="T = 0"):
        _core.rnn_forward(1, np.zeros((2, 0, 4), np.float32), k, r, b, None, None, None, None,
                          np.empty((2, 0, 5), np.float32), np.empty((2, 0, 5), np.float32),
                          np.empty((2, 0, 25), np.float32), 3, 2, False)


def test_empty_batch(rng):
    p = _problem(rng, "lstm", 0, 3, 2, 4)
    hs, cs, cache = ops.lstm_forward(p["inp"], p["kernel"], p["recurrent_kernel"], p["bias"])
    assert hs.shape == (0, 3, 4)
    g = _backward(ops, "lstm", p, (hs, cs, cache), np.zeros((0, 3, 4), np.float32), None, np.float32)
    assert not g["dkernel"].any()


# ---- per-gate dropout masks (Keras implementation 1, recurrent_dropout > 0) -----------------

PG_CELLS = ["lstm", "gru", "gru_rb"]


def _gate_masks(rng, cell, n, f, u, which=("rec", "inp")):
    g = GATES[cell]
    o = {}
    if "rec" in which:
        o["recurrent_mask"] = ((rng.random((g, n, u)) > 0.3) / 0.7).astype(np.float32)
    if "inp" in which:
        o["input_mask"] = ((rng.random((g, n, f)) > 0.25) / 0.75).astype(np.float32)
    return o


@pytest.mark.parametrize("cell", PG_CELLS)
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 5, 3, 4), (5, 1, 2, 17), (13, 6, 1, 20),
                                   (6, 4, 37, 33), (3, 4, 70, 9)])
def test_per_gate_masks_vs_reference(cell, shape, rng):
    n, t, f, u = shape
    p = _problem(rng, cell, *shape)
    _compare(cell, p, rng, **_gate_masks(rng, cell, n, f, u))


@pytest.mark.parametrize("cell", PG_CELLS)
@pytest.mark.parametrize("variant", ["go_backwards_mask", "rec_only", "inp_only", "no_bias_no_states",
                                     "activations"])
def test_per_gate_masks_variants(cell, variant, rng):
    n, t, f, u = 7, 6, 3, 5
    p = _problem(rng, cell, n, t, f, u, bias=variant != "no_bias_no_states",
                 states=variant != "no_bias_no_states")
    which = {"rec_only": ("rec",), "inp_only": ("inp",)}.get(variant, ("rec", "inp"))
    opts = _gate_masks(rng, cell, n, f, u, which)
    if variant == "go_backwards_mask":
        mask = rng.random((n, t)) > 0.3
        mask[0] = False
        opts.update(mask=mask, go_backwards=True)
    if variant == "activations":
        opts.update(activation="relu" if cell != "lstm" else "linear", recurrent_activation="hard_sigmoid")
    fwd, _ = _compare(cell, p, rng, **opts)
    if variant == "go_backwards_mask":
        np.testing.assert_array_equal(fwd[0][0], np.broadcast_to(p["h0"][0], fwd[0][0].shape))


@pytest.mark.parametrize("cell", PG_CELLS)
def test_per_gate_equal_masks_match_fused_path(cell, rng):
    """The same mask for every gate = the fused kernels on a pre-masked input (and, for LSTM,
    the fused kernel's shared recurrent mask): checks the per-gate path's structure against the
    optimised kernels, not only against the reference."""
    n, t, f, u = 6, 5, 4, 9
    p = _problem(rng, cell, n, t, f, u)
    g = GATES[cell]
    im = ((rng.random((n, f)) > 0.3) / 0.7).astype(np.float32)
    rm = ((rng.random((n, u)) > 0.3) / 0.7).astype(np.float32)
    per_gate = dict(input_mask=np.stack([im] * g))
    fused = {}
    if cell == "lstm":
        per_gate["recurrent_mask"] = np.stack([rm] * g)
        fused["recurrent_mask"] = rm
    got = _forward(ops, cell, p, **per_gate)
    want = _forward(ops, cell, dict(p, inp=p["inp"] * im[:, None]), **fused)
    for a, b in zip(got, want):
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)
    if cell != "lstm":  # a shared (N, U) GRU mask is the stacked per-gate mask
        a = _forward(ops, cell, p, recurrent_mask=rm)
        b = _forward(ops, cell, p, recurrent_mask=np.stack([rm] * g))
        np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("cell", PG_CELLS)
def test_per_gate_threads_bit_identical(cell, rng, threads):
    n, t, f, u = 37, 5, 6, 19
    p = _problem(rng, cell, n, t, f, u)
    opts = _gate_masks(rng, cell, n, f, u)
    dhs = rng.standard_normal((n, t, u)).astype(np.float32)
    results = []
    for nt in (1, 2):
        baeum.set_num_threads(nt)
        fwd = _forward(ops, cell, p, **opts)
        g = _backward(ops, cell, p, fwd, dhs, None, np.float32, **opts)
        results.append([a for a in fwd if a is not None] + [v for v in g.values() if v is not None])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_per_gate_mask_errors(rng):
    p = _problem(rng, "gru", 4, 3, 2, 5)
    with pytest.raises(ValueError, match=r"recurrent_mask has shape \(2, 4, 5\), expected \(4, 5\) or per gate \(3, 4, 5\)"):
        _forward(ops, "gru", p, recurrent_mask=np.ones((2, 4, 5), np.float32))
    with pytest.raises(ValueError, match=r"input_mask has shape \(4, 4, 2\)"):
        _forward(ops, "gru", p, input_mask=np.ones((4, 4, 2), np.float32))
    q = _problem(rng, "lstm", 4, 3, 2, 5)
    with pytest.raises(ValueError, match=r"input_mask has shape \(4, 4, 3\)"):
        _forward(ops, "lstm", q, input_mask=np.ones((4, 4, 3), np.float32))


@pytest.mark.parametrize("cell", PG_CELLS)
def test_per_gate_empty_batch(cell, rng):
    p = _problem(rng, cell, 0, 3, 2, 4)
    opts = _gate_masks(rng, cell, 0, 2, 4)
    fwd = _forward(ops, cell, p, **opts)
    assert fwd[0].shape == (0, 3, 4)
    g = _backward(ops, cell, p, fwd, np.zeros((0, 3, 4), np.float32), None, np.float32, **opts)
    assert not g["dkernel"].any() and not g["drecurrent_kernel"].any() and g["dinp"].shape == (0, 3, 2)


# ---- _core called directly (found by fuzzing the bindings) --------------------------------
@pytest.mark.parametrize("backward", [False, True])
def test_core_rnn_rejects_mask_overlapping_an_output(backward):
    # The mask was not in the overlap checks: a mask viewing an output buffer would be
    # overwritten while the kernel still reads it.
    from baeum import _core
    n, t, f, u = 2, 3, 2, 2
    z = lambda *s: np.zeros(s, np.float32)
    x, k, r = z(n, t, f), z(f, u), z(u, u)
    hs, cache = z(n, t, u), z(n, t, u)
    if not backward:
        mask = hs.reshape(-1).view(np.uint8)[:n * t].reshape(n, t)
        with pytest.raises(ValueError, match="rnn_forward: out overlaps"):
            _core.rnn_forward(0, x, k, r, None, None, None, mask, None, hs, None, cache, 2, 2, False)
    else:
        dk = z(f, u)
        mask = dk.reshape(-1).view(np.uint8)[:n * t].reshape(n, t)
        with pytest.raises(ValueError, match="rnn_backward: out overlaps"):
            _core.rnn_backward(0, z(n, t, u), None, x, k, r, None, None, mask, None, hs, None, cache,
                               dk, z(u, u), None, None, None, None, 2, 2, False)


# ---- the per-gate kernels (_core.rnn_gatemask_forward / _backward) --------------------------

def _zero_rows(opts, rng):
    """Masks as dropout makes them, plus whole zero rows: gate 0 of row 0 and every gate of
    the last row get no recurrent input; gate 1 of row 0 no input features."""
    o = {k: v.copy() for k, v in opts.items()}
    if "recurrent_mask" in o:
        o["recurrent_mask"][0, 0] = 0
        o["recurrent_mask"][:, -1] = 0
    if "input_mask" in o:
        o["input_mask"][1, 0] = 0
    return o


# (N, T, F, U): N = 1, T = 1, F = 1, U < 8, U = 8, odd / prime U, F = 0
GATEMASK_SHAPES = [(1, 1, 1, 1), (1, 7, 1, 5), (4, 1, 3, 9), (3, 5, 1, 8), (2, 3, 4, 3),
                   (9, 4, 2, 16), (5, 6, 3, 31), (6, 3, 0, 6)]


@pytest.mark.parametrize("shape", GATEMASK_SHAPES)
@pytest.mark.parametrize("cell", PG_CELLS)
def test_gatemask_kernels_vs_reference(cell, shape, rng):
    """Every output and gradient of the C++ per-gate path against the float64 reference, with
    zero mask rows, a sequence mask, initial states, dc_last and go_backwards (odd shapes)."""
    n, t, f, u = shape
    idx = GATEMASK_SHAPES.index(shape)
    p = _problem(rng, cell, *shape)
    # every third shape without input masks (recurrent_dropout > 0, dropout = 0: x is read
    # in place, dX is one product)
    opts = _zero_rows(_gate_masks(rng, cell, n, f, u, ("rec",) if idx % 3 == 2 else ("rec", "inp")), rng)
    mask = rng.random((n, t)) > 0.3
    mask[0, 0] = False
    opts.update(mask=mask, go_backwards=idx % 2 == 1)
    fwd, grads = _compare(cell, p, rng, **opts)
    assert np.isfinite(fwd[0]).all() and grads["dkernel"].shape == p["kernel"].shape


@pytest.mark.parametrize("cell", PG_CELLS)
def test_gatemask_zero_masks_cut_the_inputs(cell, rng):
    """All-zero recurrent masks: no step sees h_{s−1} through a product, so every step is the
    first step (h0 changes nothing but the GRU update term); all-zero input masks: x unused,
    dinp exactly 0, dkernel exactly 0."""
    n, t, f, u = 4, 5, 3, 6
    g = GATES[cell]
    p = _problem(rng, cell, n, t, f, u)
    opts = dict(recurrent_mask=np.zeros((g, n, u), np.float32), input_mask=np.zeros((g, n, f), np.float32))
    fwd, grads = _compare(cell, p, rng, **opts)
    assert not grads["dinp"].any() and not grads["dkernel"].any()
    assert not grads["drecurrent_kernel"].any()
    if cell == "lstm":  # z = b for every step: the gates are constant over time
        np.testing.assert_array_equal(fwd[2][:, 0, :4 * u], fwd[2][:, -1, :4 * u])


@pytest.mark.parametrize("cell", PG_CELLS)
@pytest.mark.parametrize("shape,which", [((40, 8, 10, 24), ("rec", "inp")), ((12, 3, 70, 9), ("rec", "inp")),
                                         ((40, 8, 10, 24), ("rec",))])
def test_gatemask_threads_bit_identical(cell, shape, which, rng, threads):
    """Sizes where the time loop and the per-gate weight gradient both split over 2 threads
    (and F > 64): every output and gradient is the same bit for bit."""
    n, t, f, u = shape
    p = _problem(rng, cell, n, t, f, u)
    opts = _zero_rows(_gate_masks(rng, cell, n, f, u, which), rng)
    opts.update(mask=rng.random((n, t)) > 0.2, go_backwards=True)
    dhs = rng.standard_normal((n, t, u)).astype(np.float32)
    dcl = rng.standard_normal((n, u)).astype(np.float32) if cell == "lstm" else None
    results = []
    for nt in (1, 2):
        baeum.set_num_threads(nt)
        fwd = _forward(ops, cell, p, **opts)
        g = _backward(ops, cell, p, fwd, dhs, dcl, np.float32, **opts)
        results.append([a for a in fwd if a is not None] + [v for v in g.values() if v is not None])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    assert results[0][0].any()


def test_gatemask_gru_reset_before_every_gemm_isa(isa, rng):
    """reset_before's dR_h is a GEMM (on the saved r ⊙ h ⊙ m_h): same answer on every ISA."""
    p = _problem(rng, "gru_rb", 7, 4, 3, 10)
    _compare("gru_rb", p, rng, **_gate_masks(rng, "gru_rb", 7, 3, 10))


def _core_args(cell_id, n=3, t=4, f=2, u=5):
    g = 4 if cell_id == 1 else 3
    z = lambda *s: np.zeros(s, np.float32)
    a = dict(inp=z(n, t, f), kernel=z(f, g * u), recurrent_kernel=z(u, g * u),
             bias=z(2, 3 * u) if cell_id == 2 else z(g * u), gmask=z(g, n, u), xmask=z(g, n, f),
             hs=z(n, t, u), cs=z(n, t, u) if cell_id == 1 else None,
             cache=z(n, t, (5 if cell_id == 1 else 4) * u))
    return a, g


def _core_fwd(cell_id, a):
    from baeum import _core
    _core.rnn_gatemask_forward(cell_id, a["inp"], a["kernel"], a["recurrent_kernel"], a["bias"],
                               None, None, None, a["gmask"], a["xmask"], a["hs"], a["cs"], a["cache"],
                               2, 3, False)


def _core_bwd(cell_id, a, **over):
    from baeum import _core
    n, t, _ = a["inp"].shape
    u = a["recurrent_kernel"].shape[0]
    b = dict(dhs=np.zeros((n, t, u), np.float32), dkernel=np.zeros_like(a["kernel"]),
             drecurrent_kernel=np.zeros_like(a["recurrent_kernel"]), dbias=np.zeros_like(a["bias"]),
             dinp=np.zeros_like(a["inp"]), gmask=a["gmask"], xmask=a["xmask"])
    b.update(over)
    _core.rnn_gatemask_backward(cell_id, b["dhs"], None, a["inp"], a["kernel"], a["recurrent_kernel"],
                                None, None, None, b["gmask"], b["xmask"], a["hs"], a["cs"], a["cache"],
                                b["dkernel"], b["drecurrent_kernel"], b["dbias"], b["dinp"], None, None,
                                2, 3, False)


@pytest.mark.parametrize("cell_id", [1, 2, 3])
def test_core_gatemask_checks_every_mask_buffer(cell_id):
    """The bindings check the masks' dtype, contiguity and exact (G, N, U) / (G, N, F) shape
    before any pointer is used: wrong shapes raise, never read out of bounds."""
    a, g = _core_args(cell_id)
    _core_fwd(cell_id, a)  # the right shapes work (all-zero problem)
    _core_bwd(cell_id, a)
    n, f, u = 3, 2, 5
    bad = {
        "gmask": [np.zeros((g - 1, n, u), np.float32), np.zeros((g, n + 1, u), np.float32),
                  np.zeros((g, n, u - 1), np.float32), np.zeros((n, u), np.float32),
                  np.zeros((g, n, f), np.float32)],
        "xmask": [np.zeros((g + 1, n, f), np.float32), np.zeros((g, n - 1, f), np.float32),
                  np.zeros((g, n, f + 1), np.float32), np.zeros((g, n, u), np.float32)],
    }
    for name, arrays in bad.items():
        for arr in arrays:
            with pytest.raises(ValueError, match=f"{name} has shape"):
                _core_fwd(cell_id, dict(a, **{name: arr}))
            with pytest.raises(ValueError, match=f"{name} has shape"):
                _core_bwd(cell_id, a, **{name: arr})
    with pytest.raises(TypeError, match="gmask must be float32"):
        _core_fwd(cell_id, dict(a, gmask=np.zeros((g, n, u))))
    with pytest.raises(ValueError, match="xmask must be C-contiguous"):
        _core_bwd(cell_id, a, xmask=np.zeros((g, n, 2 * f), np.float32)[:, :, ::2])
    with pytest.raises(ValueError, match="rnn_gatemask_forward: out overlaps"):
        _core_fwd(cell_id, dict(a, gmask=a["cache"].reshape(-1)[:g * n * u].reshape(g, n, u)))
    with pytest.raises(ValueError, match="rnn_gatemask_backward: out overlaps"):
        dinp = np.zeros((3, 4, 2), np.float32)
        _core_bwd(cell_id, a, dinp=dinp, xmask=dinp.reshape(-1)[:g * n * f].reshape(g, n, f))


def test_core_gatemask_refuses_simple_rnn():
    from baeum import _core
    z = lambda *s: np.zeros(s, np.float32)
    with pytest.raises(ValueError, match="per-gate masks are for LSTM and GRU"):
        _core.rnn_gatemask_forward(0, z(2, 3, 2), z(2, 4), z(4, 4), None, None, None, None,
                                   z(1, 2, 4), None, z(2, 3, 4), None, z(2, 3, 4), 2, 2, False)
