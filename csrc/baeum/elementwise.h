// elementwise.h — activations (forward/backward), bias add, softmax, dropout, ReLU-family
// layers (ReLU with options, PReLU, RReLU) and the GEMM epilogue Dense uses.
//
// Every array is float32, C-contiguous. Glossary: n = number of elements, R = rows (all
// axes before the last), C = last-axis length (so n = R·C), F = features per sample for
// PReLU (all non-batch dims), N = batch. Backward kernels overwrite input gradients
// (dinp) and ACCUMULATE into parameter gradients (dbias, dalpha).
// Equations are in elementwise.cpp and docs/elementwise.md.
#pragma once
#include <cstdint>

#include "baeum/gemm.h"

namespace baeum {

// Keras activation names; the integer values are what baeum._core.activation_ids() reports.
enum class Act : int {
  linear = 0,
  relu = 1,
  sigmoid = 2,
  tanh = 3,
  softmax = 4,      // over the last axis (rows of length C)
  leaky_relu = 5,   // alpha = negative slope (Keras function default 0.2)
  elu = 6,          // alpha (default 1.0)
  selu = 7,
  gelu = 8,         // exact erf form (Keras "gelu")
  gelu_tanh = 9,    // gelu(approximate=True)
  silu = 10,        // alias swish
  softplus = 11,
  softsign = 12,
  hard_sigmoid = 13,
  exponential = 14,
};
constexpr int kNumActs = 15;
const char* act_name(Act a);
// Whether activation_backward reads the pre-activation x (otherwise only y = f(x)).
bool act_needs_input(Act a);

// out[R×C] = f(inp). out may equal inp (in place).
void activation_forward(float* out, const float* inp, int64_t R, int64_t C, Act act, float alpha);
// dinp[R×C] = dout · f'(x); reads inp (x) and/or out (y) as act_needs_input says.
void activation_backward(float* dinp, const float* dout, const float* inp, const float* out,
                         int64_t R, int64_t C, Act act, float alpha);

// c[m×n, row stride ldc]: c += bias (if given, bias[0..n)), then c = f(c) (softmax excluded:
// a tile may not span a whole row). Usable on any tile.
void bias_act_tile(float* c, int64_t ldc, int64_t m, int64_t n, const float* bias, Act act,
                   float alpha);

// GEMM epilogue: ep.bias (length N of the GEMM), ep.act = int(Act), ep.user = BiasActArgs*.
struct BiasActArgs {
  float alpha = 0.0f;
  float* preact = nullptr;  // optional: z = acc + bias is copied here (row stride ldp)
  int64_t ldp = 0;
};
void bias_act_epilogue(const GemmEpilogue& ep, float* c, int64_t ldc, int64_t i0, int64_t j0,
                       int64_t m, int64_t n);

// Softmax over the middle axis of an (outer, K, inner) array: y = exp(x−max)/Σexp(x−max).
void softmax_forward(float* out, const float* inp, int64_t outer, int64_t K, int64_t inner);
// dinp = y·(dout − Σ_k dout·y), same layout.
void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t K,
                      int64_t inner);

// out[R×C] = inp + bias[C];  dbias[C] += Σ_rows dout (rows in order: thread-count free).
void bias_add(float* out, const float* inp, const float* bias, int64_t R, int64_t C);
void bias_grad(float* dbias, const float* dout, int64_t R, int64_t C);

// Counter-based uniform in [0, 1) with 24 random bits: depends only on (seed, i).
uint32_t random_bits24(uint64_t seed, uint64_t i);

// mask[n] = 1/(1−rate) where bits24(seed, i) ≥ rate·2²⁴, else 0 (rate ≥ 1 → all 0).
void dropout_mask(float* mask, int64_t n, double rate, uint64_t seed);
// out = inp·mask with the mask drawn as above; mask may be null (not stored).
void dropout_forward(float* out, float* mask, const float* inp, int64_t n, double rate,
                     uint64_t seed);
// out[n] = a·b (dropout backward: dinp = dout·mask).
void multiply(float* out, const float* a, const float* b, int64_t n);

// Keras ReLU: y = (x > t ? min(x, max_value) : 0) + (x < t ? slope·(x − t) : 0).
// max_value = +inf when there is none.
void relu_forward(float* out, const float* inp, int64_t n, float slope, float max_value, float t);
void relu_backward(float* dinp, const float* dout, const float* inp, int64_t n, float slope,
                   float max_value, float t);

// PReLU over (N, F): y = x if x > 0 else alpha[f]·x.
void prelu_forward(float* out, const float* inp, const float* alpha, int64_t N, int64_t F);
// dinp = dout·(x > 0 ? 1 : alpha);  dalpha[f] += Σ_n dout·(x ≤ 0 ? x : 0).
void prelu_backward(float* dinp, float* dalpha, const float* dout, const float* inp,
                    const float* alpha, int64_t N, int64_t F);

// RReLU: y = x if x ≥ 0 else s·x. training: s_i = lower + (upper−lower)·u(seed, i), written
// into slopes if not null; inference: s = (lower+upper)/2 (slopes filled with it if given).
void rrelu_forward(float* out, float* slopes, const float* inp, int64_t n, float lower,
                   float upper, uint64_t seed, bool training);
// dinp = dout·(x ≥ 0 ? 1 : s_i).
void rrelu_backward(float* dinp, const float* dout, const float* inp, const float* slopes,
                    int64_t n);

}  // namespace baeum
