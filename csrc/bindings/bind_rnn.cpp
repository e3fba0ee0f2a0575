// bind_rnn.cpp — baeum._core.rnn_forward / rnn_backward (SimpleRNN, LSTM, GRU sequences) and
// rnn_gatemask_forward / rnn_gatemask_backward (LSTM, GRU with per-gate dropout masks).
// Every buffer is checked (dtype, contiguity, exact shape from N, T, F, U and the cell)
// before its pointer is taken; friendly errors are raised earlier by baeum.ops.rnn.
#include <string>
#include <vector>

#include "baeum/rnn.h"
#include "bindings/common.h"

using namespace baeum_bind;
using baeum::Act;
using baeum::Cell;

namespace {

Cell to_cell(int id) {
  if (id < 0 || id > 3) throw py::value_error("rnn: unknown cell id " + std::to_string(id));
  return static_cast<Cell>(id);
}

Act rnn_act(int id, const char* what) {
  if (id < 0 || id >= baeum::kNumActs) throw py::value_error("rnn: unknown activation id");
  const Act a = static_cast<Act>(id);
  if (a != Act::linear && a != Act::tanh && a != Act::sigmoid && a != Act::relu &&
      a != Act::hard_sigmoid)
    throw py::value_error(std::string("rnn: ") + what + " must be tanh, sigmoid, relu, " +
                          "hard_sigmoid or linear, got " + baeum::act_name(a));
  return a;
}

py::array opt(const py::object& o, const char* name) {
  if (o.is_none()) return py::reinterpret_steal<py::array>(py::handle());
  if (!py::isinstance<py::array>(o))
    throw py::type_error(std::string("rnn: ") + name + " must be a numpy array or None");
  return py::reinterpret_borrow<py::array>(o);
}

void need_shape(const py::array& a, const char* name, std::vector<int64_t> shape) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = a.shape(i) == shape[i];
  if (!ok) {
    std::string want = "(";
    for (size_t i = 0; i < shape.size(); ++i)
      want += std::to_string(shape[i]) + (i + 1 < shape.size() ? ", " : "");
    throw py::value_error(std::string("rnn: ") + name + " has shape " + shape_str(a) +
                          ", expected " + want + ")");
  }
}

const float* in_opt(const py::array& a, const char* name, std::vector<int64_t> shape) {
  if (!a) return nullptr;
  const float* p = in_ptr(a, name, -1);
  need_shape(a, name, std::move(shape));
  return p;
}

float* out_opt(py::array& a, const char* name, std::vector<int64_t> shape) {
  if (!a) return nullptr;
  float* p = out_ptr(a, name, -1);
  need_shape(a, name, std::move(shape));
  return p;
}

const uint8_t* mask_ptr(const py::array& m, int64_t N, int64_t T) {
  if (!m) return nullptr;
  const char kind = m.dtype().kind();
  if (m.itemsize() != 1 || (kind != 'b' && kind != 'u'))
    throw py::type_error("rnn: mask must be bool or uint8");
  if (!(m.flags() & py::array::c_style)) throw py::value_error("rnn: mask must be C-contiguous");
  need_shape(m, "mask", {N, T});
  return static_cast<const uint8_t*>(m.data());
}

std::vector<int64_t> bias_shape(Cell cell, int64_t U) {
  if (cell == Cell::gru) return {2, 3 * U};
  return {baeum::rnn_gates(cell) * U};
}

struct Dims {
  Cell cell;
  int64_t N, T, F, U, GU, CW;
};

// Recurrent dropout mask (N, U), SimpleRNN and LSTM only.
const float* rmask_ptr(const py::array& rm, const Dims& d) {
  if (!rm) return nullptr;
  if (d.cell != Cell::simple_rnn && d.cell != Cell::lstm)
    throw py::value_error("rnn: a recurrent dropout mask is supported for SimpleRNN and LSTM only");
  const float* p = in_ptr(rm, "rmask", -1);
  need_shape(rm, "rmask", {d.N, d.U});
  return p;
}

Dims dims(int cell_id, const py::array& inp, const py::array& kernel, const py::array& rkernel) {
  const Cell cell = to_cell(cell_id);
  require_f32(inp, "inp", 3);
  require_f32(kernel, "kernel", 2);
  require_f32(rkernel, "recurrent_kernel", 2);
  const int64_t N = inp.shape(0), T = inp.shape(1), F = inp.shape(2), U = rkernel.shape(0);
  if (T <= 0) throw py::value_error("rnn: the sequence has no timesteps (T = 0)");
  const int64_t GU = baeum::rnn_gates(cell) * U;
  need_shape(kernel, "kernel", {F, GU});
  need_shape(rkernel, "recurrent_kernel", {U, GU});
  return {cell, N, T, F, U, GU, baeum::rnn_cache_width(cell, U)};
}

// Per-gate masks: (G, N, k) float32 C-contiguous, or None. LSTM / GRU cells only.
const float* gate_mask_ptr(const py::array& a, const char* name, const Dims& d, int64_t k) {
  if (!a) return nullptr;
  const float* p = in_ptr(a, name, -1);
  need_shape(a, name, {baeum::rnn_gates(d.cell), d.N, k});
  return p;
}

Dims gatemask_dims(int cell_id, const py::array& inp, const py::array& kernel,
                   const py::array& rkernel) {
  const Dims d = dims(cell_id, inp, kernel, rkernel);
  if (d.cell == Cell::simple_rnn)
    throw py::value_error("rnn_gatemask: per-gate masks are for LSTM and GRU cells (SimpleRNN has "
                          "one gate: use rnn_forward's rmask)");
  return d;
}

// The arguments both forward bindings share, checked, with their pointers. `masks` are the
// binding's own extra inputs (rmask, or gmask and xmask): outputs must not overlap them either.
struct ForwardArgs {
  Act a, ra;
  py::array bias, h0, c0, mask, cs;
  const float *x, *w, *r, *b, *ph0, *pc0;
  const uint8_t* m;
  float *phs, *pcs, *pcache;

  ForwardArgs(const Dims& d, py::array& inp, py::array& kernel, py::array& rkernel, const py::object& bias_o,
              const py::object& h0_o, const py::object& c0_o, const py::object& mask_o, py::array& hs,
              const py::object& cs_o, py::array& cache, int act, int ract,
              std::initializer_list<const py::array*> masks, const char* op)
      : a(rnn_act(act, "activation")), ra(rnn_act(ract, "recurrent_activation")), bias(opt(bias_o, "bias")),
        h0(opt(h0_o, "h0")), c0(opt(c0_o, "c0")), mask(opt(mask_o, "mask")), cs(opt(cs_o, "cs")) {
    const bool lstm = d.cell == Cell::lstm;
    if (lstm != static_cast<bool>(cs)) throw py::value_error("rnn: cs is required for LSTM only");
    if (!lstm && c0) throw py::value_error("rnn: c0 is for LSTM only");
    x = static_cast<const float*>(inp.data());
    w = static_cast<const float*>(kernel.data());
    r = static_cast<const float*>(rkernel.data());
    b = in_opt(bias, "bias", bias_shape(d.cell, d.U));
    ph0 = in_opt(h0, "h0", {d.N, d.U});
    pc0 = in_opt(c0, "c0", {d.N, d.U});
    m = mask_ptr(mask, d.N, d.T);
    phs = out_opt(hs, "hs", {d.N, d.T, d.U});
    pcs = out_opt(cs, "cs", {d.N, d.T, d.U});
    pcache = out_opt(cache, "cache", {d.N, d.T, d.CW});
    for (const py::array* o : {&hs, &cs, &cache}) {
      if (!*o) continue;
      for (const py::array* i : {&inp, &kernel, &rkernel, &bias, &h0, &c0, &mask})
        if (*i) require_disjoint(*o, *i, op);
      for (const py::array* i : masks)
        if (*i) require_disjoint(*o, *i, op);
    }
    require_disjoint(hs, cache, op);
    if (cs) require_disjoint(cs, cache, op), require_disjoint(cs, hs, op);
  }
};

// The same for the backward bindings.
struct BackwardArgs {
  Act a, ra;
  py::array dc_last, h0, c0, mask, cs, dbias, dinp, dh0, dc0;
  const float *x, *w, *r, *pdhs, *pdcl, *ph0, *pc0, *phs, *pcs, *pcache;
  const uint8_t* m;
  float *pdk, *pdr, *pdb, *pdx, *pdh0, *pdc0;

  BackwardArgs(const Dims& d, py::array& dhs, const py::object& dc_last_o, py::array& inp, py::array& kernel,
               py::array& rkernel, const py::object& h0_o, const py::object& c0_o, const py::object& mask_o,
               py::array& hs, const py::object& cs_o, py::array& cache, py::array& dkernel, py::array& drkernel,
               const py::object& dbias_o, const py::object& dinp_o, const py::object& dh0_o,
               const py::object& dc0_o, int act, int ract, std::initializer_list<const py::array*> masks,
               const char* op)
      : a(rnn_act(act, "activation")), ra(rnn_act(ract, "recurrent_activation")), dc_last(opt(dc_last_o, "dc_last")),
        h0(opt(h0_o, "h0")), c0(opt(c0_o, "c0")), mask(opt(mask_o, "mask")), cs(opt(cs_o, "cs")),
        dbias(opt(dbias_o, "dbias")), dinp(opt(dinp_o, "dinp")), dh0(opt(dh0_o, "dh0")), dc0(opt(dc0_o, "dc0")) {
    const bool lstm = d.cell == Cell::lstm;
    if (lstm != static_cast<bool>(cs)) throw py::value_error("rnn: cs is required for LSTM only");
    if (!lstm && (c0 || dc0 || dc_last))
      throw py::value_error("rnn: c0 / dc0 / dc_last are for LSTM only");
    x = static_cast<const float*>(inp.data());
    w = static_cast<const float*>(kernel.data());
    r = static_cast<const float*>(rkernel.data());
    pdhs = in_opt(dhs, "dhs", {d.N, d.T, d.U});
    pdcl = in_opt(dc_last, "dc_last", {d.N, d.U});
    ph0 = in_opt(h0, "h0", {d.N, d.U});
    pc0 = in_opt(c0, "c0", {d.N, d.U});
    m = mask_ptr(mask, d.N, d.T);
    phs = in_opt(hs, "hs", {d.N, d.T, d.U});
    pcs = in_opt(cs, "cs", {d.N, d.T, d.U});
    pcache = in_opt(cache, "cache", {d.N, d.T, d.CW});
    pdk = out_opt(dkernel, "dkernel", {d.F, d.GU});
    pdr = out_opt(drkernel, "drecurrent_kernel", {d.U, d.GU});
    pdb = out_opt(dbias, "dbias", bias_shape(d.cell, d.U));
    pdx = out_opt(dinp, "dinp", {d.N, d.T, d.F});
    pdh0 = out_opt(dh0, "dh0", {d.N, d.U});
    pdc0 = out_opt(dc0, "dc0", {d.N, d.U});
    const py::array* outs[] = {&dkernel, &drkernel, &dbias, &dinp, &dh0, &dc0};
    const py::array* ins[] = {&dhs, &dc_last, &inp, &kernel, &rkernel, &h0, &c0, &hs, &cs, &cache, &mask};
    for (const py::array* o : outs) {
      if (!*o) continue;
      for (const py::array* i : ins)
        if (*i) require_disjoint(*o, *i, op);
      for (const py::array* i : masks)
        if (*i) require_disjoint(*o, *i, op);
      for (const py::array* o2 : outs)
        if (o2 != o && *o2) require_disjoint(*o, *o2, op);
    }
  }
};

void rnn_forward(int cell_id, py::array inp, py::array kernel, py::array rkernel,
                 py::object bias_o, py::object h0_o, py::object c0_o, py::object mask_o,
                 py::object rmask_o, py::array hs, py::object cs_o, py::array cache, int act,
                 int ract, bool go_backwards) {
  const Dims d = dims(cell_id, inp, kernel, rkernel);
  py::array rmask = opt(rmask_o, "rmask");
  const float* prm = rmask_ptr(rmask, d);
  const ForwardArgs f(d, inp, kernel, rkernel, bias_o, h0_o, c0_o, mask_o, hs, cs_o, cache, act, ract, {&rmask},
                      "rnn_forward");
  py::gil_scoped_release release;
  baeum::rnn_forward(d.cell, f.phs, f.pcs, f.pcache, f.x, f.w, f.r, f.b, f.ph0, f.pc0, f.m, prm, d.N, d.T, d.F,
                     d.U, f.a, f.ra, go_backwards);
}

void rnn_backward(int cell_id, py::array dhs, py::object dc_last_o, py::array inp,
                  py::array kernel, py::array rkernel, py::object h0_o, py::object c0_o,
                  py::object mask_o, py::object rmask_o, py::array hs, py::object cs_o,
                  py::array cache,
                  py::array dkernel, py::array drkernel, py::object dbias_o, py::object dinp_o,
                  py::object dh0_o, py::object dc0_o, int act, int ract, bool go_backwards) {
  const Dims d = dims(cell_id, inp, kernel, rkernel);
  py::array rmask = opt(rmask_o, "rmask");
  const float* prm = rmask_ptr(rmask, d);
  const BackwardArgs g(d, dhs, dc_last_o, inp, kernel, rkernel, h0_o, c0_o, mask_o, hs, cs_o, cache, dkernel,
                       drkernel, dbias_o, dinp_o, dh0_o, dc0_o, act, ract, {&rmask}, "rnn_backward");
  py::gil_scoped_release release;
  baeum::rnn_backward(d.cell, g.pdx, g.pdk, g.pdr, g.pdb, g.pdh0, g.pdc0, g.pdhs, g.pdcl, g.x, g.w, g.r, g.ph0,
                      g.pc0, g.m, prm, g.phs, g.pcs, g.pcache, d.N, d.T, d.F, d.U, g.a, g.ra, go_backwards);
}

void rnn_gatemask_forward(int cell_id, py::array inp, py::array kernel, py::array rkernel,
                          py::object bias_o, py::object h0_o, py::object c0_o, py::object mask_o,
                          py::object gmask_o, py::object xmask_o, py::array hs, py::object cs_o,
                          py::array cache, int act, int ract, bool go_backwards) {
  const Dims d = gatemask_dims(cell_id, inp, kernel, rkernel);
  py::array gmask = opt(gmask_o, "gmask"), xmask = opt(xmask_o, "xmask");
  const float* pgm = gate_mask_ptr(gmask, "gmask", d, d.U);
  const float* pxm = gate_mask_ptr(xmask, "xmask", d, d.F);
  const ForwardArgs f(d, inp, kernel, rkernel, bias_o, h0_o, c0_o, mask_o, hs, cs_o, cache, act, ract,
                      {&gmask, &xmask}, "rnn_gatemask_forward");
  py::gil_scoped_release release;
  baeum::rnn_gatemask_forward(d.cell, f.phs, f.pcs, f.pcache, f.x, f.w, f.r, f.b, f.ph0, f.pc0, f.m, pgm, pxm,
                              d.N, d.T, d.F, d.U, f.a, f.ra, go_backwards);
}

void rnn_gatemask_backward(int cell_id, py::array dhs, py::object dc_last_o, py::array inp,
                           py::array kernel, py::array rkernel, py::object h0_o, py::object c0_o,
                           py::object mask_o, py::object gmask_o, py::object xmask_o, py::array hs,
                           py::object cs_o, py::array cache, py::array dkernel, py::array drkernel,
                           py::object dbias_o, py::object dinp_o, py::object dh0_o,
                           py::object dc0_o, int act, int ract, bool go_backwards) {
  const Dims d = gatemask_dims(cell_id, inp, kernel, rkernel);
  py::array gmask = opt(gmask_o, "gmask"), xmask = opt(xmask_o, "xmask");
  const float* pgm = gate_mask_ptr(gmask, "gmask", d, d.U);
  const float* pxm = gate_mask_ptr(xmask, "xmask", d, d.F);
  const BackwardArgs g(d, dhs, dc_last_o, inp, kernel, rkernel, h0_o, c0_o, mask_o, hs, cs_o, cache, dkernel,
                       drkernel, dbias_o, dinp_o, dh0_o, dc0_o, act, ract, {&gmask, &xmask},
                       "rnn_gatemask_backward");
  py::gil_scoped_release release;
  baeum::rnn_gatemask_backward(d.cell, g.pdx, g.pdk, g.pdr, g.pdb, g.pdh0, g.pdc0, g.pdhs, g.pdcl, g.x, g.w, g.r,
                               g.ph0, g.pc0, g.m, pgm, pxm, g.phs, g.pcs, g.pcache, d.N, d.T, d.F, d.U, g.a,
                               g.ra, go_backwards);
}

}  // namespace

void bind_rnn(py::module_& m) {
  m.def("rnn_gatemask_forward", &rnn_gatemask_forward, py::arg("cell"), py::arg("inp"),
        py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"), py::arg("h0"),
        py::arg("c0"), py::arg("mask"), py::arg("gmask"), py::arg("xmask"), py::arg("hs"),
        py::arg("cs"), py::arg("cache"), py::arg("act"), py::arg("ract"),
        py::arg("go_backwards"));
  m.def("rnn_gatemask_backward", &rnn_gatemask_backward, py::arg("cell"), py::arg("dhs"),
        py::arg("dc_last"), py::arg("inp"), py::arg("kernel"), py::arg("recurrent_kernel"),
        py::arg("h0"), py::arg("c0"), py::arg("mask"), py::arg("gmask"), py::arg("xmask"),
        py::arg("hs"), py::arg("cs"), py::arg("cache"), py::arg("dkernel"),
        py::arg("drecurrent_kernel"), py::arg("dbias"), py::arg("dinp"), py::arg("dh0"),
        py::arg("dc0"), py::arg("act"), py::arg("ract"), py::arg("go_backwards"));
  m.def("rnn_forward", &rnn_forward, py::arg("cell"), py::arg("inp"), py::arg("kernel"),
        py::arg("recurrent_kernel"), py::arg("bias"), py::arg("h0"), py::arg("c0"),
        py::arg("mask"), py::arg("rmask"), py::arg("hs"), py::arg("cs"), py::arg("cache"),
        py::arg("act"), py::arg("ract"), py::arg("go_backwards"));
  m.def("rnn_backward", &rnn_backward, py::arg("cell"), py::arg("dhs"), py::arg("dc_last"),
        py::arg("inp"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("h0"),
        py::arg("c0"), py::arg("mask"), py::arg("rmask"), py::arg("hs"), py::arg("cs"),
        py::arg("cache"),
        py::arg("dkernel"), py::arg("drecurrent_kernel"), py::arg("dbias"), py::arg("dinp"),
        py::arg("dh0"), py::arg("dc0"), py::arg("act"), py::arg("ract"),
        py::arg("go_backwards"));
}
