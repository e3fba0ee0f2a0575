// elementwise.cpp — activations, bias, softmax, dropout and the ReLU family.
//
// Forward y = f(x) and backward dx = dy·f'(x) (σ = sigmoid, Φ/φ = normal cdf/pdf):
//   linear      y = x                                   f' = 1
//   relu        y = max(x, 0)                           f' = [y > 0]
//   sigmoid     y = 1/(1+e^−x)                          f' = y(1−y)
//   tanh        y = tanh x                              f' = 1−y²
//   softmax     y_k = e^{x_k−m}/Σ_j e^{x_j−m}, m = max  dx = y·(dy − Σ dy·y)   (per row)
//   leaky_relu  y = x (x ≥ 0) else α·x                  f' = [x > 0] + α[x ≤ 0]      (reads x)
//   elu         y = x (x > 0) else α·expm1(x)           f' = 1 or α·e^x              (reads x)
//   selu        y = λ·elu(x, α_s)                       f' = λ (y > 0) else y + λα_s
//   gelu        y = x·Φ(x) = ½x(1+erf(x/√2))            f' = Φ(x) + x·φ(x)           (reads x)
//               (Φ computed as ½·erfc(−x/√2) to avoid cancellation for x ≪ 0)
//   gelu_tanh   y = ½x(1+tanh u) = x·σ(2u), u = √(2/π)(x+0.044715x³)
//               f' = s + 2x·s(1−s)·√(2/π)(1+3·0.044715x²), s = σ(2u)                 (reads x)
//   silu        y = x·σ(x)                              f' = σ(1 + x(1−σ))           (reads x)
//   softplus    y = max(x,0) + log1p(e^−|x|)            f' = σ(x)                    (reads x)
//   softsign    y = x/(1+|x|)                           f' = 1/(1+|x|)²              (reads x)
//   hard_sigmoid y = clip(x/6 + ½, 0, 1)  (Keras 3)     f' = 1/6 where 0 < y < 1
//   exponential y = e^x                                 f' = y
// Activations whose derivative is a function of y use y, so a layer need not keep x.
//
// Shapes: R rows × C columns (the last axis), n = R·C elements.
// Threading: elementwise loops split [0, n) into contiguous chunks above kGrain elements;
// every element is computed the same way whatever the split, so results never depend on
// the thread count. Reductions (bias_grad, prelu dalpha) run serially in row order.
#include "baeum/elementwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "baeum/fastmath.h"
#include "baeum/parallel.h"

namespace baeum {

namespace {

constexpr int64_t kGrain = 32768;  // elements per thread below which threads cost more

// f(b, e) over [0, n), split into one contiguous chunk per thread when n is large.
// Callers capture by value ([=]): scalars captured by reference are re-loaded from memory
// inside the loop (they may alias the output), which blocks vectorisation.
template <class F>
void parallel_range(int64_t n, int64_t grain, F f) {
  if (n <= 0) return;
#if defined(BAEUM_OPENMP)
  const int nt = threads_for(n, grain);
  if (nt > 1) {
    const int64_t chunk = (n + nt - 1) / nt;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; ++t) {
      const int64_t b = t * chunk, e = std::min<int64_t>(n, b + chunk);
      if (b < e) f(b, e);
    }
    return;
  }
#endif
  f(0, n);
}

constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

// The helpers below must be inlined into their loops or nothing vectorises; gcc's LTO
// inliner otherwise leaves fast_exp as a call.
#if defined(__GNUC__)
#define BAEUM_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define BAEUM_ALWAYS_INLINE inline
#endif

// e^x − 1 for x ≤ 0 without libm: Taylor series (degree 8, error < 1e-8 relative) on
// [−0.5, 0] where e^x − 1 would cancel, fast_exp(x) − 1 below (|result| ≥ 0.39 there).
BAEUM_ALWAYS_INLINE float fast_expm1_neg(float x) {
  float p = 1.0f + x * (1.0f / 8.0f);
  p = 1.0f + x * (1.0f / 7.0f) * p;
  p = 1.0f + x * (1.0f / 6.0f) * p;
  p = 1.0f + x * (1.0f / 5.0f) * p;
  p = 1.0f + x * (1.0f / 4.0f) * p;
  p = 1.0f + x * (1.0f / 3.0f) * p;
  p = 1.0f + x * 0.5f * p;
  const float near0 = x * p;
  const float far = fast_exp(x) - 1.0f;
  return x > -0.5f ? near0 : far;
}

// log(1 + u) for u in [0, 1] without libm (softplus): w = 1 + u = 2^e·m with m in
// [√½, √2), log m by Cephes logf's polynomial in f = m − 1, plus the rounding error of w
// (c = (w − 1) − u) folded back in as −c/w so tiny u is exact. ~2 ulp.
BAEUM_ALWAYS_INLINE float fast_log1p_unit(float u) {
  const float w = 1.0f + u;
  const float c = (w - 1.0f) - u;
  const float big = w > 1.41421356f ? 1.0f : 0.0f;  // w in (√2, 2]: halve it, e = 1
  const float m = w * (1.0f - 0.5f * big);
  const float f = m - 1.0f;
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  float y = f * z * p;
  y += -2.12194440e-4f * big;
  y += -0.5f * z;
  return f + y + 0.693359375f * big - c / w;
}

BAEUM_ALWAYS_INLINE float sigmoidf(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

// y[0..n) = f(x[0..n)), every activation but softmax. The switch sits outside the loops
// so each loop is a plain vectorisable pass over contiguous floats.
void act_fwd(float* y, const float* x, int64_t n, Act act, float a) {
  switch (act) {
    case Act::linear:
      if (y != x) std::copy(x, x + n, y);
      break;
    case Act::relu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];  // NaN stays NaN
      break;
    case Act::sigmoid:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = sigmoidf(x[i]);
      break;
    case Act::tanh:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = fast_tanh(x[i]);
      break;
    case Act::leaky_relu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] >= 0.0f ? x[i] : a * x[i];
      break;
    case Act::elu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[i], neg = a * fast_expm1_neg(std::min(v, 0.0f));
        y[i] = v > 0.0f ? v : neg;
      }
      break;
    case Act::selu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[i], neg = kSeluAlpha * fast_expm1_neg(std::min(v, 0.0f));
        y[i] = kSeluScale * (v > 0.0f ? v : neg);
      }
      break;
    case Act::gelu:
      // Φ(x) = ½·erfc(−x/√2): same as ½(1 + erf(x/√2)) but no cancellation for x ≪ 0;
      // the argument is formed in double because erfc amplifies its rounding ~x² times.
      for (int64_t i = 0; i < n; ++i)
        y[i] = static_cast<float>(0.5 * x[i] * std::erfc(-0.70710678118654752 * x[i]));
      break;
    case Act::gelu_tanh:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        // ½x(1 + tanh u) = x·σ(2u): same value, no cancellation where tanh u ≈ −1.
        y[i] = v * sigmoidf(2.0f * kSqrt2OverPi * (v + 0.044715f * v * v * v));
      }
      break;
    case Act::silu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] * sigmoidf(x[i]);
      break;
    case Act::softplus:
      // logaddexp(x, 0): never overflows, exact for large |x|.
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];  // a local: std::max on x[i] would select between addresses
        y[i] = std::max(v, 0.0f) + fast_log1p_unit(fast_exp(-std::fabs(v)));
      }
      break;
    case Act::softsign:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.0f + std::fabs(x[i]));
      break;
    case Act::hard_sigmoid:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float t = x[i] * (1.0f / 6.0f) + 0.5f;
        y[i] = t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);  // clip that keeps NaN
      }
      break;
    case Act::exponential:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = fast_exp(x[i]);
      break;
    case Act::softmax:
      break;  // handled per row by the callers
  }
}

// dx = dy·f'(x) for [0, n).
void act_bwd(float* dx, const float* dy, const float* x, const float* y, int64_t n, Act act,
             float a) {
  switch (act) {
    case Act::linear:
      if (dx != dy) std::copy(dy, dy + n, dx);
      break;
    case Act::relu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float d = dy[i];  // loaded unconditionally so the select vectorises
        dx[i] = y[i] > 0.0f ? d : 0.0f;
      }
      break;
    case Act::sigmoid:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
      break;
    case Act::tanh:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
      break;
    case Act::leaky_relu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float d = dy[i], neg = a * d;
        dx[i] = x[i] > 0.0f ? d : neg;
      }
      break;
    case Act::elu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * a * fast_exp(x[i]);
      break;
    case Act::selu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i)
        dx[i] = dy[i] * (y[i] > 0.0f ? kSeluScale : y[i] + kSeluScale * kSeluAlpha);
      break;
    case Act::gelu:
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        const float cdf = static_cast<float>(0.5 * std::erfc(-0.70710678118654752 * v));
        const float pdf = kInvSqrt2Pi * fast_exp(-0.5f * v * v);
        dx[i] = dy[i] * (cdf + v * pdf);
      }
      break;
    case Act::gelu_tanh:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        // with s = σ(2u): ½(1+t) = s and ½(1−t²) = 2s(1−s)
        const float s = sigmoidf(2.0f * kSqrt2OverPi * (v + 0.044715f * v * v * v));
        const float du = kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * v * v);
        dx[i] = dy[i] * (s + 2.0f * v * s * (1.0f - s) * du);
      }
      break;
    case Act::silu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float s = sigmoidf(x[i]);
        dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
      }
      break;
    case Act::softplus:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * sigmoidf(x[i]);
      break;
    case Act::softsign:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float d = 1.0f + std::fabs(x[i]);
        dx[i] = dy[i] / (d * d);
      }
      break;
    case Act::hard_sigmoid:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const float d = dy[i] * (1.0f / 6.0f), v = y[i];
        dx[i] = (v > 0.0f) & (v < 1.0f) ? d : 0.0f;
      }
      break;
    case Act::exponential:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i];
      break;
    case Act::softmax:
      break;  // handled per row by the callers
  }
}

// One row of length C: y = softmax(x). In place is fine (y == x).
void softmax_row(float* y, const float* x, int64_t C) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t k = 0; k < C; ++k) m = std::max(m, x[k]);
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t k = 0; k < C; ++k) {
    y[k] = fast_exp(x[k] - m);
    s += y[k];
  }
  const float inv = 1.0f / s;
#pragma omp simd
  for (int64_t k = 0; k < C; ++k) y[k] *= inv;
}

void softmax_row_bwd(float* dx, const float* dy, const float* y, int64_t C) {
  float dot = 0.0f;
  for (int64_t k = 0; k < C; ++k) dot += dy[k] * y[k];
#pragma omp simd
  for (int64_t k = 0; k < C; ++k) dx[k] = y[k] * (dy[k] - dot);
}

// splitmix64's output function (Steele, Lea, Flood 2014): a strong 64-bit mixer.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

}  // namespace

const char* act_name(Act a) {
  static const char* names[kNumActs] = {
      "linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu",
      "gelu", "gelu_tanh", "silu", "softplus", "softsign", "hard_sigmoid", "exponential"};
  const int i = static_cast<int>(a);
  return (i >= 0 && i < kNumActs) ? names[i] : "?";
}

bool act_needs_input(Act a) {
  switch (a) {
    case Act::leaky_relu: case Act::elu: case Act::gelu: case Act::gelu_tanh:
    case Act::silu: case Act::softplus: case Act::softsign:
      return true;
    default:
      return false;
  }
}

void activation_forward(float* out, const float* inp, int64_t R, int64_t C, Act act,
                        float alpha) {
  if (act == Act::softmax) {
    softmax_forward(out, inp, R, C, 1);
    return;
  }
  parallel_range(R * C, kGrain,
                 [=](int64_t b, int64_t e) { act_fwd(out + b, inp + b, e - b, act, alpha); });
}

void activation_backward(float* dinp, const float* dout, const float* inp, const float* out,
                         int64_t R, int64_t C, Act act, float alpha) {
  if (act == Act::softmax) {
    softmax_backward(dinp, dout, out, R, C, 1);
    return;
  }
  parallel_range(R * C, kGrain, [=](int64_t b, int64_t e) {
    act_bwd(dinp + b, dout + b, inp ? inp + b : nullptr, out ? out + b : nullptr, e - b, act,
            alpha);
  });
}

void bias_act_tile(float* c, int64_t ldc, int64_t m, int64_t n, const float* bias, Act act,
                   float alpha) {
  for (int64_t r = 0; r < m; ++r) {
    float* row = c + r * ldc;
    if (bias) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) row[j] += bias[j];
    }
    if (act != Act::softmax) act_fwd(row, row, n, act, alpha);
  }
}

void bias_act_epilogue(const GemmEpilogue& ep, float* c, int64_t ldc, int64_t i0, int64_t j0,
                       int64_t m, int64_t n) {
  const auto* args = static_cast<const BiasActArgs*>(ep.user);
  const Act act = static_cast<Act>(ep.act);
  const float* bias = ep.bias ? ep.bias + j0 : nullptr;
  if (!args || !args->preact) {
    bias_act_tile(c, ldc, m, n, bias, act, args ? args->alpha : 0.0f);
    return;
  }
  // Keep z = acc + bias for the backward pass, then activate in place (tile still in cache).
  for (int64_t r = 0; r < m; ++r) {
    float* row = c + r * ldc;
    float* z = args->preact + (i0 + r) * args->ldp + j0;
    if (bias) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) row[j] += bias[j];
    }
    std::copy(row, row + n, z);
    if (act != Act::softmax) act_fwd(row, row, n, act, args->alpha);
  }
}

void softmax_forward(float* out, const float* inp, int64_t outer, int64_t K, int64_t inner) {
  if (outer <= 0 || K <= 0 || inner <= 0) return;
  if (inner == 1) {
    parallel_range(outer, std::max<int64_t>(1, kGrain / K), [=](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) softmax_row(out + r * K, inp + r * K, K);
    });
    return;
  }
  // Axis not last: each (o, ·, i) column has stride `inner`; vectorise across i.
  parallel_range(outer, std::max<int64_t>(1, kGrain / (K * inner)), [=](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const float* x = inp + o * K * inner;
      float* y = out + o * K * inner;
      for (int64_t i = 0; i < inner; ++i) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t k = 0; k < K; ++k) m = std::max(m, x[k * inner + i]);
        float s = 0.0f;
        for (int64_t k = 0; k < K; ++k) {
          const float v = fast_exp(x[k * inner + i] - m);
          y[k * inner + i] = v;
          s += v;
        }
        const float inv = 1.0f / s;
        for (int64_t k = 0; k < K; ++k) y[k * inner + i] *= inv;
      }
    }
  });
}

void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t K,
                      int64_t inner) {
  if (outer <= 0 || K <= 0 || inner <= 0) return;
  if (inner == 1) {
    parallel_range(outer, std::max<int64_t>(1, kGrain / K), [=](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) softmax_row_bwd(dinp + r * K, dout + r * K, out + r * K, K);
    });
    return;
  }
  parallel_range(outer, std::max<int64_t>(1, kGrain / (K * inner)), [=](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const int64_t base = o * K * inner;
      for (int64_t i = 0; i < inner; ++i) {
        float dot = 0.0f;
        for (int64_t k = 0; k < K; ++k) dot += dout[base + k * inner + i] * out[base + k * inner + i];
        for (int64_t k = 0; k < K; ++k) {
          const int64_t p = base + k * inner + i;
          dinp[p] = out[p] * (dout[p] - dot);
        }
      }
    }
  });
}

void bias_add(float* out, const float* inp, const float* bias, int64_t R, int64_t C) {
  parallel_range(R, std::max<int64_t>(1, kGrain / std::max<int64_t>(C, 1)),
                 [=](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const float* x = inp + r * C;
                     float* y = out + r * C;
#pragma omp simd
                     for (int64_t j = 0; j < C; ++j) y[j] = x[j] + bias[j];
                   }
                 });
}

void bias_grad(float* dbias, const float* dout, int64_t R, int64_t C) {
  // Serial over rows in order (a fixed summation order); vectorised across columns.
  for (int64_t r = 0; r < R; ++r) {
    const float* d = dout + r * C;
#pragma omp simd
    for (int64_t j = 0; j < C; ++j) dbias[j] += d[j];
  }
}

uint32_t random_bits24(uint64_t seed, uint64_t i) {
  // Element i of the splitmix64 stream whose state starts at mix64(seed + φ): a pure
  // function of (seed, i), so any thread can draw any element.
  const uint64_t key = mix64(seed + kGolden);
  return static_cast<uint32_t>(mix64(key + (i + 1) * kGolden) >> 40);
}

// keep iff bits24 ≥ rate·2²⁴  ⇔  bits24 ≥ ⌈rate·2²⁴⌉ (bits are integers)  ⇒  P(keep) = 1 − rate.
// Why the integer form and the hoisted key: the loop is then a few integer ops per element
// (this runs on every Dropout call; at batch 10 the call is mostly this loop).
static uint32_t keep_threshold(double rate) {
  return static_cast<uint32_t>(std::ceil(rate * 16777216.0));
}

void dropout_mask(float* mask, int64_t n, double rate, uint64_t seed) {
  const uint32_t thr = keep_threshold(rate);
  const float scale = rate < 1.0 ? static_cast<float>(1.0 / (1.0 - rate)) : 0.0f;
  const uint64_t key = mix64(seed + kGolden);
  parallel_range(n, kGrain, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const uint32_t bits = static_cast<uint32_t>(mix64(key + uint64_t(i + 1) * kGolden) >> 40);
      mask[i] = bits >= thr ? scale : 0.0f;
    }
  });
}

void dropout_forward(float* out, float* mask, const float* inp, int64_t n, double rate,
                     uint64_t seed) {
  const uint32_t thr = keep_threshold(rate);
  const float scale = rate < 1.0 ? static_cast<float>(1.0 / (1.0 - rate)) : 0.0f;
  const uint64_t key = mix64(seed + kGolden);
  parallel_range(n, kGrain, [=](int64_t b, int64_t e) {
    if (mask) {
      for (int64_t i = b; i < e; ++i) {
        const uint32_t bits = static_cast<uint32_t>(mix64(key + uint64_t(i + 1) * kGolden) >> 40);
        const float m = bits >= thr ? scale : 0.0f;
        mask[i] = m;
        out[i] = inp[i] * m;
      }
    } else {
      for (int64_t i = b; i < e; ++i) {
        const uint32_t bits = static_cast<uint32_t>(mix64(key + uint64_t(i + 1) * kGolden) >> 40);
        out[i] = inp[i] * (bits >= thr ? scale : 0.0f);
      }
    }
  });
}

void multiply(float* out, const float* a, const float* b, int64_t n) {
  parallel_range(n, kGrain, [=](int64_t s, int64_t e) {
#pragma omp simd
    for (int64_t i = s; i < e; ++i) out[i] = a[i] * b[i];
  });
}

void relu_forward(float* out, const float* inp, int64_t n, float slope, float max_value,
                  float t) {
  parallel_range(n, kGrain, [=](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      // branch-free form of the two cases (so the loop vectorises):
      // [x > t]·min(x, max_value) + slope·min(x − t, 0)
      const float x = inp[i];
      const float above = x > t ? 1.0f : 0.0f;
      out[i] = above * std::min(x, max_value) + slope * std::min(x - t, 0.0f);
    }
  });
}

void relu_backward(float* dinp, const float* dout, const float* inp, int64_t n, float slope,
                   float max_value, float t) {
  parallel_range(n, kGrain, [=](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      const float x = inp[i];
      const float below = x < t ? slope : 0.0f;
      const float g = (x > t) & (x < max_value) ? 1.0f : below;
      dinp[i] = dout[i] * g;
    }
  });
}

void prelu_forward(float* out, const float* inp, const float* alpha, int64_t N, int64_t F) {
  parallel_range(N, std::max<int64_t>(1, kGrain / std::max<int64_t>(F, 1)),
                 [=](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const float* x = inp + r * F;
                     float* y = out + r * F;
#pragma omp simd
                     for (int64_t f = 0; f < F; ++f) {
                       const float v = x[f], neg = alpha[f] * v;
                       y[f] = v > 0.0f ? v : neg;
                     }
                   }
                 });
}

void prelu_backward(float* dinp, float* dalpha, const float* dout, const float* inp,
                    const float* alpha, int64_t N, int64_t F) {
  if (dinp) {
    parallel_range(N, std::max<int64_t>(1, kGrain / std::max<int64_t>(F, 1)),
                   [=](int64_t b, int64_t e) {
                     for (int64_t r = b; r < e; ++r) {
                       const float* x = inp + r * F;
                       const float* d = dout + r * F;
                       float* g = dinp + r * F;
#pragma omp simd
                       for (int64_t f = 0; f < F; ++f) {
                         const float v = d[f], neg = alpha[f] * v;
                         g[f] = x[f] > 0.0f ? v : neg;
                       }
                     }
                   });
  }
  // dalpha: serial over samples in order (fixed summation order).
  for (int64_t r = 0; r < N; ++r) {
    const float* x = inp + r * F;
    const float* d = dout + r * F;
#pragma omp simd
    for (int64_t f = 0; f < F; ++f) {
      const float v = x[f], g = d[f] * v;
      dalpha[f] += v > 0.0f ? 0.0f : g;
    }
  }
}

void rrelu_forward(float* out, float* slopes, const float* inp, int64_t n, float lower,
                   float upper, uint64_t seed, bool training) {
  const float mid = 0.5f * (lower + upper);
  const float width = upper - lower;
  parallel_range(n, kGrain, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float s = training
                          ? lower + width * (static_cast<float>(random_bits24(seed, i)) *
                                             (1.0f / 16777216.0f))
                          : mid;
      if (slopes) slopes[i] = s;
      out[i] = inp[i] >= 0.0f ? inp[i] : s * inp[i];
    }
  });
}

void rrelu_backward(float* dinp, const float* dout, const float* inp, const float* slopes,
                    int64_t n) {
  parallel_range(n, kGrain, [=](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      const float d = dout[i], neg = slopes[i] * d;
      dinp[i] = inp[i] >= 0.0f ? d : neg;
    }
  });
}

}  // namespace baeum
