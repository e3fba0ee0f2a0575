// gemm_avx2.cpp — AVX2+FMA micro-kernel: a 6×16 register tile (12 ymm accumulators).
// Compiled with -mavx2 -mfma; used when the CPU has AVX2 and FMA but not AVX-512.
//
//   C[0:m, 0:n] = Ã · B̃ + beta · C          m ≤ 6, n ≤ 16    (contract: gemm_kernels.h)
//   per p: 2 vector loads of B̃ row p, 6 broadcasts of Ã column p, 12 FMAs.
//
// Why 6×16: 12 accumulators + 2 B vectors + 1 broadcast = 15 of 16 ymm registers (the
// BLIS haswell/zen shape). Edge tiles use smaller instantiations; the last vector of a
// row is loaded and stored with a mask, so nothing outside C is touched.
// No std:: templates here (see gemm_kernels.h).
#include <immintrin.h>

#include "baeum/gemm_kernels.h"

namespace baeum {
namespace {

constexpr int MR = 6;
constexpr int NV_MAX = 2;  // vectors of 8 floats per tile row
constexpr int NR = 8 * NV_MAX;

inline __m256i lane_mask(int valid) {  // lanes [0, valid) set
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), idx);
}

// p[0:n] = x[0:n] for 0 < n < 8 with at most three plain stores (no masked store).
inline void store_tail(float* p, __m256 x, int n) {
  __m128 h = _mm256_castps256_ps128(x);
  if (n >= 4) {
    _mm_storeu_ps(p, h);
    h = _mm256_extractf128_ps(x, 1);
    p += 4, n -= 4;
  }
  if (n >= 2) {
    _mm_storel_pi(reinterpret_cast<__m64*>(p), h);
    h = _mm_movehl_ps(h, h);
    p += 2, n -= 2;
  }
  if (n >= 1) _mm_store_ss(p, h);
}

// RowsA false: A element (r, p) at a[p*lda + r] (packed panel: lda = MR; or Aᵀ stored).
// RowsA true:  A element (r, p) at a[r*lda + p] (A row-major, read in place).
template <int M, int NV, bool RowsA>
void tile_t(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
            int64_t ldc, int n, float beta) {
  const int tail = n - 8 * (NV - 1);
  const __m256i last = lane_mask(tail);

  __m256 acc[M][NV];
#pragma GCC unroll 8
  for (int r = 0; r < M; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();

  const bool full_tail = tail >= 8;
#pragma GCC unroll 2
  for (int64_t p = 0; p < k; ++p) {
    __m256 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = (v == NV - 1 && !full_tail) ? _mm256_maskload_ps(b + 8 * v, last)
                                          : _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 8
    for (int r = 0; r < M; ++r) {
      const __m256 ar = _mm256_broadcast_ss(RowsA ? a + r * lda + p : a + r);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
    }
    if (!RowsA) a += lda;
    b += ldb;
  }

  const __m256 vbeta = _mm256_set1_ps(beta);
#pragma GCC unroll 8
  for (int r = 0; r < M; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* cp = c + r * ldc + 8 * v;
      const bool whole = v < NV - 1 || full_tail;
      __m256 x = acc[r][v];
      if (beta != 0.0f)
        x = _mm256_fmadd_ps(vbeta, whole ? _mm256_loadu_ps(cp) : _mm256_maskload_ps(cp, last), x);
      // Why not vmaskmovps for every store: on AMD Zen a masked 256-bit store is microcoded
      // (tens of µops); full vectors use a plain store and the tail a few narrow ones.
      if (whole)
        _mm256_storeu_ps(cp, x);
      else
        store_tail(cp, x, tail);
    }
  }
}

using TileFn = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t,
                        int, float);

template <bool RowsA>
struct Tiles {
  static constexpr TileFn fn[MR][NV_MAX] = {
      {&tile_t<1, 1, RowsA>, &tile_t<1, 2, RowsA>}, {&tile_t<2, 1, RowsA>, &tile_t<2, 2, RowsA>},
      {&tile_t<3, 1, RowsA>, &tile_t<3, 2, RowsA>}, {&tile_t<4, 1, RowsA>, &tile_t<4, 2, RowsA>},
      {&tile_t<5, 1, RowsA>, &tile_t<5, 2, RowsA>}, {&tile_t<6, 1, RowsA>, &tile_t<6, 2, RowsA>},
  };
};

void tile(int64_t k, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int m,
          int n, float beta) {
  Tiles<false>::fn[m - 1][(n + 7) / 8 - 1](k, a, MR, b, ldb, c, ldc, n, beta);
}

void tile_a(int64_t k, const float* a, int64_t lda, bool a_rows, const float* b, int64_t ldb,
            float* c, int64_t ldc, int m, int n, float beta) {
  const TileFn f = a_rows ? Tiles<true>::fn[m - 1][(n + 7) / 8 - 1]
                          : Tiles<false>::fn[m - 1][(n + 7) / 8 - 1];
  f(k, a, lda, b, ldb, c, ldc, n, beta);
}

double fma_loop(int64_t iters) {
  __m256 x[12];
  for (int i = 0; i < 12; ++i) x[i] = _mm256_set1_ps(1.0f + 1e-7f * i);
  const __m256 m = _mm256_set1_ps(0.999999f), d = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) x[i] = _mm256_fmadd_ps(x[i], m, d);
  }
  __m256 s = x[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, x[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  volatile float sink = out[0];
  (void)sink;
  return static_cast<double>(iters) * 12 * 8 * 2;
}

const MicroKernel kKernel = {"avx2", MR, NR, /*mc=*/72, /*kc=*/512, /*nc=*/4080, &tile, &fma_loop,
                             &tile_a};

}  // namespace

const MicroKernel& microkernel_avx2() { return kKernel; }

}  // namespace baeum
