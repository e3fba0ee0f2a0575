// module.cpp — the one pybind11 module, baeum._core. Each kernel family registers its
// functions from its own bind_*.cpp file; this file holds the configuration calls.
// Bindings stay thin: check buffers, release the GIL, call the kernel.
#include <pybind11/pybind11.h>

#include "baeum/gemm.h"
#include "baeum/parallel.h"

namespace py = pybind11;

void bind_gemm(py::module_& m);
void bind_optim(py::module_& m);
void bind_losses(py::module_& m);
void bind_elementwise(py::module_& m);
void bind_rnn(py::module_& m);
void bind_conv(py::module_& m);
void bind_mlp(py::module_& m);
void bind_pool(py::module_& m);
void bind_norm(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "baeum's compiled kernels. Use baeum.ops, which checks arguments, not this module.";
  m.attr("__version__") = BAEUM_VERSION;
  m.attr("compiler") = BAEUM_COMPILER;
  m.attr("openmp") = baeum::openmp_enabled();

  m.def("get_num_threads", &baeum::get_num_threads);
  m.def("set_num_threads", &baeum::set_num_threads, py::arg("n"));
  m.def("available_cpus", &baeum::available_cpus);

  bind_gemm(m);
  bind_optim(m);
  bind_losses(m);
  bind_elementwise(m);
  bind_rnn(m);
  bind_conv(m);
  bind_mlp(m);
  bind_pool(m);
  bind_norm(m);
}
