// losses.h — fused, numerically stable cross-entropies: per-sample loss and the gradient
// with respect to the LOGITS in one pass over each row. See losses.cpp for the equations
// and docs/losses.md for the derivation.
//
// Shapes: N rows (samples), C classes / D outputs per row; all arrays C-contiguous float32.
// `dloss` (N) is the upstream gradient of each row's loss (d value / d loss[i]); pass
// nullptr together with dinp == nullptr to compute the loss only. dinp is overwritten
// (it is an input gradient).
#pragma once
#include <cstdint>

namespace baeum {

// loss[i] = −Σ_c t'_ic · log_softmax(inp_i)_c,  t' = t(1−ls) + ls/C
// dinp[i,c] = dloss[i] · (softmax(inp_i)_c · Σ_c t'_ic − t'_ic)
void softmax_cross_entropy(float* loss, float* dinp, const float* inp, const float* target,
                           const float* dloss, int64_t N, int64_t C, float label_smoothing);

// Same with integer labels (0 <= label[i] < C, checked by the caller):
// loss[i] = logsumexp(inp_i) − inp_i[label_i];  dinp[i,c] = dloss[i]·(softmax_c − [c == label_i])
void sparse_softmax_cross_entropy(float* loss, float* dinp, const float* inp,
                                  const int64_t* label, const float* dloss, int64_t N,
                                  int64_t C);

// loss[i] = mean_d [max(z,0) − z·t' + log(1 + e^{−|z|})],  z = inp[i,d], t' = t(1−ls) + ls/2
// dinp[i,d] = dloss[i] · (σ(z) − t') / D
void sigmoid_binary_crossentropy(float* loss, float* dinp, const float* inp,
                                 const float* target, const float* dloss, int64_t N,
                                 int64_t D, float label_smoothing);

}  // namespace baeum
