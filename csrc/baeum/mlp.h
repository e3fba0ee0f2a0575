// mlp.h — one training step's forward, loss and backward of a stack of Dense and Dropout
// layers ending in a fused sigmoid/softmax cross-entropy, in ONE call; optionally behind a
// prefix of narrow convolutions (Conv2D → … → Conv2D → Flatten, the course's deck-003 CNN).
//
// Why: at the course's batch size (10 rows), each layer's kernels take a few µs and the
// Python around them (one call per layer and per direction, buffers, the tape) as long
// again. The stack is the churn notebook's model, so it gets a fused path. It calls the very
// kernels the layer-by-layer path calls (dense_forward/backward, dropout_forward, multiply,
// the fused losses) in the same order with the same arguments, so both paths give the same
// bits; tests/models/test_mlp_plan.py checks that. The optimizer step stays separate.
//
// For layer l with input width D_l and output width U_l (a Dropout keeps D_l = U_l):
//   forward   Dense:   z_l = h_l·W_l + b_l, h_{l+1} = f_l(z_l)   (last layer: logits z_L)
//             Dropout: h_{l+1} = h_l ⊙ keep_l / (1 − rate_l)       (mask seeded per step)
//   loss      loss_i  = CE(z_L,i, y_i)   dz_L = (1/N) ∂loss_i/∂z_L  (sum_over_batch_size)
//   backward  Dense:   dW_l += h_lᵀ·dz_l, db_l += Σ dz_l, dh_l = dz_l·W_lᵀ, dz_{l−1} = dh ⊙ f'
//             Dropout: dh_l = dh_{l+1} ⊙ mask_l
//
// Convolution prefix (layers 0..nc−1, each on the direct kernels: conv.h DirectConvImage).
// Why fused: with the layer path each convolution streams the whole batch's activations
// through memory (3.2 MB for the deck's 14×14×16 layer, more than L2) once per pass; here
// the forward runs all convolutions on one image before the next, and the backward takes
// one image down through all of them, so an image's activations and gradients stay in
// L1/L2 and the batch-sized input gradients of the convolutions are never formed. Partials
// of the weight gradients hold the same images as the layer path's (DirectConvImage::parts),
// so the bits are the same. The last convolution's (OH,OW,OC) output row is the Flatten.
// A convolution with padding reads its input in the zero-bordered layout its kernels want
// (DirectConvImage "xp"); the step stores that input in that layout (the first layer's
// copy of x, the previous layer's output), so an image is padded once per step, not once
// per pass, and the backward reads activations and gradients in place (no pad, no unpad).
// Shapes: x (N, D_0) (images: (N, H, W, C) read as rows of D_0 = H·W·C); target (N, U_L)
// one-hot/binary or labels (N) for sparse; loss (N);
// pred (N, U_L) = f_L(z_L) (probabilities, as the layer path's output).
#pragma once
#include <cstdint>
#include <vector>

#include <memory>

#include "baeum/conv.h"
#include "baeum/elementwise.h"

namespace baeum {

enum class MlpLoss : int { sigmoid_bce = 0, softmax_ce = 1, sparse_softmax_ce = 2 };

struct MlpLayer {
  bool dropout = false;
  int64_t in = 0, out = 0;            // D_l, U_l
  // Dense
  Act act = Act::linear;
  float alpha = 0.0f;
  bool keep_preact = false;           // store z_l (backward of f reads x, or the last layer)
  const float* weight = nullptr;      // (D_l, U_l)
  const float* bias = nullptr;        // (U_l) or null
  float* dweight = nullptr;           // (D_l, U_l), accumulated
  float* dbias = nullptr;             // (U_l) or null, accumulated
  // Dropout
  double rate = 0.0;
  // Convolution (Dense fields above hold its weight (KH,KW,C,OC), bias, act relu/linear)
  std::shared_ptr<const DirectConvImage> conv;
};

class MlpPlan {
 public:
  MlpPlan(std::vector<MlpLayer> layers, MlpLoss loss, float label_smoothing);

  // Zeroes grads[0, n_grads) (the model's flat gradient arena, which holds every dW_l and
  // db_l), then runs forward, loss and backward for N rows. seeds: one per Dropout layer,
  // in order. labels (sparse loss) are row indices already checked to be in [0, U_L).
  void step(float* loss, float* pred, const float* x, const float* target, const int64_t* labels,
            const uint64_t* seeds, int64_t N, float* grads, int64_t n_grads);

  const std::vector<MlpLayer>& layers() const { return layers_; }
  int num_dropouts() const;

 private:
  std::vector<MlpLayer> layers_;
  MlpLoss loss_;
  float label_smoothing_;
  // Per layer: output h_{l+1}, z_l (Dense with keep_preact), keep mask (Dropout); sized for
  // the largest N seen so far (grown, never shrunk: no allocation in the steady state).
  std::vector<std::vector<float>> out_, pre_, mask_;
  std::vector<float> dlogits_, dloss_, grad_a_, grad_b_;
  std::vector<std::vector<float>> parts_, wt_;  // per convolution: gradient partials, wᵀ
  std::vector<std::vector<float>> xin_;  // per padded convolution: its input images, xp layout
  int64_t capacity_ = 0;
  size_t nconv_ = 0;  // leading convolution layers
  void conv_forward(const float* x, int64_t N);
  void conv_backward(const float* x, const float* dout, int64_t N);
  void prefetch_image(const float* x, const float* dout, int64_t n) const;
  bool into_next(size_t l) const;  // conv l's output is stored padded, as conv l+1's input
  void reserve(int64_t N);
};

}  // namespace baeum
