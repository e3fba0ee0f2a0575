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
  // A convolution followed by a padded one writes its output straight into that one's
  // zero-bordered input layout (no copy; the backward reads it there too).
  for (size_t l = 0; l + 1 < nconv_; ++l) {
    const DirectConvImage& next = *layers_[l + 1].conv;
    if (next.padded())
      layers_[l].conv = std::make_shared<const DirectConvImage>(layers_[l].conv->shape(), next.xp_interior(),
                                                                next.xp_row());
  }
  parts_.resize(nconv_);
  wt_.resize(nconv_);
  xin_.resize(nconv_);
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
    if (!(L.conv && into_next(l))) out_[l].resize(n);
    if (!L.dropout && L.keep_preact) pre_[l].resize(n);
    if (L.dropout) mask_[l].resize(n);
    widest = std::max({widest, L.in, L.out});
  }
  for (size_t l = 0; l < nconv_; ++l) {
    const DirectConvImage& c = *layers_[l].conv;
    parts_[l].resize(static_cast<size_t>(DirectConvImage::parts(N) * c.partial_floats()));
    if (l > 0) wt_[l].resize(static_cast<size_t>(c.weight_floats()));
    // New images' borders are zero (resize value-initialises) and are never written.
    if (c.padded()) xin_[l].resize(static_cast<size_t>(N * c.xp_floats()));
    if (into_next(l)) std::vector<float>().swap(out_[l]);  // stored in xin_[l + 1] instead
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

bool MlpPlan::into_next(size_t l) const { return l + 1 < nconv_ && layers_[l + 1].conv->padded(); }

namespace {
float* grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
  return v.data();
}
}  // namespace

// Every convolution on image n, then image n + 1: each image's activations go from one
// layer to the next while they are in cache. A padded layer's input is written straight
// into its xp layout in xin_ (the first layer's by a copy of x, the others by the previous
// layer's kernel; the border stays zero). Images are disjoint: any thread count.
void MlpPlan::conv_forward(const float* x, int64_t N) {
  int64_t fmas = 0;
  for (size_t l = 0; l < nconv_; ++l) fmas += layers_[l].conv->out_floats() * layers_[l].conv->taps();
  const int nt = static_cast<int>(std::min<int64_t>(threads_for(N * fmas, kConvGrain), N));
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const MlpLayer& L0 = layers_[0];
    const float* img = x + n * L0.in;
    if (n + 1 < N) prefetch_floats(img + L0.in, L0.in);
    const float* xp = img;
    if (L0.conv->padded()) {
      float* b = xin_[0].data() + n * L0.conv->xp_floats();
      L0.conv->copy_interior(b, img);
      xp = b;
    }
    for (size_t l = 0; l < nconv_; ++l) {
      const MlpLayer& L = layers_[l];
      float* o = into_next(l) ? xin_[l + 1].data() + n * layers_[l + 1].conv->xp_floats()
                              : out_[l].data() + n * L.out;
      L.conv->forward_xp(o, nullptr, xp, L.weight, L.bias, L.act);
      xp = o;
    }
  }
}

// Everything the backward reads of image n: each layer's input and output, dout.
void MlpPlan::prefetch_image(const float* x, const float* dout, int64_t n) const {
  for (size_t l = 0; l < nconv_; ++l) {
    const MlpLayer& L = layers_[l];
    const DirectConvImage& c = *L.conv;
    if (c.padded())
      prefetch_floats(xin_[l].data() + n * c.xp_floats(), c.xp_floats());
    else
      prefetch_floats(l == 0 ? x + n * L.in : out_[l - 1].data() + n * L.in, L.in);
  }
  const MlpLayer& last = layers_[nconv_ - 1];
  if (last.act != Act::linear) prefetch_floats(out_[nconv_ - 1].data() + n * last.out, last.out);
  prefetch_floats(dout + n * last.out, last.out);
}

// dout: d loss / d (last convolution's output), (N, out). Per partial p (its images in
// order, as conv2d_backward's direct path), each image goes down through every
// convolution. Layer l's output y_l and its gradient dy_l share a layout: contiguous for
// the last layer, else conv l+1's xp layout (dy_l is conv l+1's data gradient, a per-thread
// image). dz_l = dy_l·f'(y_l) is formed row by row from the interior, which is also the
// unpad. The first layer's input gradient is not needed.
void MlpPlan::conv_backward(const float* x, const float* dout, int64_t N) {
  const int64_t P = DirectConvImage::parts(N);
  int64_t fmas = 0;
  for (size_t l = 0; l < nconv_; ++l) {
    const MlpLayer& L = layers_[l];
    fmas += 2 * L.conv->out_floats() * L.conv->taps();
    if (l > 0) L.conv->transpose_weight(wt_[l].data(), L.weight);
  }
  const int nt = static_cast<int>(std::min<int64_t>(threads_for(N * fmas, kConvGrain), P));
  (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t p = 0; p < P; ++p) {
    static thread_local std::vector<float> dzbuf, dx_a, dx_b;
    for (size_t l = 0; l < nconv_; ++l) {
      float* part = parts_[l].data() + p * layers_[l].conv->partial_floats();
      std::fill(part, part + layers_[l].conv->partial_floats(), 0.0f);
    }
    for (int64_t n = p * N / P; n < (p + 1) * N / P; ++n) {
      if (n + 1 < N) prefetch_image(x, dout, n + 1);
      const float* d = dout + n * layers_[nconv_ - 1].out;
      for (size_t l = nconv_; l-- > 0;) {
        const MlpLayer& L = layers_[l];
        const DirectConvImage& c = *L.conv;
        // y_l and dy_l: rows of OW·OC floats, row stride `row`, from offset `off`
        const float* y;
        int64_t off = 0, row = c.shape().OW * c.shape().OC;
        if (into_next(l)) {
          const DirectConvImage& next = *layers_[l + 1].conv;
          y = xin_[l + 1].data() + n * next.xp_floats();
          off = next.xp_interior(), row = next.xp_row();
        } else {
          y = out_[l].data() + n * L.out;
        }
        const int64_t OH = c.shape().OH, OW = c.shape().OW, OC = c.shape().OC;
        const float* dz = d;
        // The plan's convolutions are relu or linear (the binding checks supports_forward).
        if (L.act == Act::relu) {  // one 8-wide pass over the image (OC % 8 == 0)
          float* b = grow(dzbuf, L.out);
          c.relu_grad(b, d + off, y + off, OH, OW * OC, row);
          dz = b;
        } else if (off != 0 || row != OW * OC) {  // linear: the interior rows, contiguous
          float* b = grow(dzbuf, L.out);
          for (int64_t i = 0; i < OH; ++i)
            std::copy(d + off + i * row, d + off + i * row + OW * OC, b + i * OW * OC);
          dz = b;
        }
        const float* xp = c.padded()  ? xin_[l].data() + n * c.xp_floats()
                          : l == 0    ? x + n * L.in
                                      : out_[l - 1].data() + n * L.in;
        c.weights_xp(parts_[l].data() + p * c.partial_floats(), xp, dz);
        if (l > 0) {
          float* dxp = grow(l & 1 ? dx_a : dx_b, c.xp_floats());
          c.data_xp(dxp, dz, wt_[l].data());
          d = dxp;
        }
      }
    }
  }
  for (size_t l = 0; l < nconv_; ++l)
    layers_[l].conv->reduce(layers_[l].dweight, layers_[l].dbias, parts_[l].data(), P);
}

}  // namespace baeum
