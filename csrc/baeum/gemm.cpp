// gemm.cpp — the GEMM driver: GotoBLAS/BLIS blocking around a register-tile micro-kernel.
//
//   C = alpha · op(A) · op(B) + beta · C      (shapes: see gemm.h)
//
// Glossary: M, N, K problem sizes; MR×NR register tile; MC×KC block of Ã (packed A,
// alpha folded in) kept in L2; KC×NR panel of B̃ (packed B) kept in L1; KC×NC of B̃ in L3.
//
//   for jc in 0..N step NC                     loop 5
//     for pc in 0..K step KC                   loop 4: pack B[pc:+KC, jc:+NC] → B̃ (or use B as is)
//       for ic in 0..M step MC                 loop 3: pack A[ic:+MC, pc:+KC] → Ã (or use A as is)
//         for jr in 0..NC step NR              loop 2: B̃ panel stays in L1
//           for ir in 0..MC step MR            loop 1
//             tile(KC, Ã[ir], B̃[jr], C[ic+ir, jc+jr])     MR×NR accumulators in registers
//
// "As is": a narrow rectangle (≤ 4 column panels) with alpha = 1 skips packing A and the
// micro-kernel reads A in place (tile_a); small B that needs no transpose is read in place
// too (BMode::direct). Same products in the same order: results do not depend on the choice.
//
// Threads: C is cut into one rectangle per thread (along N when it is wide, else M, or a
// grid), and each thread runs the serial loops above on its rectangle with its own
// packing buffers. No barriers, no shared writes, and K is never split, so every C
// element is summed in the same order whatever the thread count: bit-identical results.
#include "baeum/gemm.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "baeum/gemm_kernels.h"
#include "baeum/parallel.h"

#if defined(__SSE2__)
#include <emmintrin.h>  // baseline on x86-64: safe in this generic file
#endif

namespace baeum {

// ---------------------------------------------------------------------------------------
// Path selection
// ---------------------------------------------------------------------------------------

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::generic: return true;
#if defined(BAEUM_X86)
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("fma");
#endif
    default: return false;
  }
}

Isa best_isa() {
  if (isa_supported(Isa::avx512)) return Isa::avx512;
  if (isa_supported(Isa::avx2)) return Isa::avx2;
  return Isa::generic;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "generic";
  }
}

static const MicroKernel& kernel_for(Isa isa) {
#if defined(BAEUM_X86)
  if (isa == Isa::avx512) return microkernel_avx512();
  if (isa == Isa::avx2) return microkernel_avx2();
#endif
  return microkernel_generic();
}

static std::atomic<int> g_isa{-1};
// Cache-block overrides (0 = the micro-kernel's own): for tuning sweeps, and for tests
// that drive every blocking edge with small matrices.
static std::atomic<int64_t> g_mc{0}, g_kc{0}, g_nc{0};

void set_gemm_blocking(int64_t mc, int64_t kc, int64_t nc) {
  g_mc.store(mc > 0 ? mc : 0);
  g_kc.store(kc > 0 ? kc : 0);
  g_nc.store(nc > 0 ? nc : 0);
}

// The active kernel with its cache blocks (overrides applied; MC and NC rounded up to
// whole register tiles so every block but the last is full).
static MicroKernel active_kernel() {
  MicroKernel k = kernel_for(gemm_isa());
  if (int64_t v = g_mc.load()) k.mc = (v + k.mr - 1) / k.mr * k.mr;
  if (int64_t v = g_kc.load()) k.kc = v;
  if (int64_t v = g_nc.load()) k.nc = (v + k.nr - 1) / k.nr * k.nr;
  return k;
}

Isa gemm_isa() {
  int v = g_isa.load(std::memory_order_relaxed);
  if (v < 0) {
    v = static_cast<int>(best_isa());
    g_isa.store(v, std::memory_order_relaxed);
  }
  return static_cast<Isa>(v);
}

bool set_gemm_isa(Isa isa) {
  if (!isa_supported(isa)) return false;
  g_isa.store(static_cast<int>(isa), std::memory_order_relaxed);
  return true;
}

GemmBlocking gemm_blocking() {
  const MicroKernel k = active_kernel();
  return {k.mr, k.nr, k.mc, k.kc, k.nc};
}

// ---------------------------------------------------------------------------------------
// Packing
// ---------------------------------------------------------------------------------------

// Element (i, p) of op(A) and (p, j) of op(B): transposes are absorbed here.
struct MatView {
  const float* p;
  int64_t ld;
  bool trans;
  float at(int64_t r, int64_t c) const { return trans ? p[c * ld + r] : p[r * ld + c]; }
};

// dst[p*ld_dst + r] = scale · src[r*ld_src + p] for r < rows, p < len: the transposing copy
// both packs need (A stored row-major into MR-row panels, and Bᵀ into NR-column panels).
// Why 4×4 blocks: one SSE transpose moves 16 floats with 4 loads and 4 stores, where the
// scalar loop needs 16 strided stores; this copy is a large share of small-M GEMMs.
static void transpose_pack(const float* src, int64_t ld_src, int64_t rows, int64_t len, float* dst,
                           int64_t ld_dst, float scale) {
  int64_t r = 0;
#if defined(__SSE2__)
  const __m128 vs = _mm_set1_ps(scale);
  for (; r + 4 <= rows; r += 4) {
    const float* s0 = src + r * ld_src;
    const float *s1 = s0 + ld_src, *s2 = s1 + ld_src, *s3 = s2 + ld_src;
    int64_t p = 0;
    for (; p + 4 <= len; p += 4) {
      __m128 x0 = _mm_mul_ps(vs, _mm_loadu_ps(s0 + p)), x1 = _mm_mul_ps(vs, _mm_loadu_ps(s1 + p));
      __m128 x2 = _mm_mul_ps(vs, _mm_loadu_ps(s2 + p)), x3 = _mm_mul_ps(vs, _mm_loadu_ps(s3 + p));
      _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
      _mm_storeu_ps(dst + (p + 0) * ld_dst + r, x0);
      _mm_storeu_ps(dst + (p + 1) * ld_dst + r, x1);
      _mm_storeu_ps(dst + (p + 2) * ld_dst + r, x2);
      _mm_storeu_ps(dst + (p + 3) * ld_dst + r, x3);
    }
    for (; p < len; ++p) {
      float* d = dst + p * ld_dst + r;
      d[0] = scale * s0[p], d[1] = scale * s1[p], d[2] = scale * s2[p], d[3] = scale * s3[p];
    }
  }
#endif
  for (; r < rows; ++r) {
    const float* s = src + r * ld_src;
    for (int64_t p = 0; p < len; ++p) dst[p * ld_dst + r] = scale * s[p];
  }
}

// Ã ← alpha · op(A)[i0:i0+mc, p0:p0+kc] as MR-row panels: panel q holds rows q·MR.., element
// (r, p) at q·MR·kc + p·MR + r. Rows past mc are zero so every panel is full height.
static void pack_a(const MatView& A, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float alpha,
                   int mr, float* out) {
  for (int64_t q = 0; q < mc; q += mr) {
    const int64_t rows = std::min<int64_t>(mr, mc - q);
    float* dst = out + q * kc;
    if (!A.trans) {
      // A row-major: each row is contiguous in p; transpose it into the panel.
      transpose_pack(A.p + (i0 + q) * A.ld + p0, A.ld, rows, kc, dst, mr, alpha);
    } else {
      // Aᵀ stored: the MR rows of one p are contiguous in memory.
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = A.p + (p0 + p) * A.ld + i0 + q;
        for (int64_t r = 0; r < rows; ++r) dst[p * mr + r] = alpha * src[r];
      }
    }
    for (int64_t r = rows; r < mr; ++r)
      for (int64_t p = 0; p < kc; ++p) dst[p * mr + r] = 0.0f;
  }
}

// B̃ ← op(B)[p0:p0+kc, j0:j0+nc] as NR-column panels: panel q holds columns q·NR.., element
// (p, j) at q·kc + p·NR + j. Columns past nc are zero.
static void pack_b(const MatView& B, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int nr,
                   float* out) {
  for (int64_t q = 0; q < nc; q += nr) {
    const int64_t cols = std::min<int64_t>(nr, nc - q);
    float* dst = out + q * kc;
    if (!B.trans) {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = B.p + (p0 + p) * B.ld + j0 + q;
        float* d = dst + p * nr;
        std::memcpy(d, src, cols * sizeof(float));
        for (int64_t j = cols; j < nr; ++j) d[j] = 0.0f;
      }
    } else {
      // Bᵀ stored: column j of op(B) is row j of the stored matrix, contiguous in p.
      transpose_pack(B.p + (j0 + q) * B.ld + p0, B.ld, cols, kc, dst, nr, 1.0f);
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t j = cols; j < nr; ++j) dst[p * nr + j] = 0.0f;
    }
  }
}

// Per-thread packing buffers, grown on demand and reused (no allocation per call once warm).
struct PackBuffer {
  float* data = nullptr;
  int64_t size = 0;
  float* get(int64_t n) {
    if (n > size) {
      std::free(data);
      // 64-byte aligned: whole cache lines, aligned vector loads. Size rounded to 64 B.
      size_t bytes = static_cast<size_t>((n * sizeof(float) + 63) / 64 * 64);
      data = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data) throw std::bad_alloc();
      size = n;
    }
    return data;
  }
  ~PackBuffer() { std::free(data); }
};

// ---------------------------------------------------------------------------------------
// Serial driver on one rectangle of C
// ---------------------------------------------------------------------------------------

struct Problem {
  MatView A, B;
  int64_t M, N, K;
  float alpha, beta;
  float* C;
  int64_t ldc;
  const GemmEpilogue* ep;
};

// How B̃ is made for one rectangle of C:
//  - direct: B needs no transpose and is small (≤ 128 KiB, so it stays in L2): the
//    micro-kernel reads B itself (row stride ldb) and the packing copy is saved. Large B is
//    never read directly: rows 4 KiB apart all land in the same L1 sets. Nor is B whose rows
//    are not whole cache lines apart (ldb not a multiple of 16 floats) when more than
//    kDirectBMaxRowTiles row tiles would read it: most of its vector loads then straddle two
//    lines, and a packed copy (aligned, contiguous) is repaid by the reuse — e.g. Dense's
//    dW = xᵀ·dz with U = 30 ran 5 % faster packed.
//  - per panel: the rectangle has one MC block of rows, so each KC×NR panel of B̃ is used by
//    one sweep of ir only: pack it (with its 3 neighbours) just before that sweep, into an
//    L2-sized buffer, instead of packing the whole KC×NC block out to L3 and reading it back.
//  - block: the classic upfront pack of KC×NC, reused by every MC block.
enum class BMode { direct, per_panel, block };

constexpr int64_t kDirectBMaxRowTiles = 8;

static BMode b_mode(const Problem& P, int64_t m, int64_t n, const MicroKernel& uk) {
  // (ld a multiple of 1024 floats = 4 KiB puts every row of a panel in the same L1 set.)
  const bool aliasing = P.B.ld % 1024 == 0 && P.K > 16;
  const bool straddles = P.B.ld % 16 != 0 && m > kDirectBMaxRowTiles * uk.mr;
  if (!P.B.trans && n * P.K <= 32768 && !aliasing && !straddles) return BMode::direct;
  if (m <= uk.mc) return BMode::per_panel;
  return BMode::block;
}

// A read in place (MicroKernel::tile_a) instead of packed into Ã, for rectangles at most
// this many register tiles wide. Why: packing costs about one pass over the A block and is
// repaid only by reuse across the n/NR column panels; for the narrow layers (N = 1..64)
// it was 15-30 % of the GEMM. Wider rectangles keep packing (contiguous, TLB-friendly Ã).
constexpr int64_t kDirectAMaxPanels = 4;

static bool a_direct(const Problem& P, int64_t n, const MicroKernel& uk) {
  return uk.tile_a != nullptr && P.alpha == 1.0f && n <= kDirectAMaxPanels * uk.nr;
}

// C[i0:i0+m, j0:j0+n] of the whole problem, on the calling thread.
static void gemm_rect(const Problem& P, const MicroKernel& uk, int64_t i0, int64_t m, int64_t j0,
                      int64_t n) {
  static thread_local PackBuffer buf_a, buf_b;
  const int mr = uk.mr, nr = uk.nr;
  const int64_t kc_max = std::min<int64_t>(uk.kc, P.K);
  const int64_t mc_max = std::min<int64_t>(uk.mc, (m + mr - 1) / mr * mr);
  const int64_t nc_max = std::min<int64_t>(uk.nc, (n + nr - 1) / nr * nr);
  const BMode mode = b_mode(P, m, n, uk);
  const bool direct_a = a_direct(P, n, uk);
  float* at = direct_a ? nullptr : buf_a.get(mc_max * kc_max);
  // per panel: pack kPanelGroup panels at a time — each B row is then read as one 512-byte
  // run instead of 128 bytes, so the TLB and DRAM pages are used 4x better (B is large here).
  constexpr int64_t kPanelGroup = 4;
  float* bt = mode == BMode::direct
                  ? nullptr
                  : buf_b.get((mode == BMode::block ? nc_max : kPanelGroup * nr) * kc_max);

  for (int64_t jc = 0; jc < n; jc += uk.nc) {
    const int64_t nc = std::min<int64_t>(uk.nc, n - jc);
    for (int64_t pc = 0; pc < P.K; pc += uk.kc) {
      const int64_t kc = std::min<int64_t>(uk.kc, P.K - pc);
      const float beta = pc == 0 ? P.beta : 1.0f;  // later K-blocks accumulate onto C
      const bool last_k = pc + kc == P.K;
      if (mode == BMode::block) pack_b(P.B, pc, kc, j0 + jc, nc, nr, bt);
      for (int64_t ic = 0; ic < m; ic += uk.mc) {
        const int64_t mc = std::min<int64_t>(uk.mc, m - ic);
        if (!direct_a) pack_a(P.A, i0 + ic, mc, pc, kc, P.alpha, mr, at);
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const int nn = static_cast<int>(std::min<int64_t>(nr, nc - jr));
          const float* bp = bt + jr * kc;
          int64_t ldb = nr;
          if (mode == BMode::direct) {
            bp = P.B.p + pc * P.B.ld + j0 + jc + jr;
            ldb = P.B.ld;
          } else if (mode == BMode::per_panel) {
            const int64_t g = (jr / nr) % kPanelGroup;
            if (g == 0) pack_b(P.B, pc, kc, j0 + jc + jr, std::min(kPanelGroup * nr, nc - jr), nr, bt);
            bp = bt + g * nr * kc;
          }
          for (int64_t ir = 0; ir < mc; ir += mr) {
            const int mm = static_cast<int>(std::min<int64_t>(mr, mc - ir));
            const int64_t ci = i0 + ic + ir, cj = j0 + jc + jr;
            float* cp = P.C + ci * P.ldc + cj;
            // Why: the tile's C lines are needed only after its k loop (thousands of cycles);
            // asking for them now hides the L3/DRAM latency of the final loads and stores.
            for (int r = 0; r < mm; ++r) {
              __builtin_prefetch(cp + r * P.ldc, 1);
              __builtin_prefetch(cp + r * P.ldc + nn - 1, 1);
            }
            if (direct_a) {
              // Element (ci, pc) of op(A): row ci of A, or column ci of the stored Aᵀ.
              const float* ap = P.A.trans ? P.A.p + pc * P.A.ld + ci : P.A.p + ci * P.A.ld + pc;
              uk.tile_a(kc, ap, P.A.ld, !P.A.trans, bp, ldb, cp, P.ldc, mm, nn, beta);
            } else {
              uk.tile(kc, at + ir * kc, bp, ldb, cp, P.ldc, mm, nn, beta);
            }
            if (last_k && P.ep) P.ep->apply(*P.ep, cp, P.ldc, ci, cj, mm, nn);
          }
        }
      }
    }
  }
}

// C ← beta·C (K == 0 or alpha == 0: no product to add), then the epilogue.
static void scale_only(const Problem& P) {
  for (int64_t i = 0; i < P.M; ++i) {
    float* c = P.C + i * P.ldc;
    if (P.beta == 0.0f) {
      for (int64_t j = 0; j < P.N; ++j) c[j] = 0.0f;
    } else if (P.beta != 1.0f) {
      for (int64_t j = 0; j < P.N; ++j) c[j] *= P.beta;
    }
  }
  if (P.ep) P.ep->apply(*P.ep, P.C, P.ldc, 0, 0, P.M, P.N);
}

// Below this many multiply-adds a second thread costs more (fork/join ≈ 1 µs) than it saves.
constexpr int64_t kMinFmasPerThread = int64_t(1) << 17;

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
           int64_t ldc, const GemmEpilogue* epilogue) {
  if (M <= 0 || N <= 0) return;
  Problem P{{A, lda, trans_a}, {B, ldb, trans_b}, M, N, K, alpha, beta, C, ldc, epilogue};
  if (K <= 0 || alpha == 0.0f) {
    scale_only(P);
    return;
  }
  const MicroKernel uk = active_kernel();
  const int64_t mt = (M + uk.mr - 1) / uk.mr;  // row tiles
  const int64_t nt = (N + uk.nr - 1) / uk.nr;  // column tiles
  int threads = threads_for(M * N * K, kMinFmasPerThread);
  threads = static_cast<int>(std::min<int64_t>(threads, mt * nt));
  if (threads <= 1) {
    gemm_rect(P, uk, 0, M, 0, N);
    return;
  }
  // Grid tm × tn = threads that minimises the largest rectangle plus the packing each
  // thread repeats (a thread packs all of A for its columns and all of B for its rows).
  int tm = 1, tn = threads;
  double best = 1e300;
  for (int d = 1; d <= threads; ++d) {
    if (threads % d) continue;
    const int64_t gm = d, gn = threads / d;
    if (gm > mt || gn > nt) continue;
    const double rows = double((mt + gm - 1) / gm) * uk.mr, cols = double((nt + gn - 1) / gn) * uk.nr;
    const double cost = rows * cols * K + 2.0 * (rows + cols) * K;
    if (cost < best) best = cost, tm = static_cast<int>(gm), tn = static_cast<int>(gn);
  }
  const int team = tm * tn;
#if defined(BAEUM_OPENMP)
#pragma omp parallel num_threads(team)
#endif
  {
    const int t = thread_id();
    if (t < team) {
      const int ti = t / tn, tj = t % tn;
      // Tile ranges [a, b) along each axis, in whole register tiles.
      const int64_t r0 = mt * ti / tm, r1 = mt * (ti + 1) / tm;
      const int64_t c0 = nt * tj / tn, c1 = nt * (tj + 1) / tn;
      const int64_t i0 = r0 * uk.mr, i1 = std::min<int64_t>(M, r1 * uk.mr);
      const int64_t j0 = c0 * uk.nr, j1 = std::min<int64_t>(N, c1 * uk.nr);
      if (i1 > i0 && j1 > j0) gemm_rect(P, uk, i0, i1 - i0, j0, j1 - j0);
    }
  }
}

void sgemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
  const MatView a{A, lda, trans_a}, b{B, ldb, trans_b};
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      float sum = 0.0f;
      for (int64_t p = 0; p < K; ++p) sum += a.at(i, p) * b.at(p, j);
      float* c = C + i * ldc + j;
      *c = alpha * sum + (beta == 0.0f ? 0.0f : beta * *c);
    }
  }
}

double fma_peak_gflops(Isa isa, int threads, double seconds) {
  if (!isa_supported(isa)) return 0.0;
  const MicroKernel& uk = kernel_for(isa);
  if (threads < 1) threads = 1;
  double best = 0.0;
  // Calibrate the iteration count, then take the best of a few timed rounds.
  int64_t iters = 1 << 16;
  for (int round = 0; round < 8; ++round) {
    double flops = 0.0;
    auto t0 = std::chrono::steady_clock::now();
#if defined(BAEUM_OPENMP)
#pragma omp parallel num_threads(threads) reduction(+ : flops)
#endif
    { flops += uk.fma_loop(iters); }
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dt > 0) best = std::max(best, flops / dt * 1e-9);
    if (dt < seconds / 4) iters *= 2;
  }
  return best;
}

}  // namespace baeum
