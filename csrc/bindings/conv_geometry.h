// conv_geometry.h — the overflow check every binding that takes a convolution geometry runs
// (defined in bind_conv.cpp; used by bind_conv.cpp and bind_mlp.cpp).
#pragma once
#include "baeum/conv.h"

namespace baeum_bind {

// Raises ValueError unless every index the convolution kernels form for s fits in int64.
void require_geometry_fits(const baeum::ConvShape& s, const char* op);

}  // namespace baeum_bind
