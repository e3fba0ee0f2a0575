// pool.cpp — max and average pooling, NHWC, forward and backward.
//
// Glossary: N images, H×W input, C channels, OH×OW output, KH×KW window, SH/SW strides,
// PT/PL padding before (top/left). Output cell (i, j) covers input rows
// h ∈ [i·SH − PT, i·SH − PT + KH) and columns w ∈ [j·SW − PL, j·SW − PL + KW), clipped to
// the image (padded cells are never read).
//
//   max:  y[n,i,j,c] = max_{(h,w) ∈ window} x[n,h,w,c]        a[n,i,j,c] = argmax as h·W + w
//         dx[n,h,w,c] = Σ_{(i,j): a[n,i,j,c] = h·W+w} dy[n,i,j,c]
//   avg:  y[n,i,j,c] = (1/|window|) Σ_{(h,w) ∈ window} x[n,h,w,c]  (|window| counts real cells
//         only: Keras excludes padding from the divisor)
//         dx[n,h,w,c] = Σ_{(i,j) ∋ (h,w)} dy[n,i,j,c] / |window(i,j)|
// Derivations: docs/pooling_norm.md.
//
// Why NHWC pays here: for a fixed pixel the C channels are contiguous, so every inner loop
// runs over C floats and vectorises (the window loops are outside). Why parallel over
// images (backward) and output rows (forward): each thread writes cells no other thread
// writes, so no atomics and the result is identical for any thread count.
#include "baeum/pool.h"

#include <algorithm>
#include <cstring>

#include "baeum/parallel.h"

namespace baeum {

namespace {

struct Window {
  int64_t h0, h1, w0, w1;  // real rows [h0, h1), columns [w0, w1)
};

inline Window window(const Pool2D& p, int64_t i, int64_t j) {
  const int64_t hs = i * p.SH - p.PT, ws = j * p.SW - p.PL;
  return {std::max<int64_t>(hs, 0), std::min(hs + p.KH, p.H), std::max<int64_t>(ws, 0),
          std::min(ws + p.KW, p.W)};
}

// Grain: below ~32K touched floats a fork/join costs more than it saves.
constexpr int64_t kGrain = 32768;

}  // namespace

void maxpool_forward(float* out, int32_t* argmax, const float* inp, const Pool2D& p) {
  const int64_t rows = p.N * p.OH, C = p.C;
  if (rows <= 0 || p.OW <= 0 || C <= 0) return;
  const int64_t per_row = p.OW * C * p.KH * p.KW;
  const int nt = threads_for(rows * per_row, kGrain);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / p.OH, i = r % p.OH;
    const float* img = inp + n * p.H * p.W * C;
    for (int64_t j = 0; j < p.OW; ++j) {
      float* o = out + (r * p.OW + j) * C;
      int32_t* a = argmax + (r * p.OW + j) * C;
      const Window win = window(p, i, j);
      if (win.h0 >= win.h1 || win.w0 >= win.w1) {  // window entirely in the padding
        std::fill(o, o + C, 0.0f);
        std::fill(a, a + C, -1);
        continue;
      }
      const int32_t first = static_cast<int32_t>(win.h0 * p.W + win.w0);
      std::memcpy(o, img + first * C, sizeof(float) * C);
      std::fill(a, a + C, first);
      for (int64_t h = win.h0; h < win.h1; ++h)
        for (int64_t w = (h == win.h0 ? win.w0 + 1 : win.w0); w < win.w1; ++w) {
          const int32_t id = static_cast<int32_t>(h * p.W + w);
          const float* x = img + id * C;
          // Branch-free select so the C loop vectorises. NaN wins (the first NaN), as
          // np.argmax: a NaN input must not be hidden by the pooling.
          for (int64_t c = 0; c < C; ++c) {
            const bool take = x[c] > o[c] || (x[c] != x[c] && o[c] == o[c]);
            o[c] = take ? x[c] : o[c];
            a[c] = take ? id : a[c];
          }
        }
    }
  }
}

int64_t maxpool_backward(float* dinp, const float* dout, const int32_t* argmax, const Pool2D& p) {
  const int64_t C = p.C, plane = p.H * p.W, opix = p.OH * p.OW;
  if (p.N <= 0 || C <= 0) return 0;
  int64_t bad = 0;
  const int nt = threads_for(p.N * (plane + opix) * C, kGrain);
#pragma omp parallel for num_threads(nt) schedule(static) reduction(+ : bad)
  for (int64_t n = 0; n < p.N; ++n) {
    float* dx = dinp + n * plane * C;
    std::fill(dx, dx + plane * C, 0.0f);
    const float* dy = dout + n * opix * C;
    const int32_t* a = argmax + n * opix * C;
    for (int64_t q = 0; q < opix; ++q)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t id = a[q * C + c];
        if (id < 0 || id >= plane) {  // empty window (-1) or a corrupt index: never write
          bad += id != -1;
          continue;
        }
        dx[id * C + c] += dy[q * C + c];
      }
  }
  return bad;
}

void avgpool_forward(float* out, const float* inp, const Pool2D& p) {
  const int64_t rows = p.N * p.OH, C = p.C;
  if (rows <= 0 || p.OW <= 0 || C <= 0) return;
  const int nt = threads_for(rows * p.OW * C * p.KH * p.KW, kGrain);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / p.OH, i = r % p.OH;
    const float* img = inp + n * p.H * p.W * C;
    for (int64_t j = 0; j < p.OW; ++j) {
      float* o = out + (r * p.OW + j) * C;
      std::fill(o, o + C, 0.0f);
      const Window win = window(p, i, j);
      const int64_t count = std::max<int64_t>(win.h1 - win.h0, 0) * std::max<int64_t>(win.w1 - win.w0, 0);
      if (count == 0) continue;
      for (int64_t h = win.h0; h < win.h1; ++h)
        for (int64_t w = win.w0; w < win.w1; ++w) {
          const float* x = img + (h * p.W + w) * C;
          for (int64_t c = 0; c < C; ++c) o[c] += x[c];
        }
      const float inv = 1.0f / static_cast<float>(count);
      for (int64_t c = 0; c < C; ++c) o[c] *= inv;
    }
  }
}

void avgpool_backward(float* dinp, const float* dout, const Pool2D& p) {
  const int64_t C = p.C, plane = p.H * p.W, opix = p.OH * p.OW;
  if (p.N <= 0 || C <= 0) return;
  const int nt = threads_for(p.N * (plane + opix * p.KH * p.KW) * C, kGrain);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t n = 0; n < p.N; ++n) {
    float* dx = dinp + n * plane * C;
    std::fill(dx, dx + plane * C, 0.0f);
    for (int64_t i = 0; i < p.OH; ++i)
      for (int64_t j = 0; j < p.OW; ++j) {
        const Window win = window(p, i, j);
        const int64_t count =
            std::max<int64_t>(win.h1 - win.h0, 0) * std::max<int64_t>(win.w1 - win.w0, 0);
        if (count == 0) continue;
        const float inv = 1.0f / static_cast<float>(count);
        const float* dy = dout + ((n * p.OH + i) * p.OW + j) * C;
        for (int64_t h = win.h0; h < win.h1; ++h)
          for (int64_t w = win.w0; w < win.w1; ++w) {
            float* d = dx + (h * p.W + w) * C;
            for (int64_t c = 0; c < C; ++c) d[c] += dy[c] * inv;
          }
      }
  }
}

}  // namespace baeum
