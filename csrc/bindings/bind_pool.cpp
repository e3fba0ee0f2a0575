// bind_pool.cpp — baeum._core max / average pooling (NHWC). Every buffer's dtype, layout
// and shape is checked against the sizes passed before a pointer is used; argmax indices
// are range-checked by the kernel before any write. Friendly errors come from baeum.ops.pool.
#include <cstdint>
#include <limits>
#include <string>

#include "baeum/pool.h"
#include "bindings/common.h"

using namespace baeum_bind;

namespace {

void require_shape4(const py::array& a, const char* name, int64_t n, int64_t h, int64_t w,
                    int64_t c) {
  if (a.shape(0) != n || a.shape(1) != h || a.shape(2) != w || a.shape(3) != c)
    throw py::value_error(std::string("pool: ") + name + " has shape " + shape_str(a) +
                          ", expected (" + std::to_string(n) + ", " + std::to_string(h) + ", " +
                          std::to_string(w) + ", " + std::to_string(c) + ")");
}

int32_t* argmax_ptr(py::array& a, bool writable) {
  if (!a.dtype().is(py::dtype::of<int32_t>()))
    throw py::type_error("pool: argmax must be int32, got " + std::string(py::str(a.dtype())));
  if (!(a.flags() & py::array::c_style)) throw py::value_error("pool: argmax must be C-contiguous");
  if (a.ndim() != 4) throw py::value_error("pool: argmax must be 4-D, got " + shape_str(a));
  if (!writable) return static_cast<int32_t*>(const_cast<void*>(a.data()));  // read only
  if (!a.writeable()) throw py::value_error("pool: argmax is read-only");
  return static_cast<int32_t*>(a.mutable_data());
}

// argmax stores h*W + w as int32; checked without forming an overflowing H*W.
void require_plane_fits(const baeum::Pool2D& p) {
  constexpr int64_t kI32 = std::numeric_limits<int32_t>::max();
  if (p.H > kI32 || p.W > kI32 || p.H * p.W > kI32)
    throw py::value_error("pool: H*W must fit in int32 (argmax indices), got H=" +
                          std::to_string(p.H) + ", W=" + std::to_string(p.W));
}

// Geometry from the input and output arrays plus window, strides and leading padding.
baeum::Pool2D geometry(const py::array& inp, const py::array& out, int64_t kh, int64_t kw,
                       int64_t sh, int64_t sw, int64_t pt, int64_t pl) {
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || pt < 0 || pl < 0)
    throw py::value_error("pool: pool sizes and strides must be >= 1, padding >= 0");
  baeum::Pool2D p{inp.shape(0), inp.shape(1), inp.shape(2), inp.shape(3), out.shape(1),
                  out.shape(2), kh, kw, sh, sw, pt, pl};
  require_shape4(out, "out", p.N, p.OH, p.OW, p.C);
  // The kernel forms i*SH - PT + KH (and the column twin) and N*OH*OW*C*KH*KW (work size):
  // refuse geometry where any of them overflows int64 instead of letting it wrap.
  const auto fits = [](std::initializer_list<int64_t> mul, std::initializer_list<int64_t> add) {
    int64_t t = 1;
    for (int64_t v : mul)
      if (__builtin_mul_overflow(t, v, &t)) return false;
    for (int64_t v : add)
      if (__builtin_add_overflow(t, v, &t)) return false;
    return t <= (int64_t{1} << 60);
  };
  const int64_t oh1 = p.OH > 0 ? p.OH - 1 : 0, ow1 = p.OW > 0 ? p.OW - 1 : 0;
  if (!fits({oh1, sh}, {kh, pt, p.H}) || !fits({ow1, sw}, {kw, pl, p.W}) ||
      !fits({p.N, p.OH, p.OW, p.C, kh, kw}, {}))
    throw py::value_error("pool: pool size/strides/padding are too large for the sizes (int64 "
                          "overflow): pool (" + std::to_string(kh) + ", " + std::to_string(kw) +
                          "), strides (" + std::to_string(sh) + ", " + std::to_string(sw) +
                          "), padding (" + std::to_string(pt) + ", " + std::to_string(pl) + ")");
  require_plane_fits(p);
  return p;
}

void maxpool_forward(py::array inp, py::array out, py::array argmax, int64_t kh, int64_t kw,
                     int64_t sh, int64_t sw, int64_t pt, int64_t pl) {
  const float* x = in_ptr(inp, "inp", 4);
  float* y = out_ptr(out, "out", 4);
  int32_t* a = argmax_ptr(argmax, true);
  const baeum::Pool2D p = geometry(inp, out, kh, kw, sh, sw, pt, pl);
  require_shape4(argmax, "argmax", p.N, p.OH, p.OW, p.C);
  require_disjoint(out, inp, "maxpool_forward");
  require_disjoint(argmax, inp, "maxpool_forward");
  require_disjoint(argmax, out, "maxpool_forward");
  py::gil_scoped_release release;
  baeum::maxpool_forward(y, a, x, p);
}

void maxpool_backward(py::array dout, py::array argmax, py::array dinp) {
  const float* dy = in_ptr(dout, "dout", 4);
  float* dx = out_ptr(dinp, "dinp", 4);
  const int32_t* a = argmax_ptr(argmax, false);
  const baeum::Pool2D p{dinp.shape(0), dinp.shape(1), dinp.shape(2), dinp.shape(3),
                        dout.shape(1), dout.shape(2), 1, 1, 1, 1, 0, 0};
  require_shape4(dout, "dout", p.N, p.OH, p.OW, p.C);
  require_shape4(argmax, "argmax", p.N, p.OH, p.OW, p.C);
  require_plane_fits(p);
  require_disjoint(dinp, dout, "maxpool_backward");
  require_disjoint(dinp, argmax, "maxpool_backward");
  int64_t bad;
  {
    py::gil_scoped_release release;
    bad = baeum::maxpool_backward(dx, dy, a, p);
  }
  if (bad)
    throw py::value_error("maxpool_backward: " + std::to_string(bad) +
                          " argmax entries lie outside the input image; pass the argmax "
                          "returned by maxpool_forward for this input shape");
}

void avgpool_forward(py::array inp, py::array out, int64_t kh, int64_t kw, int64_t sh,
                     int64_t sw, int64_t pt, int64_t pl) {
  const float* x = in_ptr(inp, "inp", 4);
  float* y = out_ptr(out, "out", 4);
  const baeum::Pool2D p = geometry(inp, out, kh, kw, sh, sw, pt, pl);
  require_disjoint(out, inp, "avgpool_forward");
  py::gil_scoped_release release;
  baeum::avgpool_forward(y, x, p);
}

void avgpool_backward(py::array dout, py::array dinp, int64_t kh, int64_t kw, int64_t sh,
                      int64_t sw, int64_t pt, int64_t pl) {
  const float* dy = in_ptr(dout, "dout", 4);
  float* dx = out_ptr(dinp, "dinp", 4);
  const baeum::Pool2D p = geometry(dinp, dout, kh, kw, sh, sw, pt, pl);
  require_disjoint(dinp, dout, "avgpool_backward");
  py::gil_scoped_release release;
  baeum::avgpool_backward(dx, dy, p);
}

}  // namespace

void bind_pool(py::module_& m) {
  m.def("maxpool_forward", &maxpool_forward, py::arg("inp"), py::arg("out"), py::arg("argmax"),
        py::arg("kh"), py::arg("kw"), py::arg("sh"), py::arg("sw"), py::arg("pt"), py::arg("pl"));
  m.def("maxpool_backward", &maxpool_backward, py::arg("dout"), py::arg("argmax"),
        py::arg("dinp"));
  m.def("avgpool_forward", &avgpool_forward, py::arg("inp"), py::arg("out"), py::arg("kh"),
        py::arg("kw"), py::arg("sh"), py::arg("sw"), py::arg("pt"), py::arg("pl"));
  m.def("avgpool_backward", &avgpool_backward, py::arg("dout"), py::arg("dinp"), py::arg("kh"),
        py::arg("kw"), py::arg("sh"), py::arg("sw"), py::arg("pt"), py::arg("pl"));
}
