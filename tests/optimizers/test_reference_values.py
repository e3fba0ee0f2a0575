"""reference.optimizer_step against numbers worked out by hand from Keras's formulas.

Two steps on a tiny vector w0 = [1, -2, 0.5] with gradients g1 then g2. The expected values
are written out element by element with Python scalars (float64), independently of the
vectorised reference; Keras runs in float32, hence rtol 1e-6. A few scalar cases also pin
numbers printed by Keras itself (KERAS_SEMANTICS.md §5.2 ✔run, Keras docstrings).
"""
import math

import numpy as np
import pytest

from baeum import reference

W0 = [1.0, -2.0, 0.5]
G1 = [2.0, -1.0, 0.25]
G2 = [1.0, 0.5, -3.0]
LR = 0.1


def run(kind, slots, w0=W0, grads=(G1, G2), lr=LR, **hyper):
    w = np.array(w0, np.float32)
    slots = [np.full(len(w0), v, np.float32) for v in slots]
    P = 1.0
    out = []
    for t, g in enumerate(grads, start=1):
        extra = {}
        if kind == "nadam":
            P *= 0.9 * (1 - 0.5 * 0.96 ** t)
            extra["u_product"] = P
        reference.optimizer_step(kind, w, np.array(g, np.float32), slots,
                                 [[0, len(w0)]], lr=lr, step=t, **hyper, **extra)
        out.append(w.copy())
    return out


def check(got, expected):
    for w, e in zip(got, expected):
        np.testing.assert_allclose(w, e, rtol=1e-6, atol=1e-7)


def test_sgd_plain():
    e1 = [w - LR * g for w, g in zip(W0, G1)]            # [0.8, -1.9, 0.475]
    e2 = [w - LR * g for w, g in zip(e1, G2)]            # [0.7, -1.95, 0.775]
    check(run("sgd", []), [e1, e2])
    check(run("sgd", []), [[0.8, -1.9, 0.475], [0.7, -1.95, 0.775]])


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum(nesterov):
    mu = 0.9
    v1 = [-LR * g for g in G1]                           # v ← μ·0 − lr·g
    v2 = [mu * v - LR * g for v, g in zip(v1, G2)]
    if nesterov:
        e1 = [w + mu * v - LR * g for w, v, g in zip(W0, v1, G1)]
        e2 = [w + mu * v - LR * g for w, v, g in zip(e1, v2, G2)]
    else:
        e1 = [w + v for w, v in zip(W0, v1)]
        e2 = [w + v for w, v in zip(e1, v2)]
    check(run("sgd", [0.0], momentum=mu, nesterov=nesterov), [e1, e2])


def test_sgd_keras_printed_numbers():
    """lr .1, μ .9, w0 = 1, g = 2: Keras gives 0.8, 0.42; nesterov 0.62, 0.078."""
    check(run("sgd", [0.0], w0=[1.0], grads=([2.0], [2.0]), momentum=0.9), [[0.8], [0.42]])
    check(run("sgd", [0.0], w0=[1.0], grads=([2.0], [2.0]), momentum=0.9, nesterov=True),
          [[0.62], [0.078]])


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("mu", [0.0, 0.5])
def test_rmsprop(centered, mu):
    rho, eps = 0.9, 1e-7
    w, v, a, m = list(W0), [0.0] * 3, [0.0] * 3, [0.0] * 3
    expected = []
    for g in (G1, G2):
        for i in range(3):
            v[i] = rho * v[i] + (1 - rho) * g[i] ** 2
            if centered:
                a[i] = rho * a[i] + (1 - rho) * g[i]
                den = v[i] - a[i] ** 2 + eps
            else:
                den = v[i] + eps
            inc = LR * g[i] / math.sqrt(den)             # ε inside the root
            if mu > 0:
                m[i] = mu * m[i] + inc
                w[i] -= m[i]
            else:
                w[i] -= inc
        expected.append(list(w))
    slots = [0.0] + ([0.0] if mu > 0 else []) + ([0.0] if centered else [])
    check(run("rmsprop", slots, momentum=mu, centered=centered), expected)


def test_rmsprop_keras_docstring_number():
    """Keras's RMSprop docstring: var 10, lr .1, loss var²/2 → 9.683772 after one step."""
    check(run("rmsprop", [0.0], w0=[10.0], grads=([10.0],)), [[9.683772]])


def test_adagrad():
    acc0, eps = 0.1, 1e-7
    a1 = [acc0 + g * g for g in G1]
    e1 = [w - LR * g / math.sqrt(a + eps) for w, g, a in zip(W0, G1, a1)]
    a2 = [a + g * g for a, g in zip(a1, G2)]
    e2 = [w - LR * g / math.sqrt(a + eps) for w, g, a in zip(e1, G2, a2)]
    check(run("adagrad", [acc0]), [e1, e2])
    # w0 = 1, g = 2: a = 4.1 → 1 − 0.2/√4.1 = 0.9012272
    check(run("adagrad", [acc0], w0=[1.0], grads=([2.0],)), [[0.9012272]])


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("wd", [None, 0.004])
def test_adam_and_adamw(amsgrad, wd):
    b1, b2, eps = 0.9, 0.999, 1e-7
    # Keras casts β to float32 BEFORE the power (1 − β₂¹ = 9.99987e-4, not 1e-3): with the
    # exact 0.999 the first step would differ by 6.5e-6 relative (KERAS_SEMANTICS §5.2).
    b1_32, b2_32 = float(np.float32(b1)), float(np.float32(b2))
    w, m, v, vh = list(W0), [0.0] * 3, [0.0] * 3, [0.0] * 3
    expected = []
    for t, g in enumerate((G1, G2), start=1):
        alpha = LR * math.sqrt(1 - b2_32 ** t) / (1 - b1_32 ** t)
        for i in range(3):
            if wd is not None:
                w[i] -= w[i] * wd * LR                   # decoupled decay, before the step
            m[i] += (g[i] - m[i]) * (1 - b1)
            v[i] += (g[i] ** 2 - v[i]) * (1 - b2)
            vh[i] = max(vh[i], v[i])
            w[i] -= alpha * m[i] / (math.sqrt(vh[i] if amsgrad else v[i]) + eps)
        expected.append(list(w))
    kind = "adam" if wd is None else "adamw"
    check(run(kind, [0.0] * (3 if amsgrad else 2), amsgrad=amsgrad, weight_decay=wd), expected)


def test_adam_keras_printed_numbers():
    """lr .1, w0 = 1, g = 2 → Keras (float32): 0.9000008, 0.8000019."""
    got = run("adam", [0.0, 0.0], w0=[1.0], grads=([2.0], [2.0]))
    assert got[0][0] == np.float32(0.9000008) and got[1][0] == np.float32(0.8000019)


def test_nadam():
    b1, b2, eps = 0.9, 0.999, 1e-7
    w, m, v, P = list(W0), [0.0] * 3, [0.0] * 3, 1.0
    expected = []
    for t, g in enumerate((G1, G2), start=1):
        mu_t = b1 * (1 - 0.5 * 0.96 ** t)
        mu_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        P *= mu_t
        for i in range(3):
            m[i] += (g[i] - m[i]) * (1 - b1)
            v[i] += (g[i] ** 2 - v[i]) * (1 - b2)
            m_hat = mu_t1 * m[i] / (1 - P * mu_t1) + (1 - mu_t) * g[i] / (1 - P)
            v_hat = v[i] / (1 - b2 ** t)
            w[i] -= LR * m_hat / (math.sqrt(v_hat) + eps)
        expected.append(list(w))
    check(run("nadam", [0.0, 0.0]), expected)
    # By hand, w0 = 1, g = 2, t = 1: μ1 = .468, μ2 = .48528, m̂ = .097056/.77288896 + 2,
    # v̂ = 4 → w = 1 − .1·2.1255755/2 = 0.8937212
    check(run("nadam", [0.0, 0.0], w0=[1.0], grads=([2.0],)), [[0.8937212]])


def test_clipping_then_decay_then_rule():
    """SGD lr .1 with clipnorm 1 and wd .5: w ← w − w·.5·.1, then w ← w − .1·g/‖g‖."""
    w, g = [3.0, 4.0], [6.0, 8.0]          # ‖g‖ = 10 → clipped g = [.6, .8]
    e = [wi - wi * 0.5 * LR - LR * gi / 10 for wi, gi in zip(w, g)]
    check(run("sgd", [], w0=w, grads=(g,), clipnorm=1.0, weight_decay=0.5), [e])
    check(run("sgd", [], w0=w, grads=(g,), clipvalue=7.0, weight_decay=0.5),
          [[3 - 0.15 - 0.6, 4 - 0.2 - 0.7]])
