// fastmath.h — exp and tanh without libm, so the loops that use them vectorise.
//
// libm's expf/tanhf are scalar calls, and without -ffast-math gcc will not substitute vector
// versions; these are plain arithmetic on floats that the compiler vectorises inside the
// caller's loop (and, in target_clones functions, for each clone's ISA). Used by the
// activation kernels (elementwise.cpp) and the RNN gate loops (rnn.cpp).
//
// static + always_inline: every use is inlined into its loop (a call per element would keep
// the loop scalar), and no out-of-line copy compiled for one ISA can be shared by another
// translation unit.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__GNUC__)
#define BAEUM_FASTMATH_INLINE static inline __attribute__((always_inline))
#else
#define BAEUM_FASTMATH_INLINE static inline
#endif

namespace baeum {

// exp(x) without a libm call, so loops that use it vectorise (libm's expf is a scalar
// call; without -ffast-math gcc will not use a vector version). Cephes expf: x = n·ln2 + r,
// |r| ≤ ln2/2, e^r by a degree-6 polynomial, 2^n by building the float's exponent bits.
// Max error ~2 ulp on [-87.3, 88.7]; +inf above, 0 below (subnormal results flush to 0).
BAEUM_FASTMATH_INLINE float fast_exp(float x) {
  const float xc = std::min(88.72283935546875f, std::max(-87.3365478515625f, x));
  const float t = xc * 1.44269504088896341f + 0.5f;
  float fx = static_cast<float>(static_cast<int32_t>(t));  // floor(t) via truncation
  fx = fx > t ? fx - 1.0f : fx;
  float r = xc - fx * 0.693359375f;
  r = r - fx * -2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * z + r + 1.0f;
  // 2^n as 2^h · 2^(n−h): n reaches 128 near the top of the range, past one float exponent.
  const int32_t n = static_cast<int32_t>(fx), h = n >> 1;
  const int32_t b1 = (h + 127) << 23, b2 = (n - h + 127) << 23;
  float p1, p2;
  std::memcpy(&p1, &b1, sizeof(p1));
  std::memcpy(&p2, &b2, sizeof(p2));
  const float y = er * p1 * p2 + (x - x);  // + (x − x): 0 for finite x, NaN stays NaN
  return x > 88.72283935546875f ? std::numeric_limits<float>::infinity()
                                : (x < -87.3365478515625f ? 0.0f : y);
}

// tanh without libm: odd polynomial for |x| < 0.625 (Cephes tanhf, no cancellation near 0),
// 1 − 2/(e^{2|x|} + 1) above; sign restored. ~2 ulp.
BAEUM_FASTMATH_INLINE float fast_tanh(float x) {
  const float a = std::fabs(x);
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float big = 1.0f - 2.0f / (fast_exp(2.0f * a) + 1.0f);  // e^{2a} = inf → 1
  return a < 0.625f ? small : (x < 0.0f ? -big : big);
}

}  // namespace baeum
