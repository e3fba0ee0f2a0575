// bind_sampling.cpp — baeum._core.sampling_forward / sampling_backward (image resampling
// under per-image projective transforms). Every buffer is checked (dtype, contiguity, rank,
// sizes against each other) before its pointer is used; then the GIL is released.
// Friendly errors are raised earlier by baeum.ops.sampling.
#include <string>

#include "baeum/sampling.h"
#include "bindings/common.h"

using namespace baeum_bind;

namespace {

baeum::Interp to_interp(int v) {
  if (v < 0 || v > 1) throw py::value_error("sampling: unknown interpolation id " + std::to_string(v));
  return static_cast<baeum::Interp>(v);
}

baeum::Fill to_fill(int v) {
  if (v < 0 || v > 3) throw py::value_error("sampling: unknown fill_mode id " + std::to_string(v));
  return static_cast<baeum::Fill>(v);
}

// images (N, H, W, C) and grads (N, OH, OW, C) must agree on N and C; transforms is (N, 8).
void check_pair(const py::array& img, const char* in_name, const py::array& o, const char* out_name,
                const py::array& transforms) {
  if (o.shape(0) != img.shape(0) || o.shape(3) != img.shape(3))
    throw py::value_error(std::string(out_name) + " has shape " + shape_str(o) + " but " + in_name +
                          " has shape " + shape_str(img) + "; N and C must match");
  if (transforms.shape(0) != img.shape(0) || transforms.shape(1) != 8)
    throw py::value_error("transforms has shape " + shape_str(transforms) + ", expected (" +
                          std::to_string(img.shape(0)) + ", 8)");
  if (img.shape(0) > 0 && o.size() > 0 && (img.shape(1) == 0 || img.shape(2) == 0))
    throw py::value_error(std::string(in_name) + " has shape " + shape_str(img) +
                          "; images need at least one pixel");
}

void sampling_forward(py::array inp, py::array transforms, py::array out, int interp, int fill,
                      float fill_value) {
  const baeum::Interp ip = to_interp(interp);
  const baeum::Fill fm = to_fill(fill);
  const float* x = in_ptr(inp, "inp", 4);
  const float* t = in_ptr(transforms, "transforms", 2);
  float* y = out_ptr(out, "out", 4);
  check_pair(inp, "inp", out, "out", transforms);
  require_disjoint(out, inp, "sampling_forward");
  require_disjoint(out, transforms, "sampling_forward");
  const int64_t N = inp.shape(0), H = inp.shape(1), W = inp.shape(2), C = inp.shape(3);
  const int64_t OH = out.shape(1), OW = out.shape(2);
  py::gil_scoped_release release;
  baeum::sampling_forward(y, x, t, N, H, W, C, OH, OW, ip, fm, fill_value);
}

void sampling_backward(py::array dout, py::array transforms, py::array dinp, int interp, int fill) {
  const baeum::Interp ip = to_interp(interp);
  const baeum::Fill fm = to_fill(fill);
  const float* g = in_ptr(dout, "dout", 4);
  const float* t = in_ptr(transforms, "transforms", 2);
  float* d = out_ptr(dinp, "dinp", 4);
  check_pair(dinp, "dinp", dout, "dout", transforms);
  require_disjoint(dinp, dout, "sampling_backward");
  require_disjoint(dinp, transforms, "sampling_backward");
  const int64_t N = dinp.shape(0), H = dinp.shape(1), W = dinp.shape(2), C = dinp.shape(3);
  const int64_t OH = dout.shape(1), OW = dout.shape(2);
  py::gil_scoped_release release;
  baeum::sampling_backward(d, g, t, N, H, W, C, OH, OW, ip, fm);
}

}  // namespace

void bind_sampling(py::module_& m) {
  m.def("sampling_forward", &sampling_forward, py::arg("inp"), py::arg("transforms"),
        py::arg("out"), py::arg("interp"), py::arg("fill"), py::arg("fill_value"));
  m.def("sampling_backward", &sampling_backward, py::arg("dout"), py::arg("transforms"),
        py::arg("dinp"), py::arg("interp"), py::arg("fill"));
}
