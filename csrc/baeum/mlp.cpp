// mlp.cpp — the fused training step of a Dense/Dropout stack, optionally behind a prefix of
// direct convolutions (equations in mlp.h).
//
// Every line here mirrors the layer-by-layer path (layers/core.py Dense and Dropout,
// models/sequential.py, losses.py's fused logits path) call for call; nothing is computed
// differently, only without returning to Python between layers.
#include "baeum/mlp.h"

#include <algorithm>
#include <cstring>

#include "baeum/dense.h"
#include "baeum/losses.h"
#include "baeum/parallel.h"
#include "baeum/prefetch.h"

namespace baeum {

MlpPlan::MlpPlan(std::vector<MlpLayer> layers, MlpLoss loss, float label_smoothing)
    : layers_(std::move(layers)), loss_(loss), label_smoothing_(label_smoothing) {
  out_.resize(layers_.size());
  pre_.resize(layers_.size());
  mask_.resize(layers_.size());
  while (nconv_ < layers_.size() && layers_[nconv_].conv) ++nconv_;
  parts_.resize(nconv_);
  wt_.resize(nconv_);
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
  for (size_t l = 0; l < nconv_; ++l) {
    const DirectConvImage& c = *layers_[l].conv;
    parts_[l].resize(static_cast<size_t>(DirectConvImage::parts(N) * c.partial_floats()));
    if (l > 0) wt_[l].resize(static_cast<size_t>(c.weight_floats()));
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
  if (nconv_ > 0) {
    conv_forward(x, N);
    h = out_[nconv_ - 1].data();
  }
  int d = 0;
  for (size_t l = nconv_; l < nl; ++l) {
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
  for (size_t l = nl; l-- > nconv_;) {
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
  if (nconv_ > 0) conv_backward(x, dout, N);
}

// Work below ~2^17 FMAs per thread runs on one thread (as conv.cpp's kernels decide).
constexpr int64_t kConvGrain = int64_t(1) << 17;

// Every convolution on image n, then image n + 1: each image's activations go from one
// layer to the next while they are in cache. Images are disjoint: any thread count.
void MlpPlan::conv_forward(const float* x, int64_t N) {
  int64_t fmas = 0;
  for (size_t l = 0; l < nconv_; ++l) fmas += layers_[l].conv->out_floats() * layers_[l].conv->taps();
  const int nt = static_cast<int>(std::min<int64_t>(threads_for(N * fmas, kConvGrain), N));
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* h = x + n * layers_[0].in;
    if (n + 1 < N) prefetch_floats(h + layers_[0].in, layers_[0].in);
    for (size_t l = 0; l < nconv_; ++l) {
      const MlpLayer& L = layers_[l];
      float* o = out_[l].data() + n * L.out;
      L.conv->forward(o, L.keep_preact ? pre_[l].data() + n * L.out : nullptr, h, L.weight, L.bias, L.act);
      h = o;
    }
  }
}

// Everything the backward reads of image n: its input, every layer's output (and z), dout.
void MlpPlan::prefetch_image(const float* x, const float* dout, int64_t n) const {
  prefetch_floats(x + n * layers_[0].in, layers_[0].in);
  for (size_t l = 0; l < nconv_; ++l) {
    const MlpLayer& L = layers_[l];
    prefetch_floats(out_[l].data() + n * L.out, L.out);
    if (L.keep_preact) prefetch_floats(pre_[l].data() + n * L.out, L.out);
  }
  prefetch_floats(dout + n * layers_[nconv_ - 1].out, layers_[nconv_ - 1].out);
}

// dout: d loss / d (last convolution's output), (N, out). Per partial p (its images in
// order, as conv2d_backward's direct path), each image goes down through every
// convolution; the input gradient of layer l > 0 is one image in a per-thread buffer that
// layer l − 1 consumes at once. The first layer's input gradient is not needed.
void MlpPlan::conv_backward(const float* x, const float* dout, int64_t N) {
  const int64_t P = DirectConvImage::parts(N);
  int64_t fmas = 0, widest = 1;
  for (size_t l = 0; l < nconv_; ++l) {
    const MlpLayer& L = layers_[l];
    fmas += 2 * L.conv->out_floats() * L.conv->taps();
    widest = std::max(widest, L.in);
    if (l > 0) L.conv->transpose_weight(wt_[l].data(), L.weight);
  }
  const int nt = static_cast<int>(std::min<int64_t>(threads_for(N * fmas, kConvGrain), P));
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t p = 0; p < P; ++p) {
    static thread_local std::vector<float> img_a, img_b;
    if (static_cast<int64_t>(img_a.size()) < widest) img_a.resize(static_cast<size_t>(widest));
    if (static_cast<int64_t>(img_b.size()) < widest) img_b.resize(static_cast<size_t>(widest));
    for (size_t l = 0; l < nconv_; ++l) {
      float* part = parts_[l].data() + p * layers_[l].conv->partial_floats();
      std::fill(part, part + layers_[l].conv->partial_floats(), 0.0f);
    }
    for (int64_t n = p * N / P; n < (p + 1) * N / P; ++n) {
      if (n + 1 < N) prefetch_image(x, dout, n + 1);
      const float* d = dout + n * layers_[nconv_ - 1].out;
      float* bufs[2] = {img_a.data(), img_b.data()};
      for (size_t l = nconv_; l-- > 0;) {
        const MlpLayer& L = layers_[l];
        const DirectConvImage& c = *L.conv;
        float* dimg = l > 0 ? bufs[l & 1] : nullptr;
        const float* img = l > 0 ? out_[l - 1].data() + n * L.in : x + n * L.in;
        c.backward(dimg, parts_[l].data() + p * c.partial_floats(), d, img, out_[l].data() + n * L.out,
                   L.keep_preact ? pre_[l].data() + n * L.out : nullptr, l > 0 ? wt_[l].data() : nullptr, L.act,
                   L.alpha);
        d = dimg;
      }
    }
  }
  for (size_t l = 0; l < nconv_; ++l)
    layers_[l].conv->reduce(layers_[l].dweight, layers_[l].dbias, parts_[l].data(), P);
}

}  // namespace baeum
