// conv.cpp — NHWC convolution as GEMMs (glossary and layouts in conv.h; derivation in
// docs/conv.md).
//
// Forward. With x_pad the zero-padded input and row r = (n, oh, ow) of the output:
//   col[r, (kh,kw,c)] = x_pad[n, oh·SH + kh·DH, ow·SW + kw·DW, g·Cg + c]      (im2col, per group g)
//   z[r, g·OCg + o]   = Σ_k col[r, k] · Wg[k, o] + b[g·OCg + o]   where Wg = weight reshaped
//                       (Kg, OC), columns g·OCg.. — the Keras kernel as it is, no transpose
//   y = f(z)                         bias and f applied by the GEMM epilogue on each tile
// Backward, given dy:
//   dz   = dy ⊙ f'(z)
//   dWg += colᵀ · dz[:, g]           (Kg × OCg)        db += Σ_r dz[r, :]
//   dcol = dz[:, g] · Wgᵀ            (R × Kg);   dx = col2im(dcol): each dcol entry is added
//                                    to the x cell im2col copied it from (padding dropped)
// Transposed convolution is the same pair read backwards: its forward is the backward-data
// above, its backward-data is the forward, its weight gradient is col(dz)ᵀ·x.
//
// Narrow convolutions (G = 1, OC a multiple of 8, small weights; see use_direct_forward /
// use_direct_backward) skip the GEMM: conv_avx2.cpp's direct kernels, driven per image by
// conv_forward_direct / conv_backward_direct below (docs/conv.md, "Direct kernels").
//
// Blocking and threads. The GEMM rows are cut into blocks of rb rows (rb from the shapes
// only) so one block's col (rb × Kg floats) stays in L2; each thread takes whole blocks and
// runs im2col + a single-threaded GEMM on them (threads_for gives 1 inside a team).
//  - forward: blocks write disjoint rows of out, so any thread count gives the same bits;
//  - backward-data: blocks are whole images (col2im of neighbouring rows overlaps inside
//    an image, never across images), so again disjoint writes;
//  - backward-weights: a reduction over all rows. Blocks go to kParts partial sums (a
//    number fixed by the shapes, never by the thread count), summed in order at the end.
#include "baeum/conv.h"

#include <algorithm>
#if defined(__SSE2__)
#include <immintrin.h>
#endif
#include <cstring>
#include <vector>

#include "baeum/conv_direct.h"
#include "baeum/gemm.h"
#include "baeum/gemm_kernels.h"
#include "baeum/parallel.h"
#include "baeum/prefetch.h"

namespace baeum {
namespace {

// Per-thread partial gradients (P blocks of psize floats) summed into block 0 in the fixed
// order p = 1..P−1, so the result is bit-identical for any thread count.
void sum_partials(float* parts, int64_t P, int64_t psize) {
  for (int64_t p = 1; p < P; ++p) {
    const float* q = parts + p * psize;
#pragma omp simd
    for (int64_t i = 0; i < psize; ++i) parts[i] += q[i];
  }
}

// dst[0, n) += src[0, n).
void add_into(float* dst, const float* src, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

constexpr int64_t kColFloats = 65536;          // 256 KiB: a block's col stays in L2
constexpr int64_t kMinFmas = int64_t(1) << 17;  // below this per thread, one thread is faster
constexpr int64_t kParts = 8;                   // partial sums of the weight gradient

float* scratch(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
  return v.data();
}

// 1×1, stride 1, no padding: the NHWC input rows ARE the im2col matrix (lda = C).
bool is_pointwise(const ConvShape& s) {
  return s.KH == 1 && s.KW == 1 && s.SH == 1 && s.SW == 1 && s.PT == 0 && s.PL == 0 &&
         s.OH == s.H && s.OW == s.W;
}

int64_t rows_per_block(const ConvShape& s, int64_t kg) {
  int64_t rb = kColFloats / std::max<int64_t>(1, std::max(kg, s.OC));
  rb = std::max<int64_t>(48, (rb + 5) / 6 * 6);  // whole 6-row register tiles, not too few
  return rb;
}

int team_for(int64_t work, int64_t blocks) {
  return static_cast<int>(std::min<int64_t>(threads_for(work, kMinFmas), std::max<int64_t>(1, blocks)));
}

// col[(r − r0), (kh,kw,c)] for output rows r in [r0, r1), input channels c0 .. c0+cg.
void im2col_rows(float* col, const float* inp, const ConvShape& s, int64_t r0, int64_t r1,
                 int64_t c0, int64_t cg) {
  const int64_t ohw = s.OH * s.OW;
  int64_t n = r0 / ohw, oh = (r0 % ohw) / s.OW, ow = r0 % s.OW;
  float* dst = col;
  for (int64_t r = r0; r < r1; ++r) {
    const float* img = inp + n * s.H * s.W * s.C + c0;
    const int64_t ih0 = oh * s.SH - s.PT, iw0 = ow * s.SW - s.PL;
    // Why: with no dilation and all channels, a kernel row is one contiguous run of KW·C.
    const bool run = s.DW == 1 && cg == s.C && iw0 >= 0 && iw0 + s.KW <= s.W;
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const int64_t ih = ih0 + kh * s.DH;
      if (ih < 0 || ih >= s.H) {
        std::fill(dst, dst + s.KW * cg, 0.0f);
        dst += s.KW * cg;
        continue;
      }
      const float* src = img + ih * s.W * s.C;
      if (run) {
        std::memcpy(dst, src + iw0 * s.C, sizeof(float) * s.KW * cg);
        dst += s.KW * cg;
        continue;
      }
      for (int64_t kw = 0; kw < s.KW; ++kw, dst += cg) {
        const int64_t iw = iw0 + kw * s.DW;
        if (iw < 0 || iw >= s.W) {
          std::fill(dst, dst + cg, 0.0f);
        } else {
          const float* p = src + iw * s.C;
          for (int64_t c = 0; c < cg; ++c) dst[c] = p[c];
        }
      }
    }
    if (++ow == s.OW) {
      ow = 0;
      if (++oh == s.OH) oh = 0, ++n;
    }
  }
}

// dinp[cell] += dcol entry, the exact reverse of im2col_rows (padded cells dropped).
void col2im_rows(float* dinp, const float* dcol, const ConvShape& s, int64_t r0, int64_t r1,
                 int64_t c0, int64_t cg) {
  const int64_t ohw = s.OH * s.OW;
  int64_t n = r0 / ohw, oh = (r0 % ohw) / s.OW, ow = r0 % s.OW;
  const float* src = dcol;
  for (int64_t r = r0; r < r1; ++r) {
    float* img = dinp + n * s.H * s.W * s.C + c0;
    const int64_t ih0 = oh * s.SH - s.PT, iw0 = ow * s.SW - s.PL;
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const int64_t ih = ih0 + kh * s.DH;
      if (ih < 0 || ih >= s.H) {
        src += s.KW * cg;
        continue;
      }
      float* row = img + ih * s.W * s.C;
      for (int64_t kw = 0; kw < s.KW; ++kw, src += cg) {
        const int64_t iw = iw0 + kw * s.DW;
        if (iw < 0 || iw >= s.W) continue;
        float* p = row + iw * s.C;
#pragma omp simd
        for (int64_t c = 0; c < cg; ++c) p[c] += src[c];
      }
    }
    if (++ow == s.OW) {
      ow = 0;
      if (++oh == s.OH) oh = 0, ++n;
    }
  }
}

// The micro-kernel sgemm would use (same ISA choice, so tests can force each path).
const MicroKernel& conv_microkernel() {
#if defined(BAEUM_X86)
  switch (gemm_isa()) {
    case Isa::avx512: return microkernel_avx512();
    case Isa::avx2: return microkernel_avx2();
    default: break;
  }
#endif
  return microkernel_generic();
}

// dst[t·mr + i] = src[i][t] for i < rows, t < len: `rows` contiguous runs transposed into
// panel columns. Why SSE 4×4 transposes (as gemm.cpp's packing): one scalar store per float
// made packing as slow as the FMAs themselves for a 3×3×32 → 32 convolution.
void transpose_runs(const float* const* src, int rows, int64_t len, float* dst, int mr) {
  int i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= rows; i += 4) {
    const float *s0 = src[i], *s1 = src[i + 1], *s2 = src[i + 2], *s3 = src[i + 3];
    int64_t t = 0;
    for (; t + 4 <= len; t += 4) {
      __m128 x0 = _mm_loadu_ps(s0 + t), x1 = _mm_loadu_ps(s1 + t);
      __m128 x2 = _mm_loadu_ps(s2 + t), x3 = _mm_loadu_ps(s3 + t);
      _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
      _mm_storeu_ps(dst + (t + 0) * mr + i, x0);
      _mm_storeu_ps(dst + (t + 1) * mr + i, x1);
      _mm_storeu_ps(dst + (t + 2) * mr + i, x2);
      _mm_storeu_ps(dst + (t + 3) * mr + i, x3);
    }
    for (; t < len; ++t) {
      float* d = dst + t * mr + i;
      d[0] = s0[t], d[1] = s1[t], d[2] = s2[t], d[3] = s3[t];
    }
  }
  for (; i + 2 <= rows; i += 2) {
    const float *s0 = src[i], *s1 = src[i + 1];
    int64_t t = 0;
    for (; t + 4 <= len; t += 4) {
      const __m128 a = _mm_loadu_ps(s0 + t), b = _mm_loadu_ps(s1 + t);
      const __m128 lo = _mm_unpacklo_ps(a, b), hi = _mm_unpackhi_ps(a, b);
      _mm_storel_pi(reinterpret_cast<__m64*>(dst + (t + 0) * mr + i), lo);
      _mm_storeh_pi(reinterpret_cast<__m64*>(dst + (t + 1) * mr + i), lo);
      _mm_storel_pi(reinterpret_cast<__m64*>(dst + (t + 2) * mr + i), hi);
      _mm_storeh_pi(reinterpret_cast<__m64*>(dst + (t + 3) * mr + i), hi);
    }
    for (; t < len; ++t) dst[t * mr + i] = s0[t], dst[t * mr + i + 1] = s1[t];
  }
#endif
  for (; i < rows; ++i)
    for (int64_t t = 0; t < len; ++t) dst[t * mr + i] = src[i][t];
}

constexpr int kMaxMr = 32;  // register-tile heights are 4 (generic), 6 (AVX2), 14 (AVX-512)

// im2col rows r0 .. r0+rows (rows ≤ mr), channels c0 .. c0+cg, written straight into one
// packed GEMM panel (the micro-kernel's Ã): element (i, p) at dst[p·mr + i]; rows i ≥ `rows`
// are zero. Why: im2col into a row-major col and then packing it copies every value twice.
// A kernel row kh whose KW·C cells are inside the image for every row of the panel (the
// common case) is one transpose of contiguous runs; other kernel rows go cell by cell.
void im2col_panel(float* dst, int mr, const float* inp, const ConvShape& s, int64_t r0,
                  int64_t rows, int64_t c0, int64_t cg) {
  const int64_t ohw = s.OH * s.OW, kg = s.KH * s.KW * cg;
  int64_t img[kMaxMr], ih0[kMaxMr], iw0[kMaxMr];
  {
    int64_t n = r0 / ohw, oh = (r0 % ohw) / s.OW, ow = r0 % s.OW;
    for (int64_t i = 0; i < rows; ++i) {
      img[i] = n * s.H * s.W * s.C + c0;
      ih0[i] = oh * s.SH - s.PT;
      iw0[i] = ow * s.SW - s.PL;
      if (++ow == s.OW) {
        ow = 0;
        if (++oh == s.OH) oh = 0, ++n;
      }
    }
  }
  const bool runs = s.DW == 1 && cg == s.C;
  const int64_t len = s.KW * cg;
  const float* src[kMaxMr];
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    float* d0 = dst + kh * len * mr;
    bool fast = runs;
    for (int64_t i = 0; fast && i < rows; ++i) {
      const int64_t ih = ih0[i] + kh * s.DH;
      fast = ih >= 0 && ih < s.H && iw0[i] >= 0 && iw0[i] + s.KW <= s.W;
      if (fast) src[i] = inp + img[i] + (ih * s.W + iw0[i]) * s.C;
    }
    if (fast) {
      transpose_runs(src, static_cast<int>(rows), len, d0, mr);
      continue;
    }
    for (int64_t i = 0; i < rows; ++i) {
      float* d = d0 + i;
      const int64_t ih = ih0[i] + kh * s.DH;
      if (ih < 0 || ih >= s.H) {
        for (int64_t p = 0; p < len; ++p) d[p * mr] = 0.0f;
        continue;
      }
      const float* row = inp + img[i] + ih * s.W * s.C;
      int64_t p = 0;
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const int64_t iw = iw0[i] + kw * s.DW;
        if (iw < 0 || iw >= s.W) {
          for (int64_t c = 0; c < cg; ++c, ++p) d[p * mr] = 0.0f;
        } else {
          const float* x = row + iw * s.C;
          for (int64_t c = 0; c < cg; ++c, ++p) d[p * mr] = x[c];
        }
      }
    }
  }
  for (int64_t i = rows; i < mr; ++i)
    for (int64_t p = 0; p < kg; ++p) dst[p * mr + i] = 0.0f;
}

// bias + activation (+ the copy of z) on one finished register tile. ReLU and linear inline,
// the rest through bias_act_epilogue. Why: with a 3×3×1 kernel a tile holds ~100 FMAs per
// row of 16 outputs, and a call per row into the generic activation cost as much as they did.
// Same operations in the same order as bias_act_epilogue (bias add, copy z, f), same bits.
void tile_epilogue(const GemmEpilogue& ep, float* c, int64_t ldc, int64_t i0, int64_t j0, int m,
                   int n) {
  const Act act = static_cast<Act>(ep.act);
  if (act != Act::linear && act != Act::relu) {
    bias_act_epilogue(ep, c, ldc, i0, j0, m, n);
    return;
  }
  const auto* args = static_cast<const BiasActArgs*>(ep.user);
  const float* b = ep.bias ? ep.bias + j0 : nullptr;
  for (int r = 0; r < m; ++r) {
    float* row = c + r * ldc;
    if (b) {
#pragma omp simd
      for (int j = 0; j < n; ++j) row[j] += b[j];
    }
    if (args->preact) std::copy(row, row + n, args->preact + (i0 + r) * args->ldp + j0);
    if (act == Act::relu) {
#pragma omp simd
      for (int j = 0; j < n; ++j) row[j] = row[j] < 0.0f ? 0.0f : row[j];  // NaN stays NaN
    }
  }
}

// Forward as an implicit GEMM on the micro-kernel: per block of rows, im2col straight into
// packed panels, then every (panel, NR columns) register tile, with bias + activation on
// each tile as it is stored. The weight is packed once per call into NR-column panels
// (zero-padded), shared read-only by all threads.
void conv_forward_implicit(float* out, float* preact, const float* inp, const float* weight,
                           const float* bias, const ConvShape& s, Act act, float alpha,
                           const MicroKernel& uk) {
  const int64_t R = s.N * s.OH * s.OW;
  const int64_t cg = s.C / s.G, ocg = s.OC / s.G, kg = s.KH * s.KW * cg;
  const int mr = uk.mr, nr = uk.nr;
  const int64_t njr = (ocg + nr - 1) / nr;
  thread_local std::vector<float> bbuf;
  float* bp = scratch(bbuf, s.G * njr * kg * nr);
  for (int64_t g = 0; g < s.G; ++g)
    for (int64_t j = 0; j < njr; ++j) {
      float* d = bp + (g * njr + j) * kg * nr;
      const int64_t cols = std::min<int64_t>(nr, ocg - j * nr);
      for (int64_t p = 0; p < kg; ++p) {
        const float* w = weight + p * s.OC + g * ocg + j * nr;
        for (int64_t jj = 0; jj < nr; ++jj) d[p * nr + jj] = jj < cols ? w[jj] : 0.0f;
      }
    }
  // Rows per block: whole panels, the packed block (rb × Kg) ≤ 256 KiB so it stays in L2.
  const int64_t rb = std::max<int64_t>(mr, kColFloats / std::max<int64_t>(1, kg) / mr * mr);
  const int64_t nb = (R + rb - 1) / rb;
  const int nt = team_for(R * kg * s.OC, nb);
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t b = 0; b < nb; ++b) {
    static thread_local std::vector<float> abuf;
    const int64_t r0 = b * rb, r1 = std::min(R, r0 + rb);
    const int64_t npanels = (r1 - r0 + mr - 1) / mr;
    float* a = scratch(abuf, npanels * mr * kg);
    for (int64_t g = 0; g < s.G; ++g) {
      for (int64_t q = 0; q < npanels; ++q) {
        const int64_t i0 = r0 + q * mr;
        im2col_panel(a + q * mr * kg, mr, inp, s, i0, std::min<int64_t>(mr, r1 - i0), g * cg, cg);
      }
      BiasActArgs args;
      args.alpha = alpha;
      args.preact = preact ? preact + g * ocg : nullptr;
      args.ldp = s.OC;
      GemmEpilogue ep;
      ep.bias = bias ? bias + g * ocg : nullptr;
      ep.act = static_cast<int>(act);
      ep.user = &args;
      for (int64_t j = 0; j < njr; ++j) {
        const float* bj = bp + (g * njr + j) * kg * nr;
        const int nn = static_cast<int>(std::min<int64_t>(nr, ocg - j * nr));
        for (int64_t q = 0; q < npanels; ++q) {
          const int64_t i0 = r0 + q * mr;
          const int mm = static_cast<int>(std::min<int64_t>(mr, r1 - i0));
          float* c = out + i0 * s.OC + g * ocg + j * nr;
          uk.tile(kg, a + q * mr * kg, bj, nr, c, s.OC, mm, nn, 0.0f);
          tile_epilogue(ep, c, s.OC, i0, j * nr, mm, nn);
        }
      }
    }
  }
}

// dinp (N,H,W,C) = col2im(dz·Wᵀ) over image blocks; then, if ep, ep on each block's rows
// (C columns) while they are in cache (the transposed convolution's bias + activation).
void conv_backward_data(float* dinp, const float* dz, const float* weight, const ConvShape& s,
                        const GemmEpilogue* ep) {
  const int64_t cg = s.C / s.G, ocg = s.OC / s.G, kg = s.KH * s.KW * cg;
  const int64_t ohw = s.OH * s.OW, hwc = s.H * s.W * s.C;
  const bool pw = is_pointwise(s);
  // Implicit GEMM (not 1×1 stride 1): per panel of mr output pixels, dcol = dz·Wᵀ is
  // computed tile by tile into an mr × Kg buffer that stays in L1 and is scattered by
  // col2im at once. Why: a whole block's dcol (rows × Kg, e.g. 1024 × 288 floats for one
  // 32×32 image) would spill L2 between the GEMM writing it and col2im reading it.
  const MicroKernel& uk = conv_microkernel();
  const int mr = uk.mr, nr = uk.nr;
  const int64_t njr = (kg + nr - 1) / nr;
  float* bt = nullptr;  // Wᵀ per group in NR-column panels: (o, k) at (g·njr + j)·OCg·nr + o·nr + k − j·nr
  thread_local std::vector<float> bt_buf;
  if (!pw && kg > 0 && s.OC > 0) {
    bt = scratch(bt_buf, s.G * njr * ocg * nr);
    for (int64_t g = 0; g < s.G; ++g)
      for (int64_t j = 0; j < njr; ++j)
        for (int64_t o = 0; o < ocg; ++o) {
          float* d = bt + ((g * njr + j) * ocg + o) * nr;
          for (int64_t jj = 0; jj < nr; ++jj) {
            const int64_t k = j * nr + jj;
            d[jj] = k < kg ? weight[k * s.OC + g * ocg + o] : 0.0f;
          }
        }
  }
  const int64_t ib = std::max<int64_t>(1, kColFloats / std::max<int64_t>(1, ohw * kg));
  const int64_t nb = (s.N + ib - 1) / ib;
  const int nt = team_for(s.N * ohw * kg * s.OC, nb);
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t b = 0; b < nb; ++b) {
    static thread_local std::vector<float> buf, apan;
    const int64_t n0 = b * ib, n1 = std::min(s.N, n0 + ib);
    const int64_t r0 = n0 * ohw, r1 = n1 * ohw, m = r1 - r0;
    float* dst = dinp + n0 * hwc;
    if (!pw || m == 0 || s.OC == 0) std::fill(dst, dst + (n1 - n0) * hwc, 0.0f);
    if (bt && m > 0) {
      float* dcol = scratch(buf, mr * kg);
      float* a = scratch(apan, mr * ocg);
      for (int64_t g = 0; g < s.G; ++g) {
        for (int64_t i0 = r0; i0 < r1; i0 += mr) {
          const int mm = static_cast<int>(std::min<int64_t>(mr, r1 - i0));
          for (int64_t o = 0; o < ocg; ++o)  // dz panel: (r, o) at o·mr + r
            for (int r = 0; r < mr; ++r) a[o * mr + r] = r < mm ? dz[(i0 + r) * s.OC + g * ocg + o] : 0.0f;
          for (int64_t j = 0; j < njr; ++j) {
            const int nn = static_cast<int>(std::min<int64_t>(nr, kg - j * nr));
            uk.tile(ocg, a, bt + (g * njr + j) * ocg * nr, nr, dcol + j * nr, kg, mm, nn, 0.0f);
          }
          col2im_rows(dinp, dcol, s, i0, i0 + mm, g * cg, cg);
        }
      }
    } else if (m > 0 && s.OC > 0) {
      for (int64_t g = 0; g < s.G; ++g) {
        const float* a = dz + r0 * s.OC + g * ocg;
        if (pw) {
          sgemm(false, true, m, cg, ocg, 1.0f, a, s.OC, weight + g * ocg, s.OC, 0.0f,
                dinp + r0 * s.C + g * cg, s.C);
        } else {
          float* dcol = scratch(buf, m * kg);
          sgemm(false, true, m, kg, ocg, 1.0f, a, s.OC, weight + g * ocg, s.OC, 0.0f, dcol,
                std::max<int64_t>(1, kg));
          col2im_rows(dinp, dcol, s, r0, r1, g * cg, cg);
        }
      }
    }
    if (ep && s.C > 0) ep->apply(*ep, dst, s.C, n0 * s.H * s.W, 0, (n1 - n0) * s.H * s.W, s.C);
  }
}

// The weight gradient computed transposed, dWgᵀ (OCg × Kg) = dz_gᵀ · col_g, on the
// micro-kernel: A = dzᵀ (small: packed per block), B = the block's row-major col read in
// place (ldb = Kg), so im2col's contiguous copy is the only pass over col. Why: in the
// usual orientation the col block must be packed again (transposed) for the GEMM, which
// cost as much as the FMAs; and a small OCg (8, 16) would leave most of each 16-wide tile
// empty. Partial sums per block group as in conv_backward_weights; the final ordered sum
// transposes into dweight (Kg, OC).
void conv_backward_weights_t(float* dweight, float* dbias, const float* dz, const float* inp,
                             const ConvShape& s, int64_t rb, int64_t nb, int64_t P) {
  const int64_t R = s.N * s.OH * s.OW;
  const int64_t cg = s.C / s.G, ocg = s.OC / s.G, kg = s.KH * s.KW * cg;
  const MicroKernel& uk = conv_microkernel();
  const int mr = uk.mr, nr = uk.nr;
  const int64_t wsize = kg * s.OC, psize = wsize + s.OC;  // part: (G, OCg, Kg) then bias
  thread_local std::vector<float> parts_buf;
  float* parts = scratch(parts_buf, P * psize);
  const int nt = team_for(R * kg * s.OC, P);
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t p = 0; p < P; ++p) {
    static thread_local std::vector<float> cbuf, abuf;
    float* part = parts + p * psize;
    float* pb = part + wsize;
    std::fill(part, part + psize, 0.0f);
    for (int64_t b = p * nb / P; b < (p + 1) * nb / P; ++b) {
      const int64_t r0 = b * rb, r1 = std::min(R, r0 + rb), m = r1 - r0;
      float* col = scratch(cbuf, m * kg);
      float* a = scratch(abuf, m * mr);
      for (int64_t g = 0; g < s.G; ++g) {
        im2col_rows(col, inp, s, r0, r1, g * cg, cg);
        for (int64_t o0 = 0; o0 < ocg; o0 += mr) {
          const int mm = static_cast<int>(std::min<int64_t>(mr, ocg - o0));
          for (int64_t k = 0; k < m; ++k) {  // dzᵀ panel: (o, k) at k·mr + o
            const float* d = dz + (r0 + k) * s.OC + g * ocg + o0;
            for (int r = 0; r < mr; ++r) a[k * mr + r] = r < mm ? d[r] : 0.0f;
          }
          for (int64_t j = 0; j < kg; j += nr) {
            const int nn = static_cast<int>(std::min<int64_t>(nr, kg - j));
            uk.tile(m, a, col + j, kg, part + (g * ocg + o0) * kg + j, kg, mm, nn, 1.0f);
          }
        }
      }
      for (int64_t r = r0; r < r1; ++r) {
        const float* d = dz + r * s.OC;
#pragma omp simd
        for (int64_t j = 0; j < s.OC; ++j) pb[j] += d[j];
      }
    }
  }
  sum_partials(parts, P, psize);
  for (int64_t g = 0; g < s.G; ++g)
    for (int64_t o = 0; o < ocg; ++o) {
      const float* t = parts + (g * ocg + o) * kg;
      for (int64_t k = 0; k < kg; ++k) dweight[k * s.OC + g * ocg + o] += t[k];
    }
  if (dbias) add_into(dbias, parts + wsize, s.OC);
}

// dweight (Kg, OC) += col(inp)ᵀ·dz; dbias (OC) += Σ_r dz[r] (if dbias).
void conv_backward_weights(float* dweight, float* dbias, const float* dz, const float* inp,
                           const ConvShape& s) {
  const int64_t R = s.N * s.OH * s.OW;
  if (R <= 0 || s.OC <= 0) return;
  const int64_t cg = s.C / s.G, ocg = s.OC / s.G, kg = s.KH * s.KW * cg;
  const bool pw = is_pointwise(s);
  const int64_t rb = rows_per_block(s, kg), nb = (R + rb - 1) / rb;
  const int64_t P = std::min(nb, kParts);
  const int64_t wsize = kg * s.OC, psize = wsize + s.OC;
  if (!pw && kg >= 16) {
    conv_backward_weights_t(dweight, dbias, dz, inp, s, rb, nb, P);
    return;
  }
  // One partial when there is one block: accumulate straight into dweight (sgemm threads).
  thread_local std::vector<float> parts_buf;
  float* parts = P == 1 ? nullptr : scratch(parts_buf, P * psize);
  const int nt = team_for(R * kg * s.OC, P);
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t p = 0; p < P; ++p) {
    static thread_local std::vector<float> buf;
    float* pw_out = parts ? parts + p * psize : dweight;
    float* pb = parts ? pw_out + wsize : dbias;
    if (parts) std::fill(pb, pb + s.OC, 0.0f);
    const int64_t b0 = p * nb / P, b1 = (p + 1) * nb / P;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * rb, r1 = std::min(R, r0 + rb), m = r1 - r0;
      const float beta = (parts && b == b0) ? 0.0f : 1.0f;
      for (int64_t g = 0; g < s.G && kg > 0; ++g) {
        const float* a = inp + r0 * s.C + g * cg;
        int64_t lda = s.C;
        if (!pw) {
          float* col = scratch(buf, m * kg);
          im2col_rows(col, inp, s, r0, r1, g * cg, cg);
          a = col;
          lda = kg;
        }
        sgemm(true, false, kg, ocg, m, 1.0f, a, lda, dz + r0 * s.OC + g * ocg, s.OC, beta,
              pw_out + g * ocg, s.OC);
      }
      if (pb) {
        for (int64_t r = r0; r < r1; ++r) {
          const float* d = dz + r * s.OC;
#pragma omp simd
          for (int64_t j = 0; j < s.OC; ++j) pb[j] += d[j];
        }
      }
    }
  }
  if (!parts) return;
  // Sum the partials in order p = 0..P-1 (fixed: bit-identical for any thread count).
  sum_partials(parts, P, psize);
  add_into(dweight, parts, wsize);
  if (dbias) add_into(dbias, parts + wsize, s.OC);
}

// dz = dout·f'(z) in a reused thread_local buffer (dout itself when f is linear).
const float* act_grad(const float* dout, const float* out, const float* preact, int64_t R,
                      int64_t C, Act act, float alpha) {
  if (act == Act::linear) return dout;
  thread_local std::vector<float> buf;
  float* dz = scratch(buf, R * C);
  activation_backward(dz, dout, preact, out, R, C, act, alpha);
  return dz;
}

// ---- direct kernels (conv_direct.h, conv_avx2.cpp) ------------------------------------------
// Why: see conv_avx2.cpp — for 8..32 filters (forward, weights) or 8..32 input channels
// (data) and G = 1 the direct kernels read the image in place and use every vector lane.
// Each image is zero-padded once into a small per-thread buffer (an L1/L2-sized copy), so
// the kernels have no bounds checks. Images are the unit of work: the forward writes
// disjoint images; the weight gradient sums images into kParts partials (fixed by N) added
// in order, so any thread count gives the same bits.
bool direct_isa() {
#if defined(BAEUM_X86)
  const Isa i = gemm_isa();
  return i == Isa::avx2 || i == Isa::avx512;
#else
  return false;
#endif
}

// Channel counts the direct kernels take: multiples of 8 (whole vectors, in chunks of ≤ 32),
// while the weight (Kg × OC) stays L2-resident (it is streamed once per pixel block).
// Why the cap: beyond ~256 KiB of weights the GEMM's cache blocking wins.
bool direct_width(int64_t c, int64_t weight_floats) {
  return c > 0 && c % 8 == 0 && c <= 128 && weight_floats <= 65536;
}

// Short copies and fills inline. Why: the rows here are 1..a few hundred floats (28 for the
// 28×28×1 first layer), and a memcpy/memset call per row cost more than the copy itself.
inline void copy_floats(float* dst, const float* src, int64_t n) {
  int64_t i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(dst + i, _mm_loadu_ps(src + i));
#endif
  for (; i < n; ++i) dst[i] = src[i];
}

inline void zero_floats(float* dst, int64_t n) {
  int64_t i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(dst + i, _mm_setzero_ps());
#endif
  for (; i < n; ++i) dst[i] = 0.0f;
}

bool use_direct_forward(const ConvShape& s, Act act) {
  return DirectConvImage::supports_forward(s, act);
}

bool use_direct_backward(const ConvShape& s, bool need_dinp) {
  return DirectConvImage::supports_backward(s, need_dinp);
}

// Images are the unit of work: disjoint outputs, so any thread count gives the same bits.
// The next image is prefetched while this one computes.
void conv_forward_direct(float* out, float* preact, const float* inp, const float* weight,
                         const float* bias, const ConvShape& s, Act act) {
  const DirectConvImage q(s);  // not thread_local: the team reads the caller's plan
  const int64_t osize = q.out_floats(), isize = q.in_floats();
  const int nt = team_for(s.N * osize * q.taps(), s.N);
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t n = 0; n < s.N; ++n) {
    if (n + 1 < s.N) prefetch_floats(inp + (n + 1) * isize, isize);
    q.forward(out + n * osize, preact ? preact + n * osize : nullptr, inp + n * isize, weight, bias, act);
  }
}

// The weight gradient sums images into P = DirectConvImage::parts(N) partials (partial p
// holds images [p·N/P, (p+1)·N/P), a split fixed by N) added in order by reduce(), so any
// thread count gives the same bits.
void conv_backward_direct(float* dinp, float* dweight, float* dbias, const float* dout,
                          const float* inp, const float* weight, const float* out,
                          const float* preact, const ConvShape& s, Act act, float alpha) {
  const DirectConvImage q(s);
  const int64_t osize = q.out_floats(), isize = q.in_floats(), psize = q.partial_floats();
  const int64_t P = DirectConvImage::parts(s.N);
  thread_local std::vector<float> parts_buf, wt_buf;
  float* parts = scratch(parts_buf, P * psize);
  float* wt = nullptr;
  if (dinp) {
    wt = scratch(wt_buf, q.weight_floats());
    q.transpose_weight(wt, weight);
  }
  const int nt = team_for(2 * s.N * osize * q.taps(), P);
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t p = 0; p < P; ++p) {
    float* part = parts + p * psize;
    std::fill(part, part + psize, 0.0f);
    for (int64_t n = p * s.N / P; n < (p + 1) * s.N / P; ++n) {
      const int64_t o0 = n * osize;
      if (n + 1 < s.N) {
        prefetch_floats(inp + (n + 1) * isize, isize);
        prefetch_floats(dout + o0 + osize, osize);
        if (act != Act::linear) prefetch_floats(preact ? preact + o0 + osize : out + o0 + osize, osize);
      }
      q.backward(dinp ? dinp + n * isize : nullptr, part, dout + o0, inp + n * isize, out ? out + o0 : nullptr,
                 preact ? preact + o0 : nullptr, wt, act, alpha);
    }
  }
  q.reduce(dweight, dbias, parts, P);
}

}  // namespace

// ---- DirectConvImage (conv.h) ----------------------------------------------------------------
bool DirectConvImage::supports_forward(const ConvShape& s, Act act) {
  return direct_isa() && s.G == 1 && direct_width(s.OC, s.KH * s.KW * s.C * s.OC) &&
         (act == Act::linear || act == Act::relu) && !is_pointwise(s) && s.C > 0;
}

bool DirectConvImage::supports_backward(const ConvShape& s, bool need_dinp) {
  const int64_t wf = s.KH * s.KW * s.C * s.OC;
  return direct_isa() && s.G == 1 && direct_width(s.OC, wf) && !is_pointwise(s) && s.C > 0 &&
         (!need_dinp || direct_width(s.C, wf));
}

int64_t DirectConvImage::parts(int64_t N) { return std::min(N, kParts); }

// Offsets (conv_direct.h) into the image as the kernels read it ("xp"): zero-padded to
// (Hp, Wp, C) when the convolution reaches outside the image, else the image itself. Hp, Wp
// also cover every image row/column (a stride that skips the last ones), so an image can
// always be stored in, and recovered from, its xp layout.
DirectConvImage::DirectConvImage(const ConvShape& s) : s_(s) {
  Hp_ = std::max((s.OH - 1) * s.SH + (s.KH - 1) * s.DH + 1, s.PT + s.H);
  Wp_ = std::max((s.OW - 1) * s.SW + (s.KW - 1) * s.DW + 1, s.PL + s.W);
  padded_ = !(s.PT == 0 && s.PL == 0 && Hp_ == s.H && Wp_ == s.W);
  if (!padded_) Hp_ = s.H, Wp_ = s.W;
  const int64_t ld = Wp_ * s.C;
  pixoff_.resize(static_cast<size_t>(s.OH * s.OW));
  for (int64_t oh = 0; oh < s.OH; ++oh)
    for (int64_t ow = 0; ow < s.OW; ++ow) pixoff_[oh * s.OW + ow] = oh * s.SH * ld + ow * s.SW * s.C;
  tapoff_.resize(static_cast<size_t>(s.KH * s.KW * s.C));
  celloff_.resize(static_cast<size_t>(s.KH * s.KW));
  for (int64_t kh = 0; kh < s.KH; ++kh)
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const int64_t cell = kh * s.DH * ld + kw * s.DW * s.C;
      celloff_[kh * s.KW + kw] = cell;
      for (int64_t c = 0; c < s.C; ++c) tapoff_[(kh * s.KW + kw) * s.C + c] = cell + c;
    }
  d_ = std::make_unique<DirectConv>();
  d_->C = s.C, d_->OC = s.OC, d_->Kg = s.KH * s.KW * s.C, d_->OHW = s.OH * s.OW, d_->KT = s.KH * s.KW;
  d_->OW = s.OW, d_->SWC = s.SW * s.C;
  d_->pixoff = pixoff_.data(), d_->tapoff = tapoff_.data(), d_->celloff = celloff_.data();
  d_->outoff = nullptr;
  // Why: with 8 filters the filter-vector weight pass spends a broadcast per FMA; taps as
  // the vector (8 channels of a cell) feed 12 FMAs with 7 loads (conv_avx2.cpp wgt_pass_t).
  d_->wgrad_t = s.OC == 8 && s.C % 8 == 0;
  // Why: with 8 filters the forward tile spends a broadcast per FMA; a stride-2, 3-wide row
  // shares input columns between neighbouring pixels (conv_avx2.cpp fwd_row3).
  d_->fwd_row3 = s.OC == 8 && (s.C == 8 || s.C == 16 || s.C == 24 || s.C == 32) && s.KW == 3 && s.SW == 2 &&
                 s.DW == 1 && s.OW <= 8;
  d_->dat_row3 = s.OC == 8 && (s.C == 8 || s.C == 16 || s.C == 24 || s.C == 32) && s.KW == 3 && s.SW == 2 &&
                 s.DW == 1;
}

DirectConvImage::DirectConvImage(const ConvShape& s, int64_t out_offset, int64_t out_row)
    : DirectConvImage(s) {
  outoff_.resize(static_cast<size_t>(s.OH * s.OW));
  for (int64_t oh = 0; oh < s.OH; ++oh)
    for (int64_t ow = 0; ow < s.OW; ++ow) outoff_[oh * s.OW + ow] = out_offset + oh * out_row + ow * s.OC;
  d_->outoff = outoff_.data();
}

DirectConvImage::~DirectConvImage() = default;

int64_t DirectConvImage::xp_floats() const { return Hp_ * Wp_ * s_.C; }
int64_t DirectConvImage::xp_interior() const { return (s_.PT * Wp_ + s_.PL) * s_.C; }
int64_t DirectConvImage::xp_row() const { return Wp_ * s_.C; }

// The image's rows into the interior of xp; the border is not touched.
void DirectConvImage::copy_interior(float* xp, const float* img) const {
  const int64_t wc = s_.W * s_.C;
  float* dst = xp + xp_interior();
  for (int64_t ih = 0; ih < s_.H; ++ih) copy_floats(dst + ih * xp_row(), img + ih * wc, wc);
}

// xp (Hp, Wp, C) = the image with zeros around it (PT rows above, PL columns left).
void DirectConvImage::pad(float* xp, const float* img) const {
  const int64_t C = s_.C, row = xp_row();
  const int64_t left = s_.PL * C, right = (Wp_ - s_.PL - s_.W) * C;
  zero_floats(xp, s_.PT * row);
  for (int64_t ih = 0; ih < s_.H; ++ih) {
    float* r = xp + (s_.PT + ih) * row;
    zero_floats(r, left);
    copy_floats(r + left, img + ih * s_.W * C, s_.W * C);
    zero_floats(r + left + s_.W * C, right);
  }
  zero_floats(xp + (s_.PT + s_.H) * row, (Hp_ - s_.PT - s_.H) * row);
}

// img (H, W, C) = the interior of xp.
void DirectConvImage::unpad(float* img, const float* xp) const {
  const int64_t wc = s_.W * s_.C;
  const float* src = xp + xp_interior();
  for (int64_t ih = 0; ih < s_.H; ++ih) copy_floats(img + ih * wc, src + ih * xp_row(), wc);
}

void DirectConvImage::forward_xp(float* out, float* preact, const float* xp, const float* weight,
                                 const float* bias, Act act) const {
#if defined(BAEUM_X86)
  direct_forward_avx2(*d_, xp, weight, bias, act == Act::relu, out, preact);
#else
  (void)out, (void)preact, (void)xp, (void)weight, (void)bias, (void)act;
#endif
}

void DirectConvImage::weights_xp(float* part, const float* xp, const float* dz) const {
#if defined(BAEUM_X86)
  direct_weights_avx2(*d_, xp, dz, part, part + weight_floats());
#else
  (void)part, (void)xp, (void)dz;
#endif
}

void DirectConvImage::relu_grad(float* dz, const float* dy, const float* y, int64_t rows, int64_t len,
                                int64_t stride) const {
#if defined(BAEUM_X86)
  direct_relu_grad_avx2(dz, dy, y, rows, len, stride);
#else
  for (int64_t i = 0; i < rows; ++i)
    activation_backward(dz + i * len, dy + i * stride, nullptr, y + i * stride, 1, len, Act::relu, 0.0f);
#endif
}

void DirectConvImage::data_xp(float* dxp, const float* dz, const float* wt) const {
  zero_floats(dxp, xp_floats());
#if defined(BAEUM_X86)
  direct_data_avx2(*d_, dz, wt, dxp);
#else
  (void)dz, (void)wt;
#endif
}

// Each image is zero-padded once into a small per-thread buffer (an L1/L2-sized copy), so
// the kernels have no bounds checks.
void DirectConvImage::forward(float* out, float* preact, const float* img, const float* weight,
                              const float* bias, Act act) const {
  static thread_local std::vector<float> xbuf;
  const float* xp = img;
  if (padded_) {
    float* b = scratch(xbuf, xp_floats());
    pad(b, img);
    xp = b;
  }
  forward_xp(out, preact, xp, weight, bias, act);
}

// wt[t, o, c] = W[t, c, o]: per tap, rows of C input channels (the data kernel's layout).
void DirectConvImage::transpose_weight(float* wt, const float* weight) const {
  const ConvShape& s = s_;
  for (int64_t t = 0; t < s.KH * s.KW; ++t)
    for (int64_t c = 0; c < s.C; ++c)
      for (int64_t o = 0; o < s.OC; ++o) wt[(t * s.OC + o) * s.C + c] = weight[(t * s.C + c) * s.OC + o];
}

// The whole backward of one image: dz = dout·f'(z) for the image (fused: one small buffer in
// L1 instead of a pass over the whole batch), Σ dz, the weight gradient and the data
// gradient, while the image's x, dz and dx are in cache.
void DirectConvImage::backward(float* dimg, float* part, const float* dout, const float* img,
                               const float* out, const float* preact, const float* wt, Act act,
                               float alpha) const {
  static thread_local std::vector<float> xbuf, dzbuf, dxbuf;
  const ConvShape& s = s_;
  const int64_t ohw = s.OH * s.OW;
  const float* dz = dout;
  if (act == Act::relu && out) {  // one 8-wide pass (the same selects as activation_backward)
    float* b = scratch(dzbuf, ohw * s.OC);
    relu_grad(b, dout, out, 1, ohw * s.OC, 0);
    dz = b;
  } else if (act != Act::linear) {
    float* b = scratch(dzbuf, ohw * s.OC);
    activation_backward(b, dout, preact, out, ohw, s.OC, act, alpha);
    dz = b;
  }
  const float* xp = img;
  if (padded_) {
    float* b = scratch(xbuf, xp_floats());
    pad(b, img);
    xp = b;
  }
  weights_xp(part, xp, dz);
  if (dimg) {
    float* dx = padded_ ? scratch(dxbuf, xp_floats()) : dimg;
    data_xp(dx, dz, wt);
    if (padded_) unpad(dimg, dx);
  }
}

void DirectConvImage::reduce(float* dweight, float* dbias, float* parts, int64_t P) const {
  const int64_t wsize = weight_floats();
  sum_partials(parts, P, partial_floats());
  if (d_->wgrad_t) {  // parts hold dWᵀ (OC, Kg)
    const int64_t kg = taps(), oc = s_.OC;
    for (int64_t k = 0; k < kg; ++k)
      for (int64_t o = 0; o < oc; ++o) dweight[k * oc + o] += parts[o * kg + k];
  } else {
    add_into(dweight, parts, wsize);
  }
  if (dbias) add_into(dbias, parts + wsize, s_.OC);
}


void im2col(float* col, const float* inp, const ConvShape& s) {
  const int64_t R = s.N * s.OH * s.OW, kg = s.KH * s.KW * s.C;
  if (R <= 0 || kg <= 0) return;
  const int64_t rb = rows_per_block(s, kg), nb = (R + rb - 1) / rb;
  const int nt = static_cast<int>(std::min<int64_t>(threads_for(R * kg, 1 << 16), nb));
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t r0 = b * rb, r1 = std::min(R, r0 + rb);
    im2col_rows(col + r0 * kg, inp, s, r0, r1, 0, s.C);
  }
}

void col2im(float* dinp, const float* col, const ConvShape& s) {
  const int64_t ohw = s.OH * s.OW, hwc = s.H * s.W * s.C, kg = s.KH * s.KW * s.C;
  std::fill(dinp, dinp + s.N * hwc, 0.0f);
  if (ohw <= 0 || kg <= 0) return;
  const int nt = static_cast<int>(std::min<int64_t>(threads_for(s.N * ohw * kg, 1 << 16), s.N));
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t n = 0; n < s.N; ++n)
    col2im_rows(dinp, col + n * ohw * kg, s, n * ohw, (n + 1) * ohw, 0, s.C);
}

void conv2d_forward(float* out, float* preact, const float* inp, const float* weight,
                    const float* bias, const ConvShape& s, Act act, float alpha) {
  const int64_t R = s.N * s.OH * s.OW;
  if (R <= 0 || s.OC <= 0) return;
  const int64_t cg = s.C / s.G, ocg = s.OC / s.G, kg = s.KH * s.KW * cg;
  const bool pw = is_pointwise(s);
  if (use_direct_forward(s, act)) {
    conv_forward_direct(out, preact, inp, weight, bias, s, act);
    return;
  }
  if (!pw && kg > 0 && kg <= 4096 && conv_microkernel().mr <= kMaxMr) {
    conv_forward_implicit(out, preact, inp, weight, bias, s, act, alpha, conv_microkernel());
    if (act == Act::softmax) softmax_forward(out, out, R, s.OC, 1);
    return;
  }
  // 1×1 stride 1 (the input rows are the GEMM operand) and very large Kg: sgemm per block.
  const int64_t rb = rows_per_block(s, kg), nb = (R + rb - 1) / rb;
  const int nt = team_for(R * kg * s.OC, nb);
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t b = 0; b < nb; ++b) {
    static thread_local std::vector<float> buf;
    const int64_t r0 = b * rb, r1 = std::min(R, r0 + rb), m = r1 - r0;
    for (int64_t g = 0; g < s.G; ++g) {
      const float* a = inp + r0 * s.C + g * cg;
      int64_t lda = std::max<int64_t>(1, s.C);
      if (!pw && kg > 0) {
        float* col = scratch(buf, m * kg);
        im2col_rows(col, inp, s, r0, r1, g * cg, cg);
        a = col;
        lda = kg;
      }
      BiasActArgs args;
      args.alpha = alpha;
      args.preact = preact ? preact + r0 * s.OC + g * ocg : nullptr;
      args.ldp = s.OC;
      GemmEpilogue ep;
      ep.apply = &bias_act_epilogue;
      ep.bias = bias ? bias + g * ocg : nullptr;
      ep.act = static_cast<int>(act);
      ep.user = &args;
      sgemm(false, false, m, ocg, kg, 1.0f, a, lda, weight + g * ocg, s.OC, 0.0f,
            out + r0 * s.OC + g * ocg, s.OC, &ep);
    }
  }
  if (act == Act::softmax) softmax_forward(out, out, R, s.OC, 1);
}

void conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, const float* out,
                     const float* preact, const ConvShape& s, Act act, float alpha) {
  const int64_t R = s.N * s.OH * s.OW;
  if (R <= 0 || s.OC <= 0) {
    if (dinp) std::fill(dinp, dinp + s.N * s.H * s.W * s.C, 0.0f);
    return;
  }
  if (use_direct_backward(s, dinp != nullptr)) {
    conv_backward_direct(dinp, dweight, dbias, dout, inp, weight, out, preact, s, act, alpha);
    return;
  }
  const float* dz = act_grad(dout, out, preact, R, s.OC, act, alpha);
  conv_backward_weights(dweight, dbias, dz, inp, s);
  if (!dinp) return;
  // Stride 1: the data gradient is itself a stride-1 convolution of dz with the kernel
  // flipped in space and transposed in channels, W'[kh,kw,o,c] = W[KH−1−kh, KW−1−kw, c, o],
  // padded before by (KH−1)·DH − PT:  dx[i] = Σ_kh' dz_pad[i − PT' + kh'·DH]·W'[kh'].
  // Why: it then runs on the forward's implicit GEMM (no dcol, no col2im scatter).
  const int64_t pt2 = (s.KH - 1) * s.DH - s.PT, pl2 = (s.KW - 1) * s.DW - s.PL;
  if (s.SH == 1 && s.SW == 1 && s.G == 1 && !is_pointwise(s) && pt2 >= 0 && pl2 >= 0) {
    thread_local std::vector<float> wbuf;
    float* wf = scratch(wbuf, s.KH * s.KW * s.OC * s.C);
    for (int64_t kh = 0; kh < s.KH; ++kh)
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const float* w = weight + ((s.KH - 1 - kh) * s.KW + (s.KW - 1 - kw)) * s.C * s.OC;
        float* d = wf + (kh * s.KW + kw) * s.OC * s.C;
        for (int64_t c = 0; c < s.C; ++c)
          for (int64_t o = 0; o < s.OC; ++o) d[o * s.C + c] = w[c * s.OC + o];
      }
    ConvShape t = s;
    t.H = s.OH, t.W = s.OW, t.C = s.OC, t.OH = s.H, t.OW = s.W, t.OC = s.C;
    t.PT = pt2, t.PL = pl2;
    conv2d_forward(dinp, nullptr, dz, wf, nullptr, t, Act::linear, 0.0f);
    return;
  }
  conv_backward_data(dinp, dz, weight, s, nullptr);
}

void conv2d_transpose_forward(float* out, float* preact, const float* inp, const float* weight,
                              const float* bias, const ConvShape& s, Act act, float alpha) {
  const int64_t M = s.N * s.H * s.W;
  if (M <= 0 || s.C <= 0) return;
  BiasActArgs args;
  args.alpha = alpha;
  args.preact = preact;
  args.ldp = s.C;
  GemmEpilogue ep;
  ep.apply = &bias_act_epilogue;
  ep.bias = bias;
  ep.act = static_cast<int>(act);
  ep.user = &args;
  const bool need_ep = bias || preact || act != Act::linear;
  conv_backward_data(out, inp, weight, s, need_ep ? &ep : nullptr);
  if (act == Act::softmax) softmax_forward(out, out, M, s.C, 1);
}

void conv2d_transpose_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                               const float* inp, const float* weight, const float* out,
                               const float* preact, const ConvShape& s, Act act, float alpha) {
  const int64_t M = s.N * s.H * s.W;
  if (M <= 0 || s.C <= 0) {
    if (dinp) std::fill(dinp, dinp + s.N * s.OH * s.OW * s.OC, 0.0f);
    return;
  }
  const float* dz = act_grad(dout, out, preact, M, s.C, act, alpha);
  if (dbias) bias_grad(dbias, dz, M, s.C);
  // The conv's "input" is dz (N,H,W,C) and its "output gradient" is inp (N,OH,OW,OC).
  conv_backward_weights(dweight, nullptr, inp, dz, s);
  if (dinp) conv2d_forward(dinp, nullptr, dz, weight, nullptr, s, Act::linear, 0.0f);
}

void depthwise_conv2d_forward(float* out, float* preact, const float* inp, const float* weight,
                              const float* bias, const ConvShape& s, Act act, float alpha) {
  const int64_t R = s.N * s.OH * s.OW, OC = s.OC, DM = s.C > 0 ? OC / s.C : 0;
  if (R <= 0 || OC <= 0) return;
  BiasActArgs args;
  args.alpha = alpha;
  args.preact = preact;
  args.ldp = OC;
  GemmEpilogue ep;
  ep.bias = bias;
  ep.act = static_cast<int>(act);
  ep.user = &args;
  const int64_t rows = s.N * s.OH;
  const int nt = static_cast<int>(std::min<int64_t>(threads_for(R * s.KH * s.KW * OC, 1 << 15), rows));
  (void)nt;
  // One (n, oh) output row per iteration; the inner loops run along the OC = C·DM channels,
  // which are contiguous in out, in the weight and (for DM = 1) in the input.
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t n = row / s.OH, oh = row % s.OH;
    float* o = out + row * s.OW * OC;
    std::fill(o, o + s.OW * OC, 0.0f);
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      float* acc = o + ow * OC;
      for (int64_t kh = 0; kh < s.KH; ++kh) {
        const int64_t ih = oh * s.SH - s.PT + kh * s.DH;
        if (ih < 0 || ih >= s.H) continue;
        for (int64_t kw = 0; kw < s.KW; ++kw) {
          const int64_t iw = ow * s.SW - s.PL + kw * s.DW;
          if (iw < 0 || iw >= s.W) continue;
          const float* x = inp + ((n * s.H + ih) * s.W + iw) * s.C;
          const float* w = weight + (kh * s.KW + kw) * OC;
          if (DM == 1) {
#pragma omp simd
            for (int64_t c = 0; c < OC; ++c) acc[c] += x[c] * w[c];
          } else {
            for (int64_t c = 0; c < s.C; ++c)
              for (int64_t m = 0; m < DM; ++m) acc[c * DM + m] += x[c] * w[c * DM + m];
          }
        }
      }
    }
    bias_act_epilogue(ep, o, OC, row * s.OW, 0, s.OW, OC);
  }
  if (act == Act::softmax) softmax_forward(out, out, R, OC, 1);
}

void depthwise_conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                               const float* inp, const float* weight, const float* out,
                               const float* preact, const ConvShape& s, Act act, float alpha) {
  const int64_t R = s.N * s.OH * s.OW, OC = s.OC, DM = s.C > 0 ? OC / s.C : 0;
  const int64_t hwc = s.H * s.W * s.C;
  if (dinp) std::fill(dinp, dinp + s.N * hwc, 0.0f);
  if (R <= 0 || OC <= 0) return;
  const float* dz = act_grad(dout, out, preact, R, OC, act, alpha);
  // Images go to P partial sums of (dweight, dbias) fixed by N, summed in order at the end;
  // dinp of an image is written only by the thread that owns the image.
  const int64_t P = std::min(s.N, kParts);
  const int64_t wsize = s.KH * s.KW * OC, psize = wsize + OC;
  thread_local std::vector<float> parts_buf;
  float* parts = scratch(parts_buf, P * psize);
  std::fill(parts, parts + P * psize, 0.0f);
  const int nt = static_cast<int>(std::min<int64_t>(threads_for(R * s.KH * s.KW * OC, 1 << 15), P));
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t p = 0; p < P; ++p) {
    float* dw = parts + p * psize;
    float* db = dw + wsize;
    for (int64_t n = p * s.N / P; n < (p + 1) * s.N / P; ++n) {
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          const float* d = dz + ((n * s.OH + oh) * s.OW + ow) * OC;
#pragma omp simd
          for (int64_t j = 0; j < OC; ++j) db[j] += d[j];
          for (int64_t kh = 0; kh < s.KH; ++kh) {
            const int64_t ih = oh * s.SH - s.PT + kh * s.DH;
            if (ih < 0 || ih >= s.H) continue;
            for (int64_t kw = 0; kw < s.KW; ++kw) {
              const int64_t iw = ow * s.SW - s.PL + kw * s.DW;
              if (iw < 0 || iw >= s.W) continue;
              const int64_t cell = ((n * s.H + ih) * s.W + iw) * s.C;
              const float* x = inp + cell;
              const float* w = weight + (kh * s.KW + kw) * OC;
              float* gw = dw + (kh * s.KW + kw) * OC;
              if (DM == 1) {
#pragma omp simd
                for (int64_t c = 0; c < OC; ++c) gw[c] += x[c] * d[c];
                if (dinp) {
                  float* dx = dinp + cell;
#pragma omp simd
                  for (int64_t c = 0; c < OC; ++c) dx[c] += d[c] * w[c];
                }
              } else {
                for (int64_t c = 0; c < s.C; ++c) {
                  float sum = 0.0f;
                  for (int64_t m = 0; m < DM; ++m) {
                    gw[c * DM + m] += x[c] * d[c * DM + m];
                    sum += d[c * DM + m] * w[c * DM + m];
                  }
                  if (dinp) dinp[cell + c] += sum;
                }
              }
            }
          }
        }
      }
    }
  }
  sum_partials(parts, P, psize);
  add_into(dweight, parts, wsize);
  if (dbias) add_into(dbias, parts + wsize, OC);
}

}  // namespace baeum
