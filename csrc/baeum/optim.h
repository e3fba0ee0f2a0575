// optim.h — one fused optimizer step over every trainable parameter (multi-tensor).
//
// All trainable variables live in ONE flat float32 arena `params` (length n); `grads`
// and every optimizer slot (momentum, velocity, ...) are flat arrays of the same length
// and layout. `segments` lists the variables as (offset, size) pairs; elements outside
// every segment are never touched. One call performs, in Keras 3 order:
//
//   1. clipping (at most one of)   clipvalue        g ← clip(g, −c, c)
//                                  clipnorm         g ← g·c / max(‖g‖, c)   per variable
//                                  global_clipnorm  g ← g·c / max(G, c),  G² = Σ_v ‖g_v‖²
//   2. decoupled weight decay      p ← p − p·wd·lr                (if weight_decay != 0)
//   3. the update rule (equations in optim.cpp)
//
// The clipped gradient is computed on the fly: `grads` is never written.
// Results are bit-identical for any thread count (fixed chunking, serial reductions).
#pragma once
#include <cstdint>

namespace baeum {

enum class OptimKind : int { sgd = 0, rmsprop, adagrad, adam, nadam };

// Hyper-parameters of one step, as the Python values (double). The kernel derives the
// float32 constants exactly as Keras does (e.g. Adam's `1 − β₁` is computed in double
// then cast, Nadam's in float32), so its numbers match Keras's float32 graph.
struct OptimConfig {
  OptimKind kind = OptimKind::sgd;
  double lr = 0.01;
  int64_t step = 1;            // t = iterations + 1 (the step being applied, >= 1)
  // clipping: 0 = off (Keras also treats 0 as "off"); the caller sets at most one
  double clipnorm = 0, clipvalue = 0, global_clipnorm = 0;
  double weight_decay = 0;     // 0 = off
  // SGD / RMSprop
  double momentum = 0;
  bool nesterov = false;
  double rho = 0.9;
  bool centered = false;
  // Adam family
  double beta_1 = 0.9, beta_2 = 0.999;
  bool amsgrad = false;
  double epsilon = 1e-7;
  // Nadam: running product P_t = μ_1···μ_t INCLUDING this step's μ_t (the caller keeps
  // it, as Keras keeps its `u_product` variable, and multiplies it in float32)
  double u_product = 1;
};

// Number of slot arrays the rule needs, in this order:
//   sgd      [momentum]                          (none when momentum == 0)
//   rmsprop  [velocity, momentum?, average_gradient?]   (momentum > 0, centered)
//   adagrad  [accumulator]
//   adam     [momentum, velocity, velocity_hat?]        (amsgrad)
//   nadam    [momentum, velocity]
int optim_num_slots(const OptimConfig& cfg);

// params: (n) updated in place; grads: (n) read only; slots: optim_num_slots(cfg) arrays of
// (n); segments: (nseg, 2) int64 (offset, size), non-overlapping, inside [0, n) — the
// caller (binding) has checked this.
void optim_step(const OptimConfig& cfg, float* params, const float* grads, float* const* slots,
                const int64_t* segments, int64_t nseg);

}  // namespace baeum
