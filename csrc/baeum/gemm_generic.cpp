// gemm_generic.cpp — portable C++ micro-kernel: a 4×16 register tile, compiled for the
// baseline ISA of the build (SSE2 on x86-64, NEON on arm64) and auto-vectorised.
//
//   C[0:m, 0:n] = Ã · B̃ + beta · C          m ≤ 4, n ≤ 16    (contract: gemm_kernels.h)
//
// The accumulator array has compile-time bounds so the compiler keeps it in registers;
// the rows and columns beyond (m, n) are computed on zero padding and never stored.
// When B̃ is B itself (unpacked), only j < n is read, so the tail loop is scalar.
// Unlike the SIMD paths this uses separate multiply and add (no FMA in the baseline
// ISA), so it can differ from them in the last bit.
#include "baeum/gemm_kernels.h"

namespace baeum {
namespace {

constexpr int MR = 4;
constexpr int NR = 16;

// RowsA false: A element (r, p) at a[p*lda + r] (packed panel: lda = MR; or Aᵀ stored).
// RowsA true:  A element (r, p) at a[r*lda + p] (A row-major, read in place).
template <int M, bool RowsA>
void tile_t(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
            int64_t ldc, int n, float beta) {
  float acc[M][NR] = {};
  if (n == NR) {
    for (int64_t p = 0; p < k; ++p) {
      for (int r = 0; r < M; ++r) {
        const float ar = RowsA ? a[r * lda + p] : a[r];
        for (int j = 0; j < NR; ++j) acc[r][j] += ar * b[j];
      }
      if (!RowsA) a += lda;
      b += ldb;
    }
  } else {
    for (int64_t p = 0; p < k; ++p) {
      for (int r = 0; r < M; ++r) {
        const float ar = RowsA ? a[r * lda + p] : a[r];
        for (int j = 0; j < n; ++j) acc[r][j] += ar * b[j];
      }
      if (!RowsA) a += lda;
      b += ldb;
    }
  }
  for (int r = 0; r < M; ++r) {
    float* cr = c + r * ldc;
    if (beta == 0.0f) {
      for (int j = 0; j < n; ++j) cr[j] = acc[r][j];
    } else {
      for (int j = 0; j < n; ++j) cr[j] = acc[r][j] + beta * cr[j];
    }
  }
}

template <bool RowsA>
void tile_m(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
            int64_t ldc, int m, int n, float beta) {
  switch (m) {
    case 1: tile_t<1, RowsA>(k, a, lda, b, ldb, c, ldc, n, beta); break;
    case 2: tile_t<2, RowsA>(k, a, lda, b, ldb, c, ldc, n, beta); break;
    case 3: tile_t<3, RowsA>(k, a, lda, b, ldb, c, ldc, n, beta); break;
    default: tile_t<4, RowsA>(k, a, lda, b, ldb, c, ldc, n, beta); break;
  }
}

void tile(int64_t k, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int m,
          int n, float beta) {
  tile_m<false>(k, a, MR, b, ldb, c, ldc, m, n, beta);
}

void tile_a(int64_t k, const float* a, int64_t lda, bool a_rows, const float* b, int64_t ldb,
            float* c, int64_t ldc, int m, int n, float beta) {
  if (a_rows)
    tile_m<true>(k, a, lda, b, ldb, c, ldc, m, n, beta);
  else
    tile_m<false>(k, a, lda, b, ldb, c, ldc, m, n, beta);
}

double fma_loop(int64_t iters) {
  float x[12][4];
  for (int i = 0; i < 12; ++i)
    for (int l = 0; l < 4; ++l) x[i][l] = 1.0f + 1e-7f * i;
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i)
      for (int l = 0; l < 4; ++l) x[i][l] = x[i][l] * 0.999999f + 1e-7f;
  float s = 0;
  for (int i = 0; i < 12; ++i)
    for (int l = 0; l < 4; ++l) s += x[i][l];
  volatile float sink = s;
  (void)sink;
  return static_cast<double>(iters) * 12 * 4 * 2;
}

const MicroKernel kKernel = {"generic", MR, NR, /*mc=*/128, /*kc=*/256, /*nc=*/4096, &tile, &fma_loop,
                             &tile_a};

}  // namespace

const MicroKernel& microkernel_generic() { return kKernel; }

}  // namespace baeum
