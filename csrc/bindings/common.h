// common.h — checks shared by every binding. The Python layer (baeum.ops) gives the
// friendly errors; these checks are the last line that keeps C++ inside its buffers
// whatever Python passes, so every array is verified here before its pointer is used.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

namespace py = pybind11;

namespace baeum_bind {

inline std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    s += std::to_string(a.shape(i));
    if (a.ndim() == 1 || i + 1 < a.ndim()) s += ",";
    if (i + 1 < a.ndim()) s += " ";
  }
  return s + ")";
}

// A float32, C-contiguous array of rank `ndim` (any rank if ndim < 0).
inline void require_f32(const py::array& a, const char* name, int ndim) {
  if (!a.dtype().is(py::dtype::of<float>()))
    throw py::type_error(std::string(name) + " must be float32, got " +
                         std::string(py::str(a.dtype())));
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + " must be C-contiguous");
  if (ndim >= 0 && a.ndim() != ndim)
    throw py::value_error(std::string(name) + " must be " + std::to_string(ndim) +
                          "-D, got shape " + shape_str(a));
}

inline const float* in_ptr(const py::array& a, const char* name, int ndim) {
  require_f32(a, name, ndim);
  return static_cast<const float*>(a.data());
}

inline float* out_ptr(py::array& a, const char* name, int ndim) {
  require_f32(a, name, ndim);
  if (!a.writeable()) throw py::value_error(std::string(name) + " is read-only");
  return static_cast<float*>(a.mutable_data());
}

// An output must not share memory with an input: the kernel would read values it has
// already overwritten. Compares the byte ranges the arrays span (conservative, O(1)).
inline void require_disjoint(const py::array& out, const py::array& in, const char* op) {
  if (out.nbytes() == 0 || in.nbytes() == 0) return;
  const char* o = static_cast<const char*>(out.data());
  const char* i = static_cast<const char*>(in.data());
  if (o < i + in.nbytes() && i < o + out.nbytes())
    throw py::value_error(std::string(op) + ": out overlaps an input; pass a separate output array.");
}

}  // namespace baeum_bind
