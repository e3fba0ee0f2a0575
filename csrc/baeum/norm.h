// norm.h — batch normalization (Keras BatchNormalization) and layer normalization (Keras
// LayerNormalization), forward and fused backward.
//
// Batch norm sees its input as (R, C): C the channel axis (last), R every other position
// (N·H·W for images). Layer norm sees (R, D): each of the R rows is normalised over D.
// Shapes: inp / out / dout / dinp (R, C) or (R, D); gamma, beta, dgamma, dbeta, moving_*,
// save_mean, save_invstd (C) for batch norm; gamma … (D) and save_* (R) for layer norm.
// gamma / beta may be null (scale=False / center=False: γ = 1, β = 0); dgamma / dbeta / dinp
// may be null (not wanted). Gradient buffers dgamma / dbeta accumulate (+=); dinp is written.
#pragma once
#include <cstdint>

namespace baeum {

// training: μ, σ² (biased) over the R rows; moving ← moving·momentum + batch·(1 − momentum);
//           out = x·inv + (β − μ·inv), inv = γ / sqrt(σ² + ε).
// inference: the same with μ = moving_mean, σ² = moving_var (moving stats untouched).
// save_mean / save_invstd receive the μ and 1/sqrt(σ² + ε) used (for the backward).
// training with R == 0: nothing to normalise; moving stats are left unchanged and
// save_mean / save_invstd get the moving statistics.
void batchnorm_forward(float* out, float* save_mean, float* save_invstd, float* moving_mean,
                       float* moving_var, const float* inp, const float* gamma,
                       const float* beta, int64_t R, int64_t C, float eps, float momentum,
                       bool training);

// x̂ = (x − μ)·invstd; dβ += Σ_r dy; dγ += Σ_r dy·x̂;
// training:  dx = γ·invstd/R · (R·dy − Σ_r dy − x̂·Σ_r dy·x̂)
// inference: dx = γ·invstd·dy
void batchnorm_backward(float* dinp, float* dgamma, float* dbeta, const float* dout,
                        const float* inp, const float* save_mean, const float* save_invstd,
                        const float* gamma, int64_t R, int64_t C, bool training);

// Per row r: μ_r, σ²_r (biased) over D; out = γ·(x − μ_r)/sqrt(σ²_r + ε) + β.
void layernorm_forward(float* out, float* save_mean, float* save_invstd, const float* inp,
                       const float* gamma, const float* beta, int64_t R, int64_t D, float eps);

// g = dy·γ; dx = invstd·(g − mean_D(g) − x̂·mean_D(g·x̂)); dγ += Σ_r dy·x̂; dβ += Σ_r dy.
void layernorm_backward(float* dinp, float* dgamma, float* dbeta, const float* dout,
                        const float* inp, const float* save_mean, const float* save_invstd,
                        const float* gamma, int64_t R, int64_t D);

}  // namespace baeum
