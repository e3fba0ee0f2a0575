// bind_losses.cpp — baeum._core.softmax_cross_entropy / sparse_softmax_cross_entropy /
// sigmoid_binary_crossentropy: per-sample loss + d(loss)/d(logits) in one call.
// Every size is checked against the logits before any pointer is used; labels are
// range-checked here (with the GIL held) so the kernel can index rows without checks.
#include <string>

#include "baeum/losses.h"
#include "bindings/common.h"

using namespace baeum_bind;

namespace {

struct Rows {
  int64_t n, c;
};

// logits (N, C), loss (N); when dinp is given also dinp (N, C) and dloss (N).
Rows check_common(const char* op, const py::array& inp, const py::array& loss,
                  const py::object& dinp, const py::object& dloss) {
  require_f32(inp, "logits", 2);
  require_f32(loss, "loss", 1);
  Rows r{inp.shape(0), inp.shape(1)};
  if (loss.shape(0) != r.n)
    throw py::value_error(std::string(op) + ": loss has shape " + shape_str(loss) +
                          ", expected (" + std::to_string(r.n) + ",)");
  if (dinp.is_none() != dloss.is_none())
    throw py::value_error(std::string(op) + ": pass dlogits and dloss together (or neither)");
  if (!dinp.is_none()) {
    py::array g = dinp.cast<py::array>();
    py::array d = dloss.cast<py::array>();
    require_f32(g, "dlogits", 2);
    require_f32(d, "dloss", 1);
    if (g.shape(0) != r.n || g.shape(1) != r.c)
      throw py::value_error(std::string(op) + ": dlogits has shape " + shape_str(g) +
                            ", expected " + shape_str(inp));
    if (d.shape(0) != r.n)
      throw py::value_error(std::string(op) + ": dloss has shape " + shape_str(d) +
                            ", expected (" + std::to_string(r.n) + ",)");
  }
  return r;
}

float* opt_out(py::object o, const char* name) {
  if (o.is_none()) return nullptr;
  py::array a = o.cast<py::array>();
  return out_ptr(a, name, -1);
}
const float* opt_in(py::object o, const char* name) {
  if (o.is_none()) return nullptr;
  py::array a = o.cast<py::array>();
  return in_ptr(a, name, -1);
}

void dense_call(bool sigmoid, py::array inp, py::array target, py::array loss, py::object dinp,
                py::object dloss, float label_smoothing) {
  const char* op = sigmoid ? "sigmoid_binary_crossentropy" : "softmax_cross_entropy";
  Rows r = check_common(op, inp, loss, dinp, dloss);
  require_f32(target, "target", 2);
  if (target.shape(0) != r.n || target.shape(1) != r.c)
    throw py::value_error(std::string(op) + ": target has shape " + shape_str(target) +
                          ", expected " + shape_str(inp));
  const float* pz = in_ptr(inp, "logits", 2);
  const float* pt = in_ptr(target, "target", 2);
  float* pl = out_ptr(loss, "loss", 1);
  float* pg = opt_out(dinp, "dlogits");
  const float* pd = opt_in(dloss, "dloss");
  py::gil_scoped_release release;
  if (sigmoid)
    baeum::sigmoid_binary_crossentropy(pl, pg, pz, pt, pd, r.n, r.c, label_smoothing);
  else
    baeum::softmax_cross_entropy(pl, pg, pz, pt, pd, r.n, r.c, label_smoothing);
}

void sparse_call(py::array inp, py::array label, py::array loss, py::object dinp,
                 py::object dloss) {
  const char* op = "sparse_softmax_cross_entropy";
  Rows r = check_common(op, inp, loss, dinp, dloss);
  if (!label.dtype().is(py::dtype::of<int64_t>()))
    throw py::type_error(std::string(op) + ": labels must be int64, got " +
                         std::string(py::str(label.dtype())));
  if (!(label.flags() & py::array::c_style) || label.ndim() != 1 || label.shape(0) != r.n)
    throw py::value_error(std::string(op) + ": labels must be a C-contiguous (" +
                          std::to_string(r.n) + ",) array, got " + shape_str(label));
  const int64_t* py_ = static_cast<const int64_t*>(label.data());
  for (int64_t i = 0; i < r.n; ++i)
    if (py_[i] < 0 || py_[i] >= r.c)
      throw py::value_error(std::string(op) + ": label " + std::to_string(py_[i]) +
                            " at row " + std::to_string(i) + " is outside [0, " +
                            std::to_string(r.c) + ")");
  const float* pz = in_ptr(inp, "logits", 2);
  float* pl = out_ptr(loss, "loss", 1);
  float* pg = opt_out(dinp, "dlogits");
  const float* pd = opt_in(dloss, "dloss");
  py::gil_scoped_release release;
  baeum::sparse_softmax_cross_entropy(pl, pg, pz, py_, pd, r.n, r.c);
}

}  // namespace

void bind_losses(py::module_& m) {
  m.def("softmax_cross_entropy",
        [](py::array inp, py::array target, py::array loss, py::object dinp, py::object dloss,
           float ls) { dense_call(false, inp, target, loss, dinp, dloss, ls); },
        "softmax_cross_entropy(logits, target, loss, dlogits, dloss, label_smoothing):\n"
        "loss[i] = -sum_c t'_ic log_softmax(logits_i)_c; dlogits = dloss[:, None] * "
        "(softmax*sum(t') - t'). dlogits/dloss may both be None (loss only).",
        py::arg("logits"), py::arg("target"), py::arg("loss"), py::arg("dlogits"),
        py::arg("dloss"), py::arg("label_smoothing") = 0.0f);
  m.def("sparse_softmax_cross_entropy", &sparse_call,
        "sparse_softmax_cross_entropy(logits, labels, loss, dlogits, dloss): labels int64 (N,).",
        py::arg("logits"), py::arg("labels"), py::arg("loss"), py::arg("dlogits"),
        py::arg("dloss"));
  m.def("sigmoid_binary_crossentropy",
        [](py::array inp, py::array target, py::array loss, py::object dinp, py::object dloss,
           float ls) { dense_call(true, inp, target, loss, dinp, dloss, ls); },
        "sigmoid_binary_crossentropy(logits, target, loss, dlogits, dloss, label_smoothing):\n"
        "loss[i] = mean_d BCE(sigmoid(logits[i,d]), t'); dlogits = dloss[:,None]*(sigmoid-t')/D.",
        py::arg("logits"), py::arg("target"), py::arg("loss"), py::arg("dlogits"),
        py::arg("dloss"), py::arg("label_smoothing") = 0.0f);
}
