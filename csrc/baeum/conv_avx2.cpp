// conv_avx2.cpp — AVX2+FMA direct convolution kernels for one NHWC image (contract and
// offsets in conv_direct.h; driver in conv.cpp; derivation in docs/conv.md).
//
//   forward:  z[r, o] = Σ_k x[r, k] · W[k, o] + b[o],  out = f(z)      x[r, k] = xp[pixoff[r] + tapoff[k]]
//   weights:  dW[k, o] += Σ_r x[r, k] · dz[r, o]
//   data:     dx[pixoff[r] + celloff[t] + c] += Σ_o dz[r, o] · wt[t, o, c]
// Glossary: r output pixel of the image (OHW of them), k tap (Kg = KH·KW·C), t = (kh, kw)
// (KT = KH·KW), o filter (OC = 8·V), c input channel (C = 8·VC).
//
// Why direct: for the small convolutions of a first layer (3×3×1 → 16) or a narrow one
// (3×3×16 → 8) the im2col+GEMM route spends more time packing panels (runs of 1–3 floats)
// than in FMAs, and an 8-filter tile fills half of the 16-wide micro-kernel. Here the
// input is read in place (broadcasts of single floats) and the filters (8..32 = 1..4
// vectors) are the vector dimension, so nothing is packed and no lane is wasted:
//   forward: P pixels × V vectors of accumulators, per tap V weight loads + P broadcasts;
//   weights: T taps × V vectors held over all pixels of the image (dz loaded once per pixel);
//   data:    P pixels × VC vectors per tap (kh, kw), summed over o, then added to dxp.
// Register budget: accumulators P·V ≤ 12 of the 16 ymm registers (V + 1 more for operands).
// 8 filters (V = 1), where the tiles above spend a load per FMA: the forward and the data
// gradient of a stride-2, 3-wide layer go by output rows whose pixels share input columns
// (fwd_row3: 2P + 4 loads per 3P FMAs; dat_row3: 3 + P per 3P, 2P + 1 read-modify-writes),
// and the weight gradient takes the taps as the vector (wgt_pass_t: 7 loads per 12 FMAs;
// wgt_row3, the same with shared columns: 6 per 12).
// Narrow-layer measures (Why: a 3×3 layer with C = 1 or OC = 8 does few FMAs per tile, so
// what surrounds them is a large share; each measured on the deck-003 shapes, docs/conv.md):
//   - forward with C < 8: one loop over all Kg taps, the tap offset an index register
//     (base_p + tapoff[k]·4), instead of cells × a 1..7-iteration channel loop;
//   - accumulators start at the bias (no bias adds in the epilogue);
//   - balanced tiles and passes: n pixels (taps) in ⌈n/max⌉ tiles of equal size ±1, never
//     a short tail tile (49 = 6·8 + 1 pixels cost 7 full tiles; 7·7 cost 6.1);
//   - weight passes walk pixels row by row (base += SW·C): no pixoff load per pixel;
//   - tile/pass functions are not inlined into their drivers: inlined, GCC spilled the
//     tap offsets / pixel pointers and reloaded them per tap.
// No std:: templates here and no inline functions shared with other files (see
// gemm_kernels.h); the always_inline helpers below are file-local.
#include <immintrin.h>

#include "baeum/conv_direct.h"

namespace baeum {
namespace {

// ---- forward ---------------------------------------------------------------------------
// Accumulators start at the bias (Why: saves P·V adds per tile; for a 3×3×1 layer a tile
// does only 9 FMAs per accumulator, so the epilogue is a large share).
template <int V, int P>
__attribute__((always_inline)) inline void fwd_store(const DirectConv& d, __m256 (&acc)[P][V], bool relu, int64_t r,
                                                   float* out, float* pre) {
  const int64_t OC = d.OC;
  if (pre) {
    float* q = pre + r * OC;
#pragma GCC unroll 14
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) _mm256_storeu_ps(q + p * OC + 8 * v, acc[p][v]);
  }
  if (relu) {
    // max(0, z) returns z when z is NaN (second operand): the same as z < 0 ? 0 : z.
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 14
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[p][v] = _mm256_max_ps(zero, acc[p][v]);
  }
  if (d.outoff) {  // pixel rows at given offsets (the next layer's padded layout)
#pragma GCC unroll 14
    for (int p = 0; p < P; ++p) {
      float* q = out + d.outoff[r + p];
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) _mm256_storeu_ps(q + 8 * v, acc[p][v]);
    }
    return;
  }
  float* q = out + r * OC;
#pragma GCC unroll 14
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) _mm256_storeu_ps(q + p * OC + 8 * v, acc[p][v]);
}

template <int V, int P>
__attribute__((always_inline)) inline void fwd_init(__m256 (&acc)[P][V], const float* bias) {
#pragma GCC unroll 14
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[p][v] = bias ? _mm256_loadu_ps(bias + 8 * v) : _mm256_setzero_ps();
}

// One tap of a forward tile: acc[p] += x[base_p + off] · W[k, :] (V weight vectors at w).
template <int V, int P>
__attribute__((always_inline)) inline void fwd_step(__m256 (&acc)[P][V], const float* w, const float* const (&base)[P],
                                                   int64_t off) {
  __m256 wv[V];
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) wv[v] = _mm256_loadu_ps(w + 8 * v);
#pragma GCC unroll 14
  for (int p = 0; p < P; ++p) {
    const __m256 xb = _mm256_broadcast_ss(base[p] + off);
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[p][v] = _mm256_fmadd_ps(xb, wv[v], acc[p][v]);
  }
}

// C ≥ 8: cells (kh, kw) outside, channels inside: the P pixel pointers stay in registers
// and each broadcast is one instruction (base + c·4), 1 + V loads... per channel.
template <int V, int P>
void fwd_tile(const DirectConv& d, const float* xp, const float* weight, const float* bias, bool relu,
              int64_t r, float* out, float* pre) {
  __m256 acc[P][V];
  fwd_init<V, P>(acc, bias);
  const float* px[P];
#pragma GCC unroll 14
  for (int p = 0; p < P; ++p) px[p] = xp + d.pixoff[r + p];
  const float* w = weight;
  const int64_t C = d.C;
  for (int64_t t = 0; t < d.KT; ++t) {
    const int64_t cell = d.celloff[t];
    const float* q[P];
#pragma GCC unroll 14
    for (int p = 0; p < P; ++p) q[p] = px[p] + cell;
    for (int64_t c = 0; c < C; ++c, w += d.OC) fwd_step<V, P>(acc, w, q, c);
  }
  fwd_store<V, P>(d, acc, relu, r, out, pre);
}

// C < 8 (C = 1, 3: first layers): one loop over all Kg taps, the tap offset an index
// register: each broadcast is base_p + tapoff[k]·4, so no per-cell pointer adds and no
// 1..3-iteration inner loop remain (Why: with C = 1 those cost as much as the 9 taps' FMAs).
template <int V, int P>
void fwd_tile_flat(const DirectConv& d, const float* xp, const float* weight, const float* bias, bool relu,
                   int64_t r, float* out, float* pre) {
  __m256 acc[P][V];
  fwd_init<V, P>(acc, bias);
  const float* px[P];
#pragma GCC unroll 14
  for (int p = 0; p < P; ++p) {
    px[p] = xp + d.pixoff[r + p];
    // Opaque to the optimiser: otherwise GCC rewrites px[p] + o as xp + (pixoff + o), one
    // extra lea per broadcast.
    asm("" : "+r"(px[p]));
  }
  const float* w = weight;
  const int64_t* to = d.tapoff;
  const int64_t Kg = d.Kg, OC = d.OC;
  for (int64_t k = 0; k < Kg; ++k, w += OC) fwd_step<V, P>(acc, w, px, to[k]);
  fwd_store<V, P>(d, acc, relu, r, out, pre);
}

template <int V, int P>
void fwd_rest(int n, const DirectConv& d, const float* xp, const float* w, const float* b, bool relu,
              int64_t r, float* out, float* pre) {
  if constexpr (P > 0) {
    if (n == P) {
      if (d.C < 8) {
        fwd_tile_flat<V, P>(d, xp, w, b, relu, r, out, pre);
      } else {
        fwd_tile<V, P>(d, xp, w, b, relu, r, out, pre);
      }
    } else {
      fwd_rest<V, P - 1>(n, d, xp, w, b, relu, r, out, pre);
    }
  }
}

// Balanced tiles: OHW pixels in ⌈OHW/PM⌉ tiles of equal size ±1. Why: a full-tile loop
// leaves a short last tile (conv2's 49 pixels = 6·8 + 1: a 1-pixel tile is FMA-latency
// bound and costs as much as a full one).
// One output row of a stride-2, 3-wide, 8-filter layer (DirectConv::fwd_row3): neighbouring
// pixels share input columns (pixel p's tap kw = 2 is pixel p+1's kw = 0), so per kernel row
// and channel the row's 2P + 1 input values are broadcast once each and feed 3P FMAs with
// the 3 weight vectors of that row. Why: the generic V = 1 tile spends a broadcast per FMA
// (8 loads per 7 FMAs); here (2P + 4) loads feed 3P. CC = C (compile time, so every
// broadcast address is an immediate offset).
template <int P, int CC>
__attribute__((noinline)) void fwd_row3(const DirectConv& d, const float* xp, const float* weight, const float* bias,
                                        bool relu, int64_t r, float* out, float* pre) {
  __m256 acc[P][1];
  fwd_init<1, P>(acc, bias);
  const float* base = xp + d.pixoff[r];
  const int64_t KH = d.KT / 3;
  for (int64_t kh = 0; kh < KH; ++kh) {
    const float* row = base + d.celloff[kh * 3];
    const float* w = weight + kh * 3 * CC * 8;
#pragma GCC unroll 4
    for (int c = 0; c < CC; ++c) {
      const __m256 w0 = _mm256_loadu_ps(w + c * 8), w1 = _mm256_loadu_ps(w + (CC + c) * 8),
                   w2 = _mm256_loadu_ps(w + (2 * CC + c) * 8);
#pragma GCC unroll 32
      for (int j = 0; j <= 2 * P; ++j) {
        const __m256 xb = _mm256_broadcast_ss(row + j * CC + c);
        if (j % 2 == 0) {
          if (j / 2 < P) acc[j / 2][0] = _mm256_fmadd_ps(xb, w0, acc[j / 2][0]);
          if (j / 2 >= 1) acc[j / 2 - 1][0] = _mm256_fmadd_ps(xb, w2, acc[j / 2 - 1][0]);
        } else {
          acc[j / 2][0] = _mm256_fmadd_ps(xb, w1, acc[j / 2][0]);
        }
      }
    }
  }
  fwd_store<1, P>(d, acc, relu, r, out, pre);
}

template <int P, int CC>
void fwd_row3_rest(int n, const DirectConv& d, const float* xp, const float* w, const float* b, bool relu,
                   int64_t r, float* out, float* pre) {
  if constexpr (P > 0) {
    if (n == P) {
      fwd_row3<P, CC>(d, xp, w, b, relu, r, out, pre);
    } else {
      fwd_row3_rest<P - 1, CC>(n, d, xp, w, b, relu, r, out, pre);
    }
  }
}

template <int CC>
void fwd_image_row3(const DirectConv& d, const float* xp, const float* w, const float* b, bool relu, float* out,
                    float* pre) {
  for (int64_t r = 0; r < d.OHW; r += d.OW)
    fwd_row3_rest<8, CC>(static_cast<int>(d.OW), d, xp, w, b, relu, r, out, pre);
}

template <int V>
void fwd_image(const DirectConv& d, const float* xp, const float* w, const float* b, bool relu, float* out,
               float* pre) {
  constexpr int PM = V == 1 ? 8 : 12 / V;
  if (V == 1 && d.fwd_row3) {
    switch (d.C) {
      case 8: fwd_image_row3<8>(d, xp, w, b, relu, out, pre); return;
      case 16: fwd_image_row3<16>(d, xp, w, b, relu, out, pre); return;
      case 24: fwd_image_row3<24>(d, xp, w, b, relu, out, pre); return;
      case 32: fwd_image_row3<32>(d, xp, w, b, relu, out, pre); return;
      default: break;
    }
  }
  const int64_t nt = (d.OHW + PM - 1) / PM, q = nt ? d.OHW / nt : 0, extra = nt ? d.OHW % nt : 0;
  int64_t r = 0;
  for (int64_t i = 0; i < nt; ++i) {
    const int n = static_cast<int>(q + (i < extra ? 1 : 0));
    fwd_rest<V, PM>(n, d, xp, w, b, relu, r, out, pre);
    r += n;
  }
}

// ---- weight gradient -------------------------------------------------------------------
// part[a·sa + b·sb .. +8] += acc[a][b]: a weight-gradient pass adds its register tile to the
// image's partial once at the end (each pass lays its tile out in the partial differently).
template <int A, int B>
__attribute__((always_inline)) inline void acc_add(__m256 (&acc)[A][B], float* part, int64_t sa, int64_t sb) {
#pragma GCC unroll 16
  for (int a = 0; a < A; ++a)
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) {
      float* q = part + a * sa + b * sb;
      _mm256_storeu_ps(q, _mm256_add_ps(_mm256_loadu_ps(q), acc[a][b]));
    }
}

// One pass: T taps × V vectors of accumulators held over all pixels of the image. ANY = false:
// T consecutive channels c0 .. c0+T of one cell, each broadcast base + t·4 (an immediate);
// ANY = true: T arbitrary taps k0 .. k0+T with their offsets in registers, for images with
// fewer channels than T (C = 1: the 3×3 taps of a first layer in one or two passes instead
// of nine 1-tap passes, which would be FMA-latency bound).
// Pixels are walked row by row, base += SW·C (Why: no pixoff load per pixel — with V = 1 the
// loop is load-port bound: 1 dz load + T broadcasts per T FMAs).
// noinline: inlined into wgt_image, GCC spilled the tap offsets (one more load per tap).
template <int V, int T, bool ANY>
__attribute__((noinline)) void wgt_pass(const DirectConv& d, const float* xp, const float* dz, int64_t cell, int64_t k0,
                                        float* part) {
  __m256 acc[T][V];
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[t][v] = _mm256_setzero_ps();
  int64_t to[T];
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) to[t] = ANY ? d.tapoff[k0 + t] : t;
  const int64_t OHW = d.OHW, OW = d.OW, OC = d.OC, SWC = d.SWC;
  const float* g = dz;
  for (int64_t r = 0; r < OHW; r += OW) {
    const float* base = xp + d.pixoff[r] + (ANY ? 0 : cell);
    for (int64_t ow = 0; ow < OW; ++ow, base += SWC, g += OC) {
      __m256 gv[V];
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) gv[v] = _mm256_loadu_ps(g + 8 * v);
#pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        const __m256 xb = _mm256_broadcast_ss(base + to[t]);
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[t][v] = _mm256_fmadd_ps(xb, gv[v], acc[t][v]);
      }
    }
  }
  acc_add<T, V>(acc, part + k0 * OC, OC, 8);
}

template <int V, int T, bool ANY>
void wgt_rest(int n, const DirectConv& d, const float* xp, const float* dz, int64_t cell, int64_t k0,
              float* part) {
  if constexpr (T > 0) {
    if (n == T) {
      wgt_pass<V, T, ANY>(d, xp, dz, cell, k0, part);
    } else {
      wgt_rest<V, T - 1, ANY>(n, d, xp, dz, cell, k0, part);
    }
  }
}

// Transposed pass for 8 filters (DirectConv::wgrad_t: OC = 8, C % 8 == 0): the TAPS are
// the vector dimension. acc[f][j] holds dW[8(j0+j) .. +8, o0+f] over all pixels: per pixel
// KV = 3 vector loads of x (8 consecutive channels of a cell each) + 4 dz broadcasts feed
// 12 FMAs. Why: the filter-vector pass above has only one vector for 8 filters, so each
// FMA costs a broadcast (9 loads per 8 FMAs); here 7 loads feed 12. part is (OC, Kg) for
// these layers (conv.cpp's reduce transposes once per step). Same FMAs per (k, o) in the
// same pixel order as the filter-vector pass: the same bits.
template <int KV>
__attribute__((noinline)) void wgt_pass_t(const DirectConv& d, const float* xp, const float* dz, int64_t j0,
                                          int64_t o0, float* part) {
  constexpr int F = 4;
  __m256 acc[F][KV];
#pragma GCC unroll 4
  for (int f = 0; f < F; ++f)
#pragma GCC unroll 4
    for (int j = 0; j < KV; ++j) acc[f][j] = _mm256_setzero_ps();
  int64_t off[KV];
#pragma GCC unroll 4
  for (int j = 0; j < KV; ++j) {
    const int64_t k = 8 * (j0 + j);
    off[j] = d.celloff[k / d.C] + k % d.C;
  }
  const int64_t OHW = d.OHW, OW = d.OW, OC = d.OC, SWC = d.SWC;
  const float* g = dz + o0;
  for (int64_t r = 0; r < OHW; r += OW) {
    const float* base = xp + d.pixoff[r];
    for (int64_t ow = 0; ow < OW; ++ow, base += SWC, g += OC) {
      __m256 xv[KV];
#pragma GCC unroll 4
      for (int j = 0; j < KV; ++j) xv[j] = _mm256_loadu_ps(base + off[j]);
#pragma GCC unroll 4
      for (int f = 0; f < F; ++f) {
        const __m256 gb = _mm256_broadcast_ss(g + f);
#pragma GCC unroll 4
        for (int j = 0; j < KV; ++j) acc[f][j] = _mm256_fmadd_ps(gb, xv[j], acc[f][j]);
      }
    }
  }
  acc_add<F, KV>(acc, part + o0 * d.Kg + 8 * j0, d.Kg, 8);
}

// The taps-as-vector pass of a stride-2, 3-wide layer (DirectConv::dat_row3 shapes): the
// three taps kw of one kernel row kh and 8 channels c0.. at once. Pixel p's taps read input
// columns 2p, 2p+1, 2p+2, and 2p+2 is pixel p+1's column 2(p+1): per pixel 2 new x vectors +
// 4 dz broadcasts feed 12 FMAs (wgt_pass_t: 3 + 4). Same FMAs per (k, o) in the same pixel
// order: the same bits as wgt_pass_t.
__attribute__((noinline)) void wgt_row3(const DirectConv& d, const float* xp, const float* dz, int64_t kh,
                                        int64_t c0, int64_t o0, float* part) {
  constexpr int F = 4;
  __m256 acc[3][F];
#pragma GCC unroll 3
  for (int kw = 0; kw < 3; ++kw)
#pragma GCC unroll 4
    for (int f = 0; f < F; ++f) acc[kw][f] = _mm256_setzero_ps();
  const int64_t OHW = d.OHW, OW = d.OW, OC = d.OC, C = d.C, SWC = d.SWC;
  const float* g = dz + o0;
  const int64_t off = d.celloff[kh * 3] + c0;
  for (int64_t r = 0; r < OHW; r += OW) {
    const float* base = xp + d.pixoff[r] + off;
    __m256 x0 = _mm256_loadu_ps(base);
    for (int64_t ow = 0; ow < OW; ++ow, base += SWC, g += OC) {
      const __m256 x1 = _mm256_loadu_ps(base + C), x2 = _mm256_loadu_ps(base + 2 * C);
#pragma GCC unroll 4
      for (int f = 0; f < F; ++f) {
        const __m256 gb = _mm256_broadcast_ss(g + f);
        acc[0][f] = _mm256_fmadd_ps(gb, x0, acc[0][f]);
        acc[1][f] = _mm256_fmadd_ps(gb, x1, acc[1][f]);
        acc[2][f] = _mm256_fmadd_ps(gb, x2, acc[2][f]);
      }
      x0 = x2;
    }
  }
  acc_add<3, F>(acc, part + o0 * d.Kg + kh * 3 * C + c0, C, d.Kg);
}

void wgt_image_t(const DirectConv& d, const float* xp, const float* dz, float* part) {
  if (d.dat_row3) {  // 8 filters, 3 wide, stride 2: the rows share input columns
    for (int64_t kh = 0; kh < d.KT / 3; ++kh)
      for (int64_t c0 = 0; c0 < d.C; c0 += 8)
        for (int64_t o0 = 0; o0 < 8; o0 += 4) wgt_row3(d, xp, dz, kh, c0, o0, part);
    return;
  }
  const int64_t nv = d.Kg / 8, np = (nv + 2) / 3, q = nv / np, extra = nv % np;
  for (int64_t i = 0, j = 0; i < np; ++i) {
    const int n = static_cast<int>(q + (i < extra ? 1 : 0));
    for (int64_t o0 = 0; o0 < 8; o0 += 4) {
      if (n == 3) {
        wgt_pass_t<3>(d, xp, dz, j, o0, part);
      } else if (n == 2) {
        wgt_pass_t<2>(d, xp, dz, j, o0, part);
      } else {
        wgt_pass_t<1>(d, xp, dz, j, o0, part);
      }
    }
    j += n;
  }
}

// Taps per pass ≤ 12 accumulators (V = 1: 8, so the offsets are small immediates and a
// 16-channel cell is two passes), balanced: n taps in ⌈n/TM⌉ passes of equal size ±1
// (Why: Kg = 9 as 6 + 3 left a 6-accumulator pass, latency bound; 5 + 4 is not).
template <int V>
void wgt_image(const DirectConv& d, const float* xp, const float* dz, float* part, float* pbias) {
  constexpr int TM = V == 1 ? 8 : 12 / V;
  if (V == 1 && d.wgrad_t) {
    wgt_image_t(d, xp, dz, part);
  } else if (d.C < TM) {
    constexpr int TA = 12 / V;
    const int64_t np = (d.Kg + TA - 1) / TA, q = d.Kg / np, extra = d.Kg % np;
    for (int64_t i = 0, k = 0; i < np; ++i) {
      const int n = static_cast<int>(q + (i < extra ? 1 : 0));
      wgt_rest<V, TA, true>(n, d, xp, dz, 0, k, part);
      k += n;
    }
  } else {
    const int64_t np = (d.C + TM - 1) / TM, q = d.C / np, extra = d.C % np;
    for (int64_t t = 0; t < d.KT; ++t) {
      const int64_t cell = d.celloff[t];
      for (int64_t i = 0, c = 0; i < np; ++i) {
        const int n = static_cast<int>(q + (i < extra ? 1 : 0));
        wgt_rest<V, TM, false>(n, d, xp, dz, cell + c, t * d.C + c, part);
        c += n;
      }
    }
  }
  // Σ_r dz[r, :] into the bias partial: rows r ≡ i (mod CH) in sum[i], summed in order i at
  // the end. Why CH = 4/V chains: V vectors are V independent add chains; one chain of OHW
  // dependent adds (V = 1) was add-latency bound, ≈ 3 % of a deck-003 step, while 4 chains
  // of V = 4 vectors would spill (16 accumulators).
  constexpr int CH = V >= 4 ? 1 : 4 / V;
  __m256 sum[CH][V];
#pragma GCC unroll 4
  for (int i = 0; i < CH; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) sum[i][v] = _mm256_setzero_ps();
  int64_t r = 0;
  for (; r + CH <= d.OHW; r += CH)
#pragma GCC unroll 4
    for (int i = 0; i < CH; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v)
        sum[i][v] = _mm256_add_ps(sum[i][v], _mm256_loadu_ps(dz + (r + i) * d.OC + 8 * v));
  for (int i = 0; r < d.OHW; ++r, ++i)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) sum[i][v] = _mm256_add_ps(sum[i][v], _mm256_loadu_ps(dz + r * d.OC + 8 * v));
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    __m256 t = sum[0][v];
#pragma GCC unroll 4
    for (int i = 1; i < CH; ++i) t = _mm256_add_ps(t, sum[i][v]);
    _mm256_storeu_ps(pbias + 8 * v, _mm256_add_ps(_mm256_loadu_ps(pbias + 8 * v), t));
  }
}

// ---- data gradient ---------------------------------------------------------------------
// acc[p] += dz[r + p, o] · wt[t, o, :] for one filter o (g = &dz[r, o]).
template <int VC, int P>
__attribute__((always_inline)) inline void dat_step(__m256 (&acc)[P][VC], const float* w, const float* g,
                                                   int64_t OC) {
  __m256 wv[VC];
#pragma GCC unroll 4
  for (int v = 0; v < VC; ++v) wv[v] = _mm256_loadu_ps(w + 8 * v);
#pragma GCC unroll 12
  for (int p = 0; p < P; ++p) {
    const __m256 gb = _mm256_broadcast_ss(g + p * OC);
#pragma GCC unroll 4
    for (int v = 0; v < VC; ++v) acc[p][v] = _mm256_fmadd_ps(gb, wv[v], acc[p][v]);
  }
}

// One tile: P pixels × VC vectors of input channels, per cell t summed over o, then added
// to dxp. Not inlined into dat_image (Why: measured 67 → 75 GFLOP/s on 3×3×16→8 s2; the
// inlined copy kept fewer pointers in registers). (Fully unrolling the o loop for OC = 8
// was tried: 75 → 64.)
template <int VC, int P>
__attribute__((noinline)) void dat_tile(const DirectConv& d, const float* dz, const float* wt, int64_t r,
                                        float* dxp) {
  const int64_t C = d.C, OC = d.OC, KT = d.KT;
  const int64_t* pix = d.pixoff + r;
  const int64_t* cell = d.celloff;
  const float* g = dz + r * OC;
  const float* w = wt;
  for (int64_t t = 0; t < KT; ++t) {
    __m256 acc[P][VC];
#pragma GCC unroll 12
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < VC; ++v) acc[p][v] = _mm256_setzero_ps();
    for (int64_t o = 0; o < OC; ++o, w += C) dat_step<VC, P>(acc, w, g + o, OC);
    float* dc = dxp + cell[t];
#pragma GCC unroll 12
    for (int p = 0; p < P; ++p) {
      float* q = dc + pix[p];
#pragma GCC unroll 4
      for (int v = 0; v < VC; ++v)
        _mm256_storeu_ps(q + 8 * v, _mm256_add_ps(_mm256_loadu_ps(q + 8 * v), acc[p][v]));
    }
  }
}

template <int VC, int P>
void dat_rest(int n, const DirectConv& d, const float* dz, const float* wt, int64_t r, float* dxp) {
  if constexpr (P > 0) {
    if (n == P) {
      dat_tile<VC, P>(d, dz, wt, r, dxp);
    } else {
      dat_rest<VC, P - 1>(n, d, dz, wt, r, dxp);
    }
  }
}

// Balanced tiles, as the forward.
template <int VC>
void dat_image(const DirectConv& d, const float* dz, const float* wt, float* dxp) {
  constexpr int PM = 12 / VC;
  const int64_t nt = (d.OHW + PM - 1) / PM, q = nt ? d.OHW / nt : 0, extra = nt ? d.OHW % nt : 0;
  int64_t r = 0;
  for (int64_t i = 0; i < nt; ++i) {
    const int n = static_cast<int>(q + (i < extra ? 1 : 0));
    dat_rest<VC, PM>(n, d, dz, wt, r, dxp);
    r += n;
  }
}

// The data gradient of a stride-2, 3-wide, 8-filter layer (DirectConv::dat_row3), by P
// pixels of one output row: pixel p's taps kw = 0, 1, 2 land on columns 2p, 2p+1, 2p+2, so
// neighbours share a column; per kernel row and 8-channel chunk the 2P+1 columns are summed
// in registers over o and added to dxp once. Why: per filter 3 weight loads + P broadcasts
// feed 3P FMAs (the generic tile: 2 + 6 per 12), and 2P+1 read-modify-writes replace 3P.
template <int P, int CC>
__attribute__((noinline)) void dat_row3(const DirectConv& d, const float* dz, const float* wt, int64_t r,
                                        float* dxp) {
  const float* g = dz + r * 8;
  float* base = dxp + d.pixoff[r];
  const int64_t KH = d.KT / 3;
  for (int64_t kh = 0; kh < KH; ++kh) {
    float* row = base + d.celloff[kh * 3];
    const float* wk = wt + kh * 3 * 8 * CC;
    for (int c0 = 0; c0 < CC; c0 += 8) {
      __m256 acc[2 * P + 1];
#pragma GCC unroll 16
      for (int j = 0; j <= 2 * P; ++j) acc[j] = _mm256_setzero_ps();
#pragma GCC unroll 8
      for (int o = 0; o < 8; ++o) {
        const __m256 w0 = _mm256_loadu_ps(wk + o * CC + c0), w1 = _mm256_loadu_ps(wk + (8 + o) * CC + c0),
                     w2 = _mm256_loadu_ps(wk + (16 + o) * CC + c0);
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) {
          const __m256 b = _mm256_broadcast_ss(g + p * 8 + o);
          acc[2 * p] = _mm256_fmadd_ps(b, w0, acc[2 * p]);
          acc[2 * p + 1] = _mm256_fmadd_ps(b, w1, acc[2 * p + 1]);
          acc[2 * p + 2] = _mm256_fmadd_ps(b, w2, acc[2 * p + 2]);
        }
      }
#pragma GCC unroll 16
      for (int j = 0; j <= 2 * P; ++j) {
        float* q = row + j * CC + c0;
        _mm256_storeu_ps(q, _mm256_add_ps(_mm256_loadu_ps(q), acc[j]));
      }
    }
  }
}

template <int P, int CC>
void dat_row3_rest(int n, const DirectConv& d, const float* dz, const float* wt, int64_t r, float* dxp) {
  if constexpr (P > 0) {
    if (n == P) {
      dat_row3<P, CC>(d, dz, wt, r, dxp);
    } else {
      dat_row3_rest<P - 1, CC>(n, d, dz, wt, r, dxp);
    }
  }
}

// Every output row in balanced tiles of ≤ 5 pixels (11 column accumulators + 3 weights).
template <int CC>
void dat_image_row3(const DirectConv& d, const float* dz, const float* wt, float* dxp) {
  constexpr int PM = 5;
  const int64_t OW = d.OW, nt = (OW + PM - 1) / PM, q = OW / nt, extra = OW % nt;
  for (int64_t r0 = 0; r0 < d.OHW; r0 += OW)
    for (int64_t i = 0, r = r0; i < nt; ++i) {
      const int n = static_cast<int>(q + (i < extra ? 1 : 0));
      dat_row3_rest<PM, CC>(n, d, dz, wt, r, dxp);
      r += n;
    }
}

}  // namespace

// Chunks of at most 32 filters (channels for the data gradient): 4 vectors is the widest
// tile that leaves room for ≥ 3 pixels/taps of accumulators. Rows keep their full stride.
void direct_forward_avx2(const DirectConv& d, const float* xp, const float* weight, const float* bias,
                         bool relu, float* out, float* pre) {
  for (int64_t j = 0; j < d.OC; j += 32) {
    const int64_t w = d.OC - j < 32 ? d.OC - j : 32;
    const float* b = bias ? bias + j : nullptr;
    float* pj = pre ? pre + j : nullptr;
    switch (w) {
      case 8: fwd_image<1>(d, xp, weight + j, b, relu, out + j, pj); break;
      case 16: fwd_image<2>(d, xp, weight + j, b, relu, out + j, pj); break;
      case 24: fwd_image<3>(d, xp, weight + j, b, relu, out + j, pj); break;
      case 32: fwd_image<4>(d, xp, weight + j, b, relu, out + j, pj); break;
      default: break;  // the driver only calls with OC % 8 == 0
    }
  }
}

void direct_weights_avx2(const DirectConv& d, const float* xp, const float* dz, float* part, float* pbias) {
  for (int64_t j = 0; j < d.OC; j += 32) {
    const int64_t w = d.OC - j < 32 ? d.OC - j : 32;
    switch (w) {
      case 8: wgt_image<1>(d, xp, dz + j, part + j, pbias + j); break;
      case 16: wgt_image<2>(d, xp, dz + j, part + j, pbias + j); break;
      case 24: wgt_image<3>(d, xp, dz + j, part + j, pbias + j); break;
      case 32: wgt_image<4>(d, xp, dz + j, part + j, pbias + j); break;
      default: break;
    }
  }
}

void direct_data_avx2(const DirectConv& d, const float* dz, const float* wt, float* dxp) {
  if (d.dat_row3) {
    switch (d.C) {
      case 8: dat_image_row3<8>(d, dz, wt, dxp); return;
      case 16: dat_image_row3<16>(d, dz, wt, dxp); return;
      case 24: dat_image_row3<24>(d, dz, wt, dxp); return;
      case 32: dat_image_row3<32>(d, dz, wt, dxp); return;
      default: break;
    }
  }
  for (int64_t j = 0; j < d.C; j += 32) {
    const int64_t w = d.C - j < 32 ? d.C - j : 32;
    switch (w) {
      case 8: dat_image<1>(d, dz, wt + j, dxp + j); break;
      case 16: dat_image<2>(d, dz, wt + j, dxp + j); break;
      case 24: dat_image<3>(d, dz, wt + j, dxp + j); break;
      case 32: dat_image<4>(d, dz, wt + j, dxp + j); break;
      default: break;
    }
  }
}

void direct_relu_grad_avx2(float* dz, const float* dy, const float* y, int64_t rows, int64_t len, int64_t stride) {
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t i = 0; i < rows; ++i, dz += len, dy += stride, y += stride)
    for (int64_t j = 0; j < len; j += 8) {
      // y > 0 ? dy : 0 (NaN y → 0, NaN dy with y > 0 → NaN), as activation_backward's relu
      const __m256 m = _mm256_cmp_ps(_mm256_loadu_ps(y + j), zero, _CMP_GT_OQ);
      _mm256_storeu_ps(dz + j, _mm256_and_ps(m, _mm256_loadu_ps(dy + j)));
    }
}

}  // namespace baeum
