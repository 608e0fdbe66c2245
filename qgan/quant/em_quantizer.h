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
// copied over for it.
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

  double alpha() const { return alpha_; }
  double beta() const { return beta_; }
  /// Mean squared error after each EM iteration of the last Fit (entry 0 is
  /// the starting point).
  const std::vector<double>& last_mse_history() const { return mse_history_; }

 private:
  int max_iters_;
  double tolerance_;
  bool fitted_ = false;
  double alpha_ = 0.0;
  double beta_ = 0.0;
  std::vector<double> mse_history_;
};

}  // namespace bitsweep::qgan
