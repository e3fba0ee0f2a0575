// dense.cpp — fused Dense forward and backward (Keras layout, row-major).
//
//   z = x·W + b            x (N,D), W (D,U), b (U), z (N,U)
//   y = f(z)
// Backward, given dy = ∂L/∂y:
//   dz = dy ⊙ f'(z)                     (softmax: dz = y ⊙ (dy − Σ_u dy·y) per row)
//   dW += xᵀ·dz                         (D,U)  — accumulated: beta = 1
//   db += Σ_n dz                        (U)    — rows summed in order
//   dx  = dz·Wᵀ                         (N,D)  — overwritten: beta = 0
// See docs/elementwise.md for the derivation.
//
// Narrow layers (U = 1..64, the common case in the course's models) are fast mostly through
// the GEMM (gemm.cpp: A and small B read in place, no masked C stores); here, small outputs
// get their bias/preact/activation in one pass over the block (kPostPassMaxElems) and short
// softmax rows a block-wide vectorised exp (softmax_narrow_rows).
#include "baeum/dense.h"
#include "baeum/clones.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>
#include <vector>

#include "baeum/fastmath.h"
#include "baeum/gemm.h"

namespace baeum {

// Outputs up to this many elements (128 KiB: in L2) get bias, preact and activation in one
// pass over the whole contiguous N×U array after the GEMM. Why: the per-tile epilogue runs
// once per tile row (bias loop, preact copy, activation dispatch: tens of cycles each), which
// for narrow layers (U = 1..64) cost as much as the GEMM itself. Same operation on every
// element either way, so both paths give the same bits.
constexpr int64_t kPostPassMaxElems = int64_t(1) << 15;

// Softmax rows at most this long take softmax_narrow_rows below.
constexpr int64_t kNarrowSoftmax = 32;

// The exponentials of short softmax rows run in an AVX2 / AVX-512 clone (clones.h).

// y = softmax of each row of the contiguous N×U block y (in place), for short rows (U ≤ 32).
// Same formula and exponential as softmax_forward: m = max_k x, e = exp(x − m), y = e·(1/Σe).
// Why: softmax_forward runs a short vector loop with a scalar tail per row (≈ 200 cycles for
// U = 10); here the exponentials of the whole block run as one long vector loop.
// Max and sum run as two interleaved chains (even and odd k), half as long as one: the max
// is exact in any order (std::max skips a NaN either way; exp then spreads it over the row);
// the sum is s_even + s_odd, a fixed order that may differ from softmax_forward's in the
// last bit.
BAEUM_CLONES static void softmax_narrow_rows(float* y, int64_t N, int64_t U) {
  for (int64_t r = 0; r < N; ++r) {
    float* row = y + r * U;
    float m0 = -std::numeric_limits<float>::infinity(), m1 = m0;
    int64_t k = 0;
    for (; k + 2 <= U; k += 2) m0 = std::max(m0, row[k]), m1 = std::max(m1, row[k + 1]);
    if (k < U) m0 = std::max(m0, row[k]);
    const float m = std::max(m0, m1);
    for (k = 0; k < U; ++k) row[k] -= m;
  }
  const int64_t n = N * U;
  for (int64_t i = 0; i < n; ++i) y[i] = fast_exp(y[i]);
  for (int64_t r = 0; r < N; ++r) {
    float* row = y + r * U;
    float s0 = 0.0f, s1 = 0.0f;
    int64_t k = 0;
    for (; k + 2 <= U; k += 2) s0 += row[k], s1 += row[k + 1];
    if (k < U) s0 += row[k];
    const float inv = 1.0f / (s0 + s1);
    for (k = 0; k < U; ++k) row[k] *= inv;
  }
}

// out = f(out + bias) for f = relu or linear, z = out + bias copied to preact if asked: one
// sweep over the contiguous N×U block (why: bias_add, memcpy and the activation were three
// passes with a short loop per row each). Same operations per element as bias_act_epilogue.
template <bool HasBias, bool HasPreact, bool Relu>
static inline __attribute__((always_inline)) void bias_relu_block(float* out, float* preact,
                                                                   const float* bias, int64_t N,
                                                                   int64_t U) {
  for (int64_t r = 0; r < N; ++r) {
    float* y = out + r * U;
    float* z = HasPreact ? preact + r * U : nullptr;
    for (int64_t j = 0; j < U; ++j) {
      const float v = HasBias ? y[j] + bias[j] : y[j];
      if (HasPreact) z[j] = v;
      y[j] = Relu ? (v < 0.0f ? 0.0f : v) : v;  // act_fwd's ReLU: NaN and −0 pass through
    }
  }
}

BAEUM_CLONES static void bias_relu_rows(float* out, float* preact, const float* bias, int64_t N,
                                        int64_t U, bool relu) {
  const int v = (bias ? 4 : 0) | (preact ? 2 : 0) | (relu ? 1 : 0);
  switch (v) {
    case 0: bias_relu_block<false, false, false>(out, preact, bias, N, U); break;
    case 1: bias_relu_block<false, false, true>(out, preact, bias, N, U); break;
    case 2: bias_relu_block<false, true, false>(out, preact, bias, N, U); break;
    case 3: bias_relu_block<false, true, true>(out, preact, bias, N, U); break;
    case 4: bias_relu_block<true, false, false>(out, preact, bias, N, U); break;
    case 5: bias_relu_block<true, false, true>(out, preact, bias, N, U); break;
    case 6: bias_relu_block<true, true, false>(out, preact, bias, N, U); break;
    default: bias_relu_block<true, true, true>(out, preact, bias, N, U); break;
  }
}

// ReLU backward and the bias gradient in one sweep: dz = y > 0 ? dy : 0 (act_bwd's formula),
// dbias += Σ_rows dz with rows in order (bias_grad's order): same bits, one pass fewer.
BAEUM_CLONES static void relu_grad_rows(float* dz, float* dbias, const float* dout,
                                        const float* out, int64_t N, int64_t U) {
  for (int64_t r = 0; r < N; ++r) {
    const float* dy = dout + r * U;
    const float* y = out + r * U;
    float* d = dz + r * U;
    if (dbias) {
      for (int64_t j = 0; j < U; ++j) {
        const float g = y[j] > 0.0f ? dy[j] : 0.0f;
        d[j] = g;
        dbias[j] += g;
      }
    } else {
      for (int64_t j = 0; j < U; ++j) d[j] = y[j] > 0.0f ? dy[j] : 0.0f;
    }
  }
}

void dense_forward(float* out, float* preact, const float* inp, const float* weight,
                   const float* bias, int64_t N, int64_t D, int64_t U, Act act, float alpha) {
  if (N <= 0 || U <= 0) return;
  // Leading dimensions must be >= 1 even for empty inner sizes.
  const int64_t lda = D > 0 ? D : 1;
  if (N * U <= kPostPassMaxElems) {
    sgemm(false, false, N, U, D, 1.0f, inp, lda, weight, U, 0.0f, out, U);
    if (act == Act::relu || act == Act::linear) {
      bias_relu_rows(out, preact, bias, N, U, act == Act::relu);
      return;
    }
    if (bias) bias_add(out, out, bias, N, U);
    if (preact) std::memcpy(preact, out, static_cast<size_t>(N * U) * sizeof(float));
    if (act == Act::softmax && U <= kNarrowSoftmax)
      softmax_narrow_rows(out, N, U);
    else
      activation_forward(out, out, N, U, act, alpha);  // softmax: per row of U
    return;
  }
  BiasActArgs args;
  args.alpha = alpha;
  args.preact = preact;
  args.ldp = U;
  GemmEpilogue ep;
  ep.apply = &bias_act_epilogue;
  ep.bias = bias;
  ep.act = static_cast<int>(act);
  ep.user = &args;
  sgemm(false, false, N, U, D, 1.0f, inp, lda, weight, U, 0.0f, out, U, &ep);
  if (act == Act::softmax) softmax_forward(out, out, N, U, 1);
}

void dense_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                    const float* inp, const float* weight, const float* out, const float* preact,
                    int64_t N, int64_t D, int64_t U, Act act, float alpha) {
  if (N <= 0 || U <= 0) {
    // No rows: weight gradients unchanged; dinp (N×D) is empty or, with U == 0, all zero.
    if (dinp)
      for (int64_t i = 0; i < N * D; ++i) dinp[i] = 0.0f;
    return;
  }
  // Why thread_local: reuse the dz buffer across calls (no malloc once warm) and stay safe
  // when several Python threads call in without the GIL.
  thread_local std::vector<float> scratch;
  const float* dz = dout;  // linear: f' = 1, use dout as is
  bool db_done = false;
  if (act != Act::linear) {
    const std::size_t need = static_cast<size_t>(N * U);
    if (scratch.size() < need) scratch.resize(need);
    if (act == Act::relu && N * U <= kPostPassMaxElems) {
      // Small block: serial anyway (activation_backward threads only above 2^16 elements).
      relu_grad_rows(scratch.data(), dbias, dout, out, N, U);
      db_done = true;
    } else {
      activation_backward(scratch.data(), dout, preact, out, N, U, act, alpha);
    }
    dz = scratch.data();
  }
  const int64_t lda = D > 0 ? D : 1;
  if (D > 0) sgemm(true, false, D, U, N, 1.0f, inp, lda, dz, U, 1.0f, dweight, U);
  if (dbias && !db_done) bias_grad(dbias, dz, N, U);
  if (dinp && D > 0) sgemm(false, true, N, D, U, 1.0f, dz, U, weight, U, 0.0f, dinp, lda);
}

}  // namespace baeum
