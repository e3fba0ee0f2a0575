// sampling.cpp — resample NHWC images under a per-image projective transform, exactly as
// Keras's NumPy backend `affine_transform` (scipy.ndimage.map_coordinates on an input
// padded by np.pad in the fill mode), and its transposed (backward) pass.
//
// Glossary: N images, H W input height/width, C channels, OH OW output height/width.
// Per image n the 8 parameters T = [a0 a1 a2 b0 b1 b2 c0 c1] map an output pixel (x, y)
// (x along W, y along H, integer pixel indices) to an input point
//     k   = c0·x + c1·y + 1
//     xs  = (a0·x + a1·y + a2) / k          ys = (b0·x + b1·y + b2) / k
// (evaluated in double, left to right, so the NumPy twin gets the same bits). Keras's
// layers always pass c0 = c1 = 0; the division is TF's projective convention.
//
// Extended input E(i, j): the input continued beyond its edges by the fill mode (one axis
// of size n shown; index i any integer):
//     reflect  (d c b a | a b c d | d c b a)   i mod 2n, folded:  k ≥ n → 2n − 1 − k
//     wrap     (a b c d | a b c d | a b c d)   i mod n
//     nearest  (a a a a | a b c d | d d d d)   clamp(i, 0, n − 1)
//     constant (v v v v | a b c d | v v v v)   fill_value outside [0, n − 1]
// Bilinear: x0 = ⌊xs⌋, fx = xs − x0 (same for y),
//     out = (1−fy)(1−fx)·E(y0,x0) + (1−fy)fx·E(y0,x0+1) + fy(1−fx)·E(y0+1,x0) + fy·fx·E(y0+1,x0+1)
// Nearest: out = E(⌊ys + ½⌋, ⌊xs + ½⌋)  (scipy's order-0 rounding).
// Coordinates are clamped to [−1e9, 1e9] (NaN → −1e9) before ⌊·⌋ so that no transform can
// produce an out-of-range integer; the twin does the same.
//
// Backward: out is linear in inp, out = S·inp + (fill terms), so dinp += Sᵀ·dout: every
// output pixel adds weight·dout to each input pixel E resolved to (fill cells get nothing;
// fill_value is a constant). Several output pixels (and several taps of one pixel, e.g.
// reflect on a 1-pixel image) may hit one input pixel, so threads own whole images.
#include "baeum/sampling.h"

#include <cmath>

#include "baeum/parallel.h"

namespace baeum {

namespace {

// Input index for extended index i along an axis of size n, or −1 for a fill cell.
inline int64_t resolve(int64_t i, int64_t n, Fill fill) {
  if (i >= 0 && i < n) return i;  // why: the common case, no modulo
  switch (fill) {
    case Fill::constant:
      return -1;
    case Fill::nearest:
      return i < 0 ? 0 : n - 1;
    case Fill::wrap: {
      int64_t k = i % n;
      return k < 0 ? k + n : k;
    }
    case Fill::reflect:
    default: {
      const int64_t m = 2 * n;
      int64_t k = i % m;
      if (k < 0) k += m;
      return k >= n ? m - 1 - k : k;
    }
  }
}

inline double clamp_coord(double v) {
  if (!(v >= -1e9)) return -1e9;  // also catches NaN
  return v > 1e9 ? 1e9 : v;
}

// The up-to-four taps of output pixel (x, y): input offsets (pixel index · C, or −1 for a
// fill cell) and weights. Nearest interpolation uses one tap with weight 1.
struct Taps {
  int64_t off[4];
  float w[4];
  int n;
};

inline Taps taps_for(const float* t, int64_t x, int64_t y, int64_t H, int64_t W, int64_t C,
                     Interp interp, Fill fill) {
  const double xd = static_cast<double>(x), yd = static_cast<double>(y);
  const double k = static_cast<double>(t[6]) * xd + static_cast<double>(t[7]) * yd + 1.0;
  const double xs = clamp_coord((static_cast<double>(t[0]) * xd + static_cast<double>(t[1]) * yd +
                                 static_cast<double>(t[2])) / k);
  const double ys = clamp_coord((static_cast<double>(t[3]) * xd + static_cast<double>(t[4]) * yd +
                                 static_cast<double>(t[5])) / k);
  Taps r;
  if (interp == Interp::nearest) {
    const int64_t xi = resolve(static_cast<int64_t>(std::floor(xs + 0.5)), W, fill);
    const int64_t yi = resolve(static_cast<int64_t>(std::floor(ys + 0.5)), H, fill);
    r.off[0] = (xi < 0 || yi < 0) ? -1 : (yi * W + xi) * C;
    r.w[0] = 1.0f;
    r.n = 1;
    return r;
  }
  const double x0 = std::floor(xs), y0 = std::floor(ys);
  const double fx = xs - x0, fy = ys - y0;
  const int64_t xa = resolve(static_cast<int64_t>(x0), W, fill);
  const int64_t xb = resolve(static_cast<int64_t>(x0) + 1, W, fill);
  const int64_t ya = resolve(static_cast<int64_t>(y0), H, fill);
  const int64_t yb = resolve(static_cast<int64_t>(y0) + 1, H, fill);
  auto off = [&](int64_t yi, int64_t xi) { return (xi < 0 || yi < 0) ? int64_t(-1) : (yi * W + xi) * C; };
  r.off[0] = off(ya, xa);
  r.off[1] = off(ya, xb);
  r.off[2] = off(yb, xa);
  r.off[3] = off(yb, xb);
  r.w[0] = static_cast<float>((1.0 - fy) * (1.0 - fx));
  r.w[1] = static_cast<float>((1.0 - fy) * fx);
  r.w[2] = static_cast<float>(fy * (1.0 - fx));
  r.w[3] = static_cast<float>(fy * fx);
  r.n = 4;
  return r;
}

}  // namespace

void sampling_forward(float* out, const float* inp, const float* transforms, int64_t N,
                      int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW, Interp interp,
                      Fill fill, float fill_value) {
  const int64_t rows = N * OH;
  if (rows == 0 || OW == 0 || C == 0) return;
  const int64_t in_img = H * W * C, out_img = OH * OW * C;
  // why: one output row per task keeps small batches (even N = 1) parallel; each row is
  // written by exactly one thread, so the split never changes a value.
  const int nt = threads_for(rows * OW * C, 16384);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / OH, y = r % OH;
    const float* t = transforms + n * 8;
    const float* img = inp + n * in_img;
    float* o = out + n * out_img + y * OW * C;
    for (int64_t x = 0; x < OW; ++x, o += C) {
      if (H == 0 || W == 0) {  // nothing to read (the binding refuses this; kept safe here)
        for (int64_t c = 0; c < C; ++c) o[c] = fill == Fill::constant ? fill_value : 0.0f;
        continue;
      }
      const Taps tp = taps_for(t, x, y, H, W, C, interp, fill);
      for (int64_t c = 0; c < C; ++c) o[c] = 0.0f;
      for (int k = 0; k < tp.n; ++k) {
        const float w = tp.w[k];
        if (tp.off[k] < 0) {
          for (int64_t c = 0; c < C; ++c) o[c] += w * fill_value;
        } else {
          const float* p = img + tp.off[k];
          for (int64_t c = 0; c < C; ++c) o[c] += w * p[c];  // why: channels contiguous → SIMD
        }
      }
    }
  }
}

void sampling_backward(float* dinp, const float* dout, const float* transforms, int64_t N,
                       int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW, Interp interp,
                       Fill fill) {
  if (N == 0 || H == 0 || W == 0 || C == 0 || OH == 0 || OW == 0) return;
  const int64_t in_img = H * W * C, out_img = OH * OW * C;
  const int nt = threads_for(N * out_img, 16384);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* t = transforms + n * 8;
    float* d = dinp + n * in_img;
    const float* g = dout + n * out_img;
    for (int64_t y = 0; y < OH; ++y) {
      for (int64_t x = 0; x < OW; ++x, g += C) {
        const Taps tp = taps_for(t, x, y, H, W, C, interp, fill);
        for (int k = 0; k < tp.n; ++k) {
          if (tp.off[k] < 0) continue;  // fill cell: a constant, no input gradient
          const float w = tp.w[k];
          float* p = d + tp.off[k];
          for (int64_t c = 0; c < C; ++c) p[c] += w * g[c];
        }
      }
    }
  }
}

}  // namespace baeum
