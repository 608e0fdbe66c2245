#include "qgan/quant/em_quantizer.h"

#include <algorithm>

#include <torch/torch.h>

#include "qgan/quant/device_affine.h"

namespace bitsweep::qgan {
namespace {

struct Affine {
  double alpha;
  double beta;
  bool operator==(const Affine& o) const { return alpha == o.alpha && beta == o.beta; }
};

// Sufficient statistics of one E step (nearest-level assignment i_j of every
// weight w_j): the M step needs only sum i, sum i^2 and sum w*i (sum w is
// fixed), so one pass over the weights serves a whole EM iteration, and the
// squared error comes out of the same pass.
struct AssignmentSums {
  double sum_i = 0.0;
  double sum_ii = 0.0;
  double sum_wi = 0.0;
  double sse = 0.0;
};

AssignmentSums AssignToLevels(const float* w, int64_t n, const Affine& a, int64_t levels) {
  AssignmentSums s;
  if (!(a.alpha > 0.0)) {  // all levels coincide at beta: everything on level 0
    for (int64_t j = 0; j < n; ++j) s.sse += (w[j] - a.beta) * (w[j] - a.beta);
    return s;
  }
  const double inv_alpha = 1.0 / a.alpha;
  const double top = static_cast<double>(levels - 1);
  for (int64_t j = 0; j < n; ++j) {
    const double v = w[j];
    const double i = static_cast<double>(NearestAffineLevel((v - a.beta) * inv_alpha, top));
    const double err = v - (a.alpha * i + a.beta);
    s.sum_i += i;
    s.sum_ii += i * i;
    s.sum_wi += v * i;
    s.sse += err * err;
  }
  return s;
}

// Least-squares alpha, beta for the assignment (the M step).
Affine LeastSquares(const AssignmentSums& s, double sum_w, const Affine& previous, int64_t n) {
  const double inv_n = 1.0 / static_cast<double>(n);
  const double mean_i = s.sum_i * inv_n;
  const double mean_w = sum_w * inv_n;
  const double var_i = s.sum_ii * inv_n - mean_i * mean_i;
  if (var_i <= 1e-12) return {previous.alpha, mean_w - previous.alpha * mean_i};
  const double alpha = (s.sum_wi * inv_n - mean_w * mean_i) / var_i;
  return {alpha, mean_w - alpha * mean_i};
}

}  // namespace

void EmQuantizer::Fit(const torch::Tensor& weights) {
  if (UseDevicePath(weights)) return FitOnDevice(weights);
  FitOnHost(weights);
}

void EmQuantizer::FitOnHost(const torch::Tensor& weights) {
  PullDeviceFit();
  torch::NoGradGuard no_grad;
  auto w = weights.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const float* data = w.data_ptr<float>();
  const int64_t n = w.numel();
  const int64_t levels = num_levels();
  if (n == 0) return;

  double lo = data[0], hi = data[0], sum_w = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    const double v = data[j];
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum_w += v;
  }
  const double inv_n = 1.0 / static_cast<double>(n);
  Affine current{(hi - lo) / static_cast<double>(levels - 1), lo};  // min-max start
  AssignmentSums sums = AssignToLevels(data, n, current, levels);
  double mse = sums.sse * inv_n;
  if (fitted_ && alpha_ > 0.0) {
    Affine warm{alpha_, beta_};
    AssignmentSums warm_sums = AssignToLevels(data, n, warm, levels);
    if (warm_sums.sse * inv_n <= mse) {
      current = warm;
      sums = warm_sums;
      mse = warm_sums.sse * inv_n;
    }
  }
  mse_history_.assign(1, mse);

  for (int iter = 0; iter < max_iters_ && current.alpha > 0.0; ++iter) {
    Affine next = LeastSquares(sums, sum_w, current, n);
    // Same statistics give the same levels: the assignment has settled.
    if (next == current || !(next.alpha > 0.0)) break;
    AssignmentSums next_sums = AssignToLevels(data, n, next, levels);
    double next_mse = next_sums.sse * inv_n;
    if (next_mse > mse) break;  // only float rounding can do this; keep the better fit
    const bool small_gain = mse - next_mse <= tolerance_ * mse;
    current = next;
    sums = next_sums;
    mse = next_mse;
    mse_history_.push_back(mse);
    if (small_gain) break;
  }
  alpha_ = current.alpha;
  beta_ = current.beta;
  fitted_ = true;
}

void EmQuantizer::FitOnDevice(const torch::Tensor& weights) {
  torch::NoGradGuard no_grad;
  auto w = weights.detach().to(torch::kFloat64).reshape({-1});
  if (w.numel() == 0) return;
  const int64_t levels = num_levels();
  auto squared_error = [&](const torch::Tensor& alpha, const torch::Tensor& beta) {
    auto i = AffineIndicesOnDevice(w, alpha, beta, levels).to(torch::kFloat64);
    return (w - (alpha * i + beta)).pow(2).sum();
  };
  const auto mean_w = w.mean();
  torch::Tensor beta = w.min();
  torch::Tensor alpha = (w.max() - beta) / static_cast<double>(levels - 1);  // min-max start
  torch::Tensor error = squared_error(alpha, beta);
  const bool warm = device_alpha_.defined() || fitted_;
  if (warm) {
    auto warm_alpha = device_alpha_.defined() ? device_alpha_.to(w.device()) : torch::tensor(alpha_, w.options());
    auto warm_beta = device_beta_.defined() ? device_beta_.to(w.device()) : torch::tensor(beta_, w.options());
    auto warm_error = squared_error(warm_alpha, warm_beta);
    auto keep = warm_alpha.gt(0.0).logical_and(warm_error.le(error));
    alpha = torch::where(keep, warm_alpha, alpha);
    beta = torch::where(keep, warm_beta, beta);
    error = torch::where(keep, warm_error, error);
  }
  const int iterations = warm ? std::min(max_iters_, kWarmDeviceIters) : max_iters_;
  for (int iter = 0; iter < iterations; ++iter) {
    // M step for the current assignment (the E step is in the indices).
    auto i = AffineIndicesOnDevice(w, alpha, beta, levels).to(torch::kFloat64);
    auto mean_i = i.mean();
    auto var_i = (i * i).mean() - mean_i * mean_i;
    auto fitted_alpha = ((w * i).mean() - mean_w * mean_i) / var_i.clamp_min(1e-12);
    auto next_alpha = torch::where(var_i.gt(1e-12), fitted_alpha, alpha);
    auto next_beta = mean_w - next_alpha * mean_i;
    auto next_error = squared_error(next_alpha, next_beta);
    auto accept = next_alpha.gt(0.0).logical_and(next_error.le(error)).logical_and(alpha.gt(0.0));
    alpha = torch::where(accept, next_alpha, alpha);
    beta = torch::where(accept, next_beta, beta);
    error = torch::where(accept, next_error, error);
  }
  device_alpha_ = alpha;
  device_beta_ = beta;
  fitted_ = true;
  mse_history_.clear();
}

void EmQuantizer::PullDeviceFit() {
  if (!device_alpha_.defined()) return;
  alpha_ = device_alpha_.item<double>();
  beta_ = device_beta_.item<double>();
  device_alpha_ = torch::Tensor();
  device_beta_ = torch::Tensor();
}

void EmQuantizer::FitToConvergence(const torch::Tensor& weights) {
  const int max_iters = max_iters_;
  const double tolerance = tolerance_;
  max_iters_ = kConvergedMaxIters;
  tolerance_ = 0.0;
  // Once, after training: the host path's early stop is worth one copy of
  // the weights, wherever they are.
  FitOnHost(weights);
  max_iters_ = max_iters;
  tolerance_ = tolerance;
}

QuantizedWeight EmQuantizer::Quantize(const torch::Tensor& weights) {
  if (!fitted_) Fit(weights);
  torch::NoGradGuard no_grad;
  const int64_t n = num_levels();
  if (UseDevicePath(weights)) {
    if (!device_alpha_.defined()) {  // a host fit (a checkpoint's): moved over once
      device_alpha_ = torch::tensor(alpha_, weights.options().dtype(torch::kFloat64));
      device_beta_ = torch::tensor(beta_, weights.options().dtype(torch::kFloat64));
    }
    return AffineQuantizeOnDevice(weights, device_alpha_, device_beta_, n);
  }
  PullDeviceFit();
  return AffineQuantize(weights, alpha_, beta_, n);
}

torch::Tensor EmQuantizer::State() const {
  if (!fitted_) return {};
  return torch::tensor({alpha(), beta()}, torch::kFloat64);
}

void EmQuantizer::LoadState(const torch::Tensor& state) {
  device_alpha_ = torch::Tensor();
  device_beta_ = torch::Tensor();
  if (!state.defined() || state.numel() != 2) {
    fitted_ = false;
    return;
  }
  auto s = state.to(torch::kCPU).to(torch::kFloat64);
  alpha_ = s[0].item<double>();
  beta_ = s[1].item<double>();
  fitted_ = true;
}

}  // namespace bitsweep::qgan
