// optim.cpp — fused multi-tensor optimizer step, Keras 3 update rules.
//
// Glossary: n = params length; V = number of segments (trainable variables);
// segment v = elements [off_v, off_v + size_v). p = parameter, g = (clipped) gradient,
// t = step (iterations + 1), lr = learning rate. All arithmetic is float32 in the order
// Keras's update_step writes it (keras/src/optimizers/*.py, v3.15):
//
//   SGD      μ = 0:  p ← p − g·lr
//            else:   m ← m·μ − g·lr;  p ← p + m            (nesterov: p ← p + m·μ − g·lr)
//   RMSprop  v ← ρ·v + (1−ρ)·g²;  centered: a ← ρ·a + (1−ρ)·g, den = v − a² + ε
//            else den = v + ε;  Δ = lr·g / √den   (ε INSIDE the root)
//            μ > 0: mom ← μ·mom + Δ, p ← p − mom;  else p ← p − Δ
//   Adagrad  acc ← acc + g²;  p ← p − lr·g / √(acc + ε)   (acc₀ set by the caller)
//   Adam     α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ);  m ← m + (g−m)(1−β₁);  v ← v + (g²−v)(1−β₂)
//            amsgrad: v̂ ← max(v̂, v), use v̂;  p ← p − m·α / (√v + ε)  (ε on the
//            UNcorrected √v: "epsilon hat")
//   Nadam    μ_t = β₁(1 − ½·0.96ᵗ), μ_{t+1} likewise, P_t = μ_1···μ_t (given);
//            m, v as Adam;  m̂ = μ_{t+1}·m/(1 − P_t·μ_{t+1}) + (1−μ_t)·g/(1 − P_t);
//            v̂ = v/(1−β₂ᵗ);  p ← p − m̂·lr / (√v̂ + ε)
// AdamW is Adam with weight_decay set (Python side). Before any rule:
//   clipvalue g ← clip(g,−c,c); clipnorm g ← g·c/max(‖g_v‖,c) per variable;
//   global_clipnorm g ← g·s, s = c·min(1/G, 1/c) + (G − G) (NaN if G is not finite);
//   weight decay p ← p − p·wd·lr.
#include "baeum/optim.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "baeum/parallel.h"

namespace baeum {

namespace {

// Elements per work unit. Fixed (never derived from the thread count) so the
// partition — and with it every partial sum — is the same for any number of threads.
constexpr int64_t kChunk = 8192;
// Threads only above ~64k parameters: below that a fork/join costs more than the pass.
constexpr int64_t kGrain = 32768;

struct Chunk {
  int64_t seg, begin, len;
};

// Per-step float32 constants, computed once (not per element).
struct Consts {
  float lr, wd, mu, rho, omr, eps, b1, omb1, omb2, alpha;
  // Nadam: μ_{t+1}, 1 − P_t·μ_{t+1}, 1 − μ_t, 1 − P_t, 1 − β₂ᵗ. Kept as divisors (not
  // folded into reciprocals) so the kernel rounds exactly like Keras's formula.
  float nd_ut1, nd_d1, nd_omut, nd_d2, nd_d3;
  float cv;                   // clipvalue (0 = off)
};

Consts make_consts(const OptimConfig& c) {
  Consts k{};
  k.lr = static_cast<float>(c.lr);
  k.wd = static_cast<float>(c.weight_decay);
  k.mu = static_cast<float>(c.momentum);
  k.rho = static_cast<float>(c.rho);
  k.omr = static_cast<float>(1.0 - c.rho);  // Keras: `1 - rho` in Python, then float32
  k.eps = static_cast<float>(c.epsilon);
  k.cv = c.clipvalue > 0 ? static_cast<float>(c.clipvalue) : 0.f;
  const float t = static_cast<float>(c.step);
  const float b1 = static_cast<float>(c.beta_1), b2 = static_cast<float>(c.beta_2);
  k.b1 = b1;
  if (c.kind == OptimKind::adam) {
    // Keras casts β to float32 before the power: 1 − β₂¹ ≈ 9.99987e-4, not 1e-3.
    const float b1p = std::pow(b1, t), b2p = std::pow(b2, t);
    k.alpha = k.lr * std::sqrt(1.f - b2p) / (1.f - b1p);
    k.omb1 = static_cast<float>(1.0 - c.beta_1);
    k.omb2 = static_cast<float>(1.0 - c.beta_2);
  } else if (c.kind == OptimKind::nadam) {
    const float u_t = b1 * (1.f - 0.5f * std::pow(0.96f, t));
    const float u_t1 = b1 * (1.f - 0.5f * std::pow(0.96f, t + 1.f));
    const float P = static_cast<float>(c.u_product);
    const float P1 = P * u_t1;
    k.nd_ut1 = u_t1;
    k.nd_d1 = 1.f - P1;
    k.nd_omut = 1.f - u_t;
    k.nd_d2 = 1.f - P;
    k.nd_d3 = 1.f - std::pow(b2, t);
    k.omb1 = 1.f - b1;  // Nadam's update_step uses the float32 β (unlike Adam's)
    k.omb2 = 1.f - b2;
  }
  return k;
}

// The clipped gradient, on the fly. Clip is a template flag: 0 = no clipping (g as is —
// why: the scale form below costs a division per element, a quarter of Adam's time, and
// g·1/1 == g exactly, so skipping it changes no bit); 1 = clip(g, −cv, cv); 2 = g·ga/gb
// (clipnorm: ga = c, gb = max(‖g‖, c); global: ga = scale, gb = 1).
// Ternaries, not fmin/fmax, so a NaN gradient stays NaN as in Keras.
// always_inline: the rule loops below are inlined into each CPU clone of update_run, so
// they are compiled for that clone's ISA (a separate call would run the baseline code).
#define BAEUM_ALWAYS_INLINE inline __attribute__((always_inline))
template <int Clip>
BAEUM_ALWAYS_INLINE float clip_grad(float g, float ga, float gb, float cv) {
  if (Clip == 1) return g < -cv ? -cv : (g > cv ? cv : g);
  if (Clip == 2) return g * ga / gb;
  return g;
}

// Optional slots as template flags: a branch-free body is what lets gcc vectorise the loop
// (a conditional store inside it would not be).
template <int Clip, bool Centered, bool Momentum>
BAEUM_ALWAYS_INLINE void rmsprop_run(const Consts& k, float* __restrict p, const float* __restrict gr,
                 float* __restrict v_, float* __restrict mom, float* __restrict avg, int64_t len,
                 float ga, float gb) {
  const float lr = k.lr, eps = k.eps, cv = k.cv, rho = k.rho, omr = k.omr, mu = k.mu;
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) {
    const float g = clip_grad<Clip>(gr[i], ga, gb, cv);
    const float v = rho * v_[i] + omr * (g * g);
    v_[i] = v;
    float den = v + eps;
    if (Centered) {
      const float a = rho * avg[i] + omr * g;
      avg[i] = a;
      den = v - a * a + eps;
    }
    const float inc = lr * g / std::sqrt(den);
    if (Momentum) {
      const float m = mu * mom[i] + inc;
      mom[i] = m;
      p[i] -= m;
    } else {
      p[i] -= inc;
    }
  }
}

template <int Clip, bool Amsgrad>
BAEUM_ALWAYS_INLINE void adam_run(const Consts& k, float* __restrict p, const float* __restrict gr,
              float* __restrict m_, float* __restrict v_, float* __restrict vhat, int64_t len,
              float ga, float gb) {
  const float eps = k.eps, cv = k.cv, omb1 = k.omb1, omb2 = k.omb2, alpha = k.alpha;
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) {
    const float g = clip_grad<Clip>(gr[i], ga, gb, cv);
    const float m = m_[i] + (g - m_[i]) * omb1;
    float v = v_[i] + (g * g - v_[i]) * omb2;
    m_[i] = m;
    v_[i] = v;
    if (Amsgrad) {
      v = std::max(vhat[i], v);
      vhat[i] = v;
    }
    p[i] -= m * alpha / (std::sqrt(v) + eps);
  }
}

// One contiguous run [0, len) of one variable. Pointers are already offset.
template <int Clip>
BAEUM_ALWAYS_INLINE void update_body(OptimKind kind, const OptimConfig& c, const Consts& k,
                                     float* __restrict p, const float* __restrict gr,
                                     float* __restrict s0, float* __restrict s1,
                                     float* __restrict s2, int64_t len, float ga, float gb) {
  const float lr = k.lr, eps = k.eps, cv = k.cv;
  if (k.wd != 0.f) {
    const float wd = k.wd;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) p[i] = p[i] - p[i] * wd * lr;
  }
  switch (kind) {
    case OptimKind::sgd: {
      const float mu = k.mu;
      if (s0 == nullptr) {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) p[i] -= clip_grad<Clip>(gr[i], ga, gb, cv) * lr;
      } else if (c.nesterov) {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) {
          const float g = clip_grad<Clip>(gr[i], ga, gb, cv);
          const float m = s0[i] * mu - g * lr;
          s0[i] = m;
          p[i] += m * mu - g * lr;
        }
      } else {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) {
          const float g = clip_grad<Clip>(gr[i], ga, gb, cv);
          const float m = s0[i] * mu - g * lr;
          s0[i] = m;
          p[i] += m;
        }
      }
      break;
    }
    case OptimKind::rmsprop: {
      // slots: s0 velocity, s1 momentum (or null), s2 average gradient (or null)
      if (s2 != nullptr)
        s1 != nullptr ? rmsprop_run<Clip, true, true>(k, p, gr, s0, s1, s2, len, ga, gb)
                      : rmsprop_run<Clip, true, false>(k, p, gr, s0, s1, s2, len, ga, gb);
      else
        s1 != nullptr ? rmsprop_run<Clip, false, true>(k, p, gr, s0, s1, s2, len, ga, gb)
                      : rmsprop_run<Clip, false, false>(k, p, gr, s0, s1, s2, len, ga, gb);
      break;
    }
    case OptimKind::adagrad: {
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) {
        const float g = clip_grad<Clip>(gr[i], ga, gb, cv);
        const float a = s0[i] + g * g;
        s0[i] = a;
        p[i] -= lr * g / std::sqrt(a + eps);
      }
      break;
    }
    case OptimKind::adam: {
      if (s2 != nullptr)
        adam_run<Clip, true>(k, p, gr, s0, s1, s2, len, ga, gb);
      else
        adam_run<Clip, false>(k, p, gr, s0, s1, s2, len, ga, gb);
      break;
    }
    case OptimKind::nadam: {
      const float omb1 = k.omb1, omb2 = k.omb2, ut1 = k.nd_ut1, d1 = k.nd_d1;
      const float omut = k.nd_omut, d2 = k.nd_d2, d3 = k.nd_d3;
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) {
        const float g = clip_grad<Clip>(gr[i], ga, gb, cv);
        const float m = s0[i] + (g - s0[i]) * omb1;
        const float v = s1[i] + (g * g - s1[i]) * omb2;
        s0[i] = m;
        s1[i] = v;
        const float m_hat = ut1 * m / d1 + omut * g / d2;
        p[i] -= m_hat * lr / (std::sqrt(v / d3) + eps);
      }
      break;
    }
  }
}

// Why target_clones: the build targets baseline x86-64 (SSE2); these loops are bound by
// sqrt/div throughput, so an AVX-512 (or AVX2) clone picked at load time by the CPU is
// ~2-4x faster. -ffp-contract=off (CMake, this file) keeps every clone's rounding identical.
#if defined(BAEUM_X86) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void update_run(OptimKind kind, const OptimConfig& c, const Consts& k, float* __restrict p,
                const float* __restrict gr, float* __restrict s0, float* __restrict s1,
                float* __restrict s2, int64_t len, float ga, float gb) {
  if (k.cv > 0.f)
    update_body<1>(kind, c, k, p, gr, s0, s1, s2, len, ga, gb);
  else if (ga != 1.f || gb != 1.f)
    update_body<2>(kind, c, k, p, gr, s0, s1, s2, len, ga, gb);
  else
    update_body<0>(kind, c, k, p, gr, s0, s1, s2, len, ga, gb);
}

}  // namespace

int optim_num_slots(const OptimConfig& c) {
  switch (c.kind) {
    case OptimKind::sgd: return c.momentum != 0 ? 1 : 0;
    case OptimKind::rmsprop: return 1 + (c.momentum > 0 ? 1 : 0) + (c.centered ? 1 : 0);
    case OptimKind::adagrad: return 1;
    case OptimKind::adam: return c.amsgrad ? 3 : 2;
    case OptimKind::nadam: return 2;
  }
  return 0;
}

void optim_step(const OptimConfig& cfg, float* params, const float* grads, float* const* slots,
                const int64_t* segments, int64_t nseg) {
  const Consts k = make_consts(cfg);
  const int ns = optim_num_slots(cfg);

  // Fixed partition: every segment cut into runs of at most kChunk elements.
  std::vector<Chunk> chunks;
  int64_t total = 0;
  for (int64_t v = 0; v < nseg; ++v) {
    const int64_t off = segments[2 * v], size = segments[2 * v + 1];
    for (int64_t b = 0; b < size; b += kChunk)
      chunks.push_back({v, off + b, std::min(kChunk, size - b)});
    total += size;
  }
  const int64_t nc = static_cast<int64_t>(chunks.size());
  const int nt = threads_for(total, kGrain);
  (void)nt;

  // Gradient scaling per segment: g·ga[v]/gb[v] (see clip_grad).
  std::vector<float> ga(nseg, 1.f), gb(nseg, 1.f);
  const bool by_norm = cfg.clipnorm > 0, by_global = !by_norm && cfg.global_clipnorm > 0;
  if (by_norm || by_global) {
    // ‖g‖² per chunk in double (in parallel), then summed serially in chunk order:
    // the same partial sums and the same order whatever the thread count.
    std::vector<double> part(nc, 0.0);
#if defined(BAEUM_OPENMP)
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (int64_t c = 0; c < nc; ++c) {
      const float* g = grads + chunks[c].begin;
      double s = 0.0;
      for (int64_t i = 0; i < chunks[c].len; ++i) s += static_cast<double>(g[i]) * g[i];
      part[c] = s;
    }
    std::vector<double> sq(nseg, 0.0);
    for (int64_t c = 0; c < nc; ++c) sq[chunks[c].seg] += part[c];
    if (by_norm) {
      const float cn = static_cast<float>(cfg.clipnorm);
      for (int64_t v = 0; v < nseg; ++v) {
        ga[v] = cn;
        gb[v] = std::max(static_cast<float>(std::sqrt(sq[v])), cn);
      }
    } else {
      double all = 0.0;
      for (int64_t v = 0; v < nseg; ++v) all += sq[v];
      const float G = static_cast<float>(std::sqrt(all)), cn = static_cast<float>(cfg.global_clipnorm);
      // Keras's clip_by_global_norm: G = 0 gives scale 1; inf/NaN G gives NaN.
      const float scale = cn * std::min(1.f / G, 1.f / cn) + (G - G);
      std::fill(ga.begin(), ga.end(), scale);
    }
  }

#if defined(BAEUM_OPENMP)
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
  for (int64_t c = 0; c < nc; ++c) {
    const Chunk& ch = chunks[c];
    float* s[3] = {nullptr, nullptr, nullptr};
    if (cfg.kind == OptimKind::rmsprop) {  // optional slots keep fixed positions
      int j = 0;
      s[0] = slots[j++] + ch.begin;
      if (cfg.momentum > 0) s[1] = slots[j++] + ch.begin;
      if (cfg.centered) s[2] = slots[j++] + ch.begin;
    } else {
      for (int j = 0; j < ns; ++j) s[j] = slots[j] + ch.begin;
    }
    update_run(cfg.kind, cfg, k, params + ch.begin, grads + ch.begin, s[0], s[1], s[2], ch.len,
               ga[ch.seg], gb[ch.seg]);
  }
}

}  // namespace baeum
