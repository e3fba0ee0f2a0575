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
// Backward (BPTT, derivation in docs/rnn.md), with dh = ∂L/∂hs[s] + dh_next:
//   per step: gate gradients dG (pre-activation), dh_prev = dG·Rᵀ + direct terms
//   after the loop: dW += Xᵀ·dG_all, dR += H_prevᵀ·dG_all, db += Σ dG, dX = dG_all·Wᵀ.
//
// How it is made fast:
// * the input projection of all N·T rows is one GEMM with the bias in its epilogue (it is
//   most of the FLOPs when F ≥ U and it is one big well-shaped GEMM instead of T thin ones);
// * batch rows are independent through time, so each thread owns a fixed block of rows for
//   the whole sequence: one parallel region per call, no barrier per step, and results do
//   not depend on the thread count (each row is computed by the same code whatever the split);
// * the per-step recurrent product is a small register-blocked kernel reading R in place
//   (at batch 32 × 20 units a general GEMM call costs more in packing than the product);
//   backward uses Rᵀ packed once per sequence so the same kernel serves dh·Rᵀ;
// * gate nonlinearities and the cell update are one pass per row that also stores what
//   backward needs (activations, act(c)), so backward never recomputes an exp;
// * weight gradients are three large GEMMs after the time loop, not T small ones.
#include "baeum/rnn.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "baeum/gemm.h"
#include "baeum/parallel.h"

namespace baeum {

namespace {

#if defined(__GNUC__)
#define RNN_INLINE inline __attribute__((always_inline))
#else
#define RNN_INLINE inline
#endif

constexpr int64_t kRowBlock = 4;  // rows per micro-kernel block; thread splits align to it
constexpr int64_t kColBlock = 32;

// C[MR×nb] (=) A[MR×K]·B[K×nb]; each element accumulates over k in order (same for any MR).
template <int MR, int64_t NB>
RNN_INLINE void mm_block(float* C, int64_t ldc, const float* A, int64_t lda, const float* B,
                         int64_t ldb, int64_t K, int64_t nb) {
  float acc[MR][NB];
  for (int r = 0; r < MR; ++r)
    for (int64_t j = 0; j < NB; ++j) acc[r][j] = 0.0f;
  if (nb == NB) {
    for (int64_t k = 0; k < K; ++k) {
      const float* b = B + k * ldb;
      for (int r = 0; r < MR; ++r) {
        const float a = A[r * lda + k];
#pragma omp simd
        for (int64_t j = 0; j < NB; ++j) acc[r][j] += a * b[j];
      }
    }
  } else {
    for (int64_t k = 0; k < K; ++k) {
      const float* b = B + k * ldb;
      for (int r = 0; r < MR; ++r) {
        const float a = A[r * lda + k];
        for (int64_t j = 0; j < nb; ++j) acc[r][j] += a * b[j];
      }
    }
  }
  for (int r = 0; r < MR; ++r) std::memcpy(C + r * ldc, acc[r], sizeof(float) * nb);
}

// C (M×Nc, ldc) = A (M×K, lda) · B (K×Nc, ldb). Small sizes, called once per step per thread.
// Why target_clones: the default build targets SSE2; this loop is FMA-bound, so the AVX2 /
// AVX-512 clone picked at load time is 2-4x faster.
#if defined(BAEUM_X86) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void small_gemm(float* C, int64_t ldc, const float* A, int64_t lda, const float* B, int64_t ldb,
                int64_t M, int64_t K, int64_t Nc) {
  for (int64_t j0 = 0; j0 < Nc; j0 += kColBlock) {
    const int64_t nb = std::min(kColBlock, Nc - j0);
    int64_t i = 0;
    for (; i + kRowBlock <= M; i += kRowBlock)
      mm_block<kRowBlock, kColBlock>(C + i * ldc + j0, ldc, A + i * lda, lda, B + j0, ldb, K, nb);
    for (; i < M; ++i) mm_block<1, kColBlock>(C + i * ldc + j0, ldc, A + i * lda, lda, B + j0, ldb, K, nb);
  }
}

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
  int64_t time(int64_t s) const { return back ? T - 1 - s : s; }
  bool masked(int64_t n, int64_t t) const { return mask && !mask[n * T + t]; }
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

// ---- forward -----------------------------------------------------------------------------

void forward_rows(const Seq& q, int64_t r0, int64_t r1, float* hs, float* cs, float* cache,
                  const float* rweight, const float* bias, const float* h0, const float* c0) {
  const int64_t m = r1 - r0, T = q.T, U = q.U, GU = q.GU, CW = q.CW;
  std::vector<float> hp(static_cast<size_t>(m * GU)), zeros(static_cast<size_t>(m * U), 0.0f);
  const float* bh = (q.cell == Cell::gru && bias) ? bias + GU : nullptr;  // recurrent bias
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
    small_gemm(hp.data(), GU, hprev, ldh, rweight, GU, m, U, ncols);
    for (int64_t i = 0; i < m; ++i) {
      const int64_t n = r0 + i;
      float* z = cache + (n * T + t) * CW;
      const float* hr = hp.data() + i * GU;
      const float* hpv = hprev + i * ldh;
      float* hout = hs + (n * T + s) * U;
      switch (q.cell) {
        case Cell::simple_rnn:
          for (int64_t j = 0; j < U; ++j) z[j] += hr[j];
          act_inplace(z, U, q.act);
          std::memcpy(hout, z, sizeof(float) * U);
          break;
        case Cell::lstm: {
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
          for (int64_t j = 0; j < U; ++j) rh[j] = z[U + j] * hpv[j];
          break;
        }
      }
    }
    if (q.cell == Cell::gru_reset_before) {
      // (r⊙h)·R_h for the block, then the candidate and the new state.
      const float* rh = cache + (r0 * T + t) * CW + 3 * U;
      small_gemm(hp.data(), GU, rh, T * CW, rweight + 2 * U, GU, m, U, U);
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
                 const float* c0, const uint8_t* mask, int64_t N, int64_t T, int64_t F,
                 int64_t U, Act act, Act ract, bool go_backwards) {
  if (N <= 0 || T <= 0 || U <= 0) return;
  const int64_t G = rnn_gates(cell);
  const Seq q{cell, N, T, F, U, G, G * U, rnn_cache_width(cell, U), act, ract, go_backwards, mask};
  // 1. Input projection of every (n, t) row at once, bias in the GEMM epilogue.
  if (F > 0) {
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
  // 2. The time loop, rows split across threads.
  for_row_blocks(q, [&](int64_t r0, int64_t r1) {
    forward_rows(q, r0, r1, hs, cs, cache, rweight, bias, h0, c0);
  });
}

// ---- backward ----------------------------------------------------------------------------

namespace {

struct BackBufs {
  float* dgx;    // (N, T, GU) ∂L/∂(input-side pre-activations), by input time
  float* dgh;    // (N, T, GU) ∂L/∂(recurrent-side pre-activations) (== dgx but for GRU)
  float* hprev;  // (N, T, U)  h_{s−1} by input time (left operand of dR)
  const float* rt;  // (GU, U) Rᵀ packed once
};

void backward_rows(const Seq& q, int64_t r0, int64_t r1, const BackBufs& B, float* dh0,
                   float* dc0, const float* dhs, const float* dc_last, const float* h0,
                   const float* c0, const float* hs, const float* cs, const float* cache) {
  const int64_t m = r1 - r0, T = q.T, U = q.U, GU = q.GU, CW = q.CW;
  const size_t mu = static_cast<size_t>(m * U);
  std::vector<float> dh(mu), dhn(mu, 0.0f), dcn(mu, 0.0f), direct(mu, 0.0f), tmp(mu),
      zeros(mu, 0.0f), dtc(static_cast<size_t>(U));
  if (dc_last) std::memcpy(dcn.data(), dc_last + r0 * U, sizeof(float) * mu);
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
      std::memcpy(B.hprev + (n * T + t) * U, hpv, sizeof(float) * U);
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
      small_gemm(tmp.data(), U, gx0 + 2 * U, T * GU, B.rt + 2 * U * U, U, m, U, U);
      for (int64_t i = 0; i < m; ++i) {
        const int64_t n = r0 + i;
        if (q.masked(n, t)) continue;
        const float* hpv = hprev + i * ldh;
        const float* z = cache + (n * T + t) * CW;
        float* gx = B.dgx + (n * T + t) * GU;
        const float* dr = tmp.data() + i * U;
        float* dir = direct.data() + i * U;
        for (int64_t j = 0; j < U; ++j) {
          gx[U + j] = dr[j] * hpv[j];
          dir[j] += dr[j] * z[U + j];
        }
        mul_dact(gx, z, 2 * U, q.ract);
      }
      small_gemm(dhn.data(), U, gx0, T * GU, B.rt, U, m, 2 * U, U);
    } else {
      small_gemm(dhn.data(), U, gh0, T * GU, B.rt, U, m, GU, U);
    }
    for (int64_t i = 0; i < m; ++i) {
      float* dn = dhn.data() + i * U;
      if (q.masked(r0 + i, t)) {
        std::memcpy(dn, dh.data() + i * U, sizeof(float) * U);  // state carried through
      } else if (q.cell == Cell::gru || q.cell == Cell::gru_reset_before) {
        const float* dir = direct.data() + i * U;
        for (int64_t j = 0; j < U; ++j) dn[j] += dir[j];
      }
    }
  }
  if (dh0) std::memcpy(dh0 + r0 * U, dhn.data(), sizeof(float) * mu);
  if (dc0) std::memcpy(dc0 + r0 * U, dcn.data(), sizeof(float) * mu);
}

}  // namespace

void rnn_backward(Cell cell, float* dinp, float* dweight, float* drweight, float* dbias,
                  float* dh0, float* dc0, const float* dhs, const float* dc_last,
                  const float* inp, const float* weight, const float* rweight, const float* h0,
                  const float* c0, const uint8_t* mask, const float* hs, const float* cs,
                  const float* cache, int64_t N, int64_t T, int64_t F, int64_t U, Act act,
                  Act ract, bool go_backwards) {
  const int64_t G = rnn_gates(cell), GU = G * U;
  if (N <= 0 || T <= 0 || U <= 0) {
    if (dinp) std::fill(dinp, dinp + std::max<int64_t>(0, N * T * F), 0.0f);
    if (dh0) std::fill(dh0, dh0 + std::max<int64_t>(0, N * U), 0.0f);
    if (dc0) std::fill(dc0, dc0 + std::max<int64_t>(0, N * U), 0.0f);
    return;
  }
  const Seq q{cell, N, T, F, U, G, GU, rnn_cache_width(cell, U), act, ract, go_backwards, mask};
  // Why thread_local: reuse the big buffers across calls (no malloc once warm), and stay
  // safe when several Python threads call in without the GIL.
  thread_local std::vector<float> dgx, dgh, hprev, rt;
  const size_t ng = static_cast<size_t>(N * T * GU), nu = static_cast<size_t>(N * T * U);
  const bool two = cell == Cell::gru;  // input- and recurrent-side gradients differ
  if (dgx.size() < ng) dgx.resize(ng);
  if (two && dgh.size() < ng) dgh.resize(ng);
  if (hprev.size() < nu) hprev.resize(nu);
  if (rt.size() < static_cast<size_t>(GU * U)) rt.resize(static_cast<size_t>(GU * U));
  for (int64_t k = 0; k < U; ++k)
    for (int64_t j = 0; j < GU; ++j) rt[j * U + k] = rweight[k * GU + j];
  const BackBufs B{dgx.data(), two ? dgh.data() : dgx.data(), hprev.data(), rt.data()};
  for_row_blocks(q, [&](int64_t r0, int64_t r1) {
    backward_rows(q, r0, r1, B, dh0, dc0, dhs, dc_last, h0, c0, hs, cs, cache);
  });
  // Weight gradients: a few large GEMMs over all N·T rows.
  const int64_t NT = N * T;
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
  if (dinp && F > 0) sgemm(false, true, NT, F, GU, 1.0f, B.dgx, GU, weight, GU, 0.0f, dinp, F);
}

}  // namespace baeum
