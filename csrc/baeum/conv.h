// conv.h — 2-D convolution on NHWC images with Keras kernel layouts: im2col/col2im, conv
// forward (bias + activation fused on store), backward-data, backward-weights, transposed
// convolution and depthwise convolution. Equations in conv.cpp and docs/conv.md.
//
// Glossary (one ConvShape describes the convolution inp → out):
//   N batch, H W C input height/width/channels, OH OW OC output height/width/channels,
//   KH KW kernel size, SH SW strides, DH DW dilations, PT PL padding before (top, left; the
//   padding after is whatever OH/OW imply), G groups (C % G == 0, OC % G == 0),
//   Cg = C/G, OCg = OC/G, Kg = KH·KW·Cg (one im2col row), R = N·OH·OW (GEMM rows).
// Layouts: inp (N,H,W,C), out (N,OH,OW,OC), weight (KH,KW,Cg,OC) (Keras Conv2D),
//   bias (OC). A Keras Conv2DTranspose kernel (KH,KW,C_t_out,C_t_in) is the weight of the
//   conv from the transposed layer's OUTPUT (N,H,W,C) to its INPUT (N,OH,OW,OC), G = 1.
// Every backward kernel overwrites dinp and ACCUMULATES into dweight and dbias.
// Results are bit-identical for any thread count (partitions depend only on the shapes).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "baeum/elementwise.h"

namespace baeum {

struct ConvShape {
  int64_t N, H, W, C;
  int64_t OH, OW, OC;
  int64_t KH, KW;
  int64_t SH, SW, DH, DW;
  int64_t PT, PL;
  int64_t G;
};

// col (N·OH·OW, KH·KW·C) = the receptive field of every output pixel, rows ordered (n,oh,ow),
// columns (kh,kw,c); padded cells are 0. Groups are ignored here (G must be 1 for these two).
void im2col(float* col, const float* inp, const ConvShape& s);
// dinp (N,H,W,C) = 0, then every col entry is added back to the input cell it came from.
void col2im(float* dinp, const float* col, const ConvShape& s);

// z = conv(inp, weight) + bias; out = f(z); preact (if not null) receives z.
void conv2d_forward(float* out, float* preact, const float* inp, const float* weight,
                    const float* bias, const ConvShape& s, Act act, float alpha);
// dz = dout·f'(z); dweight += col(inp)ᵀ·dz; dbias += Σ dz; dinp = col2im(dz·weightᵀ).
// dinp, dbias may be null (not computed).
void conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, const float* out,
                     const float* preact, const ConvShape& s, Act act, float alpha);

// Transposed convolution (Keras Conv2DTranspose), in terms of the conv s above:
//   inp (N,OH,OW,OC) → out (N,H,W,C):  z = col2im(inp·weightᵀ) + bias (C);  out = f(z).
void conv2d_transpose_forward(float* out, float* preact, const float* inp, const float* weight,
                              const float* bias, const ConvShape& s, Act act, float alpha);
// dz = dout·f'(z) (N,H,W,C); dinp = conv(dz, weight) (N,OH,OW,OC);
// dweight += col(dz)ᵀ·inp; dbias += Σ dz.
void conv2d_transpose_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                               const float* inp, const float* weight, const float* out,
                               const float* preact, const ConvShape& s, Act act, float alpha);

// Depthwise convolution (Keras DepthwiseConv2D), s.OC = C·DM, s.G = 1 is ignored:
//   z[n,oh,ow,c·DM+m] = bias[c·DM+m] + Σ_{kh,kw} x_pad[n, oh·SH+kh·DH, ow·SW+kw·DW, c]·K[kh,kw,c,m]
// weight (KH,KW,C,DM) (its rows (kh,kw) are laid out like the output channels c·DM+m).
void depthwise_conv2d_forward(float* out, float* preact, const float* inp, const float* weight,
                              const float* bias, const ConvShape& s, Act act, float alpha);
void depthwise_conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                               const float* inp, const float* weight, const float* out,
                               const float* preact, const ConvShape& s, Act act, float alpha);

// ---- the direct kernels one image at a time -----------------------------------------------
// conv2d_forward/backward run narrow convolutions (G = 1, OC a multiple of 8, small weights,
// linear/relu; see supports_*) on the direct AVX2 kernels (conv_direct.h), one image at a
// time. This class is that per-image path, so the fused training step (mlp.h) can run two
// convolutions back to back on one image while it is in cache and still give the layer
// path's bits: both call these functions, and both split the weight gradient into
// parts(N) partials holding images [p·N/P, (p+1)·N/P), summed in order by reduce().
struct DirectConv;
class DirectConvImage {
 public:
  static bool supports_forward(const ConvShape& s, Act act);
  static bool supports_backward(const ConvShape& s, bool need_dinp);
  static int64_t parts(int64_t N);  // P: number of weight-gradient partials for N images

  explicit DirectConvImage(const ConvShape& s);  // s.N is not used
  // forward/forward_xp write output pixel (oh, ow) at out + out_offset + oh·out_row + ow·OC
  // (e.g. straight into the next convolution's padded layout) instead of (OH, OW, OC) rows.
  DirectConvImage(const ConvShape& s, int64_t out_offset, int64_t out_row);
  ~DirectConvImage();
  DirectConvImage(const DirectConvImage&) = delete;
  DirectConvImage& operator=(const DirectConvImage&) = delete;

  const ConvShape& shape() const { return s_; }
  int64_t in_floats() const { return s_.H * s_.W * s_.C; }       // one input image
  int64_t out_floats() const { return s_.OH * s_.OW * s_.OC; }   // one output image
  int64_t taps() const { return s_.KH * s_.KW * s_.C; }          // Kg
  int64_t weight_floats() const { return taps() * s_.OC; }
  int64_t partial_floats() const { return weight_floats() + s_.OC; }  // dW then db

  // out (OH,OW,OC) = f(conv(img) + bias) for one image; preact (or null) receives z.
  void forward(float* out, float* preact, const float* img, const float* weight, const float* bias,
               Act act) const;
  // wt (KH·KW, OC, C): the weight as the data-gradient kernel reads it (once per step).
  void transpose_weight(float* wt, const float* weight) const;
  // One image: dz = dout·f'(z); part[0, Kg·OC) += imgᵀ·dz, part[Kg·OC, +OC) += Σ dz;
  // dimg (H,W,C) = data gradient (skipped when null; wt from transpose_weight).
  void backward(float* dimg, float* part, const float* dout, const float* img, const float* out,
                const float* preact, const float* wt, Act act, float alpha) const;
  // dweight += Σ_p parts[p] (p = 0..P−1 in order), dbias likewise (dbias may be null).
  void reduce(float* dweight, float* dbias, float* parts, int64_t P) const;

  // The pieces forward/backward are made of, on an image already in the layout the kernels
  // read ("xp"): (Hp, Wp, C) zero-padded when padded(), else the image (H, W, C) itself.
  // Image row ih lies at xp + xp_interior() + ih·xp_row(). The fused step (mlp.cpp) keeps
  // images in this layout between layers, so it pads once and never unpads.
  bool padded() const { return padded_; }
  int64_t xp_floats() const;
  int64_t xp_interior() const;
  int64_t xp_row() const;
  void pad(float* xp, const float* img) const;            // all of xp, zero border included
  void copy_interior(float* xp, const float* img) const;  // the image's cells only
  void unpad(float* img, const float* xp) const;          // img = the interior of xp
  void forward_xp(float* out, float* preact, const float* xp, const float* weight, const float* bias,
                  Act act) const;
  void weights_xp(float* part, const float* xp, const float* dz) const;  // part += (dW, db)
  void data_xp(float* dxp, const float* dz, const float* wt) const;      // dxp = dx (overwritten)
  // dz (rows, len) = y > 0 ? dy : 0 with dy, y rows `stride` floats apart: the ReLU backward
  // of an image of this layer's output (OC % 8 == 0 rows), e.g. read from a padded interior.
  void relu_grad(float* dz, const float* dy, const float* y, int64_t rows, int64_t len, int64_t stride) const;

 private:
  ConvShape s_;
  int64_t Hp_ = 0, Wp_ = 0;
  bool padded_ = false;
  std::vector<int64_t> pixoff_, tapoff_, celloff_, outoff_;
  std::unique_ptr<DirectConv> d_;
};

}  // namespace baeum
