// bind_norm.cpp — baeum._core batch and layer normalization. Every buffer's dtype, layout
// and size is checked against (R, C) / (R, D) before a pointer is used; optional buffers are
// None. Friendly errors come from baeum.ops.norm.
#include <string>

#include "baeum/norm.h"
#include "bindings/common.h"

using namespace baeum_bind;

namespace {

// Optional array argument: a null handle for None, else the array.
py::array opt_array(const py::object& o, const char* name) {
  if (o.is_none()) return py::reinterpret_steal<py::array>(py::handle());
  if (!py::isinstance<py::array>(o))
    throw py::type_error(std::string(name) + " must be a numpy array or None");
  return py::reinterpret_borrow<py::array>(o);
}

void require_2d(const py::array& a, const char* name, int64_t R, int64_t C) {
  if (a.shape(0) != R || a.shape(1) != C)
    throw py::value_error(std::string("norm: ") + name + " has shape " + shape_str(a) +
                          ", expected (" + std::to_string(R) + ", " + std::to_string(C) + ")");
}

void require_len(const py::array& a, const char* name, int64_t n) {
  if (a.shape(0) != n)
    throw py::value_error(std::string("norm: ") + name + " has shape " + shape_str(a) +
                          ", expected (" + std::to_string(n) + ",)");
}

const float* opt_in(const py::array& a, const char* name, int64_t n) {
  if (!a) return nullptr;
  const float* p = in_ptr(a, name, 1);
  require_len(a, name, n);
  return p;
}

float* opt_out(py::array& a, const char* name, int64_t n) {
  if (!a) return nullptr;
  float* p = out_ptr(a, name, 1);
  require_len(a, name, n);
  return p;
}

void batchnorm_forward(py::array inp, py::object gamma_o, py::object beta_o,
                       py::array moving_mean, py::array moving_var, py::array out,
                       py::array save_mean, py::array save_invstd, float eps, float momentum,
                       bool training) {
  const float* x = in_ptr(inp, "inp", 2);
  float* y = out_ptr(out, "out", 2);
  const int64_t R = inp.shape(0), C = inp.shape(1);
  require_2d(out, "out", R, C);
  py::array gamma = opt_array(gamma_o, "gamma"), beta = opt_array(beta_o, "beta");
  const float* g = opt_in(gamma, "gamma", C);
  const float* b = opt_in(beta, "beta", C);
  float* mm = out_ptr(moving_mean, "moving_mean", 1);
  float* mv = out_ptr(moving_var, "moving_variance", 1);
  float* sm = out_ptr(save_mean, "save_mean", 1);
  float* si = out_ptr(save_invstd, "save_invstd", 1);
  require_len(moving_mean, "moving_mean", C);
  require_len(moving_var, "moving_variance", C);
  require_len(save_mean, "save_mean", C);
  require_len(save_invstd, "save_invstd", C);
  // Written buffers never alias anything else the kernel reads or writes.
  const py::array* written[] = {&out, &moving_mean, &moving_var, &save_mean, &save_invstd};
  const py::array* all[] = {&inp, &gamma, &beta, &out, &moving_mean, &moving_var, &save_mean, &save_invstd};
  for (const py::array* w : written)
    for (const py::array* o : all)
      if (w != o && *o) require_disjoint(*w, *o, "batchnorm_forward");
  py::gil_scoped_release release;
  baeum::batchnorm_forward(y, sm, si, mm, mv, x, g, b, R, C, eps, momentum, training);
}

// The arguments both backward passes share, checked: dout and inp (R, C); the saved
// statistics (stats_len: C for batch norm, R for layer norm); gamma, dgamma, dbeta (C) and
// dinp (R, C) optional; every written array disjoint from every other array.
struct NormBackward {
  py::array gamma, dgamma, dbeta, dinp;
  const float *dy, *x, *sm, *si, *g;
  float *dg, *db, *dx = nullptr;
  int64_t R, C;
};

NormBackward check_norm_backward(const char* op, py::array& dout, py::array& inp,
                                 py::array& save_mean, py::array& save_invstd,
                                 const py::object& gamma_o, const py::object& dgamma_o,
                                 const py::object& dbeta_o, const py::object& dinp_o,
                                 bool stats_per_row) {
  NormBackward a;
  a.dy = in_ptr(dout, "dout", 2);
  a.x = in_ptr(inp, "inp", 2);
  a.R = inp.shape(0);
  a.C = inp.shape(1);
  require_2d(dout, "dout", a.R, a.C);
  a.sm = in_ptr(save_mean, "save_mean", 1);
  a.si = in_ptr(save_invstd, "save_invstd", 1);
  const int64_t stats = stats_per_row ? a.R : a.C;
  require_len(save_mean, "save_mean", stats);
  require_len(save_invstd, "save_invstd", stats);
  a.gamma = opt_array(gamma_o, "gamma");
  a.dgamma = opt_array(dgamma_o, "dgamma");
  a.dbeta = opt_array(dbeta_o, "dbeta");
  a.dinp = opt_array(dinp_o, "dinp");
  a.g = opt_in(a.gamma, "gamma", a.C);
  a.dg = opt_out(a.dgamma, "dgamma", a.C);
  a.db = opt_out(a.dbeta, "dbeta", a.C);
  if (a.dinp) {
    a.dx = out_ptr(a.dinp, "dinp", 2);
    require_2d(a.dinp, "dinp", a.R, a.C);
  }
  const py::array* written[] = {&a.dgamma, &a.dbeta, &a.dinp};
  const py::array* all[] = {&dout, &inp, &save_mean, &save_invstd, &a.gamma, &a.dgamma, &a.dbeta, &a.dinp};
  for (const py::array* w : written)
    for (const py::array* o : all)
      if (*w && w != o && *o) require_disjoint(*w, *o, op);
  return a;
}

void batchnorm_backward(py::array dout, py::array inp, py::array save_mean,
                        py::array save_invstd, py::object gamma_o, py::object dgamma_o,
                        py::object dbeta_o, py::object dinp_o, bool training) {
  NormBackward a = check_norm_backward("batchnorm_backward", dout, inp, save_mean, save_invstd,
                                       gamma_o, dgamma_o, dbeta_o, dinp_o, false);
  py::gil_scoped_release release;
  baeum::batchnorm_backward(a.dx, a.dg, a.db, a.dy, a.x, a.sm, a.si, a.g, a.R, a.C, training);
}

void layernorm_forward(py::array inp, py::object gamma_o, py::object beta_o, py::array out,
                       py::array save_mean, py::array save_invstd, float eps) {
  const float* x = in_ptr(inp, "inp", 2);
  float* y = out_ptr(out, "out", 2);
  const int64_t R = inp.shape(0), D = inp.shape(1);
  require_2d(out, "out", R, D);
  py::array gamma = opt_array(gamma_o, "gamma"), beta = opt_array(beta_o, "beta");
  const float* g = opt_in(gamma, "gamma", D);
  const float* b = opt_in(beta, "beta", D);
  float* sm = out_ptr(save_mean, "save_mean", 1);
  float* si = out_ptr(save_invstd, "save_invstd", 1);
  require_len(save_mean, "save_mean", R);
  require_len(save_invstd, "save_invstd", R);
  const py::array* written[] = {&out, &save_mean, &save_invstd};
  const py::array* all[] = {&inp, &gamma, &beta, &out, &save_mean, &save_invstd};
  for (const py::array* w : written)
    for (const py::array* o : all)
      if (w != o && *o) require_disjoint(*w, *o, "layernorm_forward");
  py::gil_scoped_release release;
  baeum::layernorm_forward(y, sm, si, x, g, b, R, D, eps);
}

void layernorm_backward(py::array dout, py::array inp, py::array save_mean,
                        py::array save_invstd, py::object gamma_o, py::object dgamma_o,
                        py::object dbeta_o, py::object dinp_o) {
  NormBackward a = check_norm_backward("layernorm_backward", dout, inp, save_mean, save_invstd,
                                       gamma_o, dgamma_o, dbeta_o, dinp_o, true);
  py::gil_scoped_release release;
  baeum::layernorm_backward(a.dx, a.dg, a.db, a.dy, a.x, a.sm, a.si, a.g, a.R, a.C);
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("batchnorm_forward", &batchnorm_forward, py::arg("inp"), py::arg("gamma"),
        py::arg("beta"), py::arg("moving_mean"), py::arg("moving_variance"), py::arg("out"),
        py::arg("save_mean"), py::arg("save_invstd"), py::arg("epsilon"), py::arg("momentum"),
        py::arg("training"));
  m.def("batchnorm_backward", &batchnorm_backward, py::arg("dout"), py::arg("inp"),
        py::arg("save_mean"), py::arg("save_invstd"), py::arg("gamma"), py::arg("dgamma"),
        py::arg("dbeta"), py::arg("dinp"), py::arg("training"));
  m.def("layernorm_forward", &layernorm_forward, py::arg("inp"), py::arg("gamma"),
        py::arg("beta"), py::arg("out"), py::arg("save_mean"), py::arg("save_invstd"),
        py::arg("epsilon"));
  m.def("layernorm_backward", &layernorm_backward, py::arg("dout"), py::arg("inp"),
        py::arg("save_mean"), py::arg("save_invstd"), py::arg("gamma"), py::arg("dgamma"),
        py::arg("dbeta"), py::arg("dinp"));
}
