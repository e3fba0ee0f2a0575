"""Optimizer update rules (Keras 3), in plain NumPy, one variable at a time.

All state is float32 and every formula is written in the order Keras's ``update_step``
writes it (keras/src/optimizers/*.py), so these numbers are Keras's numbers. ``t`` is the
step being applied (``optimizer.iterations + 1``), ``g`` the (clipped) gradient.

Per step, for every variable (Keras's ``apply`` order):

1. clip:  clipvalue ``g ← clip(g, −c, c)``; clipnorm (per variable) ``g ← g·c / max(‖g‖, c)``;
   global_clipnorm ``g ← g·c·min(1/G, 1/c)`` with ``G = √Σ_v‖g_v‖²``. A value of 0 or None
   means off (as Keras: ``if self.clipnorm and self.clipnorm > 0``).
2. weight decay (if not None): ``p ← p − p·wd·lr`` — decoupled, before the update.
3. the rule of ``kind`` (see each ``_<kind>`` function below).

How PyTorch differs is in docs/optim.md and KERAS_SEMANTICS.md §12.
"""
import numpy as np

f32 = np.float32
KINDS = ("sgd", "rmsprop", "adagrad", "adam", "adamw", "nadam")


def optimizer_slot_names(kind, *, momentum=0.0, centered=False, amsgrad=False):
    """Names of the slot arrays ``kind`` needs, in the order optimizer_step expects them.

    sgd: ['momentum'] if momentum != 0 else []; rmsprop: ['velocity', 'momentum' if
    momentum > 0, 'average_gradient' if centered]; adagrad: ['accumulator'];
    adam/adamw: ['momentum', 'velocity', 'velocity_hat' if amsgrad]; nadam: ['momentum',
    'velocity']. (Keras's slot variable names; Adagrad's starts at initial_accumulator_value,
    all others at 0.)
    """
    if kind == "sgd":
        return ["momentum"] if momentum != 0 else []
    if kind == "rmsprop":
        return (["velocity"] + (["momentum"] if momentum > 0 else [])
                + (["average_gradient"] if centered else []))
    if kind == "adagrad":
        return ["accumulator"]
    if kind in ("adam", "adamw"):
        return ["momentum", "velocity"] + (["velocity_hat"] if amsgrad else [])
    if kind == "nadam":
        return ["momentum", "velocity"]
    raise ValueError(f"optimizer_step: unknown kind {kind!r}; valid: {', '.join(KINDS)}.")


def _sgd(p, g, s, lr, h):
    if not s:                                   # w ← w − lr·g
        p -= g * lr
        return
    m, mu = s[0], f32(h["momentum"])
    m[...] = m * mu - g * lr                    # v ← μv − lr·g
    if h["nesterov"]:
        p += m * mu - g * lr                    # w ← w + μv − lr·g
    else:
        p += m                                  # w ← w + v


def _rmsprop(p, g, s, lr, h):
    rho, eps = f32(h["rho"]), f32(h["epsilon"])
    omr = f32(1 - h["rho"])
    v = s[0]
    v[...] = rho * v + omr * (g * g)            # v ← ρv + (1−ρ)g²
    if h["centered"]:
        a = s[-1]
        a[...] = rho * a + omr * g              # ā ← ρā + (1−ρ)g
        den = v - a * a + eps                   # ε inside the root (PyTorch: outside)
    else:
        den = v + eps
    inc = lr * g / np.sqrt(den)
    if h["momentum"] > 0:
        mom = s[1]
        mom[...] = f32(h["momentum"]) * mom + inc
        p -= mom
    else:
        p -= inc


def _adagrad(p, g, s, lr, h):
    acc = s[0]
    acc += g * g                                # a ← a + g²   (a₀ = initial_accumulator_value)
    p -= lr * g / np.sqrt(acc + f32(h["epsilon"]))


def _adam(p, g, s, lr, h, t):
    t = f32(t)
    b1, b2 = f32(h["beta_1"]), f32(h["beta_2"])
    alpha = lr * np.sqrt(f32(1) - b2 ** t) / (f32(1) - b1 ** t)   # bias correction in α
    m, v = s[0], s[1]
    m += (g - m) * f32(1 - h["beta_1"])
    v += (g * g - v) * f32(1 - h["beta_2"])
    if h["amsgrad"]:
        s[2][...] = np.maximum(s[2], v)
        v = s[2]
    p -= m * alpha / (np.sqrt(v) + f32(h["epsilon"]))   # ε on the UNcorrected √v


def _nadam(p, g, s, lr, h, t):
    b1, b2 = f32(h["beta_1"]), f32(h["beta_2"])
    u_t = b1 * (f32(1) - f32(0.5) * f32(0.96) ** f32(t))        # μ_t
    u_t1 = b1 * (f32(1) - f32(0.5) * f32(0.96) ** f32(t + 1))   # μ_{t+1}
    P = f32(h["u_product"])                                      # μ_1···μ_t
    m, v = s[0], s[1]
    m += (g - m) * (f32(1) - b1)    # Nadam uses the float32 β here (Adam: Python 1 − β)
    v += (g * g - v) * (f32(1) - b2)
    m_hat = u_t1 * m / (f32(1) - P * u_t1) + (f32(1) - u_t) * g / (f32(1) - P)
    v_hat = v / (f32(1) - b2 ** f32(t))
    p -= m_hat * lr / (np.sqrt(v_hat) + f32(h["epsilon"]))


def optimizer_step(kind, params, grads, slots, segments, *, lr, step, weight_decay=None,
                   clipnorm=None, clipvalue=None, global_clipnorm=None, momentum=0.0,
                   nesterov=False, rho=0.9, centered=False, epsilon=1e-7, beta_1=0.9,
                   beta_2=0.999, amsgrad=False, u_product=None):
    """One Keras optimizer step over every segment; params and slots updated in place.

    params: float32 (n,); grads: (n,); slots: list of float32 (n,) arrays named by
    ``optimizer_slot_names``; segments: int (V, 2) rows (offset, size), one per variable.
    lr: the learning rate of this step; step: t = iterations + 1.
    u_product (nadam only): Keras's ``u_product`` after this step's update,
    P_t = μ_1···μ_t with μ_i = β₁(1 − ½·0.96^i) (the caller multiplies it in float32).
    Returns None.
    """
    if kind not in KINDS:
        raise ValueError(f"optimizer_step: unknown kind {kind!r}; valid: {', '.join(KINDS)}.")
    if kind == "nadam" and u_product is None:
        raise ValueError("optimizer_step: nadam needs u_product (μ_1···μ_t).")
    h = dict(momentum=momentum, nesterov=nesterov, rho=rho, centered=centered,
             epsilon=epsilon, beta_1=beta_1, beta_2=beta_2, amsgrad=amsgrad, u_product=u_product)
    lr = f32(lr)
    views = [(int(o), int(n)) for o, n in np.asarray(segments).reshape(-1, 2)]
    gs = [np.asarray(grads, dtype=np.float32)[o:o + n] for o, n in views]

    # 1. clipping (a clipped copy; the caller's grads are untouched)
    if clipnorm:
        c = f32(clipnorm)
        norms = [f32(np.sqrt(np.sum(g.astype(np.float64) ** 2))) for g in gs]
        gs = [g * c / np.maximum(nrm, c) for g, nrm in zip(gs, norms)]
    elif global_clipnorm:
        c = f32(global_clipnorm)
        G = f32(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in gs)))
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = c * np.minimum(f32(1) / G, f32(1) / c) + (G - G)
        gs = [g * scale for g in gs]
    elif clipvalue:
        gs = [np.clip(g, -f32(clipvalue), f32(clipvalue)) for g in gs]

    for (o, n), g in zip(views, gs):
        p = params[o:o + n]
        s = [x[o:o + n] for x in slots]
        # 2. decoupled weight decay, before the update
        if weight_decay is not None:
            p[...] = p - p * f32(weight_decay) * lr
        # 3. the rule
        if kind == "sgd":
            _sgd(p, g, s, lr, h)
        elif kind == "rmsprop":
            _rmsprop(p, g, s, lr, h)
        elif kind == "adagrad":
            _adagrad(p, g, s, lr, h)
        elif kind in ("adam", "adamw"):
            _adam(p, g, s, lr, h, step)
        else:
            _nadam(p, g, s, lr, h, step)
