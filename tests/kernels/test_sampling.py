"""baeum.ops.sampling_forward / sampling_backward vs baeum.reference (Keras affine_transform)."""
import numpy as np
import pytest

import baeum
from baeum import ops
from baeum import reference as ref

FILLS = ["reflect", "wrap", "constant", "nearest"]
INTERPS = ["bilinear", "nearest"]
# (N, H, W, C, OH, OW): 1×1 images, odd/prime sizes, empty batch, resize-shaped outputs
SHAPES = [(2, 1, 1, 1, 1, 1), (3, 1, 1, 2, 3, 2), (2, 5, 7, 3, 5, 7), (1, 8, 8, 1, 8, 8),
          (0, 4, 4, 2, 4, 4), (4, 13, 11, 5, 13, 11), (2, 6, 9, 4, 4, 3), (2, 3, 3, 2, 7, 5),
          (1, 2, 17, 1, 2, 17)]


def random_transforms(rng, n, h, w, projective=False):
    """Rotation + zoom + shear + translation about the centre (all far from identity)."""
    angle = rng.uniform(-np.pi, np.pi, n)
    zoom = rng.uniform(0.5, 1.6, (n, 2))
    shear = rng.uniform(-0.3, 0.3, n)
    cos, sin = np.cos(angle), np.sin(angle)
    a0, a1 = cos * zoom[:, 0], -sin * zoom[:, 1] + shear
    b0, b1 = sin * zoom[:, 0], cos * zoom[:, 1]
    cx, cy = (w - 1) / 2, (h - 1) / 2
    a2 = cx - a0 * cx - a1 * cy + rng.uniform(-0.4, 0.4, n) * w
    b2 = cy - b0 * cx - b1 * cy + rng.uniform(-0.4, 0.4, n) * h
    c = rng.uniform(-0.02, 0.02, (n, 2)) if projective else np.zeros((n, 2))
    return np.stack([a0, a1, a2, b0, b1, b2, c[:, 0], c[:, 1]], axis=1).astype(np.float32)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fill_mode", FILLS)
@pytest.mark.parametrize("interpolation", INTERPS)
def test_sampling_matches_reference(shape, fill_mode, interpolation, rng):
    n, h, w, c, oh, ow = shape
    inp = rng.standard_normal((n, h, w, c)).astype(np.float32)
    t = random_transforms(rng, n, h, w, projective=(h > 4))
    kw = dict(interpolation=interpolation, fill_mode=fill_mode)
    out = ops.sampling_forward(inp, t, output_size=(oh, ow), fill_value=0.7, **kw)
    want = ref.sampling_forward(inp, t, output_size=(oh, ow), fill_value=0.7, **kw)
    assert out.shape == (n, oh, ow, c)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    dout = rng.standard_normal((n, oh, ow, c)).astype(np.float32)
    dinp = ops.sampling_backward(dout, t, input_size=(h, w), **kw)
    np.testing.assert_allclose(dinp, ref.sampling_backward(dout, t, input_size=(h, w), **kw),
                               rtol=1e-5, atol=1e-5)
    if n and fill_mode != "constant":  # no fill cells: the weights of each pixel sum to 1
        np.testing.assert_allclose(ops.sampling_backward(np.ones_like(dout), t, input_size=(h, w), **kw).sum(),
                                   n * oh * ow * c, rtol=1e-5)


def test_identity_translation_and_flip_are_exact(rng):
    inp = rng.standard_normal((2, 5, 6, 3)).astype(np.float32)
    ident = np.array([1, 0, 0, 0, 1, 0, 0, 0], np.float32)
    for interp in INTERPS:
        np.testing.assert_array_equal(ops.sampling_forward(inp, ident, interpolation=interp), inp)
    # shift right by 2 columns (x_in = x - 2) with constant fill
    shift = np.array([1, 0, -2, 0, 1, 0, 0, 0], np.float32)
    out = ops.sampling_forward(inp, shift, fill_mode="constant", fill_value=-5)
    np.testing.assert_array_equal(out[:, :, 2:], inp[:, :, :-2])
    np.testing.assert_array_equal(out[:, :, :2], -5)
    # horizontal flip: x_in = (W-1) - x
    flip = np.array([-1, 0, 5, 0, 1, 0, 0, 0], np.float32)
    np.testing.assert_array_equal(ops.sampling_forward(inp, flip), inp[:, :, ::-1])


def test_fill_modes_on_a_row():
    """Keras's documented extensions: (d c b a | a b c d | d c b a) etc., shift by 4 pixels."""
    row = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 4, 1)  # a b c d = 1 2 3 4
    left = np.array([1, 0, -4, 0, 1, 0, 0, 0], np.float32)  # out[x] = E[x - 4]
    right = np.array([1, 0, 4, 0, 1, 0, 0, 0], np.float32)  # out[x] = E[x + 4]
    expect = {"reflect": ([4, 3, 2, 1], [4, 3, 2, 1]), "wrap": ([1, 2, 3, 4], [1, 2, 3, 4]),
              "nearest": ([1, 1, 1, 1], [4, 4, 4, 4]), "constant": ([9, 9, 9, 9], [9, 9, 9, 9])}
    for mode, (lo, hi) in expect.items():
        for impl in (ops, ref):
            got_lo = impl.sampling_forward(row, left, fill_mode=mode, fill_value=9)
            got_hi = impl.sampling_forward(row, right, fill_mode=mode, fill_value=9)
            np.testing.assert_array_equal(got_lo.ravel(), lo, err_msg=mode)
            np.testing.assert_array_equal(got_hi.ravel(), hi, err_msg=mode)


def test_bilinear_half_pixel_blends_fill_value():
    img = np.full((1, 2, 2, 1), 4.0, np.float32)
    t = np.array([1, 0, -0.5, 0, 1, 0, 0, 0], np.float32)  # x_in = x - 0.5
    out = ops.sampling_forward(img, t, fill_mode="constant", fill_value=2.0)
    np.testing.assert_allclose(out[0, :, 0, 0], [3.0, 3.0])  # ½·fill + ½·pixel
    np.testing.assert_allclose(out[0, :, 1, 0], [4.0, 4.0])


@pytest.mark.parametrize("fill_mode", FILLS)
@pytest.mark.parametrize("c", [1, 3, 8])  # the kernel specialises C = 1 and 3
def test_threads_bit_identical(fill_mode, c, rng, threads):
    inp = rng.standard_normal((8, 64, 67, c)).astype(np.float32)  # big enough for 2 threads
    t = random_transforms(rng, 8, 64, 67)
    dout = rng.standard_normal(inp.shape).astype(np.float32)
    results = []
    for nt in (1, 2):
        baeum.set_num_threads(nt)
        out = ops.sampling_forward(inp, t, fill_mode=fill_mode)
        dinp = ops.sampling_backward(dout, t, input_size=(64, 67), fill_mode=fill_mode)
        results.append((out, dinp))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_backward_accumulates_and_out_buffers(rng):
    inp = rng.standard_normal((2, 4, 5, 3)).astype(np.float32)
    t = random_transforms(rng, 2, 4, 5)
    out = np.empty_like(inp)
    assert ops.sampling_forward(inp, t, out=out) is out
    dout = rng.standard_normal(inp.shape).astype(np.float32)
    once = ops.sampling_backward(dout, t, input_size=(4, 5))
    acc = np.ones_like(inp)
    assert ops.sampling_backward(dout, t, input_size=(4, 5), dinp=acc) is acc
    np.testing.assert_allclose(acc, once + 1, rtol=1e-6, atol=1e-6)
    # any dtype / layout of the inputs is converted; float64 transforms too
    got = ops.sampling_forward(np.asfortranarray(inp.astype(np.float64)), t.astype(np.float64))
    np.testing.assert_array_equal(got, ops.sampling_forward(inp, t))


def test_huge_and_nan_transforms_stay_in_bounds(rng):
    inp = rng.standard_normal((3, 4, 4, 2)).astype(np.float32)
    t = np.array([[1e30, 0, 0, 0, 1, 0, 0, 0], [np.nan] * 8, [1, 0, 0, 0, 1, 0, 0, -1]], np.float32)
    for mode in FILLS:
        out = ops.sampling_forward(inp, t, fill_mode=mode, fill_value=0.5)
        np.testing.assert_allclose(out, ref.sampling_forward(inp, t, fill_mode=mode, fill_value=0.5),
                                   rtol=1e-5, atol=1e-5)
        d = ops.sampling_backward(np.ones_like(inp), t, input_size=(4, 4), fill_mode=mode)
        assert np.isfinite(d).all()


def test_errors(rng):
    inp = rng.standard_normal((2, 4, 4, 1)).astype(np.float32)
    t = np.zeros((2, 8), np.float32)
    with pytest.raises(ValueError, match=r"\(samples, height, width, channels\)"):
        ops.sampling_forward(inp[0], t)
    with pytest.raises(ValueError, match=r"transforms must have shape \(2, 8\)"):
        ops.sampling_forward(inp, t[:1])
    with pytest.raises(ValueError, match="fill_mode"):
        ops.sampling_forward(inp, t, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        ops.sampling_forward(inp, t, interpolation="bicubic")
    with pytest.raises(ValueError, match="out has shape"):
        ops.sampling_forward(inp, t, out=np.empty((2, 3, 4, 1), np.float32))
    with pytest.raises(ValueError, match="overlaps"):
        ops.sampling_backward(inp, t, input_size=(4, 4), dinp=inp)
    with pytest.raises(ValueError, match="no pixels"):
        ops.sampling_forward(np.zeros((1, 0, 3, 1), np.float32), t[:1], output_size=(2, 2))
    # the binding's own checks (last line of defence)
    from baeum import _core
    with pytest.raises(ValueError):
        _core.sampling_forward(inp, t, np.empty((3, 4, 4, 1), np.float32), 1, 0, 0.0)
    with pytest.raises(ValueError):
        _core.sampling_backward(inp, t[:, :7].copy(), np.empty((2, 4, 4, 1), np.float32), 1, 0)
    with pytest.raises(ValueError):
        _core.sampling_forward(inp, t, np.empty((2, 4, 4, 1), np.float32), 1, 9, 0.0)
