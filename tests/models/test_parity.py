"""fit() tracks a plain NumPy re-implementation of Keras's training step.

The NumPy side does its own forward pass, loss gradient and backward pass, and updates a
flat parameter buffer with baeum.reference.optimizer_step (Keras's update rules in NumPy),
so a wrong gradient, a wrong weight layout or a wrong step wiring in the model shows up.
"""
import numpy as np
import pytest

from baeum import optimizers, reference
from baeum.layers import Dense, Input
from baeum.models import Sequential

CONFIGS = [
    ("sgd", dict(learning_rate=0.05)),
    ("sgd", dict(learning_rate=0.05, momentum=0.9, nesterov=True)),
    ("rmsprop", dict(learning_rate=0.01, momentum=0.5, centered=True)),
    ("adagrad", dict(learning_rate=0.05)),
    ("adam", dict(learning_rate=0.01)),
    ("adam", dict(learning_rate=0.01, amsgrad=True, clipnorm=0.5)),
    ("adamw", dict(learning_rate=0.01, global_clipnorm=1.0)),
    ("nadam", dict(learning_rate=0.01, clipvalue=0.1)),
]
CLASSES = {"sgd": optimizers.SGD, "rmsprop": optimizers.RMSprop, "adagrad": optimizers.Adagrad,
           "adam": optimizers.Adam, "adamw": optimizers.AdamW, "nadam": optimizers.Nadam}


def numpy_training(weights, x, y, opt, steps, batch):
    """Dense(7, tanh) → Dense(3, linear), MSE, on a flat float32 parameter buffer."""
    shapes = [w.shape for w in weights]
    sizes = [w.size for w in weights]
    offsets = np.cumsum([0] + sizes)
    flat = np.concatenate([w.ravel() for w in weights]).astype(np.float32)
    segments = np.array([(o, s) for o, s in zip(offsets[:-1], sizes)], np.int64)
    kind = opt._kind
    hyper = opt._hyper()
    names = reference.optimizer_slot_names(kind, momentum=hyper.get("momentum", 0.0),
                                           centered=hyper.get("centered", False), amsgrad=hyper.get("amsgrad", False))
    init = getattr(opt, "initial_accumulator_value", 0.0) if kind == "adagrad" else 0.0
    slots = [np.full_like(flat, init) for _ in names]
    u_product = np.float32(1.0)
    view = lambda i: flat[offsets[i]:offsets[i + 1]].reshape(shapes[i])
    n = len(x)
    for t in range(1, steps + 1):
        lo = ((t - 1) * batch) % n
        xb, yb = x[lo:lo + batch], y[lo:lo + batch]
        w1, b1, w2, b2 = (view(i) for i in range(4))
        h = np.tanh(xb @ w1 + b1)
        p = h @ w2 + b2
        dp = (2.0 * (p - yb) / p.size).astype(np.float32)  # MSE: mean over all entries
        dh = (dp @ w2.T) * (1 - h * h)
        grads = np.concatenate([(xb.T @ dh).ravel(), dh.sum(0), (h.T @ dp).ravel(), dp.sum(0)]).astype(np.float32)
        step_hyper = dict(hyper)
        if kind == "nadam":
            u_product = u_product * np.float32(hyper["beta_1"]) * (np.float32(1) - np.float32(0.5) * np.float32(0.96) ** np.float32(t))
            step_hyper["u_product"] = float(u_product)
        reference.optimizer_step(kind, flat, grads, slots, segments, lr=opt.learning_rate, step=t,
                                 weight_decay=opt.weight_decay, clipnorm=opt.clipnorm, clipvalue=opt.clipvalue,
                                 global_clipnorm=opt.global_clipnorm, **step_hyper)
    return [view(i).copy() for i in range(4)]


@pytest.mark.parametrize("kind,kwargs", CONFIGS, ids=[f"{k}-{'-'.join(v)}" for k, v in CONFIGS])
def test_100_steps_track_numpy(kind, kwargs, rng):
    x = rng.standard_normal((40, 5)).astype(np.float32)
    y = rng.standard_normal((40, 3)).astype(np.float32)
    model = Sequential([Input((5,)), Dense(7, activation="tanh"), Dense(3)])
    start = [rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(start)
    model.compile(optimizer=CLASSES[kind](**kwargs), loss="mse")
    model.fit(x, y, batch_size=8, epochs=20, shuffle=False, verbose=0)  # 5 batches × 20 = 100 steps
    want = numpy_training(start, x, y, CLASSES[kind](**kwargs), steps=100, batch=8)
    for got, ref in zip(model.get_weights(), want):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
