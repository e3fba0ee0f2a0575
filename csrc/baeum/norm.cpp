// norm.cpp — batch and layer normalization, forward and fused backward.
//
// Glossary: R rows (batch norm: N·H·W positions; layer norm: samples), C channels (batch
// norm, last axis), D features normalised per row (layer norm).
//
// Batch norm, per channel c over the R rows (Keras: biased variance, ε = 1e-3):
//   μ = (1/R) Σ_r x,   σ² = (1/R) Σ_r (x − μ)²,   invstd = 1/sqrt(σ² + ε),   x̂ = (x − μ)·invstd
//   y = γ·x̂ + β     computed as  y = x·inv + (β − μ·inv),  inv = γ·invstd  (Keras's form)
//   moving ← moving·momentum + batch·(1 − momentum)   (momentum 0.99 keeps 99 % old)
// Backward (training; μ, σ² depend on x), with S₁ = Σ_r dy, S₂ = Σ_r dy·x̂:
//   dβ = S₁,  dγ = S₂,  dx = γ·invstd/R · (R·dy − S₁ − x̂·S₂)
// Backward (inference; moving stats are constants): dx = γ·invstd·dy, same dβ, dγ.
// Layer norm is the same algebra per row over D features, with γ, β per feature.
// Derivations: docs/pooling_norm.md.
//
// Determinism: column sums over rows are taken over FIXED chunks of rows (the chunk size
// depends only on C, never on the thread count); inside a chunk, float sums of 16 rows are
// added into double chunk sums, and the chunks' partials are added in chunk order. So 1 and 2 threads give bit-identical
// results, and every other loop writes disjoint rows.
#include "baeum/norm.h"
#include "baeum/clones.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "baeum/parallel.h"

namespace baeum {

namespace {

// ~32K floats per chunk: large enough that the per-chunk partial rows stay small, small
// enough that a typical conv feature map splits into many chunks for the threads.
constexpr int64_t kChunkElems = 32768;
constexpr int64_t kGrain = 32768;

inline int64_t chunk_rows(int64_t C) { return std::max<int64_t>(1, kChunkElems / std::max<int64_t>(C, 1)); }

// The three streaming loops of batch norm run in AVX2 / AVX-512 clones (clones.h).

// a1[c] += Σ_r (x − K)[r, c], a2[c] += Σ_r (x − K)²[r, c] over `rows` rows.
BAEUM_CLONES void shifted_sums(float* __restrict a1, float* __restrict a2, const float* __restrict x,
                               const float* __restrict K, int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; ++r, x += C)
    for (int64_t c = 0; c < C; ++c) {
      const float d = x[c] - K[c];
      a1[c] += d;
      a2[c] += d * d;
    }
}

// a1[c] += Σ_r dy[r, c], a2[c] += Σ_r dy·(x − μ)[r, c] over `rows` rows.
BAEUM_CLONES void grad_sums(float* __restrict a1, float* __restrict a2, const float* __restrict dy,
                            const float* __restrict x, const float* __restrict mean, int64_t rows,
                            int64_t C) {
  for (int64_t r = 0; r < rows; ++r, x += C, dy += C)
    for (int64_t c = 0; c < C; ++c) {
      a1[c] += dy[c];
      a2[c] += dy[c] * (x[c] - mean[c]);
    }
}

// Two column sums over the rows of chunk k: partial[k][0..C) and partial[k][C..2C) receive
// Σ f1 and Σ f2 over the rows of chunk k; `body` adds the rows' contributions into
// float accumulators (`body(r0, r1, a1, a2)` for rows [r0, r1)). Then out1/out2 (double, C) = Σ_k partials, in chunk order.
// Why float accumulators flushed to double every kFlush rows: float adds run at twice the
// SIMD width of doubles (and need no conversions), while a float sum of only 16 terms keeps
// ~1e-7 relative error; everything longer is summed in double.
constexpr int64_t kFlush = 16;

template <class Body>
void column_sums2(double* out1, double* out2, int64_t R, int64_t C, Body body) {
  const int64_t rows = chunk_rows(C), nchunks = (R + rows - 1) / rows;
  // Why thread_local: reuse the partial-sum buffer across calls (no malloc once warm).
  thread_local std::vector<double> partial;
  const size_t need = static_cast<size_t>(nchunks * 2 * C);
  if (partial.size() < need) partial.resize(need);
  double* part = partial.data();
  const int nt = threads_for(R * C, kGrain);
#pragma omp parallel num_threads(nt)
  {
    std::vector<float> f(2 * C);
    float* f1 = f.data();
    float* f2 = f1 + C;
#pragma omp for schedule(static)
    for (int64_t k = 0; k < nchunks; ++k) {
      double* a1 = part + k * 2 * C;
      double* a2 = a1 + C;
      std::fill(a1, a1 + 2 * C, 0.0);
      const int64_t r1 = std::min(R, (k + 1) * rows);
      for (int64_t r0 = k * rows; r0 < r1; r0 += kFlush) {
        std::fill(f1, f1 + 2 * C, 0.0f);
        const int64_t re = std::min(r1, r0 + kFlush);
        body(r0, re, f1, f2);
        for (int64_t c = 0; c < C; ++c) {
          a1[c] += f1[c];
          a2[c] += f2[c];
        }
      }
    }
  }
  std::fill(out1, out1 + C, 0.0);
  std::fill(out2, out2 + C, 0.0);
  for (int64_t k = 0; k < nchunks; ++k) {
    const double* a1 = part + k * 2 * C;
    const double* a2 = a1 + C;
    for (int64_t c = 0; c < C; ++c) {
      out1[c] += a1[c];
      out2[c] += a2[c];
    }
  }
}

// y[r, c] = x[r, c]·scale[c] + shift[c] for one row.
BAEUM_CLONES void affine_row(float* __restrict y, const float* __restrict x, const float* __restrict scale,
                             const float* __restrict shift, int64_t C) {
  for (int64_t c = 0; c < C; ++c) y[c] = x[c] * scale[c] + shift[c];
}

// dx = a·dy − b − (x − μ)·k for one row (the batch-norm backward's second pass).
BAEUM_CLONES void dx_row(float* __restrict dx, const float* __restrict dy, const float* __restrict x,
                         const float* __restrict mean, const float* __restrict a,
                         const float* __restrict b, const float* __restrict k, int64_t C) {
  for (int64_t c = 0; c < C; ++c) dx[c] = a[c] * dy[c] - b[c] - (x[c] - mean[c]) * k[c];
}

// y = x·scale + shift over all rows (parallel over rows).
void affine_rows(float* out, const float* inp, const float* scale, const float* shift, int64_t R,
                 int64_t C) {
  const int nt = threads_for(R * C, kGrain);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r = 0; r < R; ++r) affine_row(out + r * C, inp + r * C, scale, shift, C);
}

}  // namespace

void batchnorm_forward(float* out, float* save_mean, float* save_invstd, float* moving_mean,
                       float* moving_var, const float* inp, const float* gamma,
                       const float* beta, int64_t R, int64_t C, float eps, float momentum,
                       bool training) {
  if (C <= 0) return;
  if (training && R > 0) {
    // Shifted sums: Σ(x − K) and Σ(x − K)² with K = the first row. One pass over x, and
    // no catastrophic cancellation when |μ| ≫ σ (K is a sample, so x − K is on σ's scale).
    std::vector<double> s1(C), s2(C);
    const float* K = inp;
    column_sums2(s1.data(), s2.data(), R, C, [&](int64_t r0, int64_t r1, float* a1, float* a2) {
      shifted_sums(a1, a2, inp + r0 * C, K, r1 - r0, C);
    });
    for (int64_t c = 0; c < C; ++c) {
      const double m = s1[c] / R;
      const float mean = static_cast<float>(K[c] + m);
      const float var = static_cast<float>(std::max(s2[c] / R - m * m, 0.0));
      save_mean[c] = mean;
      save_invstd[c] = 1.0f / std::sqrt(var + eps);
      moving_mean[c] = moving_mean[c] * momentum + mean * (1.0f - momentum);
      moving_var[c] = moving_var[c] * momentum + var * (1.0f - momentum);
    }
  } else {  // inference (or an empty training batch: no statistics to take)
    for (int64_t c = 0; c < C; ++c) {
      save_mean[c] = moving_mean[c];
      save_invstd[c] = 1.0f / std::sqrt(moving_var[c] + eps);
    }
  }
  if (R <= 0) return;
  std::vector<float> scale(C), shift(C);
  for (int64_t c = 0; c < C; ++c) {
    scale[c] = (gamma ? gamma[c] : 1.0f) * save_invstd[c];
    shift[c] = (beta ? beta[c] : 0.0f) - save_mean[c] * scale[c];
  }
  affine_rows(out, inp, scale.data(), shift.data(), R, C);
}

void batchnorm_backward(float* dinp, float* dgamma, float* dbeta, const float* dout,
                        const float* inp, const float* save_mean, const float* save_invstd,
                        const float* gamma, int64_t R, int64_t C, bool training) {
  if (C <= 0) return;
  const bool need_sums = dgamma || dbeta || (training && dinp);
  std::vector<double> s1(C, 0.0), s2(C, 0.0);  // Σ dy, Σ dy·(x − μ)
  if (need_sums && R > 0) {
    column_sums2(s1.data(), s2.data(), R, C, [&](int64_t r0, int64_t r1, float* a1, float* a2) {
      grad_sums(a1, a2, dout + r0 * C, inp + r0 * C, save_mean, r1 - r0, C);
    });
  }
  // Σ dy·x̂ = invstd·Σ dy·(x − μ)
  for (int64_t c = 0; c < C; ++c) s2[c] *= save_invstd[c];
  if (dbeta)
    for (int64_t c = 0; c < C; ++c) dbeta[c] += static_cast<float>(s1[c]);
  if (dgamma)
    for (int64_t c = 0; c < C; ++c) dgamma[c] += static_cast<float>(s2[c]);
  if (!dinp || R <= 0) return;
  // dx = a·dy − b − (x − μ)·k per channel (the fused second pass):
  //   a = γ·invstd, b = a·S₁/R, k = a·invstd·S₂/R   (training); b = k = 0 (inference).
  std::vector<float> a(C), b(C), k(C);
  for (int64_t c = 0; c < C; ++c) {
    a[c] = (gamma ? gamma[c] : 1.0f) * save_invstd[c];
    b[c] = training ? static_cast<float>(a[c] * s1[c] / R) : 0.0f;
    k[c] = training ? static_cast<float>(a[c] * save_invstd[c] * s2[c] / R) : 0.0f;
  }
  const int nt = threads_for(R * C, kGrain);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r = 0; r < R; ++r)
    dx_row(dinp + r * C, dout + r * C, inp + r * C, save_mean, a.data(), b.data(), k.data(), C);
}

void layernorm_forward(float* out, float* save_mean, float* save_invstd, const float* inp,
                       const float* gamma, const float* beta, int64_t R, int64_t D, float eps) {
  if (R <= 0) return;
  const int nt = threads_for(R * D, kGrain);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r = 0; r < R; ++r) {
    const float* x = inp + r * D;
    float* y = out + r * D;
    // Two passes in double over one row (in cache): exact enough for any D.
    double s = 0.0;
    for (int64_t d = 0; d < D; ++d) s += x[d];
    const double m = D > 0 ? s / D : 0.0;
    double v = 0.0;
    for (int64_t d = 0; d < D; ++d) v += (x[d] - m) * (x[d] - m);
    const float mean = static_cast<float>(m);
    const float invstd = 1.0f / std::sqrt(static_cast<float>(D > 0 ? v / D : 0.0) + eps);
    save_mean[r] = mean;
    save_invstd[r] = invstd;
    for (int64_t d = 0; d < D; ++d) {
      const float xh = (x[d] - mean) * invstd;
      y[d] = (gamma ? gamma[d] : 1.0f) * xh + (beta ? beta[d] : 0.0f);
    }
  }
}

void layernorm_backward(float* dinp, float* dgamma, float* dbeta, const float* dout,
                        const float* inp, const float* save_mean, const float* save_invstd,
                        const float* gamma, int64_t R, int64_t D) {
  if (R <= 0 || D <= 0) return;
  if (dinp) {
    const int nt = threads_for(R * D, kGrain);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < R; ++r) {
      const float* x = inp + r * D;
      const float* dy = dout + r * D;
      float* dx = dinp + r * D;
      const float mean = save_mean[r], invstd = save_invstd[r];
      double sg = 0.0, sgx = 0.0;  // Σ g, Σ g·x̂ with g = dy·γ
      for (int64_t d = 0; d < D; ++d) {
        const float g = dy[d] * (gamma ? gamma[d] : 1.0f);
        sg += g;
        sgx += static_cast<double>(g) * ((x[d] - mean) * invstd);
      }
      const float mg = static_cast<float>(sg / D), mgx = static_cast<float>(sgx / D);
      for (int64_t d = 0; d < D; ++d) {
        const float g = dy[d] * (gamma ? gamma[d] : 1.0f);
        dx[d] = invstd * (g - mg - (x[d] - mean) * invstd * mgx);
      }
    }
  }
  if (!dgamma && !dbeta) return;
  std::vector<double> s1(D), s2(D);  // Σ_r dy, Σ_r dy·x̂ per feature
  column_sums2(s1.data(), s2.data(), R, D, [&](int64_t r0, int64_t r1, float* __restrict a1, float* __restrict a2) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* __restrict x = inp + r * D;
      const float* __restrict dy = dout + r * D;
      const float mean = save_mean[r], invstd = save_invstd[r];
      for (int64_t d = 0; d < D; ++d) {
        a1[d] += dy[d];
        a2[d] += dy[d] * ((x[d] - mean) * invstd);
      }
    }
  });
  if (dbeta)
    for (int64_t d = 0; d < D; ++d) dbeta[d] += static_cast<float>(s1[d]);
  if (dgamma)
    for (int64_t d = 0; d < D; ++d) dgamma[d] += static_cast<float>(s2[d]);
}

}  // namespace baeum
