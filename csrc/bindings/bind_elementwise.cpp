// bind_elementwise.cpp — baeum._core activations, softmax, bias, dropout, ReLU family, Dense.
// Every buffer is checked (dtype, contiguity, sizes against each other) before its pointer
// is taken, so the kernels can never step outside what Python passed; then the GIL is
// released. Friendly errors are raised earlier by baeum.ops.
#include <cmath>
#include <limits>
#include <string>

#include "baeum/dense.h"
#include "baeum/elementwise.h"
#include "bindings/common.h"

using namespace baeum_bind;
using baeum::Act;

namespace {

Act to_act(int id) {
  if (id < 0 || id >= baeum::kNumActs)
    throw py::value_error("unknown activation id " + std::to_string(id));
  return static_cast<Act>(id);
}

void same_shape(const py::array& a, const char* an, const py::array& b, const char* bn) {
  bool ok = a.ndim() == b.ndim();
  for (py::ssize_t i = 0; ok && i < a.ndim(); ++i) ok = a.shape(i) == b.shape(i);
  if (!ok)
    throw py::value_error(std::string(an) + " has shape " + shape_str(a) + " but " + bn +
                          " has shape " + shape_str(b) + "; they must match");
}

// Optional array argument: a null handle for None (checked with `if (arr)`), else the array.
py::array opt_array(const py::object& o, const char* name) {
  if (o.is_none()) return py::reinterpret_steal<py::array>(py::handle());  // null: tests false
  if (!py::isinstance<py::array>(o))
    throw py::type_error(std::string(name) + " must be a numpy array or None");
  return py::reinterpret_borrow<py::array>(o);
}

int64_t last_dim(const py::array& a) { return a.ndim() == 0 ? 1 : a.shape(a.ndim() - 1); }

void activation_forward(py::array inp, py::array out, int act, float alpha) {
  const Act a = to_act(act);
  const float* x = in_ptr(inp, "inp", -1);
  float* y = out_ptr(out, "out", -1);
  same_shape(inp, "inp", out, "out");
  const int64_t n = inp.size(), C = last_dim(inp);
  const int64_t R = C > 0 ? n / C : 0;
  py::gil_scoped_release release;
  if (a == Act::softmax)
    baeum::activation_forward(y, x, R, C, a, alpha);
  else
    baeum::activation_forward(y, x, 1, n, a, alpha);
}

void activation_backward(py::array dout, py::object inp_o, py::object out_o, py::array dinp,
                         int act, float alpha) {
  const Act a = to_act(act);
  const float* dy = in_ptr(dout, "dout", -1);
  float* dx = out_ptr(dinp, "dinp", -1);
  same_shape(dout, "dout", dinp, "dinp");
  py::array inp = opt_array(inp_o, "x"), out = opt_array(out_o, "y");
  const bool need_x = baeum::act_needs_input(a);
  const bool need_y = !need_x && a != Act::linear;
  const float* x = nullptr;
  const float* y = nullptr;
  if (need_x) {
    if (!inp) throw py::value_error(std::string(baeum::act_name(a)) + " backward needs x");
    x = in_ptr(inp, "x", -1);
    same_shape(inp, "x", dout, "dout");
  }
  if (need_y) {
    if (!out) throw py::value_error(std::string(baeum::act_name(a)) + " backward needs y");
    y = in_ptr(out, "y", -1);
    same_shape(out, "y", dout, "dout");
  }
  const int64_t n = dout.size(), C = last_dim(dout);
  const int64_t R = C > 0 ? n / C : 0;
  py::gil_scoped_release release;
  if (a == Act::softmax)
    baeum::activation_backward(dx, dy, x, y, R, C, a, alpha);
  else
    baeum::activation_backward(dx, dy, x, y, 1, n, a, alpha);
}

void check_split(const py::array& a, int64_t outer, int64_t K, int64_t inner) {
  if (outer < 0 || K < 0 || inner < 0 || outer * K * inner != static_cast<int64_t>(a.size()))
    throw py::value_error("softmax: outer*K*inner does not match the array size");
}

void softmax_forward(py::array inp, py::array out, int64_t outer, int64_t K, int64_t inner) {
  const float* x = in_ptr(inp, "inp", -1);
  float* y = out_ptr(out, "out", -1);
  same_shape(inp, "inp", out, "out");
  check_split(inp, outer, K, inner);
  py::gil_scoped_release release;
  baeum::softmax_forward(y, x, outer, K, inner);
}

void softmax_backward(py::array dout, py::array yfwd, py::array dinp, int64_t outer, int64_t K,
                      int64_t inner) {
  const float* dy = in_ptr(dout, "dout", -1);
  const float* y = in_ptr(yfwd, "out_fwd", -1);
  float* dx = out_ptr(dinp, "dinp", -1);
  same_shape(dout, "dout", yfwd, "out_fwd");
  same_shape(dout, "dout", dinp, "dinp");
  check_split(dout, outer, K, inner);
  py::gil_scoped_release release;
  baeum::softmax_backward(dx, dy, y, outer, K, inner);
}

void bias_add(py::array inp, py::array bias, py::array out) {
  const float* x = in_ptr(inp, "inp", -1);
  const float* b = in_ptr(bias, "bias", 1);
  float* y = out_ptr(out, "out", -1);
  same_shape(inp, "inp", out, "out");
  if (inp.ndim() < 1 || bias.shape(0) != last_dim(inp))
    throw py::value_error("bias_add: bias has shape " + shape_str(bias) +
                          ", expected the last axis of inp " + shape_str(inp));
  const int64_t C = last_dim(inp), R = C > 0 ? inp.size() / C : 0;
  py::gil_scoped_release release;
  baeum::bias_add(y, x, b, R, C);
}

void bias_grad(py::array dout, py::array dbias) {
  const float* dy = in_ptr(dout, "dout", -1);
  float* db = out_ptr(dbias, "dbias", 1);
  if (dout.ndim() < 1 || dbias.shape(0) != last_dim(dout))
    throw py::value_error("bias_grad: dbias has shape " + shape_str(dbias) +
                          ", expected the last axis of dout " + shape_str(dout));
  const int64_t C = last_dim(dout), R = C > 0 ? dout.size() / C : 0;
  py::gil_scoped_release release;
  baeum::bias_grad(db, dy, R, C);
}

void check_rate(double rate) {
  if (!(rate >= 0.0 && rate <= 1.0)) throw py::value_error("dropout: rate must be in [0, 1]");
}

void dropout_forward(py::array inp, py::array out, py::object mask_o, double rate,
                     uint64_t seed) {
  check_rate(rate);
  const float* x = in_ptr(inp, "inp", -1);
  float* y = out_ptr(out, "out", -1);
  same_shape(inp, "inp", out, "out");
  py::array mask = opt_array(mask_o, "mask");
  float* m = nullptr;
  if (mask) {
    m = out_ptr(mask, "mask", -1);
    same_shape(inp, "inp", mask, "mask");
    require_disjoint(mask, inp, "dropout_forward");
    require_disjoint(mask, out, "dropout_forward");
  }
  require_disjoint(out, inp, "dropout_forward");
  py::gil_scoped_release release;
  baeum::dropout_forward(y, m, x, inp.size(), rate, seed);
}

void dropout_mask(py::array mask, double rate, uint64_t seed) {
  check_rate(rate);
  float* m = out_ptr(mask, "mask", -1);
  py::gil_scoped_release release;
  baeum::dropout_mask(m, mask.size(), rate, seed);
}

void multiply(py::array a, py::array b, py::array out) {
  const float* pa = in_ptr(a, "a", -1);
  const float* pb = in_ptr(b, "b", -1);
  float* po = out_ptr(out, "out", -1);
  same_shape(a, "a", b, "b");
  same_shape(a, "a", out, "out");
  require_disjoint(out, a, "multiply");
  require_disjoint(out, b, "multiply");
  py::gil_scoped_release release;
  baeum::multiply(po, pa, pb, a.size());
}

float max_or_inf(py::object mv) {
  return mv.is_none() ? std::numeric_limits<float>::infinity() : mv.cast<float>();
}

void relu_forward(py::array inp, py::array out, float slope, py::object max_value, float t) {
  const float* x = in_ptr(inp, "inp", -1);
  float* y = out_ptr(out, "out", -1);
  same_shape(inp, "inp", out, "out");
  const float mv = max_or_inf(max_value);
  py::gil_scoped_release release;
  baeum::relu_forward(y, x, inp.size(), slope, mv, t);
}

void relu_backward(py::array dout, py::array inp, py::array dinp, float slope,
                   py::object max_value, float t) {
  const float* dy = in_ptr(dout, "dout", -1);
  const float* x = in_ptr(inp, "x", -1);
  float* dx = out_ptr(dinp, "dinp", -1);
  same_shape(dout, "dout", inp, "x");
  same_shape(dout, "dout", dinp, "dinp");
  const float mv = max_or_inf(max_value);
  py::gil_scoped_release release;
  baeum::relu_backward(dx, dy, x, dout.size(), slope, mv, t);
}

// (N, F) view of x for PReLU: alpha must have exactly F = size / N elements.
int64_t prelu_features(const py::array& x, const py::array& alpha) {
  if (x.ndim() < 1) throw py::value_error("prelu: x must have a batch axis");
  const int64_t F = static_cast<int64_t>(alpha.size());
  bool ok = alpha.ndim() == x.ndim() - 1;
  for (py::ssize_t i = 0; ok && i < alpha.ndim(); ++i) ok = alpha.shape(i) == x.shape(i + 1);
  if (!ok)
    throw py::value_error("prelu: alpha has shape " + shape_str(alpha) +
                          ", expected x's non-batch shape (x is " + shape_str(x) + ")");
  return F;
}

void prelu_forward(py::array inp, py::array alpha, py::array out) {
  const float* x = in_ptr(inp, "x", -1);
  const float* a = in_ptr(alpha, "alpha", -1);
  float* y = out_ptr(out, "out", -1);
  same_shape(inp, "x", out, "out");
  const int64_t F = prelu_features(inp, alpha), N = inp.shape(0);
  py::gil_scoped_release release;
  baeum::prelu_forward(y, x, a, N, F);
}

void prelu_backward(py::array dout, py::array inp, py::array alpha, py::array dalpha,
                    py::object dinp_o) {
  const float* dy = in_ptr(dout, "dout", -1);
  const float* x = in_ptr(inp, "x", -1);
  const float* a = in_ptr(alpha, "alpha", -1);
  float* da = out_ptr(dalpha, "dalpha", -1);
  same_shape(dout, "dout", inp, "x");
  same_shape(alpha, "alpha", dalpha, "dalpha");
  const int64_t F = prelu_features(inp, alpha), N = inp.shape(0);
  py::array dinp = opt_array(dinp_o, "dinp");
  float* dx = nullptr;
  if (dinp) {
    dx = out_ptr(dinp, "dinp", -1);
    same_shape(dout, "dout", dinp, "dinp");
  }
  py::gil_scoped_release release;
  baeum::prelu_backward(dx, da, dy, x, a, N, F);
}

void rrelu_forward(py::array inp, py::array out, py::object slopes_o, float lower, float upper,
                   uint64_t seed, bool training) {
  const float* x = in_ptr(inp, "x", -1);
  float* y = out_ptr(out, "out", -1);
  same_shape(inp, "x", out, "out");
  py::array slopes = opt_array(slopes_o, "slopes");
  float* s = nullptr;
  if (slopes) {
    s = out_ptr(slopes, "slopes", -1);
    same_shape(inp, "x", slopes, "slopes");
  }
  py::gil_scoped_release release;
  baeum::rrelu_forward(y, s, x, inp.size(), lower, upper, seed, training);
}

void rrelu_backward(py::array dout, py::array inp, py::array slopes, py::array dinp) {
  const float* dy = in_ptr(dout, "dout", -1);
  const float* x = in_ptr(inp, "x", -1);
  const float* s = in_ptr(slopes, "slopes", -1);
  float* dx = out_ptr(dinp, "dinp", -1);
  same_shape(dout, "dout", inp, "x");
  same_shape(dout, "dout", slopes, "slopes");
  same_shape(dout, "dout", dinp, "dinp");
  py::gil_scoped_release release;
  baeum::rrelu_backward(dx, dy, x, s, dout.size());
}

void require_nu(const py::array& a, const char* name, int64_t N, int64_t U) {
  if (a.shape(0) != N || a.shape(1) != U)
    throw py::value_error(std::string("dense: ") + name + " has shape " + shape_str(a) +
                          ", expected (" + std::to_string(N) + ", " + std::to_string(U) + ")");
}

void dense_forward(py::array inp, py::array kernel, py::object bias_o, py::array out,
                   py::object preact_o, int act, float alpha) {
  const Act a = to_act(act);
  const float* x = in_ptr(inp, "inp", 2);
  const float* w = in_ptr(kernel, "kernel", 2);
  float* y = out_ptr(out, "out", 2);
  const int64_t N = inp.shape(0), D = inp.shape(1), U = kernel.shape(1);
  if (kernel.shape(0) != D)
    throw py::value_error("dense: kernel has shape " + shape_str(kernel) + ", inp " +
                          shape_str(inp) + ": kernel rows must equal inp columns");
  require_nu(out, "out", N, U);
  py::array bias = opt_array(bias_o, "bias"), preact = opt_array(preact_o, "preact");
  const float* b = nullptr;
  float* z = nullptr;
  if (bias) {
    b = in_ptr(bias, "bias", 1);
    if (bias.shape(0) != U) throw py::value_error("dense: bias must have shape (units,)");
  }
  if (preact) {
    z = out_ptr(preact, "preact", 2);
    require_nu(preact, "preact", N, U);
  }
  // Outputs never alias inputs (or each other): the kernel would read what it overwrote.
  for (const py::array* o : {&out, &preact}) {
    if (!*o) continue;
    for (const py::array* i : {&inp, &kernel, &bias}) if (*i) require_disjoint(*o, *i, "dense_forward");
  }
  if (preact) require_disjoint(preact, out, "dense_forward");
  py::gil_scoped_release release;
  baeum::dense_forward(y, z, x, w, b, N, D, U, a, alpha);
}

void dense_backward(py::array dout, py::array inp, py::array kernel, py::object out_o,
                    py::object preact_o, py::array dkernel, py::object dbias_o,
                    py::object dinp_o, int act, float alpha) {
  const Act a = to_act(act);
  const float* dy = in_ptr(dout, "dout", 2);
  const float* x = in_ptr(inp, "inp", 2);
  const float* w = in_ptr(kernel, "kernel", 2);
  float* dw = out_ptr(dkernel, "dkernel", 2);
  const int64_t N = inp.shape(0), D = inp.shape(1), U = kernel.shape(1);
  if (kernel.shape(0) != D) throw py::value_error("dense: kernel rows must equal inp columns");
  require_nu(dout, "dout", N, U);
  require_nu(dkernel, "dkernel", D, U);
  py::array out = opt_array(out_o, "out"), preact = opt_array(preact_o, "preact");
  py::array dbias = opt_array(dbias_o, "dbias"), dinp = opt_array(dinp_o, "dinp");
  const bool need_x = baeum::act_needs_input(a);
  const bool need_y = !need_x && a != Act::linear;
  const float* y = nullptr;
  const float* z = nullptr;
  float* db = nullptr;
  float* dx = nullptr;
  if (need_x) {
    if (!preact)
      throw py::value_error(std::string("dense: ") + baeum::act_name(a) +
                            " backward needs preact");
    z = in_ptr(preact, "preact", 2);
    require_nu(preact, "preact", N, U);
  }
  if (need_y) {
    if (!out)
      throw py::value_error(std::string("dense: ") + baeum::act_name(a) + " backward needs out");
    y = in_ptr(out, "out", 2);
    require_nu(out, "out", N, U);
  }
  if (dbias) {
    db = out_ptr(dbias, "dbias", 1);
    if (dbias.shape(0) != U) throw py::value_error("dense: dbias must have shape (units,)");
  }
  if (dinp) {
    dx = out_ptr(dinp, "dinp", 2);
    require_nu(dinp, "dinp", N, D);
  }
  for (const py::array* o : {&dkernel, &dbias, &dinp}) {
    if (!*o) continue;
    for (const py::array* i : {&dout, &inp, &kernel, &out, &preact})
      if (*i) require_disjoint(*o, *i, "dense_backward");
  }
  if (dbias) require_disjoint(dbias, dkernel, "dense_backward");
  if (dinp) {
    require_disjoint(dinp, dkernel, "dense_backward");
    if (dbias) require_disjoint(dinp, dbias, "dense_backward");
  }
  py::gil_scoped_release release;
  baeum::dense_backward(dx, dw, db, dy, x, w, y, z, N, D, U, a, alpha);
}

}  // namespace

void bind_elementwise(py::module_& m) {
  m.def("activation_ids", [] {
    py::dict d;
    for (int i = 0; i < baeum::kNumActs; ++i) d[baeum::act_name(static_cast<Act>(i))] = i;
    return d;
  }, "Activation name -> integer id used by the kernels.");
  m.def("activation_needs_input",
        [](int act) { return baeum::act_needs_input(to_act(act)); }, py::arg("act"));
  m.def("activation_forward", &activation_forward, py::arg("inp"), py::arg("out"),
        py::arg("act"), py::arg("alpha"));
  m.def("activation_backward", &activation_backward, py::arg("dout"), py::arg("x"),
        py::arg("y"), py::arg("dinp"), py::arg("act"), py::arg("alpha"));
  m.def("softmax_forward", &softmax_forward, py::arg("inp"), py::arg("out"), py::arg("outer"),
        py::arg("k"), py::arg("inner"));
  m.def("softmax_backward", &softmax_backward, py::arg("dout"), py::arg("out_fwd"),
        py::arg("dinp"), py::arg("outer"), py::arg("k"), py::arg("inner"));
  m.def("bias_add", &bias_add, py::arg("inp"), py::arg("bias"), py::arg("out"));
  m.def("bias_grad", &bias_grad, py::arg("dout"), py::arg("dbias"));
  m.def("dropout_forward", &dropout_forward, py::arg("inp"), py::arg("out"), py::arg("mask"),
        py::arg("rate"), py::arg("seed"));
  m.def("dropout_mask", &dropout_mask, py::arg("mask"), py::arg("rate"), py::arg("seed"));
  m.def("multiply", &multiply, py::arg("a"), py::arg("b"), py::arg("out"));
  m.def("relu_forward", &relu_forward, py::arg("inp"), py::arg("out"), py::arg("negative_slope"),
        py::arg("max_value"), py::arg("threshold"));
  m.def("relu_backward", &relu_backward, py::arg("dout"), py::arg("x"), py::arg("dinp"),
        py::arg("negative_slope"), py::arg("max_value"), py::arg("threshold"));
  m.def("prelu_forward", &prelu_forward, py::arg("x"), py::arg("alpha"), py::arg("out"));
  m.def("prelu_backward", &prelu_backward, py::arg("dout"), py::arg("x"), py::arg("alpha"),
        py::arg("dalpha"), py::arg("dinp"));
  m.def("rrelu_forward", &rrelu_forward, py::arg("x"), py::arg("out"), py::arg("slopes"),
        py::arg("lower"), py::arg("upper"), py::arg("seed"), py::arg("training"));
  m.def("rrelu_backward", &rrelu_backward, py::arg("dout"), py::arg("x"), py::arg("slopes"),
        py::arg("dinp"));
  m.def("dense_forward", &dense_forward, py::arg("inp"), py::arg("kernel"), py::arg("bias"),
        py::arg("out"), py::arg("preact"), py::arg("act"), py::arg("alpha"));
  m.def("dense_backward", &dense_backward, py::arg("dout"), py::arg("inp"), py::arg("kernel"),
        py::arg("out"), py::arg("preact"), py::arg("dkernel"), py::arg("dbias"),
        py::arg("dinp"), py::arg("act"), py::arg("alpha"));
}
