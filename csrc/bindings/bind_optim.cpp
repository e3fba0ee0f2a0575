// bind_optim.cpp — baeum._core.optimizer_step: the fused multi-tensor optimizer step.
// Every buffer and every segment is checked here before a pointer is taken, so the
// kernel cannot leave its arrays whatever Python passes. baeum.ops.optimizer_step gives
// the friendlier errors; this is the last line.
#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "baeum/optim.h"
#include "bindings/common.h"

using namespace baeum_bind;

namespace {

baeum::OptimKind kind_from_name(const std::string& s) {
  if (s == "sgd") return baeum::OptimKind::sgd;
  if (s == "rmsprop") return baeum::OptimKind::rmsprop;
  if (s == "adagrad") return baeum::OptimKind::adagrad;
  if (s == "adam" || s == "adamw") return baeum::OptimKind::adam;
  if (s == "nadam") return baeum::OptimKind::nadam;
  throw py::value_error("optimizer_step: unknown kind '" + s +
                        "'; valid: 'sgd', 'rmsprop', 'adagrad', 'adam', 'adamw', 'nadam'");
}

bool overlaps(const py::array& a, const py::array& b) {
  const char* a0 = static_cast<const char*>(a.data());
  const char* b0 = static_cast<const char*>(b.data());
  const char* a1 = a0 + a.nbytes();
  const char* b1 = b0 + b.nbytes();
  return a.nbytes() > 0 && b.nbytes() > 0 && a0 < b1 && b0 < a1;
}

// segments: int64 C-contiguous (V, 2) of (offset, size); each inside [0, n), none overlapping.
const int64_t* check_segments(const py::array& seg, int64_t n) {
  if (!seg.dtype().is(py::dtype::of<int64_t>()))
    throw py::type_error("optimizer_step: segments must be int64, got " +
                         std::string(py::str(seg.dtype())));
  if (!(seg.flags() & py::array::c_style))
    throw py::value_error("optimizer_step: segments must be C-contiguous");
  if (seg.ndim() != 2 || seg.shape(1) != 2)
    throw py::value_error("optimizer_step: segments must have shape (V, 2), got " +
                          shape_str(seg));
  const int64_t* s = static_cast<const int64_t*>(seg.data());
  const int64_t V = seg.shape(0);
  for (int64_t v = 0; v < V; ++v) {
    const int64_t off = s[2 * v], size = s[2 * v + 1];
    // size <= n - off (not off + size <= n) so huge values cannot overflow.
    if (off < 0 || size < 0 || off > n || size > n - off)
      throw py::value_error("optimizer_step: segment " + std::to_string(v) + " (offset " +
                            std::to_string(off) + ", size " + std::to_string(size) +
                            ") is outside params of length " + std::to_string(n));
  }
  std::vector<int64_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [s](int64_t a, int64_t b) { return s[2 * a] < s[2 * b]; });
  // Empty segments overlap nothing; `last` is the non-empty segment reaching furthest.
  int64_t last = -1, end = 0;
  for (int64_t i = 0; i < V; ++i) {
    const int64_t b = order[i];
    if (s[2 * b + 1] == 0) continue;
    if (last >= 0 && s[2 * b] < end)
      throw py::value_error("optimizer_step: segments " + std::to_string(std::min(last, b)) +
                            " and " + std::to_string(std::max(last, b)) + " overlap");
    if (s[2 * b] + s[2 * b + 1] > end) {
      end = s[2 * b] + s[2 * b + 1];
      last = b;
    }
  }
  return s;
}

void optimizer_step(const std::string& kind, py::array params, py::array grads,
                    py::list slot_list, py::array segments, double lr, int64_t step,
                    double weight_decay, double clipnorm, double clipvalue,
                    double global_clipnorm, double momentum, bool nesterov, double rho,
                    bool centered, double beta_1, double beta_2, bool amsgrad, double epsilon,
                    double u_product) {
  baeum::OptimConfig c;
  c.kind = kind_from_name(kind);
  c.lr = lr;
  c.step = step;
  c.weight_decay = weight_decay;
  c.clipnorm = clipnorm;
  c.clipvalue = clipvalue;
  c.global_clipnorm = global_clipnorm;
  c.momentum = momentum;
  c.nesterov = nesterov;
  c.rho = rho;
  c.centered = centered;
  c.beta_1 = beta_1;
  c.beta_2 = beta_2;
  c.amsgrad = amsgrad;
  c.epsilon = epsilon;
  c.u_product = u_product;
  if (step < 1) throw py::value_error("optimizer_step: step must be >= 1 (iterations + 1)");
  if ((clipnorm > 0) + (clipvalue > 0) + (global_clipnorm > 0) > 1)
    throw py::value_error("optimizer_step: set at most one of clipnorm, clipvalue, global_clipnorm");

  float* p = out_ptr(params, "params", 1);
  const float* g = in_ptr(grads, "grads", 1);
  const int64_t n = params.shape(0);
  if (grads.shape(0) != n)
    throw py::value_error("optimizer_step: grads has shape " + shape_str(grads) +
                          ", params has shape " + shape_str(params));
  if (overlaps(params, grads))
    throw py::value_error("optimizer_step: params and grads overlap");
  // Slots are taken as they are (no implicit conversion: a converted copy would lose
  // the update).
  std::vector<py::array> slots;
  for (py::handle h : slot_list) {
    if (!py::isinstance<py::array>(h))
      throw py::type_error("optimizer_step: every slot must be a numpy.ndarray");
    slots.push_back(py::reinterpret_borrow<py::array>(h));
  }
  const int ns = baeum::optim_num_slots(c);
  if (static_cast<int>(slots.size()) != ns)
    throw py::value_error("optimizer_step: '" + kind + "' with these options needs " +
                          std::to_string(ns) + " slot arrays, got " +
                          std::to_string(slots.size()));
  std::vector<float*> sp(ns);
  for (int j = 0; j < ns; ++j) {
    const std::string name = "slots[" + std::to_string(j) + "]";
    sp[j] = out_ptr(slots[j], name.c_str(), 1);
    if (slots[j].shape(0) != n)
      throw py::value_error("optimizer_step: " + name + " has shape " + shape_str(slots[j]) +
                            ", params has shape " + shape_str(params));
    if (overlaps(slots[j], params) || overlaps(slots[j], grads))
      throw py::value_error("optimizer_step: " + name + " overlaps params or grads");
    for (int i = 0; i < j; ++i)
      if (overlaps(slots[j], slots[i]))
        throw py::value_error("optimizer_step: " + name + " overlaps slots[" +
                              std::to_string(i) + "]");
  }
  const int64_t* s = check_segments(segments, n);
  const int64_t V = segments.shape(0);
  py::gil_scoped_release release;
  baeum::optim_step(c, p, g, sp.data(), s, V);
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("optimizer_step", &optimizer_step,
        "optimizer_step(kind, params, grads, slots, segments, lr, step, weight_decay, clipnorm,\n"
        "  clipvalue, global_clipnorm, momentum, nesterov, rho, centered, beta_1, beta_2,\n"
        "  amsgrad, epsilon, u_product): one fused step over all segments, in place.\n"
        "Off switches are 0 (clipping, weight decay). Use baeum.ops.optimizer_step.",
        py::arg("kind"), py::arg("params"), py::arg("grads"), py::arg("slots"),
        py::arg("segments"), py::arg("lr"), py::arg("step"), py::arg("weight_decay"),
        py::arg("clipnorm"), py::arg("clipvalue"), py::arg("global_clipnorm"),
        py::arg("momentum"), py::arg("nesterov"), py::arg("rho"), py::arg("centered"),
        py::arg("beta_1"), py::arg("beta_2"), py::arg("amsgrad"), py::arg("epsilon"),
        py::arg("u_product"));
}
