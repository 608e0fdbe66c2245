// QGAN's quantizer: levels alpha * i + beta (i = 0 .. 2^b - 1) fitted to a
// layer's weights by expectation-maximisation.
//
// The paper states the level form and that EM fits it; the steps are ours:
//   E: assign every weight to its nearest level (i = clamp(round((w-beta)/alpha))).
//   M: least squares for the assignment: alpha = cov(w, i) / var(i),
//      beta = mean(w) - alpha * mean(i).
// Each step cannot increase the squared error, so the error never rises
// across iterations. A fit starts from whichever of the previous fit
// (warm start, the common case during training) and the min-max levels has the
// lower error, so EM never ends worse than min-max on the same tensor. It
// stops when the levels stop changing (the assignment has settled), when an
// iteration lowers the error by less than `tolerance` (relative), or after
// `max_iters` iterations. Near a fixed point EM creeps along at a linear rate;
// during training the weights move every step anyway, so chasing the last
// parts per million would cost passes over the weights for nothing. The fit
// runs on the CPU in one pass per iteration; a CUDA layer's weights are
// fitted on their device instead (FitOnDevice), without host round trips.
//
// Degenerate cases: a constant layer (max == min) gets alpha = 0 and every
// weight on level 0 = that constant; when all weights fall on one level
// (var(i) = 0) alpha is kept and beta moves that level to the mean.
#pragma once

#include <vector>

#include "qgan/quant/quantizer.h"

namespace bitsweep::qgan {

class EmQuantizer : public Quantizer {
 public:
  /// Relative error gain below which fitting stops.
  static constexpr double kDefaultTolerance = 1e-4;

  EmQuantizer(int bits, int max_iters, double tolerance = kDefaultTolerance)
      : Quantizer(bits), max_iters_(max_iters), tolerance_(tolerance) {}

  void Fit(const torch::Tensor& weights) override;
  /// Iterates until the assignment settles (no tolerance, at most
  /// kConvergedMaxIters iterations), warm-started from the current fit.
  void FitToConvergence(const torch::Tensor& weights) override;
  static constexpr int kConvergedMaxIters = 10000;
  /// Uses the current fit; fits first if there is none yet.
  QuantizedWeight Quantize(const torch::Tensor& weights) override;

  /// [alpha, beta] as a float64 tensor (empty before the first fit).
  torch::Tensor State() const override;
  void LoadState(const torch::Tensor& state) override;
  QuantMethod method() const override { return QuantMethod::kEm; }

  /// The fit (reads a device fit back to the host: tests and checkpoints only).
  double alpha() const { return device_alpha_.defined() ? device_alpha_.item<double>() : alpha_; }
  double beta() const { return device_beta_.defined() ? device_beta_.item<double>() : beta_; }
  /// EM iterations of a warm-started fit on the device, where there is no
  /// early stop (deciding one would read the error back to the host). The
  /// first fit of a layer runs max_iters.
  static constexpr int kWarmDeviceIters = 4;
  /// Mean squared error after each EM iteration of the last Fit (entry 0 is
  /// the starting point); the CPU path only.
  const std::vector<double>& last_mse_history() const { return mse_history_; }

 private:
  // The device path: the same E and M steps as reductions on the weights'
  // device, a fixed number of them, each kept only if it does not raise the
  // error, starting from the better of min-max and the previous fit.
  void FitOnDevice(const torch::Tensor& weights);
  // The CPU path: one pass over the weights per iteration, with early stop.
  void FitOnHost(const torch::Tensor& weights);
  // A device fit moved to the host fields (a CPU quantization after a
  // device one).
  void PullDeviceFit();

  int max_iters_;
  double tolerance_;
  bool fitted_ = false;
  double alpha_ = 0.0;
  double beta_ = 0.0;
  std::vector<double> mse_history_;
  // The device path's fit: 0-dim float64 tensors on the weights' device,
  // undefined while the fit lives in alpha_ and beta_.
  torch::Tensor device_alpha_, device_beta_;
};

}  // namespace bitsweep::qgan
