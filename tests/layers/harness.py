"""The layer test harness (after Keras's run_layer_test), shared by every tests/layers file:
output shape, parameter count, config round trip, and backward (input and weight
gradients) against central finite differences of the layer's own forward.

Use: ``from harness import check_layer`` in a test module under tests/layers/.
"""
import numpy as np


def numeric_grads(layer, x, r, eps=1e-2):
    """d Σ(r·layer(x)) / dx and / d each weight, by central differences in float64 sums."""
    def objective():
        return float(np.sum(r.astype(np.float64) * layer.forward(x, {}, False).astype(np.float64)))

    grads = []
    for arr in [x] + [v.value for v in layer.weights]:
        g = np.zeros(arr.shape)
        flat, gflat = arr.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = objective()
            flat[i] = old - eps
            down = objective()
            flat[i] = old
            gflat[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def check_layer(layer, input_shape, params, rng, *, atol=2e-2, weights_scale=0.5, x_offset=0.0, kinks=(0.0,)):
    x = (rng.standard_normal((3,) + input_shape) + x_offset).astype(np.float32)
    for k in kinks:  # keep finite differences off the points where the function bends or jumps
        x[np.abs(x - k) < 0.05] += 0.1
    y = layer(x)
    assert layer.output_shape == (None,) + y.shape[1:]
    assert layer.count_params() == params
    for v in layer.weights:
        v.assign(rng.uniform(-weights_scale, weights_scale, v.shape))
    # backward vs finite differences (inference mode: deterministic forward)
    r = rng.standard_normal(y.shape).astype(np.float32)
    ctx = {}
    layer.forward(x, ctx, False)
    for v in layer.weights:
        v.grad[...] = 0
    dx = layer.backward(r, ctx)
    want = numeric_grads(layer, x, r)
    np.testing.assert_allclose(dx, want[0], atol=atol, rtol=2e-2)
    for v, g in zip(layer.weights, want[1:]):
        np.testing.assert_allclose(v.grad, g, atol=atol, rtol=2e-2, err_msg=v.name)
    # config round trip
    config = layer.get_config()
    clone = type(layer).from_config(dict(config, name=config["name"] + "_clone"))
    assert {k: v for k, v in clone.get_config().items() if k != "name"} == \
           {k: v for k, v in config.items() if k != "name"}
    return y
