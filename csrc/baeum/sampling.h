// sampling.h — image resampling under a per-image projective transform (Keras
// `ops.image.affine_transform`), forward and backward w.r.t. the input. Used by the
// augmentation layers RandomRotation / RandomTranslation / RandomZoom and by RandomCrop's
// resize. Equations, fill modes and the backward: sampling.cpp and docs/augmentation.md.
//
// Shapes: inp / dinp (N, H, W, C) NHWC; out / dout (N, OH, OW, C);
// transforms (N, 8) = [a0 a1 a2 b0 b1 b2 c0 c1] per image (Keras order): the output pixel
// (x, y) reads the input at ((a0·x + a1·y + a2)/k, (b0·x + b1·y + b2)/k), k = c0·x + c1·y + 1.
#pragma once
#include <cstdint>

namespace baeum {

enum class Fill : int { reflect = 0, wrap = 1, constant = 2, nearest = 3 };
enum class Interp : int { nearest = 0, bilinear = 1 };

// out = sample(inp, transforms). Parallel over output rows (each row written by one thread).
void sampling_forward(float* out, const float* inp, const float* transforms, int64_t N,
                      int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW, Interp interp,
                      Fill fill, float fill_value);

// dinp += Sᵀ·dout (the transposed sampling: each output pixel scatters dout·weight onto the
// input pixels it read). Parallel over images, so no two threads write the same image and
// the summation order is fixed: bit-identical for any thread count.
void sampling_backward(float* dinp, const float* dout, const float* transforms, int64_t N,
                       int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW, Interp interp,
                       Fill fill);

}  // namespace baeum
