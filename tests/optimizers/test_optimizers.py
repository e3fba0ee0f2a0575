"""baeum.optimizers classes: Keras 3 signatures, get(), config, learning rate, apply_flat,
apply_gradients, and that each one actually minimises a quadratic."""
import inspect

import numpy as np
import pytest

import baeum
from baeum import optimizers as O
from baeum import reference
from baeum.optimizers import schedules

f32 = np.float32
CLASSES = [O.SGD, O.RMSprop, O.Adagrad, O.Adam, O.AdamW, O.Nadam]

# Keras 3.15 defaults (keras/src/optimizers/*.py).
KERAS_DEFAULTS = {
    O.SGD: dict(learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD"),
    O.RMSprop: dict(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                    name="rmsprop"),
    O.Adagrad: dict(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                    name=None),
    O.Adam: dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 name="adam"),
    O.AdamW: dict(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                  epsilon=1e-7, amsgrad=False, name="adamw"),
    O.Nadam: dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name="nadam"),
}
COMMON = dict(clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
              ema_momentum=0.99, ema_overwrite_frequency=None)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_keras_signature_and_defaults(cls):
    params = inspect.signature(cls).parameters
    for k, v in {**KERAS_DEFAULTS[cls], **COMMON}.items():
        assert params[k].default == v, (cls.__name__, k)
    if cls is not O.AdamW:
        assert params["weight_decay"].default is None
    assert list(params)[0] == "learning_rate"


def test_default_names():
    assert [c().name for c in CLASSES] == ["SGD", "rmsprop", "adagrad", "adam", "adamw", "nadam"]


def test_get():
    for s, cls in [("sgd", O.SGD), ("SGD", O.SGD), ("RMSprop", O.RMSprop), ("adagrad", O.Adagrad),
                   ("Adam", O.Adam), ("adamw", O.AdamW), ("NADAM", O.Nadam)]:
        assert type(O.get(s)) is cls
    opt = O.Adam(learning_rate=0.5)
    assert O.get(opt) is opt
    assert O.get(None) is None
    with pytest.raises(ValueError, match="'sgd'.*'nadam'"):
        O.get("adamx")
    with pytest.raises(NotImplementedError, match="Adamax.*not implemented"):
        O.get("Adamax")
    with pytest.raises(ValueError, match="Could not interpret"):
        O.get(3)
    assert O.get(O.serialize(opt)).get_config() == opt.get_config()
    assert baeum.optimizers is O


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.05, clipnorm=2.0)
    cfg = opt.get_config()
    assert cfg["learning_rate"] == 0.05 and cfg["clipnorm"] == 2.0
    assert cfg["name"] == opt.name
    for k in ("weight_decay", "global_clipnorm", "clipvalue", "use_ema", "ema_momentum",
              "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps"):
        assert k in cfg
    again = cls.from_config(cfg)
    assert type(again) is cls and again.get_config() == cfg


def test_config_with_schedule():
    sched = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    opt = O.SGD(learning_rate=sched, momentum=0.9)
    cfg = opt.get_config()
    assert cfg["learning_rate"]["class_name"] == "ExponentialDecay"
    again = O.SGD.from_config(cfg)
    assert isinstance(again._learning_rate, schedules.ExponentialDecay)
    assert again.learning_rate == pytest.approx(0.1)
    assert again.get_config() == cfg


def test_constructor_errors():
    with pytest.raises(ValueError, match="learning_rate"):
        O.Adam(learning_rate=1)                      # an int: Keras refuses it too
    with pytest.raises(ValueError, match="momentum"):
        O.SGD(momentum=1)                            # must be a float
    with pytest.raises(ValueError, match="momentum"):
        O.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="Only one of|only one of"):
        O.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        O.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="not recognized"):
        O.Adam(lr=0.1)
    with pytest.raises(NotImplementedError, match="use_ema"):
        O.Adam(use_ema=True)
    with pytest.raises(NotImplementedError, match="gradient_accumulation_steps"):
        O.SGD(gradient_accumulation_steps=4)
    with pytest.warns(UserWarning, match="decay"):
        O.SGD(decay=0.1)


def test_learning_rate_property():
    opt = O.Adam(learning_rate=0.01)
    assert opt.learning_rate == 0.01
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    with pytest.raises(TypeError):
        opt.learning_rate = "big"
    opt = O.Adam(learning_rate=lambda: 0.25)
    assert opt.learning_rate == 0.25
    opt = O.SGD(learning_rate=schedules.PiecewiseConstantDecay([1], [1.0, 0.5]))
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


def test_schedule_is_evaluated_at_iterations():
    """SGD with lr = 1.0 for steps 0..1, 0.5 after: updates of g = 1 are 1, 1, .5, .5."""
    opt = O.SGD(learning_rate=schedules.PiecewiseConstantDecay([1], [1.0, 0.5]))
    w = np.zeros(1, f32)
    seen = []
    for _ in range(4):
        seen.append(opt.learning_rate)
        before = w.copy()
        opt.apply_flat(w, np.ones(1, f32), [[0, 1]])
        assert before[0] - w[0] == pytest.approx(seen[-1])
    assert seen == [1.0, 1.0, 0.5, 0.5]
    assert opt.iterations == 4


def test_weight_decay_uses_current_lr_before_the_update():
    opt = O.SGD(learning_rate=0.1, weight_decay=0.5)
    w = np.array([2.0], f32)
    opt.apply_flat(w, np.array([1.0], f32), [[0, 1]])
    assert w[0] == pytest.approx(2.0 - 2.0 * 0.5 * 0.1 - 0.1 * 1.0)


def test_apply_flat_lazy_slots_and_size_check():
    opt = O.Adam(learning_rate=0.1, amsgrad=True)
    assert opt.slots is None and not opt.built and opt.iterations == 0
    w = np.ones(10, f32)
    opt.apply_flat(w, np.ones(10, f32), np.array([[0, 4], [4, 6]]))
    assert opt.slot_names == ["momentum", "velocity", "velocity_hat"]
    assert [s.shape for s in opt.slots] == [(10,)] * 3 and opt.iterations == 1
    np.testing.assert_allclose(opt.slots[0], 0.1)            # m = (1 − β₁)·g
    with pytest.raises(ValueError, match="built for 10 parameters but now gets 12"):
        opt.apply_flat(np.ones(12, f32), np.ones(12, f32), [[0, 12]])
    with pytest.raises(ValueError, match="1-D float32"):
        opt.apply_flat([1.0] * 10, np.ones(10, f32), [[0, 10]])
    assert O.Adagrad().slot_names == ["accumulator"]
    ada = O.Adagrad(initial_accumulator_value=0.3)
    ada.apply_flat(np.ones(3, f32), np.zeros(3, f32), [[0, 3]])
    np.testing.assert_allclose(ada.slots[0], 0.3)


@pytest.mark.parametrize("cls,kw", [(O.SGD, dict(momentum=0.9, nesterov=True)),
                                    (O.RMSprop, dict(momentum=0.3, centered=True)),
                                    (O.Adagrad, {}), (O.Adam, dict(amsgrad=True)),
                                    (O.AdamW, dict(global_clipnorm=1.0)),
                                    (O.Nadam, dict(clipvalue=0.5))],
                         ids=lambda x: getattr(x, "__name__", ""))
def test_apply_flat_matches_reference_over_steps(cls, kw):
    """The class drives the kernel with Keras's lr, step and Nadam product: compare with
    the NumPy reference driven by hand."""
    rng = np.random.default_rng(7)
    n, seg = 50, np.array([[0, 20], [20, 30]])
    w = rng.standard_normal(n).astype(f32)
    w_ref = w.copy()
    opt = cls(learning_rate=0.05, **kw)
    hyper = {k: v for k, v in opt.get_config().items()
             if k in ("momentum", "nesterov", "rho", "centered", "epsilon", "beta_1",
                      "beta_2", "amsgrad", "weight_decay", "clipnorm", "clipvalue",
                      "global_clipnorm")}
    names = reference.optimizer_slot_names(opt._kind, momentum=hyper.get("momentum", 0.0),
                                           centered=hyper.get("centered", False),
                                           amsgrad=hyper.get("amsgrad", False))
    init = 0.1 if cls is O.Adagrad else 0.0
    slots = [np.full(n, init, f32) for _ in names]
    P = f32(1)
    for t in range(1, 31):
        g = rng.standard_normal(n).astype(f32)
        opt.apply_flat(w, g, seg)
        extra = {}
        if cls is O.Nadam:
            P = P * f32(0.9) * (f32(1) - f32(0.5) * f32(0.96) ** f32(t))
            extra["u_product"] = float(P)
        reference.optimizer_step(opt._kind, w_ref, g, slots, seg, lr=0.05, step=t, **hyper,
                                 **extra)
    np.testing.assert_allclose(w, w_ref, rtol=1e-5, atol=1e-6)
    assert opt.iterations == 30


def test_apply_gradients_updates_variables_in_place():
    rng = np.random.default_rng(1)
    k, b = rng.standard_normal((3, 4)).astype(f32), np.zeros(4, f32)
    gk, gb = rng.standard_normal((3, 4)).astype(f32), rng.standard_normal(4).astype(f32)
    k0, b0 = k.copy(), b.copy()
    opt = O.Adam(learning_rate=0.1)
    assert opt.apply_gradients([(gk, k), (gb, b)]) == 1
    # Adam's first step: α = lr·√(1−β₂)/(1−β₁) (β in float32, as Keras), m = .1g, v = .001g²
    alpha = 0.1 * np.sqrt(1 - float(f32(0.999))) / (1 - float(f32(0.9)))

    def step1(g):
        g = g.astype(np.float64)
        return alpha * 0.1 * g / (np.sqrt(0.001 * g * g) + 1e-7)

    np.testing.assert_allclose(k, k0 - step1(gk), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, b0 - step1(gb), rtol=1e-5, atol=1e-6)
    # same numbers as apply_flat on the packed buffer
    flat = np.concatenate([k0.ravel(), b0])
    twin = O.Adam(learning_rate=0.1)
    twin.apply_flat(flat, np.concatenate([gk.ravel(), gb]), [[0, 12], [12, 4]])
    np.testing.assert_array_equal(flat, np.concatenate([k.ravel(), b]))
    # a None gradient: warned and skipped, the other variable still moves
    b1 = b.copy()
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply_gradients([(gk, k), (None, b)])
    np.testing.assert_array_equal(b, b1)
    assert opt.iterations == 2
    with pytest.raises(ValueError, match="unknown variable"):
        opt.apply_gradients([(gb, np.zeros(4, f32))])
    with pytest.raises(TypeError, match="float32"):
        O.SGD().apply_gradients([(gb, np.zeros(4))])
    with pytest.raises(ValueError, match="gradient of shape"):
        opt.apply_gradients([(gb, k)])


QUADRATIC_LR = {O.SGD: 0.05, O.RMSprop: 0.05, O.Adagrad: 0.5, O.Adam: 0.1, O.AdamW: 0.1,
                O.Nadam: 0.1}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_100_steps_minimise_a_quadratic(cls):
    """f(w) = ½ Σ a_i (w_i − c_i)², badly scaled (a from 0.5 to 5): f must drop 20×."""
    rng = np.random.default_rng(0)
    a = np.linspace(0.5, 5.0, 40).astype(f32)
    c = rng.standard_normal(40).astype(f32)
    w = np.zeros(40, f32)

    def f(w):
        return 0.5 * float(np.sum(a * (w - c) ** 2))

    f0 = f(w)
    opt = cls(learning_rate=QUADRATIC_LR[cls])
    for _ in range(100):
        opt.apply_flat(w, a * (w - c), [[0, 25], [25, 15]])
    assert f(w) < f0 / 20, (cls.__name__, f0, f(w))


@pytest.mark.parametrize("opt,expected", [
    (O.Adam(), 2 * 30 + 2),                      # KERAS_SEMANTICS §5.1: Adam 2·trainable + 2
    (O.SGD(), 2),                                # iterations + learning_rate
    (O.SGD(momentum=0.9), 30 + 2),
    (O.RMSprop(momentum=0.5, centered=True), 3 * 30 + 2),
    (O.Nadam(), 2 * 30 + 3),                     # + u_product
    (O.Adam(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.9)), 2 * 30 + 1),
])
def test_variable_count_matches_keras_summary(opt, expected):
    assert opt.variable_count() == 0             # not built: Keras prints no optimizer line
    # 40 packed elements of which 30 trainable (a frozen/non-trainable variable is skipped)
    opt.apply_flat(np.ones(40, f32), np.ones(40, f32), [[0, 10], [20, 20]])
    assert opt.variable_count() == expected


def test_variables_in_keras_order_and_set_weights():
    opt = O.Nadam(learning_rate=0.01)
    assert [v.size for v in opt.variables] == [1, 1]        # iterations, learning_rate
    seg = [[0, 3], [5, 2]]
    w = np.arange(7, dtype=f32)
    opt.apply_flat(w, np.ones(7, f32), seg)
    vs = opt.variables
    # iterations, lr, momentum(var0), momentum(var1), velocity(var0), velocity(var1), u_product
    assert [v.size for v in vs] == [1, 1, 3, 2, 3, 2, 1]
    assert int(vs[0]) == 1 and float(vs[1]) == pytest.approx(0.01)
    np.testing.assert_allclose(vs[2], 0.1, rtol=1e-6)       # m = (1 − β₁)·g
    # v = (1 − β₂)·g², with Nadam's float32 β₂: 1 − 0.999f = 9.99987e-4
    np.testing.assert_allclose(vs[4], 1 - float(f32(0.999)), rtol=1e-6)
    assert float(vs[-1]) == pytest.approx(0.9 * (1 - 0.5 * 0.96))
    # a fresh optimizer restored from these values continues identically
    twin = O.Nadam(learning_rate=0.5)
    w2 = w.copy()
    twin.apply_flat(np.zeros(7, f32), np.zeros(7, f32), seg)
    twin.set_weights([np.copy(v) for v in vs])
    assert twin.iterations == 1 and twin.learning_rate == pytest.approx(0.01)
    g = np.linspace(-1, 1, 7).astype(f32)
    opt.apply_flat(w, g, seg)
    twin.apply_flat(w2, g, seg)
    np.testing.assert_array_equal(w, w2)
    with pytest.raises(ValueError, match="7 variables, got 2"):
        twin.set_weights(vs[:2])
    with pytest.raises(ValueError, match="not yet been built"):
        O.Adam().set_weights([])
