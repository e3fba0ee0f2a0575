// bind_conv.cpp — baeum._core convolution kernels (Conv2D, Conv2DTranspose, DepthwiseConv2D,
// im2col/col2im). Every buffer is checked (dtype, contiguity, rank, sizes against each other
// and against the geometry) before its pointer is taken; the kernels bounds-check every
// input cell they read, so any strides/padding that pass here stay inside the buffers.
// Friendly errors come earlier, from baeum.ops.conv.
#include <string>

#include "baeum/conv.h"
#include "bindings/common.h"
#include "bindings/conv_geometry.h"

using namespace baeum_bind;
using baeum::Act;
using baeum::ConvShape;

namespace baeum_bind {
// a·b and a + b for a, b >= 0, or a clear error when the result does not fit in int64.
static int64_t mul_ck(int64_t a, int64_t b, const char* op) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw py::value_error(std::string(op) + ": sizes/strides/dilations/padding are too large (" +
                          std::to_string(a) + " * " + std::to_string(b) + " overflows int64)");
  return r;
}
static int64_t add_ck(int64_t a, int64_t b, const char* op) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    throw py::value_error(std::string(op) + ": sizes/strides/dilations/padding are too large (" +
                          std::to_string(a) + " + " + std::to_string(b) + " overflows int64)");
  return r;
}

// Every index the kernels form must be computable without int64 overflow: input rows
// oh·SH − PT + kh·DH (and a run's end, + KW), the im2col matrix (N·OH·OW) × (KH·KW·C) and
// its element count. why: an overflowed index can wrap into a "valid-looking" value and
// pass the kernels' bounds checks (a run copy read 2^62 floats past the input before this).
void require_geometry_fits(const ConvShape& s, const char* op) {
  constexpr int64_t kMax = int64_t{1} << 60;
  const auto span = [&](int64_t O, int64_t S, int64_t K, int64_t D, int64_t P, int64_t I) {
    int64_t t = mul_ck(O > 0 ? O - 1 : 0, S, op);
    t = add_ck(t, mul_ck(K > 0 ? K - 1 : 0, D, op), op);
    t = add_ck(add_ck(add_ck(t, K, op), P, op), I, op);
    if (t > kMax)
      throw py::value_error(std::string(op) + ": (out-1)*stride + (kernel-1)*dilation + padding = " +
                            std::to_string(t) + " is too large (limit 2^60)");
  };
  span(s.OH, s.SH, s.KH, s.DH, s.PT, s.H);
  span(s.OW, s.SW, s.KW, s.DW, s.PL, s.W);
  const int64_t rows = mul_ck(mul_ck(s.N, s.OH, op), s.OW, op);
  const int64_t cols = mul_ck(mul_ck(s.KH, s.KW, op), add_ck(s.C, s.OC, op), op);
  if (mul_ck(rows, cols, op) > kMax)
    throw py::value_error(std::string(op) + ": the im2col matrix (N*OH*OW) x (KH*KW*C) = " +
                          std::to_string(rows) + " x " + std::to_string(cols) + " is too large");
}
}  // namespace baeum_bind

namespace {

enum class Kind { conv, transpose, depthwise };

const char* kind_name(Kind k) {
  return k == Kind::conv ? "conv2d" : k == Kind::transpose ? "conv2d_transpose" : "depthwise_conv2d";
}

Act to_act(int id) {
  if (id < 0 || id >= baeum::kNumActs)
    throw py::value_error("unknown activation id " + std::to_string(id));
  return static_cast<Act>(id);
}

py::array opt_array(const py::object& o, const char* name) {
  if (o.is_none()) return py::reinterpret_steal<py::array>(py::handle());
  if (!py::isinstance<py::array>(o))
    throw py::type_error(std::string(name) + " must be a numpy array or None");
  return py::reinterpret_borrow<py::array>(o);
}

void require_shape(const py::array& a, const char* name, std::initializer_list<int64_t> want,
                   const char* op) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(want.size());
  py::ssize_t i = 0;
  for (int64_t w : want) ok = ok && a.shape(i++) == w;
  if (!ok) {
    std::string s = "(";
    for (int64_t w : want) s += std::to_string(w) + ",";
    throw py::value_error(std::string(op) + ": " + name + " has shape " + shape_str(a) +
                          ", expected " + s + ")");
  }
}

struct Geo {
  int64_t sh, sw, dh, dw, pt, pl, groups;
};

// The ConvShape of a layer with input `x`, weight `w`, output `y` (see conv.h for how the
// transposed and depthwise layers map onto one convolution).
ConvShape make_shape(Kind k, const py::array& x, const py::array& w, const py::array& y,
                     const Geo& g) {
  const char* op = kind_name(k);
  for (const auto* a : {&x, &w, &y})
    if (a->ndim() != 4) throw py::value_error(std::string(op) + ": arrays must be 4-D");
  if (g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1)
    throw py::value_error(std::string(op) + ": strides and dilations must be >= 1");
  if (g.pt < 0 || g.pl < 0) throw py::value_error(std::string(op) + ": padding must be >= 0");
  if (g.groups < 1) throw py::value_error(std::string(op) + ": groups must be >= 1");
  ConvShape s{};
  s.KH = w.shape(0);
  s.KW = w.shape(1);
  s.SH = g.sh, s.SW = g.sw, s.DH = g.dh, s.DW = g.dw, s.PT = g.pt, s.PL = g.pl, s.G = g.groups;
  if (k == Kind::transpose) {  // conv from y (N,H,W,C) to x (N,OH,OW,OC)
    s.N = y.shape(0), s.H = y.shape(1), s.W = y.shape(2), s.C = y.shape(3);
    s.OH = x.shape(1), s.OW = x.shape(2), s.OC = x.shape(3);
    if (s.G != 1) throw py::value_error(std::string(op) + ": groups must be 1");
    require_shape(x, "inp", {s.N, s.OH, s.OW, s.OC}, op);
    require_shape(w, "kernel", {s.KH, s.KW, s.C, s.OC}, op);
  } else {
    s.N = x.shape(0), s.H = x.shape(1), s.W = x.shape(2), s.C = x.shape(3);
    s.OH = y.shape(1), s.OW = y.shape(2), s.OC = y.shape(3);
    if (k == Kind::conv) {
      if (s.C % s.G || s.OC % s.G)
        throw py::value_error(std::string(op) + ": channels and filters must be divisible by groups");
      require_shape(w, "kernel", {s.KH, s.KW, s.C / s.G, s.OC}, op);
    } else {
      if (s.G != 1) throw py::value_error(std::string(op) + ": groups must be 1");
      require_shape(w, "kernel", {s.KH, s.KW, s.C, w.shape(3)}, op);
      s.OC = s.C * w.shape(3);
    }
    require_shape(y, "out", {s.N, s.OH, s.OW, s.OC}, op);
  }
  require_geometry_fits(s, op);
  return s;
}

int64_t out_channels(Kind k, const ConvShape& s) { return k == Kind::transpose ? s.C : s.OC; }

void forward(Kind k, py::array inp, py::array kernel, py::object bias_o, py::array out,
             py::object preact_o, const Geo& g, int act, float alpha) {
  const char* op = kind_name(k);
  const Act a = to_act(act);
  const float* x = in_ptr(inp, "inp", 4);
  const float* w = in_ptr(kernel, "kernel", 4);
  float* y = out_ptr(out, "out", 4);
  const ConvShape s = make_shape(k, inp, kernel, out, g);
  py::array bias = opt_array(bias_o, "bias"), preact = opt_array(preact_o, "preact");
  const float* b = nullptr;
  float* z = nullptr;
  if (bias) {
    b = in_ptr(bias, "bias", 1);
    require_shape(bias, "bias", {out_channels(k, s)}, op);
  }
  if (preact) {
    z = out_ptr(preact, "preact", 4);
    require_shape(preact, "preact", {out.shape(0), out.shape(1), out.shape(2), out.shape(3)}, op);
    require_disjoint(preact, out, op);
  }
  for (const py::array* o : {&out, &preact}) {
    if (!*o) continue;
    for (const py::array* i : {&inp, &kernel, &bias}) if (*i) require_disjoint(*o, *i, op);
  }
  py::gil_scoped_release release;
  if (k == Kind::conv) baeum::conv2d_forward(y, z, x, w, b, s, a, alpha);
  else if (k == Kind::transpose) baeum::conv2d_transpose_forward(y, z, x, w, b, s, a, alpha);
  else baeum::depthwise_conv2d_forward(y, z, x, w, b, s, a, alpha);
}

void backward(Kind k, py::array dout, py::array inp, py::array kernel, py::object out_o,
              py::object preact_o, py::array dkernel, py::object dbias_o, py::object dinp_o,
              const Geo& g, int act, float alpha) {
  const char* op = kind_name(k);
  const Act a = to_act(act);
  const float* dy = in_ptr(dout, "dout", 4);
  const float* x = in_ptr(inp, "inp", 4);
  const float* w = in_ptr(kernel, "kernel", 4);
  float* dw = out_ptr(dkernel, "dkernel", 4);
  const ConvShape s = make_shape(k, inp, kernel, dout, g);
  require_shape(dkernel, "dkernel", {kernel.shape(0), kernel.shape(1), kernel.shape(2), kernel.shape(3)}, op);
  py::array out = opt_array(out_o, "out"), preact = opt_array(preact_o, "preact");
  py::array dbias = opt_array(dbias_o, "dbias"), dinp = opt_array(dinp_o, "dinp");
  const bool need_x = baeum::act_needs_input(a);
  const bool need_y = !need_x && a != Act::linear;
  const float* y = nullptr;
  const float* z = nullptr;
  float* db = nullptr;
  float* dx = nullptr;
  const auto same_as_dout = [&](const py::array& arr, const char* name) {
    require_shape(arr, name, {dout.shape(0), dout.shape(1), dout.shape(2), dout.shape(3)}, op);
  };
  if (need_x) {
    if (!preact) throw py::value_error(std::string(op) + ": " + baeum::act_name(a) + " backward needs preact");
    z = in_ptr(preact, "preact", 4);
    same_as_dout(preact, "preact");
  }
  if (need_y) {
    if (!out) throw py::value_error(std::string(op) + ": " + baeum::act_name(a) + " backward needs out");
    y = in_ptr(out, "out", 4);
    same_as_dout(out, "out");
  }
  if (dbias) {
    db = out_ptr(dbias, "dbias", 1);
    require_shape(dbias, "dbias", {out_channels(k, s)}, op);
  }
  if (dinp) {
    dx = out_ptr(dinp, "dinp", 4);
    require_shape(dinp, "dinp", {inp.shape(0), inp.shape(1), inp.shape(2), inp.shape(3)}, op);
  }
  for (const py::array* o : {&dkernel, &dbias, &dinp}) {
    if (!*o) continue;
    for (const py::array* i : {&dout, &inp, &kernel, &out, &preact})
      if (*i) require_disjoint(*o, *i, op);
  }
  if (dbias) require_disjoint(dbias, dkernel, op);
  if (dinp) {
    require_disjoint(dinp, dkernel, op);
    if (dbias) require_disjoint(dinp, dbias, op);
  }
  py::gil_scoped_release release;
  if (k == Kind::conv) baeum::conv2d_backward(dx, dw, db, dy, x, w, y, z, s, a, alpha);
  else if (k == Kind::transpose) baeum::conv2d_transpose_backward(dx, dw, db, dy, x, w, y, z, s, a, alpha);
  else baeum::depthwise_conv2d_backward(dx, dw, db, dy, x, w, y, z, s, a, alpha);
}

ConvShape col_shape(const char* op, const py::array& img, int64_t kh, int64_t kw, const Geo& g,
                    int64_t oh, int64_t ow) {
  if (img.ndim() != 4) throw py::value_error(std::string(op) + ": the image array must be 4-D (N,H,W,C)");
  if (kh < 0 || kw < 0 || oh < 0 || ow < 0) throw py::value_error(std::string(op) + ": sizes must be >= 0");
  if (g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1 || g.pt < 0 || g.pl < 0)
    throw py::value_error(std::string(op) + ": strides/dilations must be >= 1 and padding >= 0");
  ConvShape s{};
  s.N = img.shape(0), s.H = img.shape(1), s.W = img.shape(2), s.C = img.shape(3);
  s.OH = oh, s.OW = ow, s.OC = 1, s.KH = kh, s.KW = kw;
  s.SH = g.sh, s.SW = g.sw, s.DH = g.dh, s.DW = g.dw, s.PT = g.pt, s.PL = g.pl, s.G = 1;
  require_geometry_fits(s, op);
  return s;
}

}  // namespace

void bind_conv(py::module_& m) {
  using namespace py::literals;
  const auto geo = [](int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pl,
                      int64_t groups) { return Geo{sh, sw, dh, dw, pt, pl, groups}; };
  for (Kind k : {Kind::conv, Kind::transpose, Kind::depthwise}) {
    const std::string name = kind_name(k);
    m.def((name + "_forward").c_str(),
          [k, geo](py::array inp, py::array kernel, py::object bias, py::array out,
                   py::object preact, int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t pt,
                   int64_t pl, int64_t groups, int act, float alpha) {
            forward(k, inp, kernel, bias, out, preact, geo(sh, sw, dh, dw, pt, pl, groups), act, alpha);
          },
          "inp"_a, "kernel"_a, "bias"_a, "out"_a, "preact"_a, "sh"_a, "sw"_a, "dh"_a, "dw"_a,
          "pt"_a, "pl"_a, "groups"_a, "act"_a, "alpha"_a);
    m.def((name + "_backward").c_str(),
          [k, geo](py::array dout, py::array inp, py::array kernel, py::object out,
                   py::object preact, py::array dkernel, py::object dbias, py::object dinp,
                   int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pl,
                   int64_t groups, int act, float alpha) {
            backward(k, dout, inp, kernel, out, preact, dkernel, dbias, dinp,
                     geo(sh, sw, dh, dw, pt, pl, groups), act, alpha);
          },
          "dout"_a, "inp"_a, "kernel"_a, "out"_a, "preact"_a, "dkernel"_a, "dbias"_a, "dinp"_a,
          "sh"_a, "sw"_a, "dh"_a, "dw"_a, "pt"_a, "pl"_a, "groups"_a, "act"_a, "alpha"_a);
  }
  m.def("im2col",
        [](py::array inp, py::array col, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
           int64_t dh, int64_t dw, int64_t pt, int64_t pl, int64_t oh, int64_t ow) {
          const float* x = in_ptr(inp, "inp", 4);
          float* c = out_ptr(col, "col", 2);
          const ConvShape s = col_shape("im2col", inp, kh, kw, Geo{sh, sw, dh, dw, pt, pl, 1}, oh, ow);
          require_shape(col, "col", {s.N * oh * ow, kh * kw * s.C}, "im2col");
          require_disjoint(col, inp, "im2col");
          py::gil_scoped_release release;
          baeum::im2col(c, x, s);
        },
        "inp"_a, "col"_a, "kh"_a, "kw"_a, "sh"_a, "sw"_a, "dh"_a, "dw"_a, "pt"_a, "pl"_a, "oh"_a, "ow"_a);
  m.def("col2im",
        [](py::array col, py::array dinp, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
           int64_t dh, int64_t dw, int64_t pt, int64_t pl, int64_t oh, int64_t ow) {
          const float* c = in_ptr(col, "col", 2);
          float* x = out_ptr(dinp, "dinp", 4);
          const ConvShape s = col_shape("col2im", dinp, kh, kw, Geo{sh, sw, dh, dw, pt, pl, 1}, oh, ow);
          require_shape(col, "col", {s.N * oh * ow, kh * kw * s.C}, "col2im");
          require_disjoint(dinp, col, "col2im");
          py::gil_scoped_release release;
          baeum::col2im(x, c, s);
        },
        "col"_a, "dinp"_a, "kh"_a, "kw"_a, "sh"_a, "sw"_a, "dh"_a, "dw"_a, "pt"_a, "pl"_a, "oh"_a, "ow"_a);
}
