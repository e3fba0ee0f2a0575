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

#include <cstdint>

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
      if (i >= -n && i < 2 * n) return i < 0 ? i + n : i - n;  // why: skips a ~40-cycle idiv
      int64_t k = i % n;
      return k < 0 ? k + n : k;
    }
    case Fill::reflect:
    default: {
      if (i >= -n && i < 2 * n) return i < 0 ? -1 - i : 2 * n - 1 - i;  // one fold, no idiv
      const int64_t m = 2 * n;
      int64_t k = i % m;
      if (k < 0) k += m;
      return k >= n ? m - 1 - k : k;
    }
  }
}

inline double clamp_coord(double v) {
  v = v >= -1e9 ? v : -1e9;  // also maps NaN to −1e9
  return v > 1e9 ? 1e9 : v;
}

// ⌊v⌋ for |v| ≤ 1e9 (so it fits int32). why: std::floor is a libm call on baseline x86-64
// (no SSE4.1), and the int32 truncation vectorises (cvttpd2dq); exact in that range.
inline int32_t floor_i(double v) {
  const int32_t i = static_cast<int32_t>(v);  // truncates toward zero
  return (static_cast<double>(i) > v) ? i - 1 : i;
}

// The taps of kChunk consecutive output pixels of one row, structure-of-arrays: pixel i
// reads input offset off[k][i] (pixel index · C, or −1 for a fill cell) with weight w[k][i],
// k < ntaps (4 bilinear, 1 nearest). why chunks: the coordinate and weight arithmetic runs
// as plain loops over arrays, which the compiler vectorises; per-pixel scalar code was
// ~40 instructions per pixel before the first multiply-add on the data.
constexpr int64_t kChunk = 64;

struct RowTaps {
  int64_t off[4][kChunk];
  float w[4][kChunk];
  bool inner[kChunk];  // all four taps inside the image (bilinear)
  int ntaps;
};

// Fill `r` for pixels x = xb .. xb + nb − 1 of output row y under transform t.
// The coordinates are computed as in the NumPy twin, term by term in double:
// xs = ((a0·x + a1·y) + a2) / k with k = (c0·x + c1·y) + 1 (the division skipped when
// c0 = c1 = 0, where k == 1 and x/1 == x), then clamped to [−1e9, 1e9] (NaN → −1e9).
inline void row_taps(RowTaps& r, const float* t, int64_t y, int64_t xb, int64_t nb, int64_t H,
                     int64_t W, int64_t C, Interp interp, Fill fill) {
  double xs[kChunk], ys[kChunk];
  const double yd = static_cast<double>(y);
  const double a0 = t[0], a1y = static_cast<double>(t[1]) * yd, a2 = t[2];
  const double b0 = t[3], b1y = static_cast<double>(t[4]) * yd, b2 = t[5];
  for (int64_t i = 0; i < nb; ++i) {
    const double xd = static_cast<double>(xb + i);
    xs[i] = a0 * xd + a1y + a2;
    ys[i] = b0 * xd + b1y + b2;
  }
  if (t[6] != 0.0f || t[7] != 0.0f) {
    const double c0 = t[6], c1y = static_cast<double>(t[7]) * yd;
    for (int64_t i = 0; i < nb; ++i) {
      const double k = c0 * static_cast<double>(xb + i) + c1y + 1.0;
      xs[i] /= k;
      ys[i] /= k;
    }
  }
  for (int64_t i = 0; i < nb; ++i) {
    xs[i] = clamp_coord(xs[i]);
    ys[i] = clamp_coord(ys[i]);
  }
  if (interp == Interp::nearest) {
    r.ntaps = 1;
    for (int64_t i = 0; i < nb; ++i) {
      const int64_t xi = resolve(floor_i(xs[i] + 0.5), W, fill);
      const int64_t yi = resolve(floor_i(ys[i] + 0.5), H, fill);
      r.off[0][i] = (xi < 0 || yi < 0) ? -1 : (yi * W + xi) * C;
      r.w[0][i] = 1.0f;
      r.inner[i] = false;
    }
    return;
  }
  r.ntaps = 4;
  int32_t x0[kChunk], y0[kChunk];
  for (int64_t i = 0; i < nb; ++i) {  // vectorised: floor, fractions, the four weights
    x0[i] = floor_i(xs[i]);
    y0[i] = floor_i(ys[i]);
    const double fx = xs[i] - static_cast<double>(x0[i]), fy = ys[i] - static_cast<double>(y0[i]);
    r.w[0][i] = static_cast<float>((1.0 - fy) * (1.0 - fx));
    r.w[1][i] = static_cast<float>((1.0 - fy) * fx);
    r.w[2][i] = static_cast<float>(fy * (1.0 - fx));
    r.w[3][i] = static_cast<float>(fy * fx);
  }
  for (int64_t i = 0; i < nb; ++i) {
    const int64_t xa = x0[i], ya = y0[i];
    if (xa >= 0 && xa + 1 < W && ya >= 0 && ya + 1 < H) {  // why: the common case, no resolve
      const int64_t o = (ya * W + xa) * C;
      r.off[0][i] = o;
      r.off[1][i] = o + C;
      r.off[2][i] = o + W * C;
      r.off[3][i] = o + W * C + C;
      r.inner[i] = true;
      continue;
    }
    const int64_t xl = resolve(xa, W, fill), xr = resolve(xa + 1, W, fill);
    const int64_t yt = resolve(ya, H, fill), yb = resolve(ya + 1, H, fill);
    r.off[0][i] = (xl < 0 || yt < 0) ? -1 : (yt * W + xl) * C;
    r.off[1][i] = (xr < 0 || yt < 0) ? -1 : (yt * W + xr) * C;
    r.off[2][i] = (xl < 0 || yb < 0) ? -1 : (yb * W + xl) * C;
    r.off[3][i] = (xr < 0 || yb < 0) ? -1 : (yb * W + xr) * C;
    r.inner[i] = r.off[0][i] >= 0 && r.off[1][i] >= 0 && r.off[2][i] >= 0 && r.off[3][i] >= 0;
  }
}

// One output row of image n. CC > 0: the channel count is a compile-time constant.
// why: for grayscale / RGB (C = 1, 3) the per-tap channel loops run 1-3 times and a runtime
// trip count costs more in loop overhead than the arithmetic; CC = 0 handles any C.
template <int CC>
void forward_row(float* __restrict o, const float* img, const float* t, int64_t y, int64_t H,
                 int64_t W, int64_t C_rt, int64_t OW, Interp interp, Fill fill, float fill_value) {
  const int64_t C = CC > 0 ? CC : C_rt;
  RowTaps r;
  for (int64_t xb = 0; xb < OW; xb += kChunk) {
    const int64_t nb = OW - xb < kChunk ? OW - xb : kChunk;
    row_taps(r, t, y, xb, nb, H, W, C, interp, fill);
    for (int64_t i = 0; i < nb; ++i, o += C) {
      if (r.inner[i]) {
        // why: the common interior case in one pass over the channels instead of four; the
        // sum keeps the order of the general loop below (0 + a == a), so values are identical.
        const float* __restrict p0 = img + r.off[0][i];
        const float* __restrict p1 = img + r.off[1][i];
        const float* __restrict p2 = img + r.off[2][i];
        const float* __restrict p3 = img + r.off[3][i];
        const float w0 = r.w[0][i], w1 = r.w[1][i], w2 = r.w[2][i], w3 = r.w[3][i];
        for (int64_t c = 0; c < C; ++c) o[c] = ((w0 * p0[c] + w1 * p1[c]) + w2 * p2[c]) + w3 * p3[c];
        continue;
      }
      for (int64_t c = 0; c < C; ++c) o[c] = 0.0f;
      for (int k = 0; k < r.ntaps; ++k) {
        const float w = r.w[k][i];
        if (r.off[k][i] < 0) {
          for (int64_t c = 0; c < C; ++c) o[c] += w * fill_value;
        } else {
          const float* __restrict p = img + r.off[k][i];
          for (int64_t c = 0; c < C; ++c) o[c] += w * p[c];  // why: channels contiguous → SIMD
        }
      }
    }
  }
}

// Scatter of one whole image (dinp image d, dout image g); see forward_row for CC.
template <int CC>
void backward_image(float* __restrict d, const float* __restrict g, const float* t, int64_t H,
                    int64_t W, int64_t C_rt, int64_t OH, int64_t OW, Interp interp, Fill fill) {
  const int64_t C = CC > 0 ? CC : C_rt;
  RowTaps r;
  for (int64_t y = 0; y < OH; ++y) {
    for (int64_t xb = 0; xb < OW; xb += kChunk) {
      const int64_t nb = OW - xb < kChunk ? OW - xb : kChunk;
      row_taps(r, t, y, xb, nb, H, W, C, interp, fill);
      for (int64_t i = 0; i < nb; ++i, g += C) {
        for (int k = 0; k < r.ntaps; ++k) {
          if (r.off[k][i] < 0) continue;  // fill cell: a constant, no input gradient
          const float w = r.w[k][i];
          float* __restrict p = d + r.off[k][i];
          for (int64_t c = 0; c < C; ++c) p[c] += w * g[c];
        }
      }
    }
  }
}

}  // namespace

void sampling_forward(float* out, const float* inp, const float* transforms, int64_t N,
                      int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW, Interp interp,
                      Fill fill, float fill_value) {
  const int64_t rows = N * OH;
  if (rows == 0 || OW == 0 || C == 0) return;
  if (H == 0 || W == 0) {  // nothing to read (the binding refuses this; kept safe here)
    const float v = fill == Fill::constant ? fill_value : 0.0f;
    for (int64_t i = 0; i < rows * OW * C; ++i) out[i] = v;
    return;
  }
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
    if (C == 1)
      forward_row<1>(o, img, t, y, H, W, C, OW, interp, fill, fill_value);
    else if (C == 3)
      forward_row<3>(o, img, t, y, H, W, C, OW, interp, fill, fill_value);
    else
      forward_row<0>(o, img, t, y, H, W, C, OW, interp, fill, fill_value);
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
    if (C == 1)
      backward_image<1>(d, g, t, H, W, C, OH, OW, interp, fill);
    else if (C == 3)
      backward_image<3>(d, g, t, H, W, C, OH, OW, interp, fill);
    else
      backward_image<0>(d, g, t, H, W, C, OH, OW, interp, fill);
  }
}

}  // namespace baeum
