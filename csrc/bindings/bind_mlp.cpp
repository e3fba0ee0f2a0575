// bind_mlp.cpp — baeum._core.MlpPlan: the fused Dense/Dropout training step (see mlp.h).
//
// The plan keeps references to every array it points into (weights, gradient views, the
// gradient arena), so the pointers stay valid as long as the plan lives. Everything is
// checked when the plan is built (shapes chain, gradients lie inside the arena, nothing
// overlaps, convolution geometries fit and run on the direct kernels) and again per step
// for the batch (x, targets, seeds, labels in range).
#include <memory>
#include <string>
#include <vector>

#include "baeum/mlp.h"
#include <pybind11/stl.h>

#include "bindings/common.h"
#include "bindings/conv_geometry.h"

using namespace baeum_bind;

namespace {

bool inside(const py::array& part, const py::array& whole) {
  const char* p = static_cast<const char*>(part.data());
  const char* w = static_cast<const char*>(whole.data());
  return p >= w && p + part.nbytes() <= w + whole.nbytes();
}

class PyMlpPlan {
 public:
  PyMlpPlan(const py::list& layers, int loss, float label_smoothing, py::array grads)
      : grads_(grads) {
    const char* op = "MlpPlan";
    float* g = out_ptr(grads_, "grads", 1);
    (void)g;
    if (loss < 0 || loss > 2) throw py::value_error("MlpPlan: unknown loss kind");
    if (layers.empty()) throw py::value_error("MlpPlan: no layers");
    std::vector<baeum::MlpLayer> ls;
    std::vector<py::array> grad_views;  // every dweight / dbias, for the overlap check
    int64_t width = -1;  // output width of the previous layer
    bool dense_seen = false;
    for (py::handle h : layers) {
      py::tuple t = h.cast<py::tuple>();
      const std::string kind = t[0].cast<std::string>();
      baeum::MlpLayer L;
      if (kind == "conv" && dense_seen)
        throw py::value_error("MlpPlan: convolutions must come before every Dense/Dropout layer");
      dense_seen = dense_seen || kind != "conv";
      if (kind == "dropout") {
        L.dropout = true;
        L.in = L.out = width >= 0 ? width : t[1].cast<int64_t>();
        L.rate = t[2].cast<double>();
        if (L.in <= 0 || !(L.rate > 0.0 && L.rate <= 1.0))
          throw py::value_error("MlpPlan: a dropout needs a positive width and 0 < rate <= 1");
      } else if (kind == "dense" || kind == "conv") {
        const bool conv = kind == "conv";
        py::array w = t[1].cast<py::array>(), dw = t[3].cast<py::array>();
        L.weight = in_ptr(w, "weight", conv ? 4 : 2);
        L.dweight = out_ptr(dw, "dweight", conv ? 4 : 2);
        for (py::ssize_t i = 0; i < w.ndim(); ++i)
          if (dw.shape(i) != w.shape(i))
            throw py::value_error("MlpPlan: dweight has shape " + shape_str(dw) + ", weight " +
                                  shape_str(w));
        if (conv) {
          L.conv = conv_plan(t, w, width < 0);
          L.in = L.conv->in_floats();
          L.out = L.conv->out_floats();
        } else {
          L.in = w.shape(0);
          L.out = w.shape(1);
        }
        if (width >= 0 && L.in != width)
          throw py::value_error("MlpPlan: layer " + std::to_string(ls.size()) + " expects " + std::to_string(L.in) +
                                " inputs but the previous layer gives " + std::to_string(width));
        if (!inside(dw, grads_)) throw py::value_error("MlpPlan: dweight is not inside grads");
        require_disjoint(grads_, w, op);
        keep_.append(w);
        keep_.append(dw);
        grad_views.push_back(dw);
        if (!t[2].is_none()) {
          py::array b = t[2].cast<py::array>(), db = t[4].cast<py::array>();
          L.bias = in_ptr(b, "bias", 1);
          L.dbias = out_ptr(db, "dbias", 1);
          const int64_t units = w.shape(w.ndim() - 1);  // Dense units / Conv2D filters
          if (b.shape(0) != units || db.shape(0) != units)
            throw py::value_error("MlpPlan: bias/dbias must have " + std::to_string(units) +
                                  " entries");
          if (!inside(db, grads_)) throw py::value_error("MlpPlan: dbias is not inside grads");
          require_disjoint(grads_, b, op);
          keep_.append(b);
          keep_.append(db);
          grad_views.push_back(db);
        }
        const int act = t[5].cast<int>();
        if (act < 0 || act >= baeum::kNumActs) throw py::value_error("MlpPlan: unknown activation");
        L.act = static_cast<baeum::Act>(act);
        L.alpha = t[6].cast<float>();
        L.keep_preact = t[7].cast<bool>();
        if (conv && L.keep_preact)
          throw py::value_error("MlpPlan: a convolution's pre-activation is not kept (relu/linear only)");
      } else {
        throw py::value_error("MlpPlan: layer kind must be 'conv', 'dense' or 'dropout', got " + kind);
      }
      width = L.out;
      ls.push_back(L);
    }
    // Gradient views are written by different layers: two that share memory would silently
    // sum each other's gradients (e.g. the same dW passed for two layers).
    for (size_t i = 0; i < grad_views.size(); ++i)
      for (size_t j = i + 1; j < grad_views.size(); ++j) {
        const py::array &a = grad_views[i], &b = grad_views[j];
        const char* pa = static_cast<const char*>(a.data());
        const char* pb = static_cast<const char*>(b.data());
        if (a.nbytes() && b.nbytes() && pa < pb + b.nbytes() && pb < pa + a.nbytes())
          throw py::value_error("MlpPlan: gradient views " + std::to_string(i) + " and " +
                                std::to_string(j) + " (dweight/dbias in layer order) overlap; " +
                                "each layer needs its own gradient slice of grads");
      }
    if (ls.back().dropout || !ls.back().keep_preact)
      throw py::value_error("MlpPlan: the last layer must be a Dense that keeps its logits");
    in_ = ls.front().in;
    image_ = static_cast<bool>(ls.front().conv);
    classes_ = ls.back().out;
    plan_ = std::make_unique<baeum::MlpPlan>(std::move(ls), static_cast<baeum::MlpLoss>(loss),
                                             label_smoothing);
    sparse_ = loss == 2;
  }

  py::tuple step(py::array x, py::array y, const std::vector<uint64_t>& seeds) {
    const char* op = "MlpPlan.step";
    const float* px = in_ptr(x, "x", -1);
    const int64_t N = x.ndim() > 0 ? x.shape(0) : 0;
    int64_t row = 1;  // an image batch (N, H, W, C) is N rows of H·W·C
    for (py::ssize_t i = 1; i < x.ndim(); ++i) row *= x.shape(i);
    if (x.ndim() < 2 || row != in_ || N <= 0 || (image_ && x.ndim() != 4))
      throw py::value_error(std::string(op) + ": x has shape " + shape_str(x) + ", expected " +
                            (image_ ? "(N, H, W, C) with H·W·C = " : "(N, ") + std::to_string(in_) +
                            (image_ ? "" : ")") + " and N >= 1");
    const float* pt = nullptr;
    std::vector<int64_t> labels;
    if (sparse_) {
      const float* py_ = in_ptr(y, "labels", 1);
      if (y.shape(0) != N) throw py::value_error(std::string(op) + ": labels must have N entries");
      labels.resize(static_cast<size_t>(N));
      for (int64_t i = 0; i < N; ++i) {
        const float v = py_[i];
        if (!(v >= 0.f && v < static_cast<float>(classes_)) || v != static_cast<float>(static_cast<int64_t>(v)))
          throw py::value_error(std::string(op) + ": label " + std::to_string(v) +
                                " is not a class index in [0, " + std::to_string(classes_) + ")");
        labels[static_cast<size_t>(i)] = static_cast<int64_t>(v);
      }
    } else {
      pt = in_ptr(y, "target", 2);
      if (y.shape(0) != N || y.shape(1) != classes_)
        throw py::value_error(std::string(op) + ": target has shape " + shape_str(y) +
                              ", expected (" + std::to_string(N) + ", " + std::to_string(classes_) + ")");
    }
    if (static_cast<int>(seeds.size()) != plan_->num_dropouts())
      throw py::value_error(std::string(op) + ": one seed per Dropout layer is needed");
    if (!grads_.writeable())
      throw py::value_error(std::string(op) + ": grads became read-only after the plan was built");
    require_disjoint(grads_, x, op);
    require_disjoint(grads_, y, op);
    py::array_t<float> loss(N);
    py::array_t<float> pred({N, classes_});
    float* pl = loss.mutable_data();
    float* pp = pred.mutable_data();
    float* pg = static_cast<float*>(grads_.mutable_data());
    const int64_t ng = grads_.shape(0);
    {
      py::gil_scoped_release release;
      plan_->step(pl, pp, px, pt, sparse_ ? labels.data() : nullptr, seeds.data(), N, pg, ng);
    }
    return py::make_tuple(loss, pred);
  }

 private:
  std::unique_ptr<baeum::MlpPlan> plan_;
  py::array grads_;
  py::list keep_;
  int64_t in_ = 0, classes_ = 0;
  bool sparse_ = false, image_ = false;

  // t = ('conv', W (KH,KW,C,OC), b, dW, db, act, alpha, keep_preact,
  //      (H, W, OH, OW, SH, SW, DH, DW, PT, PL)); first: no input gradient is needed.
  static std::shared_ptr<const baeum::DirectConvImage> conv_plan(const py::tuple& t, const py::array& w,
                                                                 bool first) {
    const char* op = "MlpPlan";
    const auto g = t[8].cast<std::vector<int64_t>>();
    if (g.size() != 10) throw py::value_error("MlpPlan: a conv geometry has 10 entries");
    baeum::ConvShape s{};
    s.N = 1, s.H = g[0], s.W = g[1], s.C = w.shape(2), s.OH = g[2], s.OW = g[3], s.OC = w.shape(3);
    s.KH = w.shape(0), s.KW = w.shape(1), s.SH = g[4], s.SW = g[5], s.DH = g[6], s.DW = g[7];
    s.PT = g[8], s.PL = g[9], s.G = 1;
    for (int64_t v : {s.H, s.W, s.OH, s.OW, s.SH, s.SW, s.DH, s.DW})
      if (v < 1) throw py::value_error("MlpPlan: conv sizes, strides and dilations must be >= 1");
    if (s.PT < 0 || s.PL < 0) throw py::value_error("MlpPlan: conv padding must be >= 0");
    require_geometry_fits(s, op);
    const int act = t[5].cast<int>();
    if (act < 0 || act >= baeum::kNumActs) throw py::value_error("MlpPlan: unknown activation");
    if (!baeum::DirectConvImage::supports_forward(s, static_cast<baeum::Act>(act)) ||
        !baeum::DirectConvImage::supports_backward(s, !first))
      throw py::value_error("MlpPlan: this convolution does not run on the direct kernels "
                            "(check MlpPlan.conv_supported first)");
    return std::make_shared<const baeum::DirectConvImage>(s);
  }
};

}  // namespace

void bind_mlp(py::module_& m) {
  py::class_<PyMlpPlan>(m, "MlpPlan",
                        "The fused training step of a Dense/Dropout stack (see csrc/baeum/mlp.h).\n"
                        "MlpPlan(layers, loss, label_smoothing, grads); layers: tuples\n"
                        "('dense', W, b|None, dW, db|None, act, alpha, keep_preact),\n"
                        "('conv', W, b|None, dW, db|None, act, alpha, keep_preact,\n"
                        " (H, W, OH, OW, SH, SW, DH, DW, PT, PL)) (a prefix) or\n"
                        "('dropout', width, rate); loss 0 sigmoid-BCE, 1 softmax-CE, 2 sparse.")
      .def(py::init<const py::list&, int, float, py::array>(), py::arg("layers"), py::arg("loss"),
           py::arg("label_smoothing"), py::arg("grads"))
      .def_static(
          "conv_supported",
          [](int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW, int64_t OC, int64_t KH, int64_t KW,
             int64_t SH, int64_t SW, int64_t DH, int64_t DW, int64_t PT, int64_t PL, int64_t G, int act,
             bool need_dinp) {
            if (act < 0 || act >= baeum::kNumActs) return false;
            const baeum::ConvShape s{1, H, W, C, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL, G};
            return baeum::DirectConvImage::supports_forward(s, static_cast<baeum::Act>(act)) &&
                   baeum::DirectConvImage::supports_backward(s, need_dinp);
          },
          "Whether a Conv2D with this geometry (H, W, C, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL,\n"
          "groups, activation id, need_dinp) can be part of a fused plan.")
      .def("step", &PyMlpPlan::step, py::arg("x"), py::arg("y"), py::arg("seeds"),
           "Zero grads, forward, loss, backward; returns (per-sample loss (N,), predictions).");
}
