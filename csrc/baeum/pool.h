// pool.h — max / average pooling over NHWC images (Keras channels_last), forward and
// backward. 1-D pooling is the H = 1, KH = 1 case; global pooling is the KH = H, KW = W case.
//
// Shapes: inp / dinp (N, H, W, C), out / dout / argmax (N, OH, OW, C).
// Geometry: window (KH, KW), strides (SH, SW), padding before (PT top, PL left). Padded
// cells are never read: windows are clipped to the image. A window with no real cell gives 0.
#pragma once
#include <cstdint>

namespace baeum {

struct Pool2D {
  int64_t N, H, W, C;     // input
  int64_t OH, OW;         // output
  int64_t KH, KW;         // window
  int64_t SH, SW;         // strides
  int64_t PT, PL;         // padding before (top, left); the rest is implied by OH/OW
};

// out[n,i,j,c] = max over the window's real cells; argmax[n,i,j,c] = h·W + w of the winner
// (first in row-major window order on ties; -1 for an empty window).
void maxpool_forward(float* out, int32_t* argmax, const float* inp, const Pool2D& p);

// dinp = 0, then dinp[n, argmax[n,i,j,c], c] += dout[n,i,j,c] (overwritten, not accumulated).
// Returns how many argmax entries were outside [0, H·W) (skipped; the binding raises).
int64_t maxpool_backward(float* dinp, const float* dout, const int32_t* argmax, const Pool2D& p);

// out[n,i,j,c] = Σ window's real cells / (number of real cells) — padded cells excluded.
void avgpool_forward(float* out, const float* inp, const Pool2D& p);

// dinp = 0, then each real cell of each window gets dout[n,i,j,c] / count (overwritten).
void avgpool_backward(float* dinp, const float* dout, const Pool2D& p);

}  // namespace baeum
