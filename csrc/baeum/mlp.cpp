// mlp.cpp — the fused training step of a Dense/Dropout stack (equations in mlp.h).
//
// Every line here mirrors the layer-by-layer path (layers/core.py Dense and Dropout,
// models/sequential.py, losses.py's fused logits path) call for call; nothing is computed
// differently, only without returning to Python between layers.
#include "baeum/mlp.h"

#include <algorithm>
#include <cstring>

#include "baeum/dense.h"
#include "baeum/losses.h"

namespace baeum {

MlpPlan::MlpPlan(std::vector<MlpLayer> layers, MlpLoss loss, float label_smoothing)
    : layers_(std::move(layers)), loss_(loss), label_smoothing_(label_smoothing) {
  out_.resize(layers_.size());
  pre_.resize(layers_.size());
  mask_.resize(layers_.size());
}

int MlpPlan::num_dropouts() const {
  int n = 0;
  for (const auto& l : layers_) n += l.dropout ? 1 : 0;
  return n;
}

void MlpPlan::reserve(int64_t N) {
  if (N <= capacity_) return;
  int64_t widest = 1;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const MlpLayer& L = layers_[l];
    const size_t n = static_cast<size_t>(N * L.out);
    out_[l].resize(n);
    if (!L.dropout && L.keep_preact) pre_[l].resize(n);
    if (L.dropout) mask_[l].resize(n);
    widest = std::max({widest, L.in, L.out});
  }
  const int64_t classes = layers_.back().out;
  dlogits_.resize(static_cast<size_t>(N * classes));
  dloss_.resize(static_cast<size_t>(N));
  grad_a_.resize(static_cast<size_t>(N * widest));
  grad_b_.resize(static_cast<size_t>(N * widest));
  capacity_ = N;
}

void MlpPlan::step(float* loss, float* pred, const float* x, const float* target,
                   const int64_t* labels, const uint64_t* seeds, int64_t N, float* grads,
                   int64_t n_grads) {
  reserve(N);
  std::memset(grads, 0, sizeof(float) * static_cast<size_t>(n_grads));
  const size_t nl = layers_.size();
  const MlpLayer& last = layers_.back();

  // Forward: h_{l+1} from h_l.
  const float* h = x;
  int d = 0;
  for (size_t l = 0; l < nl; ++l) {
    const MlpLayer& L = layers_[l];
    float* out = out_[l].data();
    if (L.dropout) {
      dropout_forward(out, mask_[l].data(), h, N * L.out, L.rate, seeds[d++]);
    } else {
      dense_forward(out, L.keep_preact ? pre_[l].data() : nullptr, h, L.weight, L.bias, N, L.in,
                    L.out, L.act, L.alpha);
    }
    h = out;
  }
  std::memcpy(pred, h, sizeof(float) * static_cast<size_t>(N * last.out));

  // Loss on the logits z_L, each row weighted 1/N (Keras's sum_over_batch_size).
  std::fill(dloss_.begin(), dloss_.begin() + N, static_cast<float>(1.0 / static_cast<double>(N)));
  const float* z = pre_[nl - 1].data();
  float* dz = dlogits_.data();
  switch (loss_) {
    case MlpLoss::sigmoid_bce:
      sigmoid_binary_crossentropy(loss, dz, z, target, dloss_.data(), N, last.out, label_smoothing_);
      break;
    case MlpLoss::softmax_ce:
      softmax_cross_entropy(loss, dz, z, target, dloss_.data(), N, last.out, label_smoothing_);
      break;
    case MlpLoss::sparse_softmax_ce:
      sparse_softmax_cross_entropy(loss, dz, z, labels, dloss_.data(), N, last.out);
      break;
  }

  // Backward, last layer first. The first layer's input gradient is never needed; buffers
  // alternate so an input gradient never overwrites the output gradient it is made from.
  const float* dout = dz;
  float* bufs[2] = {grad_a_.data(), grad_b_.data()};
  int which = 0;
  for (size_t l = nl; l-- > 0;) {
    const MlpLayer& L = layers_[l];
    if (l == 0 && L.dropout) break;
    float* dinp = l > 0 ? bufs[which] : nullptr;
    if (L.dropout) {
      multiply(dinp, dout, mask_[l].data(), N * L.out);
    } else {
      const float* inp = l > 0 ? out_[l - 1].data() : x;
      const bool from_logits = l + 1 == nl;  // the loss gave dz_L, so f_L is skipped
      dense_backward(dinp, L.dweight, L.dbias, dout, inp, L.weight, out_[l].data(),
                     L.keep_preact ? pre_[l].data() : nullptr, N, L.in, L.out,
                     from_logits ? Act::linear : L.act, L.alpha);
    }
    dout = dinp;
    which ^= 1;
  }
}

}  // namespace baeum
