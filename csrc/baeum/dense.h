// dense.h — Keras Dense on 2-D input, fused: out = f(inp·weight + bias).
//
// Shapes: inp (N, D), weight (D, U) (Keras kernel layout), bias (U) or null,
// out / preact / dout (N, U), dinp (N, D), dweight (D, U), dbias (U).
#pragma once
#include <cstdint>

#include "baeum/elementwise.h"

namespace baeum {

// z = inp·weight + bias; out = f(z). One sgemm whose epilogue adds bias, stores z into
// preact (if not null) and applies f on each tile while it is in cache; softmax is applied
// per row after the GEMM (a tile need not span a whole row). Small outputs (N·U ≤ 2¹⁵) do
// bias, preact and f in one pass over the whole output after the GEMM instead (same bits).
void dense_forward(float* out, float* preact, const float* inp, const float* weight,
                   const float* bias, int64_t N, int64_t D, int64_t U, Act act, float alpha);

// dz = dout·f'(z) (reads out and/or preact); dweight += inpᵀ·dz; dbias += Σ_rows dz (if
// dbias); dinp = dz·weightᵀ (if dinp). Scratch for dz is a thread_local buffer.
void dense_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                    const float* inp, const float* weight, const float* out, const float* preact,
                    int64_t N, int64_t D, int64_t U, Act act, float alpha);

}  // namespace baeum
