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

}  // namespace baeum
