// rnn.cpp — SimpleRNN, LSTM and GRU over whole sequences (Keras 3 semantics and layouts).
//
// Shapes: N batch, T timesteps, F features, U units, G gates, GU = G·U (see rnn.h).
// Per step s (input time t = s, or T−1−s with go_backwards), x_t (N,F), h = h_{s−1} (N,U):
//   SimpleRNN  h_s = act(x_t·W + b + h·R)                                    W (F,U)  R (U,U)
//   LSTM       z = x_t·W + b + h·R, blocks [i f g o] (Keras order i, f, c, o)   W (F,4U) R (U,4U)
//              i,f,o = ract(z_i,f,o)  g = act(z_g)  c_s = f⊙c_{s−1} + i⊙g  h_s = o⊙act(c_s)
//   GRU        mx = x_t·W + b_x   blocks [z r h] (Keras order)                 W (F,3U) R (U,3U)
//     reset_after (default): mh = h·R + b_h; z = ract(mx_z+mh_z); r = ract(mx_r+mh_r)
//                            ĥ = act(mx_h + r⊙mh_h)
//     reset_before:          z, r as above without b_h; ĥ = act(mx_h + (r⊙h)·R_h)
//     both:                  h_s = z⊙h + (1−z)⊙ĥ
//   mask[n,t] == 0: row n keeps its state (h_s = h_{s−1}, c_s = c_{s−1}).
//   rmask (N,U), SimpleRNN/LSTM recurrent dropout: the product uses (h⊙rmask)·R instead of h·R.
//   Per-gate masks (rnn_gatemask_*, Keras implementation 1; LSTM, GRU): mx_k (N,F), m_k (N,U)
//   per gate k, fixed over t: gate k's products are (x_t⊙mx_k)·W_k and (h⊙m_k)·R_k (GRU
//   reset_before: ĥ = act(mx_h + (r⊙h⊙m_h)·R_h); the GRU update z⊙h is unmasked).
// Backward (BPTT, derivation in docs/rnn.md), with dh = ∂L/∂hs[s] + dh_next:
//   per step: gate gradients dG (pre-activation), dh_prev = dG·Rᵀ + direct terms
//   after the loop: dW += Xᵀ·dG_all, dR += H_prevᵀ·dG_all, db += Σ dG, dX = dG_all·Wᵀ.
//   Per-gate masks: dh_prev = Σ_k (dG_k·R_kᵀ) ⊙ m_k (+ direct), dX = Σ_k (dG_k·W_kᵀ) ⊙ mx_k,
//   dW_k += Σ_n mx_k[n] ⊙ (X_nᵀ·dG_k,n), dR_k += Σ_n m_k[n] ⊙ (H_nᵀ·dG_k,n) (per batch row n).
//
// How it is made fast (measurements in docs/rnn.md):
// * LSTM (tanh / sigmoid): no separate input projection; each step computes
//   z = [x_t | h_{s−1}]·[W; R] + b in one kernel call straight into the cache row, where the
//   gates read it from L1 (a separate N·T-row projection wrote 13 MB at 128 units and read
//   it back). Other cells: the projection of all N·T rows is one GEMM with the bias in its
//   epilogue, or for F ≤ 64 each thread's rows through the small kernel;
// * batch rows are independent through time, so each thread owns a fixed block of rows for
//   the whole sequence: one parallel region per call, no barrier per step, and results do
//   not depend on the thread count (each row is computed by the same code whatever the split);
// * the per-step product is a register-blocked kernel (6 rows × 16 columns of vector
//   accumulators, or 4 × 24 for 17–24 columns) over the right operand packed once per
//   sequence into column panels (sequential reads; at batch 32 × 20 units a general GEMM
//   call costs more in packing than the product); backward packs Rᵀ the same way for dh·Rᵀ;
// * gate math is explicit 8-lane vector code (vexp / vsigmoid / vtanh below) that also stores
//   what backward needs (activations, act(c)), so backward never recomputes an exp; LSTM
//   rows handle U mod 8 with an overlapping last vector instead of scratch copies;
// * weight gradients come after the time loop: SimpleRNN / LSTM as one GEMM over the rows
//   [x_t | h_{s−1} | 1] (dW, dR and db together, dG packed once), GRU as a few GEMMs;
// * per-gate masks reuse all of the above: per step one product per gate on the rows
//   [x_t⊙mx_k | h⊙m_k] (the same FLOPs as the fused step), the same gate passes; the weight
//   gradients per batch row with the masks factored out of the sum over t (gate_wgrad).
#include "baeum/rnn.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "baeum/fastmath.h"
#include "baeum/gemm.h"
#include "baeum/parallel.h"

namespace baeum {

namespace {

#if defined(__GNUC__)
#define RNN_INLINE inline __attribute__((always_inline))
#else
#define RNN_INLINE inline
#endif

// Why target_clones: the default build targets SSE2; the step kernel and the gate loops are
// FMA- and exp-bound, so x86-64-v3 (AVX2+FMA) / v4 (AVX-512) clones picked at load time are
// 2-4x faster. gcc < 12 cannot dispatch on x86-64-v3: it gets AVX2/AVX-512F clones (no FMA).
#if defined(BAEUM_X86) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define RNN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#elif defined(BAEUM_X86) && defined(__GNUC__) && !defined(__clang__)
#define RNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RNN_CLONES
#endif

constexpr int64_t kRowBlock = 4;  // rows per micro-kernel block; thread splits align to it
// Up to this many input features the input projection (forward) and dX = dG·Wᵀ (backward)
// run per thread with the small kernels: a general GEMM call costs more in packing there.
constexpr int64_t kSmallF = 64;

// Eight floats as one GCC/Clang vector: one ymm in the AVX2 / AVX-512 clones, two xmm in the
// SSE2 one. Why: gcc keeps a float acc[4][16] array on the stack; vector-typed locals stay
// in registers, which is what makes the kernel FMA-bound instead of load/store-bound.
typedef float v8f __attribute__((vector_size(32)));
// The same type for unaligned, aliasing loads: a plain vector load. (std::memcpy into a v8f
// array compiled to two 16-byte stores plus a 32-byte reload: a store-forwarding stall on
// every k, which was 60% of the kernel's time.)
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));

// C[MR×8·NV] = A[MR×K]·B[K×8·NV]: MR·NV vector accumulators, each element summed over k in order.
template <int MR, int NV>
RNN_INLINE void mm_block(float* C, int64_t ldc, const float* A, int64_t lda, const float* B,
                         int64_t ldb, int64_t K) {
  v8f acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = v8f{};
  for (int64_t k = 0; k < K; ++k) {
    v8f b[NV];
    for (int v = 0; v < NV; ++v) b[v] = *reinterpret_cast<const v8u*>(B + k * ldb + 8 * v);
    for (int r = 0; r < MR; ++r) {
      const float a = A[r * lda + k];
      for (int v = 0; v < NV; ++v) acc[r][v] += a * b[v];
    }
  }
  for (int r = 0; r < MR; ++r) std::memcpy(C + r * ldc, acc[r], sizeof(acc[r]));
}

// The last nb < 8 columns, one row: same per-element order (sum over k).
RNN_INLINE void mm_tail(float* C, const float* A, const float* B, int64_t ldb, int64_t K,
                        int64_t nb) {
  float acc[8] = {0};
  for (int64_t k = 0; k < K; ++k) {
    const float a = A[k];
    const float* b = B + k * ldb;
#pragma omp simd
    for (int64_t j = 0; j < nb; ++j) acc[j] += a * b[j];
  }
  std::memcpy(C, acc, sizeof(float) * nb);
}

// C (M×Nc, ldc) = A (M×K, lda) · B (K×Nc, ldb). Small sizes, called once per step per thread.
RNN_CLONES
void small_gemm(float* C, int64_t ldc, const float* A, int64_t lda, const float* B, int64_t ldb,
                int64_t M, int64_t K, int64_t Nc) {
  int64_t j0 = 0;
  for (; j0 + 16 <= Nc; j0 += 16) {
    int64_t i = 0;
    for (; i + kRowBlock <= M; i += kRowBlock)
      mm_block<kRowBlock, 2>(C + i * ldc + j0, ldc, A + i * lda, lda, B + j0, ldb, K);
    for (; i < M; ++i) mm_block<1, 2>(C + i * ldc + j0, ldc, A + i * lda, lda, B + j0, ldb, K);
  }
  if (j0 + 8 <= Nc) {
    int64_t i = 0;
    for (; i + kRowBlock <= M; i += kRowBlock)
      mm_block<kRowBlock, 1>(C + i * ldc + j0, ldc, A + i * lda, lda, B + j0, ldb, K);
    for (; i < M; ++i) mm_block<1, 1>(C + i * ldc + j0, ldc, A + i * lda, lda, B + j0, ldb, K);
    j0 += 8;
  }
  if (j0 < Nc)
    for (int64_t i = 0; i < M; ++i) mm_tail(C + i * ldc + j0, A + i * lda, B + j0, ldb, K, Nc - j0);
}

// Panel widths of a packed right operand: 16 columns while more than 24 remain, then one
// panel of 24, 16 or 8. Why 24: backward's dh·Rᵀ and dX have U or F (often ~20) columns;
// one 24-wide panel reads each row of A once instead of twice (16 + 8 with 4 dead lanes).
RNN_INLINE int64_t panel_width(int64_t left) {
  return left > 24 ? 16 : (left > 16 ? 24 : (left > 8 ? 16 : 8));
}

int64_t packed_size(int64_t K, int64_t Nc) {
  int64_t n = 0;
  for (int64_t j0 = 0; j0 < Nc; j0 += panel_width(Nc - j0)) n += K * panel_width(Nc - j0);
  return n;
}

// dst = B (K × Nc, element get(k, j)) as column panels [K][w], zero-padded past Nc.
// Why: the per-step product walks B once per row block; panels make that walk sequential
// (the unpacked (U, 4U) matrix is read with a 2 KB stride at 128 units: a cache line and
// often a TLB miss per k). Packed once per sequence, reused by all T steps.
template <class Get>
void pack_panels(float* dst, int64_t K, int64_t Nc, Get get) {
  for (int64_t j0 = 0; j0 < Nc; j0 += panel_width(Nc - j0)) {
    const int64_t w = panel_width(Nc - j0), nb = std::min(w, Nc - j0);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < w; ++j) *dst++ = j < nb ? get(k, j0 + j) : 0.0f;
  }
}

// C[MR×nb] = bias + A1[MR×K1]·P[0:K1] + A2[MR×K2]·P[K1:K1+K2] for one packed panel (nb ≤ 8·NV
// columns stored; bias, padded to 8·NV, may be null = 0). Two A segments: the LSTM step
// multiplies [x_t | h_{s−1}] by [W; R] without copying x_t and h_{s−1} side by side.
template <int MR, int NV>
RNN_INLINE void mm_panel(float* C, int64_t ldc, const float* A1, int64_t lda1, int64_t K1,
                         const float* A2, int64_t lda2, int64_t K2, const float* bias,
                         const float* P, int64_t nb) {
  v8f acc[MR][NV];
  for (int v = 0; v < NV; ++v) {
    const v8f b0 = bias ? *reinterpret_cast<const v8u*>(bias + 8 * v) : v8f{};
    for (int r = 0; r < MR; ++r) acc[r][v] = b0;
  }
  for (int64_t k = 0; k < K1; ++k) {
    v8f b[NV];
    for (int v = 0; v < NV; ++v) b[v] = *reinterpret_cast<const v8u*>(P + k * 8 * NV + 8 * v);
    for (int r = 0; r < MR; ++r) {
      const float a = A1[r * lda1 + k];
      for (int v = 0; v < NV; ++v) acc[r][v] += a * b[v];
    }
  }
  P += K1 * 8 * NV;
  for (int64_t k = 0; k < K2; ++k) {
    v8f b[NV];
    for (int v = 0; v < NV; ++v) b[v] = *reinterpret_cast<const v8u*>(P + k * 8 * NV + 8 * v);
    for (int r = 0; r < MR; ++r) {
      const float a = A2[r * lda2 + k];
      for (int v = 0; v < NV; ++v) acc[r][v] += a * b[v];
    }
  }
  // Why not memcpy(…, nb): a run-time size compiled to `rep movsq` (~30 cycles of start-up
  // per row, more than the 20-deep product itself at 20 units).
  if (nb == 8 * NV) {
    for (int r = 0; r < MR; ++r)
      for (int v = 0; v < NV; ++v) *reinterpret_cast<v8u*>(C + r * ldc + 8 * v) = acc[r][v];
  } else {
    for (int r = 0; r < MR; ++r) {
      alignas(32) float tmp[8 * NV];
      for (int v = 0; v < NV; ++v) *reinterpret_cast<v8f*>(tmp + 8 * v) = acc[r][v];
      for (int j = 0; j < 8 * NV; ++j)  // fixed trip count: unrolled, not turned into memcpy
        if (j < nb) C[r * ldc + j] = tmp[j];
    }
  }
}

// Rows [0, M) of one panel in blocks of 6, then 4, 2, 1 rows. Why 6: 6 × NV accumulators
// (12 for 16-wide panels) cover the FMA latency; 4 × 2 = 8 left the FMA units idle half
// the time at 128 units. Every row gets the same per-element FMA sequence whatever block
// it lands in, so results do not depend on M or the thread split.
template <int NV>
RNN_INLINE void panel_rows(float* C, int64_t ldc, const float* A1, int64_t lda1, int64_t K1,
                           const float* A2, int64_t lda2, int64_t K2, const float* bias,
                           const float* P, int64_t M, int64_t nb) {
  constexpr int MR = NV == 3 ? 4 : 6;  // 4 × 3 accumulators already fill the registers
  int64_t i = 0;
  auto block = [&](auto mr) {
    mm_panel<decltype(mr)::value, NV>(C + i * ldc, ldc, A1 + i * lda1, lda1, K1, A2 + i * lda2,
                                      lda2, K2, bias, P, nb);
    i += decltype(mr)::value;
  };
  while (i + MR <= M) block(std::integral_constant<int, MR>{});
  if (MR > 4 && i + 4 <= M) block(std::integral_constant<int, 4>{});
  if (i + 2 <= M) block(std::integral_constant<int, 2>{});
  if (i < M) block(std::integral_constant<int, 1>{});
}

// C (M×Nc, ldc) = bias + A1 (M×K1, lda1) · P[0:K1] + A2 (M×K2, lda2) · P[K1:], P = the
// (K1+K2) × Nc right operand packed by pack_panels; bias (null = 0) padded to the panels.
// cw > Nc: each row of C may be written up to column cw (the caller rewrites columns Nc..cw
// afterwards), so a last panel wider than what is left is stored whole, as vectors. Why: the
// per-gate products have Nc = U columns (20 → one 24-wide panel), and the scalar store of 20
// of 24 lanes cost a quarter of the product.
RNN_CLONES
void packed_gemm2(float* C, int64_t ldc, const float* A1, int64_t lda1, int64_t K1,
                  const float* A2, int64_t lda2, int64_t K2, const float* bias, const float* P,
                  int64_t M, int64_t Nc, int64_t cw = 0) {
  for (int64_t j0 = 0; j0 < Nc; j0 += panel_width(Nc - j0)) {
    const int64_t w = panel_width(Nc - j0);
    const int64_t nb = j0 + w <= cw ? w : std::min(w, Nc - j0);
    const float* b = bias ? bias + j0 : nullptr;
    if (w == 16)
      panel_rows<2>(C + j0, ldc, A1, lda1, K1, A2, lda2, K2, b, P, M, nb);
    else if (w == 24)
      panel_rows<3>(C + j0, ldc, A1, lda1, K1, A2, lda2, K2, b, P, M, nb);
    else
      panel_rows<1>(C + j0, ldc, A1, lda1, K1, A2, lda2, K2, b, P, M, nb);
    P += (K1 + K2) * w;
  }
}

// C (M×Nc, ldc) = A (M×K, lda) · B, B packed by pack_panels (cw as packed_gemm2).
RNN_INLINE void packed_gemm(float* C, int64_t ldc, const float* A, int64_t lda, const float* P,
                            int64_t M, int64_t K, int64_t Nc, int64_t cw = 0) {
  packed_gemm2(C, ldc, A, lda, 0, A, lda, K, nullptr, P, M, Nc, cw);
}

// exp / tanh from fastmath.h (shared with elementwise.cpp); sigmoid from them.
RNN_INLINE float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

// ---- eight lanes at a time (LSTM hot path) -----------------------------------------------
// Why explicit vectors: one `omp simd` loop with four sigmoid/tanh gates inlined needed
// more than 16 ymm registers and spilled its constants to the stack every iteration (the
// gate pass was 60% of the forward at 20 units). These small functions keep each loop lean.
// The v8f helpers below are always inlined into the target_clones functions; the psABI note
// about passing AVX vectors by value without AVX enabled (default clone) does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef int32_t v8i __attribute__((vector_size(32)));

RNN_INLINE v8f vload(const float* p) { return *reinterpret_cast<const v8u*>(p); }
RNN_INLINE void vstore(float* p, v8f v) { *reinterpret_cast<v8u*>(p) = v; }
RNN_INLINE v8f vsplat(float a) { return v8f{} + a; }

// e^x, x clamped to [-87, 88] so 2^n stays a normal float and one exponent add scales it
// (the general fast_exp splits 2^n in two and tests for ±inf). NaN stays NaN (the clamps
// compare false, the caller's final blend keeps x). ~2 ulp: Cody-Waite ln2 split + the
// same degree-6 polynomial as fast_exp.
RNN_INLINE v8f vexp(v8f x) {
  x = x > 88.0f ? vsplat(88.0f) : x;
  x = x < -87.0f ? vsplat(-87.0f) : x;
  const v8f magic = vsplat(12582912.0f);  // 1.5·2^23: adding it rounds to an integer
  const v8f t = x * 1.44269504088896341f + magic;
  const v8f fn = t - magic;
  const v8i n = reinterpret_cast<v8i>(t) - reinterpret_cast<v8i>(magic);
  v8f r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  v8f p = vsplat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const v8f er = p * (r * r) + r + 1.0f;
  return reinterpret_cast<v8f>(reinterpret_cast<v8i>(er) + (n << 23));
}

// a·σ(a·x) + c lane-wise: the sigmoid (a = 1, c = 0), or tanh(x) = 2σ(2x) − 1 (a = 2,
// c = −1; absolute error ~1e-7 near 0, where the LSTM only adds it to c). Why: all four
// LSTM gate blocks then go through one flat loop over the 4U contiguous values.
RNN_INLINE v8f vscaled_sigmoid(v8f x, v8f a, v8f c) {
  const v8f y = a / (1.0f + vexp(-(a * x))) + c;
  return x == x ? y : x;
}

// σ(x) = 1 / (1 + e^−x); NaN in, NaN out.
RNN_INLINE v8f vsigmoid(v8f x) {
  const v8f y = 1.0f / (1.0f + vexp(-x));
  return x == x ? y : x;
}

// tanh(x) = x·P(x²)/Q(x²), a rational fit made for this file (relative error < 3e-7 over
// [-9, 9], float32 evaluation; |x| ≥ 9 clamps to ±1). Why: one division and 9 FMAs instead
// of an exp, a division and a blend of two branches.
RNN_INLINE v8f vtanh(v8f x) {
  v8f xc = x > 9.0f ? vsplat(9.0f) : x;
  xc = xc < -9.0f ? vsplat(-9.0f) : xc;
  const v8f s = xc * xc;
  v8f p = vsplat(2.1354404355911072e-11f);
  p = p * s - 1.4051261029712769e-08f;
  p = p * s + 9.7061531256440597e-06f;
  p = p * s + 2.9697367037085053e-03f;
  p = p * s + 1.2965038599092110e-01f;
  p = p * s + 9.9999999779603721e-01f;
  v8f q = vsplat(2.3482036878707006e-04f);
  q = q * s + 2.3964465116088619e-02f;
  q = q * s + 4.6298362511395857e-01f;
  q = q * s + 1.0f;
  v8f y = (xc * p) / q;
  y = y > 1.0f ? vsplat(1.0f) : y;
  return y < -1.0f ? vsplat(-1.0f) : y;
}

// One LSTM row, tanh/sigmoid: z (4U pre-activations from x·W + b, in place → [i f g o φ(c)]),
// hr = h_{s−1}·R (4U), cprev → cn, hout. ga/gc: per-lane a, c of vscaled_sigmoid over the 4U
// gate values (a = 2, c = −1 in the g block), padded to a multiple of 8.
// hr == null: z already holds the whole pre-activation (x·W + b + h·R, fused step product).
// Why a flat σ pass over all 4U values (tanh(x) = 2σ(2x) − 1 in the g block): with U = 20 it
// is 10 full vectors instead of 4 gates × 3 vectors with a ragged one each. (Feeding the
// four gates of 8 lanes from registers into the cell update, without the store and reload
// in between, was tried and measured no faster.)
RNN_INLINE void lstm_row_fwd(float* z, const float* hr, const float* cprev, float* cn, float* hout,
                             const float* ga, const float* gc, int64_t U) {
  const int64_t GU = 4 * U;
  int64_t j = 0;
  if (hr) {
    for (; j + 8 <= GU; j += 8)
      vstore(z + j, vscaled_sigmoid(vload(z + j) + vload(hr + j), vload(ga + j), vload(gc + j)));
  } else {
    for (; j + 8 <= GU; j += 8)
      vstore(z + j, vscaled_sigmoid(vload(z + j), vload(ga + j), vload(gc + j)));
  }
  if (j < GU) {  // U odd: the last 4 gate values through zero-padded scratch
    alignas(32) float tz[8] = {0}, th[8] = {0};
    const int64_t r = GU - j;
    for (int64_t k = 0; k < r; ++k) tz[k] = z[j + k], th[k] = hr ? hr[j + k] : 0.0f;
    const v8f y = vscaled_sigmoid(vload(tz) + vload(th), vload(ga + j), vload(gc + j));
    vstore(tz, y);
    for (int64_t k = 0; k < r; ++k) z[j + k] = tz[k];
  }
  // Cell update; reads i f g o and c_{s−1}, writes φ(c), c, h: no location is both read and
  // written, so the ragged end can recompute the overlapping last 8 lanes (U ≥ 8).
  auto cell = [&](const float* zz, const float* cp, float* tcp, float* cnp, float* hp, int64_t k) {
    const v8f c = vload(zz + U + k) * vload(cp + k) + vload(zz + k) * vload(zz + 2 * U + k);
    const v8f tc = vtanh(c);
    vstore(tcp + k, tc);
    vstore(cnp + k, c);
    vstore(hp + k, vload(zz + 3 * U + k) * tc);
  };
  if (U >= 8) {
    int64_t k = 0;
    for (; k + 8 <= U; k += 8) cell(z, cprev, z + GU, cn, hout, k);
    if (k < U) cell(z, cprev, z + GU, cn, hout, U - 8);
    return;
  }
  // U < 8: through 8-wide scratch, stride U kept so `cell` reads the same offsets.
  alignas(32) float sz[4 * 8 + 8] = {0}, sc[8] = {0}, stc[8], scn[8], sh[8];
  for (int b = 0; b < 4; ++b)
    for (int64_t k = 0; k < U; ++k) sz[b * U + k] = z[b * U + k];
  for (int64_t k = 0; k < U; ++k) sc[k] = cprev[k];
  cell(sz, sc, stc, scn, sh, 0);
  for (int64_t k = 0; k < U; ++k) z[GU + k] = stc[k], cn[k] = scn[k], hout[k] = sh[k];
}


// GRU reset_after, lanes k..k+7 of one row (tanh / sigmoid): z = [mx_z mx_r mx_h] in,
// hr = h_{s−1}·R, b = recurrent bias b_h (zeros without bias); returns [z r ĥ mh_h] and h_s.
struct GruFwdLanes {
  v8f zg, rg, hh, m, h;
};
RNN_INLINE GruFwdLanes gru_fwd_lanes(const float* z, const float* hr, const float* b,
                                     const float* hpv, int64_t U, int64_t k) {
  GruFwdLanes l;
  l.zg = vsigmoid(vload(z + k) + vload(hr + k) + vload(b + k));
  l.rg = vsigmoid(vload(z + U + k) + vload(hr + U + k) + vload(b + U + k));
  l.m = vload(hr + 2 * U + k) + vload(b + 2 * U + k);
  l.hh = vtanh(vload(z + 2 * U + k) + l.rg * l.m);
  l.h = l.zg * vload(hpv + k) + (1.0f - l.zg) * l.hh;
  return l;
}
RNN_INLINE void gru_fwd_store(float* z, float* hout, const GruFwdLanes& l, int64_t U, int64_t k) {
  vstore(z + k, l.zg);
  vstore(z + U + k, l.rg);
  vstore(z + 2 * U + k, l.hh);
  vstore(z + 3 * U + k, l.m);
  vstore(hout + k, l.h);
}
// One GRU row, U ≥ 8, explicit vectors (same reasons and overlapping-last-vector scheme as
// lstm_row_fwd / lstm_row_bwd: the last vector is computed before z is overwritten in place).
RNN_INLINE void gru_row_fwd(float* z, const float* hr, const float* b, const float* hpv,
                            float* hout, int64_t U) {
  const int64_t U8 = U & ~int64_t(7);
  GruFwdLanes last{};
  if (U8 < U) last = gru_fwd_lanes(z, hr, b, hpv, U, U - 8);
  for (int64_t k = 0; k < U8; k += 8) gru_fwd_store(z, hout, gru_fwd_lanes(z, hr, b, hpv, U, k), U, k);
  if (U8 < U) gru_fwd_store(z, hout, last, U, U - 8);
}

// ---- fused gate math (tanh / sigmoid) --------------------------------------------------
// Each takes the gate blocks at stride S and runs n elements. Rows call them on the first
// U8 = U rounded down to 8 elements, then once more on the ragged tail copied into 8-wide
// zero-padded scratch (S = 8, n = 8). Why: with U = 20 the compiler's scalar epilogue for
// the last 4 elements cost more than the 16 vectorised ones (each element is 5 exps).

RNN_INLINE void gru_fwd_math(float* z, const float* hr, const float* bh, const float* hpv,
                             float* h, int64_t S, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float zg = fast_sigmoid(z[j] + hr[j] + bh[j]);
    const float rg = fast_sigmoid(z[S + j] + hr[S + j] + bh[S + j]);
    const float m = hr[2 * S + j] + bh[2 * S + j];
    const float hh = fast_tanh(z[2 * S + j] + rg * m);
    z[j] = zg;
    z[S + j] = rg;
    z[2 * S + j] = hh;
    z[3 * S + j] = m;
    h[j] = zg * hpv[j] + (1.0f - zg) * hh;
  }
}

RNN_INLINE void tanh_fwd_math(float* z, const float* hr, float* h, int64_t S, int64_t n) {
  (void)S;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float y = fast_tanh(z[j] + hr[j]);
    z[j] = y;
    h[j] = y;
  }
}

// d: ∂L/∂h_s; z: saved [i f g o act(c)]; dc: in ∂L/∂c_s (carried), out ∂L/∂c_{s−1}.
RNN_INLINE void lstm_bwd_math(float* gx, const float* d, const float* z, const float* cprev,
                              float* dc, int64_t S, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float ig = z[j], fg = z[S + j], gg = z[2 * S + j], og = z[3 * S + j], tc = z[4 * S + j];
    const float c = dc[j] + d[j] * og * (1.0f - tc * tc);
    gx[j] = c * gg * ig * (1.0f - ig);
    gx[S + j] = c * cprev[j] * fg * (1.0f - fg);
    gx[2 * S + j] = c * ig * (1.0f - gg * gg);
    gx[3 * S + j] = d[j] * tc * og * (1.0f - og);
    dc[j] = c * fg;
  }
}

// lstm_bwd_math for one row with U ≥ 8, 8 lanes at a time. The ragged end (U mod 8) is the
// overlapping vector at U − 8, computed before the main loop (it reads dc before the loop
// rewrites lanes it shares) and stored after it: the shared lanes get the same values
// twice. Why: the scratch copies of the tail cost more than the vector math at 20 units.
struct LstmBwdLanes {
  v8f gi, gf, gg, go, dc;
};
RNN_INLINE LstmBwdLanes lstm_bwd_lanes(const float* d, const float* z, const float* cprev,
                                       const float* dc, int64_t U, int64_t k) {
  const v8f dv = vload(d + k), ig = vload(z + k), fg = vload(z + U + k), gg = vload(z + 2 * U + k);
  const v8f og = vload(z + 3 * U + k), tc = vload(z + 4 * U + k);
  const v8f c = vload(dc + k) + dv * og * (1.0f - tc * tc);
  return {c * gg * ig * (1.0f - ig), c * vload(cprev + k) * fg * (1.0f - fg),
          c * ig * (1.0f - gg * gg), dv * tc * og * (1.0f - og), c * fg};
}
RNN_INLINE void lstm_bwd_store(float* gx, float* dc, const LstmBwdLanes& l, int64_t U, int64_t k) {
  vstore(gx + k, l.gi);
  vstore(gx + U + k, l.gf);
  vstore(gx + 2 * U + k, l.gg);
  vstore(gx + 3 * U + k, l.go);
  vstore(dc + k, l.dc);
}
RNN_INLINE void lstm_row_bwd(float* gx, const float* d, const float* z, const float* cprev,
                             float* dc, int64_t U) {
  const int64_t U8 = U & ~int64_t(7);
  LstmBwdLanes last{};
  if (U8 < U) last = lstm_bwd_lanes(d, z, cprev, dc, U, U - 8);
  for (int64_t k = 0; k < U8; k += 8) lstm_bwd_store(gx, dc, lstm_bwd_lanes(d, z, cprev, dc, U, k), U, k);
  if (U8 < U) lstm_bwd_store(gx, dc, last, U, U - 8);
}

// GRU reset_after: input-side gx and recurrent-side gh gradients, direct term d⊙z.
RNN_INLINE void gru_bwd_math(float* gx, float* gh, float* dir, const float* d, const float* z,
                             const float* hpv, int64_t S, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float zg = z[j], rg = z[S + j], hh = z[2 * S + j], mh = z[3 * S + j];
    const float dhp = d[j] * (1.0f - zg) * (1.0f - hh * hh);
    const float dzp = d[j] * (hpv[j] - hh) * zg * (1.0f - zg);
    const float drp = dhp * mh * rg * (1.0f - rg);
    gx[j] = dzp;
    gx[S + j] = drp;
    gx[2 * S + j] = dhp;
    gh[j] = dzp;
    gh[S + j] = drp;
    gh[2 * S + j] = dhp * rg;
    dir[j] = d[j] * zg;
  }
}

// Scratch for a ragged tail: copy `nb` blocks of r elements (stride U) in, 8-wide, zero-padded.
RNN_INLINE void tail_in(float* dst, const float* src, int blocks, int64_t U, int64_t r) {
  for (int b = 0; b < blocks; ++b)
    for (int64_t j = 0; j < 8; ++j) dst[b * 8 + j] = j < r ? src[b * U + j] : 0.0f;
}
RNN_INLINE void tail_out(float* dst, const float* src, int blocks, int64_t U, int64_t r) {
  for (int b = 0; b < blocks; ++b)
    for (int64_t j = 0; j < r; ++j) dst[b * U + j] = src[b * 8 + j];
}

// Whether the fused single-pass gate loops apply (the Keras defaults tanh / sigmoid);
// other activations take the multi-pass path through activation_forward.
bool fused_acts(Act act, Act ract) { return act == Act::tanh && ract == Act::sigmoid; }

// In place y = f(y) on n contiguous floats (single-threaded at these sizes).
RNN_INLINE void act_inplace(float* y, int64_t n, Act a) {
  if (a != Act::linear) activation_forward(y, y, 1, n, a, 0.0f);
}

// g[i] *= f'(x) written in terms of y = f(x) (every activation the RNN kernels accept).
void mul_dact(float* g, const float* y, int64_t n, Act a) {
  switch (a) {
    case Act::linear:
      break;
    case Act::tanh:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) g[i] *= 1.0f - y[i] * y[i];
      break;
    case Act::sigmoid:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) g[i] *= y[i] * (1.0f - y[i]);
      break;
    case Act::relu:
      for (int64_t i = 0; i < n; ++i) g[i] = y[i] > 0.0f ? g[i] : 0.0f;
      break;
    case Act::hard_sigmoid:
      for (int64_t i = 0; i < n; ++i) g[i] = (y[i] > 0.0f && y[i] < 1.0f) ? g[i] * (1.0f / 6.0f) : 0.0f;
      break;
    default:
      break;  // refused by the binding
  }
}

struct Seq {
  Cell cell;
  int64_t N, T, F, U, G, GU, CW;
  Act act, ract;
  bool back;
  const uint8_t* mask;
  const float* rmask;  // (N, U) recurrent dropout mask or null (SimpleRNN, LSTM)
  // Per-gate path (rnn_gatemask_*): gmask (G, N, U), xmask (G, N, F), null = ones.
  bool pg = false;
  const float* gmask = nullptr;
  const float* xmask = nullptr;
  int64_t time(int64_t s) const { return back ? T - 1 - s : s; }
  bool masked(int64_t n, int64_t t) const { return mask && !mask[n * T + t]; }
  // Gate k's recurrent / input mask row of batch row n, or null (= ones).
  const float* gm(int64_t k, int64_t n) const { return gmask ? gmask + (k * N + n) * U : nullptr; }
  const float* xm(int64_t k, int64_t n) const { return xmask ? xmask + (k * N + n) * F : nullptr; }
};

// dst[j] = src[j] ⊙ m[j] (m null: copy), j < n; dst does not overlap src or m.
RNN_INLINE void mul_mask(float* __restrict dst, const float* __restrict src,
                         const float* __restrict m, int64_t n) {
  if (m) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) dst[j] = src[j] * m[j];
  } else {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) dst[j] = src[j];
  }
}

// dst = src ⊙ m for the first gate (k = 0), dst += src ⊙ m after (m null: all ones): the
// sum over gates Σ_k (product_k) ⊙ m_k, gate by gate in order.
RNN_INLINE void add_masked(float* __restrict dst, const float* __restrict src, const float* __restrict m,
                           int64_t n, bool first) {
  if (first) {
    mul_mask(dst, src, m, n);
  } else if (m) {
    for (int64_t j = 0; j < n; ++j) dst[j] += src[j] * m[j];
  } else {
    for (int64_t j = 0; j < n; ++j) dst[j] += src[j];
  }
}

// Per-gate path: the right operands packed per gate, and the input-side biases.
struct GatePack {
  const float* inp;  // (N, T, F)
  const float* w[4];  // LSTM: [W_k; R_k] packed ((F + U) × U); GRU: W_k packed (F × U)
  const float* r[4];  // GRU: R_k packed (U × U)
  const float* b[4];  // input-side bias block k padded to U + 24, or null (no bias)
};

// Threads for a whole sequence: rows split in blocks of kRowBlock.
int seq_threads(const Seq& q) {
  const int64_t blocks = (q.N + kRowBlock - 1) / kRowBlock;
  const int64_t nt = threads_for(q.N * q.T * q.GU * (q.U + 4), int64_t(1) << 16);
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(nt, blocks)));
}

// Rows [r0, r1) of thread `tid` of `nt`: whole row blocks, independent of anything but nt.
void thread_rows(const Seq& q, int tid, int nt, int64_t* r0, int64_t* r1) {
  const int64_t blocks = (q.N + kRowBlock - 1) / kRowBlock;
  const int64_t b0 = blocks * tid / nt, b1 = blocks * (tid + 1) / nt;
  *r0 = std::min(q.N, b0 * kRowBlock);
  *r1 = std::min(q.N, b1 * kRowBlock);
}

// Run f(r0, r1) over the thread row ranges.
template <class Fn>
void for_row_blocks(const Seq& q, Fn f) {
  const int nt = seq_threads(q);
#if defined(BAEUM_OPENMP)
  if (nt > 1) {
#pragma omp parallel num_threads(nt)
    {
      int64_t r0, r1;
      thread_rows(q, thread_id(), team_size(), &r0, &r1);
      if (r0 < r1) f(r0, r1);
    }
    return;
  }
#endif
  f(0, q.N);
}

// ---- per-gate weight gradients -------------------------------------------------------------
// With per-gate masks gate k's weight gradient pairs dG_k with the masked rows:
//   dW_k[f, c] = Σ_{n,t} x[n,t,f] · mx_k[n,f] · dG_k[n,t,c]     (dR_k likewise with h, m_k)
// The mask is fixed over t, so per batch row n it factors out of the sum over t:
//   dW_k[f, c] += mx_k[n,f] · P_n[f, c],   P_n = X_nᵀ·dG_n  (T-deep, every gate at once).
// Why: the alternative, one GEMM per gate over G masked copies of the [x | h] rows, packed G
// times the data (at 20 units that packing cost as much as the products). Here the left
// rows are the unmasked [x_t | 1 | h_{s−1}] rows, written once, and P_n's operands (T rows of
// each) stay in L1/L2 while every row block of the thread uses them.

// P (MR × 16·panels, ldp) = A_nᵀ·B_n for MR columns of A (row stride lda) and Nc columns of B
// (row stride ldb) over T rows, in 16-lane panels (the last panel reads up to 15 floats past
// Nc: the caller's B buffer has that slack; those lanes are never used).
template <int MR>
RNN_INLINE void at_b_block(float* P, int64_t ldp, const float* A, int64_t lda, const float* B,
                           int64_t ldb, int64_t T, int64_t Nc) {
  for (int64_t c0 = 0; c0 < Nc; c0 += 16) {
    v8f acc[MR][2];
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = v8f{};
    for (int64_t t = 0; t < T; ++t) {
      const v8f b0 = vload(B + t * ldb + c0), b1 = vload(B + t * ldb + c0 + 8);
      for (int r = 0; r < MR; ++r) {
        const float a = A[t * lda + r];
        acc[r][0] += a * b0;
        acc[r][1] += a * b1;
      }
    }
    for (int r = 0; r < MR; ++r) {
      vstore(P + r * ldp + c0, acc[r][0]);
      vstore(P + r * ldp + c0 + 8, acc[r][1]);
    }
  }
}

// Rows [i0, i1) of C (Mr × Nc, ldc) += Σ_n S_n ⊙ A_nᵀ·B_n, where C row i pairs layout column
// lo + i of the [x | 1 | h] rows A (lda) with the Nc = KG·U gate columns of B (ldb), and
// S_n[i, c] = mx_k / 1 / m_k of that column for gate k = c / U and batch row n (1 without
// masks). Each C element sums n in order, t in order: any row split gives the same bits.
RNN_CLONES
void gate_wgrad_rows(const Seq& q, int64_t i0, int64_t i1, float* C, int64_t ldc, const float* A,
                     int64_t lda, int64_t lo, const float* B, int64_t ldb, int64_t Nc) {
  const int64_t T = q.T, U = q.U, F = q.F, KG = Nc / U, ldp = (Nc + 15) / 16 * 16;
  std::vector<float> P(static_cast<size_t>(6 * ldp));
  for (int64_t n = 0; n < q.N; ++n) {
    const float* An = A + n * T * lda + lo;
    const float* Bn = B + n * T * ldb;
    int64_t i = i0;
    auto block = [&](auto mr) {
      constexpr int MR = decltype(mr)::value;
      at_b_block<MR>(P.data(), ldp, An + i, lda, Bn, ldb, T, Nc);
      for (int r = 0; r < MR; ++r) {
        const int64_t col = lo + i + r;  // layout column: x_f (< F), the 1 (F), h_j (> F)
        float* c = C + (i + r) * ldc;
        const float* p = P.data() + r * ldp;
        for (int64_t k = 0; k < KG; ++k) {
          const float* m = col < F ? q.xm(k, n) : (col > F ? q.gm(k, n) : nullptr);
          const float sc = m ? m[col < F ? col : col - F - 1] : 1.0f;
#pragma omp simd
          for (int64_t j = k * U; j < (k + 1) * U; ++j) c[j] += sc * p[j];
        }
      }
      i += MR;
    };
    while (i + 6 <= i1) block(std::integral_constant<int, 6>{});
    if (i + 4 <= i1) block(std::integral_constant<int, 4>{});
    if (i + 2 <= i1) block(std::integral_constant<int, 2>{});
    if (i < i1) block(std::integral_constant<int, 1>{});
  }
}

// C (hi − lo rows × Nc, ldc) += the per-gate weight gradient of layout columns [lo, hi) (see
// gate_wgrad_rows), rows split across threads in blocks of 6.
void gate_wgrad(const Seq& q, float* C, int64_t ldc, const float* A, int64_t lda, int64_t lo,
                int64_t hi, const float* B, int64_t ldb, int64_t Nc) {
  const int64_t Mr = hi - lo, blocks = (Mr + 5) / 6;
  const int nt = static_cast<int>(
      std::min<int64_t>(blocks, threads_for(Mr * Nc * q.N * q.T, int64_t(1) << 18)));
#if defined(BAEUM_OPENMP)
  if (nt > 1) {
#pragma omp parallel num_threads(nt)
    {
      const int tid = thread_id(), team = team_size();
      const int64_t r0 = std::min(Mr, blocks * tid / team * 6);
      const int64_t r1 = std::min(Mr, blocks * (tid + 1) / team * 6);
      if (r0 < r1) gate_wgrad_rows(q, r0, r1, C, ldc, A, lda, lo, B, ldb, Nc);
    }
    return;
  }
#endif
  gate_wgrad_rows(q, 0, Mr, C, ldc, A, lda, lo, B, ldb, Nc);
}

// ---- forward -----------------------------------------------------------------------------

// rp: R packed (U × GU), or for GRU reset_before R[:, :2U] packed, then R[:, 2U:] at rp_h.
RNN_CLONES
// xin != null (LSTM with tanh / sigmoid, any F): rp packs [W; R] ((F + U) × GU) and each step computes
// z = x_t·W + b + h_{s−1}·R in one product straight into the cache (xbias: b padded).
// gp != null (q.pg, per-gate masks): each step builds the rows a_k = [x_t ⊙ mx_k | h_{s−1} ⊙ m_k]
// per gate k, then LSTM z_k = a_k·[W_k; R_k] + b_k into the cache (one product per gate, the
// same flops as the fused step); GRU the input side x·W_k + b_k into the cache and the
// recurrent side (h ⊙ m_k)·R_k into hp, so the gate passes below run unchanged.
void forward_rows(const Seq& q, int64_t r0, int64_t r1, float* hs, float* cs, float* cache,
                  const float* rp, const float* rp_h, const float* bias, const float* h0,
                  const float* c0, const float* xin, const float* xbias, const GatePack* gp) {
  const int64_t m = r1 - r0, T = q.T, U = q.U, GU = q.GU, CW = q.CW, F = q.F;
  const int64_t XO = q.xmask ? F : 0, LD = XO + U;  // per-gate rows (gp): [x ⊙ mx_k |] h ⊙ m_k
  std::vector<float> hp(static_cast<size_t>(m * GU)), zeros(static_cast<size_t>(m * U), 0.0f),
      bzero(static_cast<size_t>(3 * U), 0.0f), hm(q.rmask ? static_cast<size_t>(m * U) : 0),
      pga(gp ? static_cast<size_t>(q.G * m * LD) : 0);
  const float* bh = (q.cell == Cell::gru && bias) ? bias + GU : nullptr;  // recurrent bias
  const bool fused = fused_acts(q.act, q.ract);
  const int64_t U8 = U & ~int64_t(7);
  // LSTM gate lanes for lstm_row_fwd: σ for i, f, o; tanh = 2σ(2x) − 1 for g.
  std::vector<float> ga(static_cast<size_t>(GU + 8), 1.0f), gc(static_cast<size_t>(GU + 8), 0.0f);
  if (q.cell == Cell::lstm)
    for (int64_t j = 2 * U; j < 3 * U; ++j) ga[j] = 2.0f, gc[j] = -1.0f;
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = q.time(s);
    const float* hprev;
    int64_t ldh;
    if (s == 0) {
      hprev = h0 ? h0 + r0 * U : zeros.data();
      ldh = U;
    } else {
      hprev = hs + (r0 * T + s - 1) * U;
      ldh = T * U;
    }
    const int64_t ncols = q.cell == Cell::gru_reset_before ? 2 * U : GU;
    if (q.rmask)  // recurrent dropout: (h_{s−1} ⊙ mask)·R (the state itself is not dropped)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < U; ++j) hm[i * U + j] = hprev[i * ldh + j] * q.rmask[(r0 + i) * U + j];
    if (gp) {
      // Rows a_k = [x_t ⊙ mx_k | h ⊙ m_k] (LD wide, x part at 0), or without input masks
      // only h ⊙ m_k (XO = 0) and the products read x_t from inp itself (no G copies of it).
      for (int64_t k = 0; k < q.G; ++k)
        for (int64_t i = 0; i < m; ++i) {
          float* a = pga.data() + (k * m + i) * LD;
          if (XO) mul_mask(a, gp->inp + ((r0 + i) * T + t) * F, q.xm(k, r0 + i), F);
          mul_mask(a + XO, hprev + i * ldh, q.gm(k, r0 + i), U);
        }
      const float* xr = XO ? nullptr : gp->inp + (r0 * T + t) * F;  // x_t rows, stride T·F
      for (int64_t k = 0; k < q.G; ++k) {
        float* zk = cache + (r0 * T + t) * CW + k * U;
        const float* a = pga.data() + k * m * LD;
        const float* ax = XO ? a : xr;
        const int64_t ldx = XO ? LD : T * F;
        // Gates in increasing k: a whole last panel may spill into gate k+1's columns (its
        // product comes next) or past GU into φ(c) / m (the gate pass writes them), never
        // past the row (cw).
        if (q.cell == Cell::lstm) {
          packed_gemm2(zk, T * CW, ax, ldx, F, a + XO, LD, U, gp->b[k], gp->w[k], m, U, CW - k * U);
        } else {
          packed_gemm2(zk, T * CW, ax, ldx, F, a, LD, 0, gp->b[k], gp->w[k], m, U, CW - k * U);
          if (k < ncols / U)
            packed_gemm(hp.data() + k * U, GU, a + XO, LD, gp->r[k], m, U, U, GU - k * U);
        }
      }
    } else if (xin) {
      // Why: the input projection done here, per step, lands in L1 right before the gates
      // read it, instead of a separate pass writing all N·T·GU values (13 MB at 128 units)
      // out to memory and reading them back; bias and both products are one kernel call.
      packed_gemm2(cache + (r0 * T + t) * CW, T * CW, xin + (r0 * T + t) * q.F, T * q.F, q.F,
                   q.rmask ? hm.data() : hprev, q.rmask ? U : ldh, U, xbias, rp, m, GU);
    } else if (q.rmask) {
      packed_gemm(hp.data(), GU, hm.data(), U, rp, m, U, ncols);
    } else {
      packed_gemm(hp.data(), GU, hprev, ldh, rp, m, U, ncols);
    }
    for (int64_t i = 0; i < m; ++i) {
      const int64_t n = r0 + i;
      float* z = cache + (n * T + t) * CW;
      const float* hr = (xin || (gp && q.cell == Cell::lstm)) ? nullptr : hp.data() + i * GU;
      const float* hpv = hprev + i * ldh;
      float* hout = hs + (n * T + s) * U;
      switch (q.cell) {
        case Cell::simple_rnn:
          if (q.act == Act::tanh) {
            tanh_fwd_math(z, hr, hout, U, U8);
            if (U8 < U) {
              float tz[8], th[8], to[8];
              tail_in(tz, z + U8, 1, U, U - U8);
              tail_in(th, hr + U8, 1, U, U - U8);
              tanh_fwd_math(tz, th, to, 8, 8);
              tail_out(z + U8, tz, 1, U, U - U8);
              tail_out(hout + U8, to, 1, U, U - U8);
            }
            break;
          }
          for (int64_t j = 0; j < U; ++j) z[j] += hr[j];
          act_inplace(z, U, q.act);
          std::memcpy(hout, z, sizeof(float) * U);
          break;
        case Cell::lstm: {
          if (fused) {
            // One pass: gates, cell update, act(c), h; everything backward needs is stored.
            const float* cprev = s == 0 ? (c0 ? c0 + n * U : zeros.data()) : cs + (n * T + s - 1) * U;
            float* cn = cs + (n * T + s) * U;
            lstm_row_fwd(z, hr, cprev, cn, hout, ga.data(), gc.data(), U);
            if (q.masked(n, t)) std::memcpy(cn, cprev, sizeof(float) * U);
            break;
          }
          if (hr)
            for (int64_t j = 0; j < GU; ++j) z[j] += hr[j];
          act_inplace(z, 2 * U, q.ract);
          act_inplace(z + 2 * U, U, q.act);
          act_inplace(z + 3 * U, U, q.ract);
          const float *ig = z, *fg = z + U, *gg = z + 2 * U, *og = z + 3 * U;
          float* tc = z + 4 * U;
          const float* cprev = s == 0 ? (c0 ? c0 + n * U : zeros.data()) : cs + (n * T + s - 1) * U;
          float* cn = cs + (n * T + s) * U;
          for (int64_t j = 0; j < U; ++j) cn[j] = fg[j] * cprev[j] + ig[j] * gg[j];
          std::memcpy(tc, cn, sizeof(float) * U);
          act_inplace(tc, U, q.act);
          for (int64_t j = 0; j < U; ++j) hout[j] = og[j] * tc[j];
          if (q.masked(n, t)) std::memcpy(cn, cprev, sizeof(float) * U);
          break;
        }
        case Cell::gru: {
          float* mh = z + 3 * U;
          if (fused) {
            const float* b = bh ? bh : bzero.data();
            if (U >= 8) {
              gru_row_fwd(z, hr, b, hpv, hout, U);
              break;
            }
            gru_fwd_math(z, hr, b, hpv, hout, U, U8);
            if (U8 < U) {
              const int64_t r = U - U8;
              float tz[4 * 8], th[3 * 8], tb[3 * 8], tp[8], to[8];
              tail_in(tz, z + U8, 3, U, r);
              tail_in(th, hr + U8, 3, U, r);
              tail_in(tb, b + U8, 3, U, r);
              tail_in(tp, hpv + U8, 1, U, r);
              gru_fwd_math(tz, th, tb, tp, to, 8, 8);
              tail_out(z + U8, tz, 4, U, r);
              tail_out(hout + U8, to, 1, U, r);
            }
            break;
          }
          if (bh) {
            for (int64_t j = 0; j < 2 * U; ++j) z[j] += hr[j] + bh[j];
            for (int64_t j = 0; j < U; ++j) mh[j] = hr[2 * U + j] + bh[2 * U + j];
          } else {
            for (int64_t j = 0; j < 2 * U; ++j) z[j] += hr[j];
            std::memcpy(mh, hr + 2 * U, sizeof(float) * U);
          }
          act_inplace(z, 2 * U, q.ract);
          const float *zg = z, *rg = z + U;
          float* hh = z + 2 * U;
          for (int64_t j = 0; j < U; ++j) hh[j] += rg[j] * mh[j];
          act_inplace(hh, U, q.act);
          for (int64_t j = 0; j < U; ++j) hout[j] = zg[j] * hpv[j] + (1.0f - zg[j]) * hh[j];
          break;
        }
        case Cell::gru_reset_before: {
          for (int64_t j = 0; j < 2 * U; ++j) z[j] += hr[j];
          act_inplace(z, 2 * U, q.ract);
          float* rh = z + 3 * U;
          // per-gate masks: the candidate multiplies r ⊙ (h_{s−1} ⊙ m_h), row a_2's h part
          const float* hq = gp ? pga.data() + (2 * m + i) * LD + XO : hpv;
          for (int64_t j = 0; j < U; ++j) rh[j] = z[U + j] * hq[j];
          break;
        }
      }
    }
    if (q.cell == Cell::gru_reset_before) {
      // (r⊙h)·R_h for the block, then the candidate and the new state.
      const float* rh = cache + (r0 * T + t) * CW + 3 * U;
      packed_gemm(hp.data(), GU, rh, T * CW, rp_h, m, U, U);
      for (int64_t i = 0; i < m; ++i) {
        const int64_t n = r0 + i;
        float* z = cache + (n * T + t) * CW;
        const float* hr = hp.data() + i * GU;
        const float* hpv = hprev + i * ldh;
        float* hout = hs + (n * T + s) * U;
        float* hh = z + 2 * U;
        for (int64_t j = 0; j < U; ++j) hh[j] += hr[j];
        act_inplace(hh, U, q.act);
        for (int64_t j = 0; j < U; ++j) hout[j] = z[j] * hpv[j] + (1.0f - z[j]) * hh[j];
      }
    }
    if (q.mask)
      for (int64_t i = 0; i < m; ++i)
        if (q.masked(r0 + i, t))
          std::memcpy(hs + ((r0 + i) * T + s) * U, hprev + i * ldh, sizeof(float) * U);
  }
}

}  // namespace

int64_t rnn_gates(Cell cell) { return cell == Cell::simple_rnn ? 1 : (cell == Cell::lstm ? 4 : 3); }

int64_t rnn_cache_width(Cell cell, int64_t U) {
  return cell == Cell::simple_rnn ? U : (cell == Cell::lstm ? 5 * U : 4 * U);
}

void rnn_forward(Cell cell, float* hs, float* cs, float* cache, const float* inp,
                 const float* weight, const float* rweight, const float* bias, const float* h0,
                 const float* c0, const uint8_t* mask, const float* rmask, int64_t N, int64_t T,
                 int64_t F, int64_t U, Act act, Act ract, bool go_backwards) {
  if (N <= 0 || T <= 0 || U <= 0) return;
  const int64_t G = rnn_gates(cell);
  const Seq q{cell, N, T, F, U, G, G * U, rnn_cache_width(cell, U), act, ract, go_backwards, mask, rmask};
  // 1. Input projection. LSTM (tanh / sigmoid): fused into each step's product, see
  // forward_rows. Otherwise all (n, t) rows at once, bias in the GEMM epilogue; with few
  // features each thread projects its own rows with the small kernel instead, inside the
  // time-loop region (a K = 1 GEMM is all packing overhead).
  const bool small_f = F > 0 && F <= kSmallF;
  // LSTM (tanh / sigmoid): the projection moves into the step product (forward_rows).
  const bool fuse_x = F > 0 && cell == Cell::lstm && fused_acts(act, ract);
  if (small_f || fuse_x) {
    // done in forward_rows
  } else if (F > 0) {
    BiasActArgs args;
    GemmEpilogue ep;
    ep.apply = &bias_act_epilogue;
    ep.bias = bias;  // GRU reset_after: row 0 of the (2, 3U) bias = input bias
    ep.act = static_cast<int>(Act::linear);
    ep.user = &args;
    sgemm(false, false, N * T, q.GU, F, 1.0f, inp, F, weight, q.GU, 0.0f, cache, q.CW, &ep);
  } else {
    for (int64_t r = 0; r < N * T; ++r)
      for (int64_t j = 0; j < q.GU; ++j) cache[r * q.CW + j] = bias ? bias[j] : 0.0f;
  }
  // 2. R packed once for all T steps.
  thread_local std::vector<float> rpack;
  const int64_t GU = q.GU;
  const bool split = cell == Cell::gru_reset_before;
  const int64_t KX = fuse_x ? F : 0;  // [W; R] when fused
  const int64_t n1 = packed_size(KX + U, split ? 2 * U : GU), n2 = split ? packed_size(U, U) : 0;
  if (rpack.size() < static_cast<size_t>(n1 + n2)) rpack.resize(static_cast<size_t>(n1 + n2));
  pack_panels(rpack.data(), KX + U, split ? 2 * U : GU, [&](int64_t k, int64_t j) {
    return k < KX ? weight[k * GU + j] : rweight[(k - KX) * GU + j];
  });
  std::vector<float> xbias(fuse_x && bias ? static_cast<size_t>(GU + 24) : 0, 0.0f);
  if (!xbias.empty()) std::copy(bias, bias + GU, xbias.begin());
  if (split)
    pack_panels(rpack.data() + n1, U, U, [&](int64_t k, int64_t j) { return rweight[k * GU + 2 * U + j]; });
  const float* rp = rpack.data();
  const float* rp_h = split ? rpack.data() + n1 : nullptr;
  // 3. The time loop, rows split across threads.
  for_row_blocks(q, [&](int64_t r0, int64_t r1) {
    if (small_f && !fuse_x) {
      const int64_t m = r1 - r0, CW = q.CW;
      small_gemm(cache + r0 * T * CW, CW, inp + r0 * T * F, F, weight, GU, m * T, F, GU);
      if (bias)
        for (int64_t r = r0 * T; r < r1 * T; ++r)
          for (int64_t j = 0; j < GU; ++j) cache[r * CW + j] += bias[j];
    }
    forward_rows(q, r0, r1, hs, cs, cache, rp, rp_h, bias, h0, c0, fuse_x ? inp : nullptr,
                 xbias.empty() ? nullptr : xbias.data(), nullptr);
  });
}

void rnn_gatemask_forward(Cell cell, float* hs, float* cs, float* cache, const float* inp,
                          const float* weight, const float* rweight, const float* bias,
                          const float* h0, const float* c0, const uint8_t* mask,
                          const float* gmask, const float* xmask, int64_t N, int64_t T,
                          int64_t F, int64_t U, Act act, Act ract, bool go_backwards) {
  if (N <= 0 || T <= 0 || U <= 0) return;
  const int64_t G = rnn_gates(cell), GU = G * U;
  Seq q{cell, N, T, F, U, G, GU, rnn_cache_width(cell, U), act, ract, go_backwards, mask, nullptr};
  q.pg = true;
  q.gmask = gmask;
  q.xmask = xmask;
  // Per gate k, packed once for all T steps: LSTM [W_k; R_k] ((F + U) × U), so each step's
  // z_k = [x_t ⊙ mx_k | h ⊙ m_k]·[W_k; R_k] + b_k is one kernel call as in the fused path;
  // GRU W_k (F × U) and R_k (U × U) apart (the gates need the two sides separately).
  const bool lstm = cell == Cell::lstm;
  const int64_t nw = packed_size(lstm ? F + U : F, U), nr = lstm ? 0 : packed_size(U, U);
  const int64_t PB = U + 24;  // a padded bias block (the panels read up to 23 past U)
  thread_local std::vector<float> pack;
  const size_t need = static_cast<size_t>(G * (nw + nr + PB));
  if (pack.size() < need) pack.resize(need);
  GatePack gp{};
  gp.inp = inp;
  for (int64_t k = 0; k < G; ++k) {
    float* w = pack.data() + k * (nw + nr + PB);
    pack_panels(w, lstm ? F + U : F, U, [&](int64_t i, int64_t j) {
      return i < F ? weight[i * GU + k * U + j] : rweight[(i - F) * GU + k * U + j];
    });
    gp.w[k] = w;
    if (!lstm) {
      pack_panels(w + nw, U, U, [&](int64_t i, int64_t j) { return rweight[i * GU + k * U + j]; });
      gp.r[k] = w + nw;
    }
    if (bias) {  // input-side bias: LSTM (4U), GRU row 0 of (2, 3U), reset_before (3U)
      float* b = w + nw + nr;
      std::fill(b, b + PB, 0.0f);
      std::copy(bias + k * U, bias + (k + 1) * U, b);
      gp.b[k] = b;
    }
  }
  for_row_blocks(q, [&](int64_t r0, int64_t r1) {
    forward_rows(q, r0, r1, hs, cs, cache, nullptr, gp.r[2], bias, h0, c0, nullptr, nullptr, &gp);
  });
}

// ---- backward ----------------------------------------------------------------------------

namespace {

struct BackBufs {
  float* dgx;    // (N, T, GU) ∂L/∂(input-side pre-activations), by input time
  float* dgh;    // (N, T, GU) ∂L/∂(recurrent-side pre-activations) (== dgx but for GRU)
  float* hprev;  // h_{s−1} by input time (left operand of dR), row (n, t) at (n·T + t)·ldh
  int64_t ldh;   // U, or F + U + 1 when it sits in the fused [x | h_{s−1} | 1] rows (xrow)
  float* xrow;   // null, or the fused rows: backward_rows also stores x_t and a 1 there
  const float* inp;
  const float* rt;    // Rᵀ (GU × U) packed once (GRU reset_before: rows 0..2U only)
  const float* rt_h;  // GRU reset_before: rows 2U..3U of Rᵀ (U × U) packed
  const float* wt;    // Wᵀ (GU × F) packed, when dX is computed per thread (F ≤ kSmallF)
  float* dinp;        // (N, T, F) or null
  // Per-gate path (q.pg): xrow holds per (n, t) the row [x_t | 1 | h_{s−1}] (ldh = F + U + 1),
  // the left operand of the weight gradients (gate_wgrad applies the masks).
  const float* rtk[4] = {};  // R_kᵀ (U × U) packed
  const float* wtk[4] = {};  // W_kᵀ (U × F) packed (with input masks; else wt is used)
};

RNN_CLONES
void backward_rows(const Seq& q, int64_t r0, int64_t r1, const BackBufs& B, float* dh0,
                   float* dc0, const float* dhs, const float* dc_last, const float* h0,
                   const float* c0, const float* hs, const float* cs, const float* cache) {
  const int64_t m = r1 - r0, T = q.T, U = q.U, GU = q.GU, CW = q.CW;
  const size_t mu = static_cast<size_t>(m * U);
  std::vector<float> dh(mu), dhn(mu, 0.0f), dcn(mu, 0.0f), direct(mu, 0.0f), tmp(mu),
      zeros(mu, 0.0f), dtc(static_cast<size_t>(U));
  // per-gate path: dG_k·R_kᵀ rows padded to LT so whole panels are stored (see packed_gemm2)
  const int64_t LT = U + 8;
  std::vector<float> tpg(q.pg ? static_cast<size_t>(m * LT) : 0);
  if (dc_last) std::memcpy(dcn.data(), dc_last + r0 * U, sizeof(float) * mu);
  const bool fused = fused_acts(q.act, q.ract);
  const int64_t U8 = U & ~int64_t(7);
  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = q.time(s);
    const float* hprev;
    int64_t ldh;
    if (s == 0) {
      hprev = h0 ? h0 + r0 * U : zeros.data();
      ldh = U;
    } else {
      hprev = hs + (r0 * T + s - 1) * U;
      ldh = T * U;
    }
    for (int64_t i = 0; i < m; ++i) {
      const int64_t n = r0 + i;
      const float* hpv = hprev + i * ldh;
      const float* dy = dhs + (n * T + s) * U;
      float* d = dh.data() + i * U;
      float* dn = dhn.data() + i * U;
      for (int64_t j = 0; j < U; ++j) d[j] = dy[j] + dn[j];
      if (q.pg) {  // [x_t | 1 | h_{s−1}], unmasked: gate_wgrad applies the masks per row n
        const int64_t F = q.F;
        float* row = B.xrow + (n * T + t) * B.ldh;
        mul_mask(row, B.inp + (n * T + t) * F, nullptr, F);
        row[F] = 1.0f;
        mul_mask(row + F + 1, hpv, nullptr, U);
      } else {
        float* hp_out = B.hprev + (n * T + t) * B.ldh;
        if (B.xrow) {  // [x_t | h_{s−1} | 1]: one GEMM then gives dW, dR and db
          float* xr = B.xrow + (n * T + t) * B.ldh;
          const float* xi = B.inp + (n * T + t) * q.F;
          for (int64_t f = 0; f < q.F; ++f) xr[f] = xi[f];
          hp_out[U] = 1.0f;
        }
        if (q.rmask) {  // dR pairs dG with the dropped-out h the product saw
          const float* rm = q.rmask + n * U;
          for (int64_t j = 0; j < U; ++j) hp_out[j] = hpv[j] * rm[j];
        } else {
          for (int64_t j = 0; j < U; ++j) hp_out[j] = hpv[j];  // inline: a memcpy call per row costs more
        }
      }
      float* gx = B.dgx + (n * T + t) * GU;
      float* gh = B.dgh + (n * T + t) * GU;
      const float* z = cache + (n * T + t) * CW;
      float* dir = direct.data() + i * U;
      if (q.masked(n, t)) {
        std::fill(gx, gx + GU, 0.0f);
        if (gh != gx) std::fill(gh, gh + GU, 0.0f);
        std::fill(dir, dir + U, 0.0f);
        continue;
      }
      switch (q.cell) {
        case Cell::simple_rnn:
          std::memcpy(gx, d, sizeof(float) * U);
          mul_dact(gx, z, U, q.act);
          break;
        case Cell::lstm: {
          const float *ig = z, *fg = z + U, *gg = z + 2 * U, *og = z + 3 * U, *tc = z + 4 * U;
          const float* cprev = s == 0 ? (c0 ? c0 + n * U : zeros.data()) : cs + (n * T + s - 1) * U;
          float* dc = dcn.data() + i * U;
          if (fused && U >= 8) {
            lstm_row_bwd(gx, d, z, cprev, dc, U);
            break;
          }
          if (fused) {  // tanh / sigmoid: derivatives from the saved activations, one pass
            lstm_bwd_math(gx, d, z, cprev, dc, U, U8);
            if (U8 < U) {
              const int64_t r = U - U8;
              float tg[4 * 8], td[8], tz[5 * 8], tc[8], tdc[8];
              tail_in(td, d + U8, 1, U, r);
              tail_in(tz, z + U8, 5, U, r);
              tail_in(tc, cprev + U8, 1, U, r);
              tail_in(tdc, dc + U8, 1, U, r);
              lstm_bwd_math(tg, td, tz, tc, tdc, 8, 8);
              tail_out(gx + U8, tg, 4, U, r);
              tail_out(dc + U8, tdc, 1, U, r);
            }
            break;
          }
          for (int64_t j = 0; j < U; ++j) dtc[j] = d[j] * og[j];
          mul_dact(dtc.data(), tc, U, q.act);
          for (int64_t j = 0; j < U; ++j) {
            const float c = dc[j] + dtc[j];
            gx[j] = c * gg[j];               // ∂/∂i
            gx[U + j] = c * cprev[j];        // ∂/∂f
            gx[2 * U + j] = c * ig[j];       // ∂/∂g
            gx[3 * U + j] = d[j] * tc[j];    // ∂/∂o
            dc[j] = c * fg[j];               // ∂/∂c_{s−1}
          }
          mul_dact(gx, z, 2 * U, q.ract);
          mul_dact(gx + 2 * U, gg, U, q.act);
          mul_dact(gx + 3 * U, og, U, q.ract);
          break;
        }
        case Cell::gru: {
          const float *zg = z, *rg = z + U, *hh = z + 2 * U, *mh = z + 3 * U;
          if (fused) {
            gru_bwd_math(gx, gh, dir, d, z, hpv, U, U8);
            if (U8 < U) {
              const int64_t r = U - U8;
              float tgx[3 * 8], tgh[3 * 8], tdir[8], td[8], tz[4 * 8], tp[8];
              tail_in(td, d + U8, 1, U, r);
              tail_in(tz, z + U8, 4, U, r);
              tail_in(tp, hpv + U8, 1, U, r);
              gru_bwd_math(tgx, tgh, tdir, td, tz, tp, 8, 8);
              tail_out(gx + U8, tgx, 3, U, r);
              tail_out(gh + U8, tgh, 3, U, r);
              tail_out(dir + U8, tdir, 1, U, r);
            }
            break;
          }
          for (int64_t j = 0; j < U; ++j) {
            gx[j] = d[j] * (hpv[j] - hh[j]);
            gx[2 * U + j] = d[j] * (1.0f - zg[j]);
            dir[j] = d[j] * zg[j];
          }
          mul_dact(gx + 2 * U, hh, U, q.act);
          for (int64_t j = 0; j < U; ++j) {
            gx[U + j] = gx[2 * U + j] * mh[j];
            gh[2 * U + j] = gx[2 * U + j] * rg[j];
          }
          mul_dact(gx, z, 2 * U, q.ract);
          std::memcpy(gh, gx, sizeof(float) * 2 * U);
          break;
        }
        case Cell::gru_reset_before: {
          const float *zg = z, *hh = z + 2 * U;
          for (int64_t j = 0; j < U; ++j) {
            gx[j] = d[j] * (hpv[j] - hh[j]);
            gx[2 * U + j] = d[j] * (1.0f - zg[j]);
            dir[j] = d[j] * zg[j];
          }
          mul_dact(gx + 2 * U, hh, U, q.act);
          break;
        }
      }
    }
    float* gx0 = B.dgx + (r0 * T + t) * GU;
    float* gh0 = B.dgh + (r0 * T + t) * GU;
    if (q.cell == Cell::gru_reset_before) {
      // d(r⊙h) = dĝ_h·R_hᵀ, then the reset gate and the h term through r⊙h.
      packed_gemm(tmp.data(), U, gx0 + 2 * U, T * GU, B.rt_h, m, U, U);
      for (int64_t i = 0; i < m; ++i) {
        const int64_t n = r0 + i;
        if (q.masked(n, t)) continue;
        const float* hpv = hprev + i * ldh;
        const float* z = cache + (n * T + t) * CW;
        float* gx = B.dgx + (n * T + t) * GU;
        const float* dr = tmp.data() + i * U;
        float* dir = direct.data() + i * U;
        const float* mh = q.pg ? q.gm(2, n) : nullptr;  // q = r ⊙ (h_{s−1} ⊙ m_h)
        if (mh) {
          for (int64_t j = 0; j < U; ++j) {
            const float drm = dr[j] * mh[j];
            gx[U + j] = drm * hpv[j];
            dir[j] += drm * z[U + j];
          }
        } else {
          for (int64_t j = 0; j < U; ++j) {
            gx[U + j] = dr[j] * hpv[j];
            dir[j] += dr[j] * z[U + j];
          }
        }
        mul_dact(gx, z, 2 * U, q.ract);
      }
      if (!q.pg) packed_gemm(dhn.data(), U, gx0, T * GU, B.rt, m, 2 * U, U);
    } else if (!q.pg) {
      packed_gemm(dhn.data(), U, gh0, T * GU, B.rt, m, GU, U);
    }
    if (q.pg) {
      // dh_{s−1} = Σ_k (dG_k·R_kᵀ) ⊙ m_k (reset_before: k = z, r; the candidate's part went
      // into `direct` above). One product per gate: the mask scales its output columns.
      const int64_t KG = q.cell == Cell::gru_reset_before ? 2 : q.G;
      for (int64_t k = 0; k < KG; ++k) {
        packed_gemm(tpg.data(), LT, gh0 + k * U, T * GU, B.rtk[k], m, U, U, LT);
        for (int64_t i = 0; i < m; ++i)
          add_masked(dhn.data() + i * U, tpg.data() + i * LT, q.gm(k, r0 + i), U, k == 0);
      }
    }
    for (int64_t i = 0; i < m; ++i) {
      float* dn = dhn.data() + i * U;
      if (q.masked(r0 + i, t)) {
        std::memcpy(dn, dh.data() + i * U, sizeof(float) * U);  // state carried through
      } else if (q.rmask) {
        const float* rm = q.rmask + (r0 + i) * U;
        for (int64_t j = 0; j < U; ++j) dn[j] *= rm[j];
      } else if (q.cell == Cell::gru || q.cell == Cell::gru_reset_before) {
        const float* dir = direct.data() + i * U;
        for (int64_t j = 0; j < U; ++j) dn[j] += dir[j];
      }
    }
  }
  if (B.wt && B.dinp) {  // dX rows of this thread: (m·T × GU)·Wᵀ
    packed_gemm(B.dinp + r0 * T * q.F, q.F, B.dgx + r0 * T * GU, GU, B.wt, m * T, GU, q.F);
  } else if (q.pg && B.dinp && q.F > 0) {
    // per-gate input masks: dx_t = Σ_k (dG_k·W_kᵀ) ⊙ mx_k, one batch row (T × F) at a time
    const int64_t F = q.F;
    std::vector<float> tx(static_cast<size_t>(T * F));
    for (int64_t i = 0; i < m; ++i) {
      const int64_t n = r0 + i;
      float* dx = B.dinp + n * T * F;
      for (int64_t k = 0; k < q.G; ++k) {
        packed_gemm(tx.data(), F, B.dgx + n * T * GU + k * U, GU, B.wtk[k], T, U, F);
        const float* mx = q.xm(k, n);
        for (int64_t r = 0; r < T; ++r) add_masked(dx + r * F, tx.data() + r * F, mx, F, k == 0);
      }
    }
  }
  if (dh0) std::memcpy(dh0 + r0 * U, dhn.data(), sizeof(float) * mu);
  if (dc0) std::memcpy(dc0 + r0 * U, dcn.data(), sizeof(float) * mu);
}

}  // namespace

// An empty sequence or batch (N, T or U = 0): the overwritten outputs are zeros (the
// accumulated weight gradients get nothing). Returns whether there is nothing else to do.
static bool empty_backward(float* dinp, float* dh0, float* dc0, int64_t N, int64_t T, int64_t F, int64_t U) {
  if (N > 0 && T > 0 && U > 0) return false;
  if (dinp) std::fill(dinp, dinp + std::max<int64_t>(0, N * T * F), 0.0f);
  if (dh0) std::fill(dh0, dh0 + std::max<int64_t>(0, N * U), 0.0f);
  if (dc0) std::fill(dc0, dc0 + std::max<int64_t>(0, N * U), 0.0f);
  return true;
}

void rnn_backward(Cell cell, float* dinp, float* dweight, float* drweight, float* dbias,
                  float* dh0, float* dc0, const float* dhs, const float* dc_last,
                  const float* inp, const float* weight, const float* rweight, const float* h0,
                  const float* c0, const uint8_t* mask, const float* rmask, const float* hs,
                  const float* cs,
                  const float* cache, int64_t N, int64_t T, int64_t F, int64_t U, Act act,
                  Act ract, bool go_backwards) {
  const int64_t G = rnn_gates(cell), GU = G * U;
  if (empty_backward(dinp, dh0, dc0, N, T, F, U)) return;
  const Seq q{cell, N, T, F, U, G, GU, rnn_cache_width(cell, U), act, ract, go_backwards, mask, rmask};
  // Why thread_local: reuse the big buffers across calls (no malloc once warm), and stay
  // safe when several Python threads call in without the GIL.
  thread_local std::vector<float> dgx, dgh, hprev, rt;
  const bool two = cell == Cell::gru;  // input- and recurrent-side gradients differ
  // SimpleRNN / LSTM: dW, dR and db all pair rows of one dG with [x_t | h_{s−1} | 1], so
  // one GEMM over those rows replaces two GEMMs and a column sum. Why: each GEMM packed the
  // whole (N·T × GU) dG again, and at 20 units those packs cost as much as the products.
  const bool fuse_w = cell == Cell::simple_rnn || cell == Cell::lstm;
  const int64_t ldh = fuse_w ? F + U + 1 : U;
  const size_t ng = static_cast<size_t>(N * T * GU), nu = static_cast<size_t>(N * T * ldh);
  if (dgx.size() < ng) dgx.resize(ng);
  if (two && dgh.size() < ng) dgh.resize(ng);
  if (hprev.size() < nu) hprev.resize(nu);
  const bool split = cell == Cell::gru_reset_before;
  const int64_t K1 = split ? 2 * U : GU;
  const int64_t n1 = packed_size(K1, U), n2 = split ? packed_size(U, U) : 0;
  if (rt.size() < static_cast<size_t>(n1 + n2)) rt.resize(static_cast<size_t>(n1 + n2));
  // Rᵀ(j, k) = R(k, j)
  pack_panels(rt.data(), K1, U, [&](int64_t j, int64_t k) { return rweight[k * GU + j]; });
  if (split)
    pack_panels(rt.data() + n1, U, U, [&](int64_t j, int64_t k) { return rweight[k * GU + 2 * U + j]; });
  const bool small_f = F > 0 && F <= kSmallF && dinp;
  thread_local std::vector<float> wt;
  if (small_f) {
    const int64_t nw = packed_size(GU, F);
    if (wt.size() < static_cast<size_t>(nw)) wt.resize(static_cast<size_t>(nw));
    pack_panels(wt.data(), GU, F, [&](int64_t j, int64_t f) { return weight[f * GU + j]; });
  }
  const BackBufs B{dgx.data(), two ? dgh.data() : dgx.data(), hprev.data() + (fuse_w ? F : 0),
                   ldh, fuse_w ? hprev.data() : nullptr, inp, rt.data(),
                   split ? rt.data() + n1 : nullptr, small_f ? wt.data() : nullptr, dinp};
  for_row_blocks(q, [&](int64_t r0, int64_t r1) {
    backward_rows(q, r0, r1, B, dh0, dc0, dhs, dc_last, h0, c0, hs, cs, cache);
  });
  // Weight gradients: a few large GEMMs over all N·T rows.
  const int64_t NT = N * T;
  if (fuse_w) {
    thread_local std::vector<float> wg;
    if (wg.size() < static_cast<size_t>(ldh * GU)) wg.resize(static_cast<size_t>(ldh * GU));
    sgemm(true, false, ldh, GU, NT, 1.0f, hprev.data(), ldh, B.dgx, GU, 0.0f, wg.data(), GU);
    for (int64_t j = 0; j < F * GU; ++j) dweight[j] += wg[j];
    for (int64_t j = 0; j < U * GU; ++j) drweight[j] += wg[F * GU + j];
    if (dbias)
      for (int64_t j = 0; j < GU; ++j) dbias[j] += wg[(F + U) * GU + j];
    if (dinp && F > 0 && !small_f)
      sgemm(false, true, NT, F, GU, 1.0f, B.dgx, GU, weight, GU, 0.0f, dinp, F);
    return;
  }
  if (F > 0) sgemm(true, false, F, GU, NT, 1.0f, inp, F, B.dgx, GU, 1.0f, dweight, GU);
  if (cell == Cell::gru_reset_before) {
    sgemm(true, false, U, 2 * U, NT, 1.0f, B.hprev, U, B.dgx, GU, 1.0f, drweight, GU);
    sgemm(true, false, U, U, NT, 1.0f, cache + 3 * U, q.CW, B.dgx + 2 * U, GU, 1.0f,
          drweight + 2 * U, GU);
  } else {
    sgemm(true, false, U, GU, NT, 1.0f, B.hprev, U, B.dgh, GU, 1.0f, drweight, GU);
  }
  if (dbias) {
    bias_grad(dbias, B.dgx, NT, GU);
    if (cell == Cell::gru) bias_grad(dbias + GU, B.dgh, NT, GU);
  }
  if (dinp && F > 0 && !small_f)
    sgemm(false, true, NT, F, GU, 1.0f, B.dgx, GU, weight, GU, 0.0f, dinp, F);
}

void rnn_gatemask_backward(Cell cell, float* dinp, float* dweight, float* drweight, float* dbias,
                           float* dh0, float* dc0, const float* dhs, const float* dc_last,
                           const float* inp, const float* weight, const float* rweight,
                           const float* h0, const float* c0, const uint8_t* mask,
                           const float* gmask, const float* xmask, const float* hs,
                           const float* cs, const float* cache, int64_t N, int64_t T, int64_t F,
                           int64_t U, Act act, Act ract, bool go_backwards) {
  const int64_t G = rnn_gates(cell), GU = G * U;
  if (empty_backward(dinp, dh0, dc0, N, T, F, U)) return;
  Seq q{cell, N, T, F, U, G, GU, rnn_cache_width(cell, U), act, ract, go_backwards, mask, nullptr};
  q.pg = true;
  q.gmask = gmask;
  q.xmask = xmask;
  thread_local std::vector<float> dgx, dgh, rows, pack;
  const bool two = cell == Cell::gru;
  const int64_t ldx = F + U + 1;  // [x | 1 | h] rows
  // +16: gate_wgrad's last 16-lane panel reads up to 15 floats past a row of dG
  const size_t ng = static_cast<size_t>(N * T * GU + 16), nx = static_cast<size_t>(N * T * ldx);
  if (dgx.size() < ng) dgx.resize(ng);
  if (two && dgh.size() < ng) dgh.resize(ng);
  if (rows.size() < nx) rows.resize(nx);
  // R_kᵀ per gate (U × U), and Wᵀ for dX: whole (GU × F) without input masks (one product
  // as the unmasked path), else W_kᵀ per gate (U × F).
  const int64_t nr = packed_size(U, U);
  const int64_t nwt = dinp && F > 0 ? (xmask ? G * packed_size(U, F) : packed_size(GU, F)) : 0;
  if (pack.size() < static_cast<size_t>(G * nr + nwt)) pack.resize(static_cast<size_t>(G * nr + nwt));
  BackBufs B{dgx.data(), two ? dgh.data() : dgx.data(), rows.data(), ldx, rows.data(), inp,
             nullptr, nullptr, nullptr, dinp};
  for (int64_t k = 0; k < G; ++k) {
    float* p = pack.data() + k * nr;
    pack_panels(p, U, U, [&](int64_t j, int64_t i) { return rweight[i * GU + k * U + j]; });
    B.rtk[k] = p;
  }
  if (cell == Cell::gru_reset_before) B.rt_h = B.rtk[2];
  if (nwt > 0) {
    float* p = pack.data() + G * nr;
    if (!xmask) {
      pack_panels(p, GU, F, [&](int64_t j, int64_t f) { return weight[f * GU + j]; });
      B.wt = p;
    } else {
      for (int64_t k = 0; k < G; ++k) {
        float* pk = p + k * packed_size(U, F);
        pack_panels(pk, U, F, [&](int64_t j, int64_t f) { return weight[f * GU + k * U + j]; });
        B.wtk[k] = pk;
      }
    }
  }
  for_row_blocks(q, [&](int64_t r0, int64_t r1) {
    backward_rows(q, r0, r1, B, dh0, dc0, dhs, dc_last, h0, c0, hs, cs, cache);
  });
  // Weight gradients (gate_wgrad: per batch row the T-deep product, scaled by that row's
  // masks). Row layout [x | 1 | h]: LSTM dW, db, dR from dG in one pass; GRU dW and db_x
  // from the input-side gradients, [db_h and] dR from the recurrent side (reset_before: dR_h
  // pairs the saved q = r ⊙ h ⊙ m_h, unmasked GEMM as in rnn_backward).
  const int64_t NT = N * T;
  thread_local std::vector<float> wg;
  if (wg.size() < static_cast<size_t>(ldx * GU)) wg.resize(static_cast<size_t>(ldx * GU));
  std::fill(wg.begin(), wg.begin() + ldx * GU, 0.0f);
  float* wx = wg.data();                 // rows x (F), 1
  float* wh = wg.data() + (F + 1) * GU;  // rows h (U)
  if (cell == Cell::lstm) {
    gate_wgrad(q, wx, GU, rows.data(), ldx, 0, ldx, B.dgx, GU, GU);
  } else {
    // reset_after: rows x only (db_x is a column sum below), then [1 | h] with dG_h, so
    // row F becomes db_h; reset_before: [x | 1] (dW, db), then h for R_z, R_r only.
    const bool ra = cell == Cell::gru;
    gate_wgrad(q, wx, GU, rows.data(), ldx, 0, ra ? F : F + 1, B.dgx, GU, GU);
    if (ra)
      gate_wgrad(q, wh - GU, GU, rows.data(), ldx, F, ldx, B.dgh, GU, GU);
    else
      gate_wgrad(q, wh, GU, rows.data(), ldx, F + 1, ldx, B.dgh, GU, 2 * U);
  }
  for (int64_t j = 0; j < F * GU; ++j) dweight[j] += wx[j];
  const int64_t ncr = cell == Cell::gru_reset_before ? 2 * U : GU;
  for (int64_t i = 0; i < U; ++i)
    for (int64_t j = 0; j < ncr; ++j) drweight[i * GU + j] += wh[i * GU + j];
  if (cell == Cell::gru_reset_before)
    sgemm(true, false, U, U, NT, 1.0f, cache + 3 * U, q.CW, B.dgx + 2 * U, GU, 1.0f,
          drweight + 2 * U, GU);
  if (dbias) {
    if (cell == Cell::gru) {
      bias_grad(dbias, B.dgx, NT, GU);  // row F of wg holds db_h (the second pass)
      for (int64_t j = 0; j < GU; ++j) dbias[GU + j] += wx[F * GU + j];
    } else {
      for (int64_t j = 0; j < GU; ++j) dbias[j] += wx[F * GU + j];
    }
  }
}

}  // namespace baeum
