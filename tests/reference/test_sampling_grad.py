"""Reference image sampling: backward vs finite differences (float64), and the forward vs
Keras's NumPy-backend recipe (scipy.ndimage.map_coordinates on an np.pad-ed input)."""
import numpy as np
import pytest

from baeum import reference as ref

from test_activations_grad import f64, numeric_grad

FILLS = ["reflect", "wrap", "constant", "nearest"]


def _transforms(rng, n, h, w):
    angle = rng.uniform(-2, 2, n)
    z = rng.uniform(0.6, 1.5, n)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    a0, a1, b0, b1 = np.cos(angle) * z, -np.sin(angle) * z, np.sin(angle) * z, np.cos(angle) * z
    return np.stack([a0, a1, cx - a0 * cx - a1 * cy + rng.uniform(-1, 1, n),
                     b0, b1, cy - b0 * cx - b1 * cy + rng.uniform(-1, 1, n),
                     np.zeros(n), np.zeros(n)], axis=1).astype(np.float32)


@pytest.mark.parametrize("fill_mode", FILLS)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("shape", [(2, 4, 5, 2, 4, 5), (1, 1, 1, 2, 2, 3), (1, 3, 4, 1, 5, 2)])
def test_sampling_backward_vs_fd(fill_mode, interpolation, shape, rng):
    n, h, w, c, oh, ow = shape
    x = rng.standard_normal((n, h, w, c))
    t = _transforms(rng, n, h, w)
    g = rng.standard_normal((n, oh, ow, c))
    kw = dict(output_size=(oh, ow), interpolation=interpolation, fill_mode=fill_mode, fill_value=0.3)

    def loss(v):
        return float((f64(lambda o: ref.sampling_forward(v, t, out=o, **kw), g.shape) * g).sum())

    analytic = np.zeros(x.shape)
    ref.sampling_backward(g, t, input_size=(h, w), interpolation=interpolation, fill_mode=fill_mode,
                          dinp=analytic)
    np.testing.assert_allclose(analytic, numeric_grad(loss, x), rtol=1e-6, atol=1e-8)


def _keras_numpy_affine(images, transform, order, fill_mode, fill_value):
    """Keras's NumPy backend affine_transform, restated: per image, coordinates
    (ys, xs, channel) → pad the image by np.pad in the fill mode far enough that every
    tap is inside → scipy.ndimage.map_coordinates."""
    ndimage = pytest.importorskip("scipy.ndimage")
    n, h, w, c = images.shape
    outs = []
    for i in range(n):
        a0, a1, a2, b0, b1, b2 = (float(v) for v in transform[i, :6])
        y, x, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
        coords = [b0 * x + b1 * y + b2, a0 * x + a1 * y + a2, ch.astype(np.float64)]
        pads = [(max(-int(np.floor(cc.min())) + 1, 0), max(int(np.ceil(cc.max())) + 1 - size, 0))
                for cc, size in zip(coords, images[i].shape)]
        mode = {"nearest": "edge", "reflect": "symmetric"}.get(fill_mode, fill_mode)
        extra = {"constant_values": fill_value} if fill_mode == "constant" else {}
        padded = np.pad(images[i].astype(np.float64), pads, mode=mode, **extra)
        shifted = [cc + p[0] for cc, p in zip(coords, pads)]
        outs.append(ndimage.map_coordinates(padded, shifted, order=order, mode=fill_mode, cval=fill_value))
    return np.stack(outs)


@pytest.mark.parametrize("fill_mode", FILLS)
@pytest.mark.parametrize("interpolation,order", [("bilinear", 1), ("nearest", 0)])
def test_reference_matches_keras_numpy_backend(fill_mode, interpolation, order, rng):
    images = rng.standard_normal((3, 7, 6, 2))
    t = _transforms(rng, 3, 7, 6)
    want = _keras_numpy_affine(images, t, order, fill_mode, 0.25)
    got = ref.sampling_forward(images, t, interpolation=interpolation, fill_mode=fill_mode,
                               fill_value=0.25, out=np.empty(images.shape))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
