// losses.cpp — fused softmax + cross-entropy and sigmoid + binary cross-entropy.
//
// Why fused: computing softmax (or sigmoid) first and then −log p overflows/underflows for
// large logits (p rounds to 0 → log 0 = −inf; Keras clips p to [1e-7, 1−1e-7] and then the
// gradient through the clip is 0). Working on the logits directly is exact and stable:
//
//   softmax CE   L_i = −Σ_c t'_c (z_c − m − log s),  m = max_c z_c,  s = Σ_c e^{z_c − m}
//                ∂L_i/∂z_c = p_c · Σ_k t'_k − t'_c,   p_c = e^{z_c − m} / s
//                (z_c − m ≤ 0 so e^{·} ≤ 1 and s ∈ [1, C]: nothing overflows.)
//   sparse CE    the same with t' = onehot(label): L_i = m + log s − z_label, ∂ = p − onehot
//   sigmoid BCE  ℓ(z, t') = max(z, 0) − z·t' + log1p(e^{−|z|})      (= −t'·log σ(z) − (1−t')·log(1−σ(z)))
//                ∂ℓ/∂z = σ(z) − t';  L_i = mean_d ℓ,  ∂L_i/∂z_d = (σ(z_d) − t'_d) / D
//                σ(z) − t' is evaluated as (1 − t') − e^{−z}/(1+e^{−z}) for z ≥ 0 and
//                e^{z}/(1+e^{z}) − t' for z < 0: e^{·} ≤ 1 never overflows, and σ ≈ 1 with
//                t' = 1 does not cancel.
// Label smoothing (Keras): CE t' = t(1−ls) + ls/C;  BCE t' = t(1−ls) + ls/2.
// The gradient written is dinp = dloss[i] · ∂L_i/∂z (the chain rule through the reduction
// is folded into dloss by the caller), overwriting dinp.
//
// Shape glossary: N rows, C classes, D sigmoid outputs per row. inp/dinp/target (N, C|D),
// loss/dloss (N), label (N) int64.
//
// Row sums (s, the loss) are accumulated in double: one row may have thousands of classes
// and the cost is negligible next to exp(). Rows are independent, so splitting rows across
// threads gives bit-identical results for any thread count.
#include "baeum/losses.h"

#include <cmath>

#include "baeum/parallel.h"

namespace baeum {

namespace {
constexpr int64_t kGrain = 16384;  // elements per thread before a fork/join pays off

// σ(z) − t without overflow and without cancellation when σ(z) ≈ 1 and t = 1:
// for z ≥ 0 it is (1 − t) − σ(−z), with σ(−z) = e^{−z}/(1 + e^{−z}) small and exact.
inline float sigmoid_minus(float z, float t) {
  if (z >= 0.0f) {
    const float e = std::exp(-z);
    return (1.0f - t) - e / (1.0f + e);
  }
  const float e = std::exp(z);
  return e / (1.0f + e) - t;
}
}  // namespace

void softmax_cross_entropy(float* loss, float* dinp, const float* inp, const float* target,
                           const float* dloss, int64_t N, int64_t C, float label_smoothing) {
  const float keep = 1.0f - label_smoothing;
  const float spread = C > 0 ? label_smoothing / static_cast<float>(C) : 0.0f;
#if defined(BAEUM_OPENMP)
#pragma omp parallel for num_threads(baeum::threads_for(N * C, kGrain)) if (N * C >= 2 * kGrain)
#endif
  for (int64_t i = 0; i < N; ++i) {
    const float* z = inp + i * C;
    const float* t = target + i * C;
    float m = -INFINITY;
    for (int64_t c = 0; c < C; ++c) m = z[c] > m ? z[c] : m;
    double s = 0.0, tsum = 0.0, tz = 0.0;  // Σ e^{z−m}, Σ t', Σ t'·(z − m)
    for (int64_t c = 0; c < C; ++c) {
      const float tc = t[c] * keep + spread;
      s += std::exp(z[c] - m);
      tsum += tc;
      tz += static_cast<double>(tc) * (z[c] - m);
    }
    const double log_s = std::log(s);
    // L = −Σ t'(z − m − log s) = tsum·log s − Σ t'(z − m)
    loss[i] = C > 0 ? static_cast<float>(tsum * log_s - tz) : 0.0f;
    if (dinp) {
      float* g = dinp + i * C;
      const float scale = dloss[i];
      const float inv_s = static_cast<float>(1.0 / s);
      const float ts = static_cast<float>(tsum);
      for (int64_t c = 0; c < C; ++c) {
        const float p = std::exp(z[c] - m) * inv_s;
        g[c] = scale * (p * ts - (t[c] * keep + spread));
      }
    }
  }
}

void sparse_softmax_cross_entropy(float* loss, float* dinp, const float* inp,
                                  const int64_t* label, const float* dloss, int64_t N,
                                  int64_t C) {
#if defined(BAEUM_OPENMP)
#pragma omp parallel for num_threads(baeum::threads_for(N * C, kGrain)) if (N * C >= 2 * kGrain)
#endif
  for (int64_t i = 0; i < N; ++i) {
    const float* z = inp + i * C;
    const int64_t y = label[i];
    float m = -INFINITY;
    for (int64_t c = 0; c < C; ++c) m = z[c] > m ? z[c] : m;
    double s = 0.0;
    for (int64_t c = 0; c < C; ++c) s += std::exp(z[c] - m);
    // L = log s − (z_y − m)
    loss[i] = static_cast<float>(std::log(s) - static_cast<double>(z[y] - m));
    if (dinp) {
      float* g = dinp + i * C;
      const float scale = dloss[i];
      const float inv_s = static_cast<float>(1.0 / s);
      for (int64_t c = 0; c < C; ++c) g[c] = scale * (std::exp(z[c] - m) * inv_s);
      g[y] -= scale;
    }
  }
}

void sigmoid_binary_crossentropy(float* loss, float* dinp, const float* inp,
                                 const float* target, const float* dloss, int64_t N,
                                 int64_t D, float label_smoothing) {
  const float keep = 1.0f - label_smoothing;
  const float spread = 0.5f * label_smoothing;
  const double inv_d = D > 0 ? 1.0 / static_cast<double>(D) : 0.0;
#if defined(BAEUM_OPENMP)
#pragma omp parallel for num_threads(baeum::threads_for(N * D, kGrain)) if (N * D >= 2 * kGrain)
#endif
  for (int64_t i = 0; i < N; ++i) {
    const float* z = inp + i * D;
    const float* t = target + i * D;
    double acc = 0.0;
    for (int64_t d = 0; d < D; ++d) {
      const float tz = t[d] * keep + spread;
      const float zd = z[d];
      const float relu = zd > 0.0f ? zd : 0.0f;
      acc += static_cast<double>(relu - zd * tz) + std::log1p(std::exp(-std::fabs(zd)));
    }
    loss[i] = static_cast<float>(acc * inv_d);
    if (dinp) {
      float* g = dinp + i * D;
      const float scale = static_cast<float>(dloss[i] * inv_d);
      for (int64_t d = 0; d < D; ++d)
        g[d] = scale * sigmoid_minus(z[d], t[d] * keep + spread);
    }
  }
}

}  // namespace baeum
