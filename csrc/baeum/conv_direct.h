// conv_direct.h — direct (no im2col, no GEMM) NHWC convolution kernels for few filters /
// few channels, one image at a time; the AVX2+FMA implementations live in conv_avx2.cpp
// (compiled with -mavx2 -mfma), the driver (padding, activation gradient, threads, partial
// sums) in conv.cpp. Glossary as conv.h.
//
// Every kernel reads a zero-padded image xp (or the image itself when no padding is
// needed) whose rows are `ld` floats apart:
//   pixoff[r] = (oh·SH)·ld + (ow·SW)·C        for output pixel r = oh·OW + ow
//   tapoff[k] = (kh·DH)·ld + (kw·DW)·C + c    for tap k = (kh·KW + kw)·C + c   (k < Kg)
// so x_pad[n, oh·SH + kh·DH, ow·SW + kw·DW, c] = xp[pixoff[r] + tapoff[k]].
//   forward:  z[r, o] = Σ_k xp[pixoff[r] + tapoff[k]] · W[k, o] (+ b[o]);  out = f(z)     (f: linear, relu)
//   weights:  part[k, o] += Σ_r xp[pixoff[r] + tapoff[k]] · dz[r, o]
//   data:     dxp[pixoff[r] + tapoff[k]] += Σ_o dz[r, o] · W[k, o]   (W given as wt[(kh,kw), o, c])
// Shapes handled: G = 1; forward/weights need OC % 8 == 0, data needs C % 8 == 0 (both
// are cut into chunks of ≤ 32 = 4 vectors; rows keep their full OC / C stride).
// Nothing here is inline or a std:: template (see gemm_kernels.h).
#pragma once
#include <cstdint>

namespace baeum {

struct DirectConv {
  int64_t C, OC, Kg, OHW;   // input channels, filters, taps KH·KW·C, output pixels per image
  int64_t KT;               // KH·KW (data gradient: taps per pixel)
  int64_t OW, SWC;          // output pixels per row; SW·C: pixoff step between neighbours in a row
  const int64_t* pixoff;    // OHW entries
  const int64_t* tapoff;    // Kg entries
  const int64_t* celloff;   // KT entries: (kh·DH)·ld + (kw·DW)·C
  bool wgrad_t;             // weight gradient partial is (OC, Kg), taps as the vector (OC = 8, C % 8 == 0)
  bool fwd_row3;            // forward by output rows sharing input columns (OC = 8, C ∈ {8,16,24,32},
                            // KW = 3, SW = 2, DW = 1, OW ≤ 8)
  bool dat_row3;            // data gradient by output rows sharing input columns (same shapes, any OW)
  const int64_t* outoff;    // null, or OHW entries: forward output pixel r at out + outoff[r]
                            // instead of out + r·OC (pre stays (OHW, OC))
};

#if defined(BAEUM_X86)
// out/pre: the image's (OHW, OC) rows (out: at outoff when given); pre may be null; bias may be null; relu: f = relu else linear.
void direct_forward_avx2(const DirectConv& d, const float* xp, const float* weight, const float* bias,
                         bool relu, float* out, float* pre);
// part (Kg, OC) (or (OC, Kg) when d.wgrad_t) += this image's weight gradient; pbias (OC) += Σ_r dz[r, :].
void direct_weights_avx2(const DirectConv& d, const float* xp, const float* dz, float* part, float* pbias);
// dxp (padded image) += this image's data gradient; wt is (KT, OC, C).
void direct_data_avx2(const DirectConv& d, const float* dz, const float* wt, float* dxp);
// dz (rows, len) = y > 0 ? dy : 0, dy and y rows `stride` floats apart (a padded image's
// interior): the ReLU backward of one image in one 8-wide pass (len % 8 == 0).
void direct_relu_grad_avx2(float* dz, const float* dy, const float* y, int64_t rows, int64_t len, int64_t stride);
#endif

}  // namespace baeum
