// gemm.h — single-precision matrix multiply, the kernel every layer spends its time in.
//
//   C = alpha · op(A) · op(B) + beta · C          op(X) = X or Xᵀ
//
// Shapes (row-major, leading dimension = distance between rows in floats):
//   op(A): M×K   stored A is M×K (lda ≥ K) or, with trans_a, K×M (lda ≥ M)
//   op(B): K×N   stored B is K×N (ldb ≥ N) or, with trans_b, N×K (ldb ≥ K)
//   C:     M×N   ldc ≥ N
// beta == 0 means C is write-only (never read, so garbage/NaN in C is ignored).
//
// Other kernels (Dense, conv, LSTM) call sgemm() directly and may pass an epilogue
// that runs on each finished tile of C while it is still in cache (bias add,
// activation), so no extra pass over C is needed.
#pragma once
#include <cstdint>

namespace baeum {

// Called once for every finished m×n tile of C whose top-left element is C(i0, j0);
// `c` points at that element. Runs after the last K-block was accumulated.
struct GemmEpilogue {
  void (*apply)(const GemmEpilogue& ep, float* c, int64_t ldc, int64_t i0, int64_t j0,
                int64_t m, int64_t n);
  const float* bias = nullptr;  // optional, per column j (length N)
  int act = 0;                  // meaning is up to `apply` (see elementwise kernels)
  void* user = nullptr;         // anything else the caller needs
};

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
           int64_t ldc, const GemmEpilogue* epilogue = nullptr);

// The textbook triple loop, same contract (no epilogue). For reading and testing.
void sgemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc);

// Micro-kernel paths. The best one the CPU supports is chosen at import; tests may
// force another (set_gemm_isa returns false if this CPU or build cannot run it).
enum class Isa : int { generic = 0, avx2 = 1, avx512 = 2 };
Isa gemm_isa();
bool set_gemm_isa(Isa isa);
bool isa_supported(Isa isa);
const char* isa_name(Isa isa);
Isa best_isa();

// Register tile and cache blocks of the active path (for show_config and tests).
struct GemmBlocking { int mr, nr; int64_t mc, kc, nc; };
GemmBlocking gemm_blocking();
// Override MC, KC, NC (0 = default). For tuning and tests only.
void set_gemm_blocking(int64_t mc, int64_t kc, int64_t nc);

// FP32 FMA throughput of `isa` on `threads` threads, measured by a loop of independent
// FMAs for about `seconds`. Returns GFLOP/s (1 FMA = 2 FLOP).
double fma_peak_gflops(Isa isa, int threads, double seconds);

}  // namespace baeum
