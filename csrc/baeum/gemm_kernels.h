// gemm_kernels.h — the contract between the GEMM driver (gemm.cpp) and the
// micro-kernels (gemm_generic.cpp, gemm_avx2.cpp, gemm_avx512.cpp).
//
// A micro-kernel computes one register tile:
//   C[0:m, 0:n] = Ã · B̃ + beta · C[0:m, 0:n]     (beta == 0: C is not read)
//   Ã: packed A panel, element (r, p) at a[p*mr + r], r < m ≤ mr, p < k (or, for tile_a,
//      A itself read in place: see below)
//   B̃: element (p, j) at b[p*ldb + j], j < n ≤ nr. Either a packed panel (ldb = nr,
//      zero-padded) or B itself when it needs no packing; only j < n is ever read.
//
// Nothing in this header is inline code: each ISA file is compiled with its own
// -m flags, and an inline function shared between them could be emitted with AVX-512
// instructions and then picked by the linker for the generic path (SIGILL on old CPUs).
#pragma once
#include <cstdint>

namespace baeum {

struct MicroKernel {
  const char* name;
  int mr, nr;                 // register tile
  int64_t mc, kc, nc;         // cache blocks: Ã block mc×kc in L2, B̃ panel kc×nr in L1, kc×nc in L3
  void (*tile)(int64_t k, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
               int m, int n, float beta);
  // Runs `iters` rounds of independent FMAs; returns the FLOPs done (for the peak probe).
  double (*fma_loop)(int64_t iters);
  // Optional (nullptr: the driver always packs A). Same as `tile`, but A is read in place
  // with alpha = 1: element (r, p) at a[r*lda + p] if a_rows (A row-major), else at
  // a[p*lda + r] (Aᵀ stored; a packed panel is the case lda = mr). Only r < m is read.
  // Must give bit-identical results to `tile` on the packed copy of the same A.
  void (*tile_a)(int64_t k, const float* a, int64_t lda, bool a_rows, const float* b,
                 int64_t ldb, float* c, int64_t ldc, int m, int n, float beta);
};

const MicroKernel& microkernel_generic();
#if defined(BAEUM_X86)
const MicroKernel& microkernel_avx2();
const MicroKernel& microkernel_avx512();
#endif

}  // namespace baeum
