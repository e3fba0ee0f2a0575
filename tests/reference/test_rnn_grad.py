"""Reference SimpleRNN / LSTM / GRU backward (BPTT) vs central finite differences in float64:
gradients of every weight, the input sequence and the initial states, with go_backwards,
masks and non-default activations."""
import numpy as np
import pytest

from baeum import reference as ref

from test_activations_grad import numeric_grad

N, T, F, U = 3, 4, 2, 3


def _problem(rng, cell):
    g = {"simple_rnn": 1, "lstm": 4, "gru": 3, "gru_rb": 3}[cell]
    p = {
        "inp": rng.standard_normal((N, T, F)),
        "kernel": rng.standard_normal((F, g * U)) * 0.6,
        "recurrent_kernel": rng.standard_normal((U, g * U)) * 0.6,
        "bias": rng.standard_normal((2, 3 * U) if cell == "gru" else (g * U,)) * 0.5,
        "h0": rng.standard_normal((N, U)) * 0.5,
    }
    if cell == "lstm":
        p["c0"] = rng.standard_normal((N, U)) * 0.5
    return p


def _run(cell, p, opts):
    if cell == "simple_rnn":
        hs, cache = ref.simple_rnn_forward(p["inp"], p["kernel"], p["recurrent_kernel"], p["bias"],
                                           p["h0"], **opts)
        return hs, None, cache
    if cell == "lstm":
        return ref.lstm_forward(p["inp"], p["kernel"], p["recurrent_kernel"], p["bias"], p["h0"],
                                p["c0"], **opts)
    hs, cache = ref.gru_forward(p["inp"], p["kernel"], p["recurrent_kernel"], p["bias"], p["h0"],
                                reset_after=cell == "gru", **opts)
    return hs, None, cache


CASES = [
    ("simple_rnn", {}),
    ("simple_rnn", {"go_backwards": True, "activation": "sigmoid"}),
    ("lstm", {}),
    ("lstm", {"go_backwards": True, "activation": "linear", "recurrent_activation": "hard_sigmoid"}),
    ("gru", {}),
    ("gru", {"go_backwards": True, "activation": "relu"}),
    ("gru_rb", {}),
    ("gru_rb", {"go_backwards": True}),
    ("simple_rnn", {"recurrent_mask": "drop"}),
    ("lstm", {"recurrent_mask": "drop", "go_backwards": True}),
    # Keras implementation 1 (recurrent_dropout > 0): one input and one recurrent mask per gate
    ("lstm", {"recurrent_mask": "gates", "input_mask": "gates"}),
    ("lstm", {"recurrent_mask": "gates", "go_backwards": True, "recurrent_activation": "hard_sigmoid"}),
    ("gru", {"recurrent_mask": "gates", "input_mask": "gates"}),
    ("gru", {"recurrent_mask": "gates", "input_mask": "gates", "go_backwards": True}),
    ("gru_rb", {"recurrent_mask": "gates", "input_mask": "gates"}),
    ("gru_rb", {"recurrent_mask": "gates", "go_backwards": True, "activation": "relu"}),
]


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("cell,opts", CASES)
def test_rnn_backward_vs_fd(cell, opts, masked, rng):
    p = _problem(rng, cell)
    if opts.get("recurrent_mask") == "drop":  # recurrent dropout: a fixed (N, U) mask
        opts = dict(opts, recurrent_mask=(rng.random((N, U)) > 0.4) / 0.6)
    g = {"simple_rnn": 1, "lstm": 4, "gru": 3, "gru_rb": 3}[cell]
    if isinstance(opts.get("recurrent_mask"), str):  # per-gate masks, fixed for the sequence
        opts = dict(opts, recurrent_mask=(rng.random((g, N, U)) > 0.4) / 0.6)
    if isinstance(opts.get("input_mask"), str):
        opts = dict(opts, input_mask=(rng.random((g, N, F)) > 0.3) / 0.7)
    if masked:
        mask = rng.random((N, T)) > 0.4
        mask[0, :] = False  # one sequence fully masked: its state passes straight through
        opts = dict(opts, mask=mask)
    wh = rng.standard_normal((N, T, U))
    wc = rng.standard_normal((N, U))

    def loss_of(name):
        def loss(v):
            q = dict(p, **{name: v})
            hs, cs, _ = _run(cell, q, opts)
            val = float((hs * wh).sum())
            return val + (float((cs[:, -1] * wc).sum()) if cs is not None else 0.0)
        return loss

    hs, cs, cache = _run(cell, p, opts)
    grads = {"kernel": np.zeros_like(p["kernel"]), "recurrent_kernel": np.zeros_like(p["recurrent_kernel"]),
             "bias": np.zeros_like(p["bias"]), "inp": np.zeros_like(p["inp"]), "h0": np.zeros((N, U))}
    common = dict(dkernel=grads["kernel"], drecurrent_kernel=grads["recurrent_kernel"],
                  dbias=grads["bias"], dinp=grads["inp"], dh0=grads["h0"], **opts)
    if cell == "simple_rnn":
        ref.simple_rnn_backward(wh, p["inp"], p["kernel"], p["recurrent_kernel"], p["h0"], hs, cache, **common)
    elif cell == "lstm":
        grads["c0"] = np.zeros((N, U))
        ref.lstm_backward(wh, p["inp"], p["kernel"], p["recurrent_kernel"], p["h0"], p["c0"], hs, cs, cache,
                          dc_last=wc, dc0=grads["c0"], **common)
    else:
        ref.gru_backward(wh, p["inp"], p["kernel"], p["recurrent_kernel"], p["h0"], hs, cache,
                         reset_after=cell == "gru", **common)
    for name, g in grads.items():
        want = numeric_grad(loss_of(name), p[name])
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-7, err_msg=name)
        assert np.abs(want).max() > 1e-3, name  # the check has something to check


def test_masked_step_keeps_state(rng):
    p = _problem(rng, "lstm")
    mask = np.ones((N, T), bool)
    mask[:, 2] = False
    hs, cs, _ = _run("lstm", p, {"mask": mask})
    np.testing.assert_array_equal(hs[:, 2], hs[:, 1])
    np.testing.assert_array_equal(cs[:, 2], cs[:, 1])
    assert not np.allclose(hs[:, 3], hs[:, 2])


@pytest.mark.parametrize("cell", ["lstm", "gru", "gru_rb"])
def test_per_gate_masks_structure(cell, rng):
    """Identical per-gate masks equal the shared-mask path (recurrent) / a pre-masked input;
    different per-gate masks give a different result (the masks really act per gate)."""
    g = {"lstm": 4, "gru": 3, "gru_rb": 3}[cell]
    p = _problem(rng, cell)
    rm = (rng.random((N, U)) > 0.4) / 0.6
    im = (rng.random((N, F)) > 0.4) / 0.6
    same = dict(recurrent_mask=np.stack([rm] * g), input_mask=np.stack([im] * g))
    hs1, _, _ = _run(cell, p, same)
    if cell == "lstm":  # the shared recurrent mask path exists for LSTM
        hs2, _, _ = _run(cell, dict(p, inp=p["inp"] * im[:, None]), dict(recurrent_mask=rm))
        np.testing.assert_allclose(hs1, hs2, rtol=1e-12, atol=1e-12)
    masks = dict(recurrent_mask=(rng.random((g, N, U)) > 0.4) / 0.6,
                 input_mask=(rng.random((g, N, F)) > 0.4) / 0.6)
    hs3, _, _ = _run(cell, p, masks)
    assert np.abs(hs3 - hs1).max() > 1e-3
    ones = dict(recurrent_mask=np.ones((g, N, U)), input_mask=np.ones((g, N, F)))
    np.testing.assert_allclose(_run(cell, p, ones)[0], _run(cell, p, {})[0], rtol=1e-12, atol=1e-12)
