// bind_gemm.cpp — baeum._core.gemm / gemm_naive and the micro-kernel path controls.
#include <string>

#include "baeum/gemm.h"
#include "bindings/common.h"

using namespace baeum_bind;

namespace {

baeum::Isa isa_from_name(const std::string& s) {
  if (s == "avx512") return baeum::Isa::avx512;
  if (s == "avx2") return baeum::Isa::avx2;
  if (s == "generic") return baeum::Isa::generic;
  throw py::value_error("unknown SIMD path '" + s + "'; valid: 'avx512', 'avx2', 'generic'");
}

// c = alpha·op(a)·op(b) + beta·c. All three arrays are checked here against each other so
// the kernel can never step outside them.
template <bool Naive>
void gemm_call(py::array a, py::array b, py::array c, bool trans_a, bool trans_b, float alpha,
               float beta) {
  const float* pa = in_ptr(a, "a", 2);
  const float* pb = in_ptr(b, "b", 2);
  float* pc = out_ptr(c, "out", 2);
  require_disjoint(c, a, "gemm");
  require_disjoint(c, b, "gemm");
  const int64_t M = trans_a ? a.shape(1) : a.shape(0);
  const int64_t K = trans_a ? a.shape(0) : a.shape(1);
  const int64_t Kb = trans_b ? b.shape(1) : b.shape(0);
  const int64_t N = trans_b ? b.shape(0) : b.shape(1);
  if (K != Kb)
    throw py::value_error("gemm: inner dimensions differ: op(a) is " + std::to_string(M) + "x" +
                          std::to_string(K) + ", op(b) is " + std::to_string(Kb) + "x" +
                          std::to_string(N));
  if (c.shape(0) != M || c.shape(1) != N)
    throw py::value_error("gemm: out has shape " + shape_str(c) + ", expected (" +
                          std::to_string(M) + ", " + std::to_string(N) + ")");
  // Leading dimensions of C-contiguous 2-D arrays; at least 1 so empty arrays are fine.
  const int64_t lda = a.shape(1) > 0 ? a.shape(1) : 1;
  const int64_t ldb = b.shape(1) > 0 ? b.shape(1) : 1;
  const int64_t ldc = N > 0 ? N : 1;
  py::gil_scoped_release release;
  if (Naive)
    baeum::sgemm_naive(trans_a, trans_b, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, ldc);
  else
    baeum::sgemm(trans_a, trans_b, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, ldc);
}

}  // namespace

void bind_gemm(py::module_& m) {
  const char* doc =
      "gemm(a, b, out, trans_a, trans_b, alpha, beta): out = alpha*op(a)@op(b) + beta*out.\n"
      "a, b, out: float32 C-contiguous 2-D; out writable. Releases the GIL.";
  m.def("gemm", &gemm_call<false>, doc, py::arg("a"), py::arg("b"), py::arg("out"),
        py::arg("trans_a") = false, py::arg("trans_b") = false, py::arg("alpha") = 1.0f,
        py::arg("beta") = 0.0f);
  m.def("gemm_naive", &gemm_call<true>, "The triple-loop GEMM (same contract as gemm).",
        py::arg("a"), py::arg("b"), py::arg("out"), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f);

  m.def("gemm_isa", [] { return std::string(baeum::isa_name(baeum::gemm_isa())); },
        "The active micro-kernel path.");
  m.def("best_isa", [] { return std::string(baeum::isa_name(baeum::best_isa())); },
        "The fastest path this CPU supports (chosen at import).");
  m.def("isa_supported", [](const std::string& s) { return baeum::isa_supported(isa_from_name(s)); },
        py::arg("isa"));
  m.def("set_gemm_isa",
        [](const std::string& s) {
          if (!baeum::set_gemm_isa(isa_from_name(s)))
            throw py::value_error("SIMD path '" + s + "' is not supported on this CPU/build");
        },
        py::arg("isa"));
  m.def("gemm_blocking", [] {
    auto b = baeum::gemm_blocking();
    py::dict d;
    d["mr"] = b.mr; d["nr"] = b.nr; d["mc"] = b.mc; d["kc"] = b.kc; d["nc"] = b.nc;
    return d;
  });
  m.def("set_gemm_blocking", &baeum::set_gemm_blocking, py::arg("mc") = 0, py::arg("kc") = 0,
        py::arg("nc") = 0, "Override the cache blocks (0 = default); for tuning and tests.");
  m.def("fma_peak_gflops",
        [](const std::string& s, int threads, double seconds) {
          auto isa = isa_from_name(s);
          py::gil_scoped_release release;
          return baeum::fma_peak_gflops(isa, threads, seconds);
        },
        py::arg("isa"), py::arg("threads") = 1, py::arg("seconds") = 0.2);
}
