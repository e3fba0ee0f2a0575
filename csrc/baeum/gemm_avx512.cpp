// gemm_avx512.cpp — AVX-512 micro-kernel: a 14×32 register tile (28 zmm accumulators).
// Compiled with -mavx512f/bw/vl/dq; used only when the CPU reports AVX-512F.
//
//   C[0:m, 0:n] = Ã · B̃ + beta · C          m ≤ 14, n ≤ 32   (contract: gemm_kernels.h)
//   per p: 2 vector loads of B̃ row p, 14 broadcasts of Ã column p, 28 FMAs.
//
// Why 14×32: 28 accumulators + 2 B vectors + 1 broadcast = 31 of 32 zmm registers;
// more independent FMAs in flight than the 2 pipes × 4 cycles of latency need, and
// a 32-wide tile matches the 32/64/128-unit layers the course builds.
// Edge tiles (m < 14 or n < 32) run an instantiation of the same template with just
// the rows and vectors they need; the last vector uses a mask, so nothing is wasted
// and nothing outside C is touched.
// No std:: templates here (see gemm_kernels.h: they could leak AVX-512 code to other files).
#include <immintrin.h>

#include "baeum/gemm_kernels.h"

namespace baeum {
namespace {

constexpr int MR = 14;
constexpr int NV_MAX = 2;  // vectors of 16 floats per tile row
constexpr int NR = 16 * NV_MAX;

template <int M, int NV>
void tile_t(int64_t k, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
            int n, float beta) {
  // Mask of the valid lanes in the last vector of the row.
  const int tail = n - 16 * (NV - 1);
  const __mmask16 last = tail >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << tail) - 1u);

  __m512 acc[M][NV];
#pragma GCC unroll 16
  for (int r = 0; r < M; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();

#pragma GCC unroll 2
  for (int64_t p = 0; p < k; ++p) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = (v == NV - 1) ? _mm512_maskz_loadu_ps(last, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int r = 0; r < M; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
    }
    a += MR;
    b += ldb;
  }

  const __m512 vbeta = _mm512_set1_ps(beta);
#pragma GCC unroll 16
  for (int r = 0; r < M; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* cp = c + r * ldc + 16 * v;
      const __mmask16 mk = (v == NV - 1) ? last : (__mmask16)0xFFFF;
      __m512 x = acc[r][v];
      if (beta != 0.0f) x = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(mk, cp), x);
      _mm512_mask_storeu_ps(cp, mk, x);
    }
  }
}

using TileFn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, int, float);

template <int M>
constexpr TileFn pick_nv(int nv) {
  return nv == 1 ? &tile_t<M, 1> : &tile_t<M, 2>;
}

// table[m-1][nv-1]: one instantiation per edge shape.
const TileFn kTiles[MR][NV_MAX] = {
    {pick_nv<1>(1), pick_nv<1>(2)},   {pick_nv<2>(1), pick_nv<2>(2)},
    {pick_nv<3>(1), pick_nv<3>(2)},   {pick_nv<4>(1), pick_nv<4>(2)},
    {pick_nv<5>(1), pick_nv<5>(2)},   {pick_nv<6>(1), pick_nv<6>(2)},
    {pick_nv<7>(1), pick_nv<7>(2)},   {pick_nv<8>(1), pick_nv<8>(2)},
    {pick_nv<9>(1), pick_nv<9>(2)},   {pick_nv<10>(1), pick_nv<10>(2)},
    {pick_nv<11>(1), pick_nv<11>(2)}, {pick_nv<12>(1), pick_nv<12>(2)},
    {pick_nv<13>(1), pick_nv<13>(2)}, {pick_nv<14>(1), pick_nv<14>(2)},
};

void tile(int64_t k, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int m,
          int n, float beta) {
  kTiles[m - 1][(n + 15) / 16 - 1](k, a, b, ldb, c, ldc, n, beta);
}

double fma_loop(int64_t iters) {
  // 12 independent chains: enough to cover 2 pipes × 4-6 cycles of FMA latency.
  __m512 x[12];
  for (int i = 0; i < 12; ++i) x[i] = _mm512_set1_ps(1.0f + 1e-7f * i);
  const __m512 m = _mm512_set1_ps(0.999999f), d = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) x[i] = _mm512_fmadd_ps(x[i], m, d);
  }
  __m512 s = x[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, x[i]);
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  volatile float sink = out[0];
  (void)sink;
  return static_cast<double>(iters) * 12 * 16 * 2;
}

const MicroKernel kKernel = {"avx512", MR, NR, /*mc=*/168, /*kc=*/512, /*nc=*/4096, &tile, &fma_loop,
                             /*tile_a=*/nullptr};  // no in-place A path: not testable here (no AVX-512 CPU)

}  // namespace

const MicroKernel& microkernel_avx512() { return kKernel; }

}  // namespace baeum
