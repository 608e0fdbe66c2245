#include "qgan/quant/em_quantizer.h"

#include <torch/torch.h>

namespace bitsweep::qgan {
namespace {

struct Affine {
  double alpha;
  double beta;
};

// Mean squared error of `w` against its nearest affine levels, with the
// indices it used.
double AffineMse(const torch::Tensor& w, const Affine& a, int64_t n, torch::Tensor* indices) {
  *indices = AffineIndices(w, a.alpha, a.beta, n);
  auto values = indices->to(torch::kFloat64) * a.alpha + a.beta;
  return (w - values).square().mean().item<double>();
}

// Least-squares alpha, beta for fixed assignments (the M step).
Affine LeastSquares(const torch::Tensor& w, const torch::Tensor& indices, const Affine& previous) {
  auto i = indices.to(torch::kFloat64);
  double mean_i = i.mean().item<double>();
  double mean_w = w.mean().item<double>();
  double var_i = i.square().mean().item<double>() - mean_i * mean_i;
  if (var_i <= 1e-12) return {previous.alpha, mean_w - previous.alpha * mean_i};
  double cov = (w * i).mean().item<double>() - mean_w * mean_i;
  double alpha = cov / var_i;
  return {alpha, mean_w - alpha * mean_i};
}

}  // namespace

void EmQuantizer::Fit(const torch::Tensor& weights) {
  torch::NoGradGuard no_grad;
  // float64 keeps the statistics exact enough that the error is monotone.
  auto w = weights.detach().reshape({-1}).to(torch::kFloat64);
  const int64_t n = num_levels();
  double lo = w.min().item<double>();
  double hi = w.max().item<double>();
  Affine minmax{(hi - lo) / static_cast<double>(n - 1), lo};

  torch::Tensor indices;
  Affine current = minmax;
  double mse = AffineMse(w, minmax, n, &indices);
  if (fitted_ && alpha_ > 0.0) {
    torch::Tensor warm_indices;
    double warm_mse = AffineMse(w, {alpha_, beta_}, n, &warm_indices);
    if (warm_mse <= mse) {
      current = {alpha_, beta_};
      mse = warm_mse;
      indices = warm_indices;
    }
  }
  mse_history_.assign(1, mse);

  for (int iter = 0; iter < max_iters_ && current.alpha > 0.0; ++iter) {
    Affine next = LeastSquares(w, indices, current);
    if (!(next.alpha > 0.0)) break;  // cannot happen for sorted assignments; be safe
    torch::Tensor next_indices;
    double next_mse = AffineMse(w, next, n, &next_indices);
    if (next_mse > mse) break;  // only float rounding can do this; keep the better fit
    bool unchanged = torch::equal(next_indices, indices);
    current = next;
    mse = next_mse;
    indices = next_indices;
    mse_history_.push_back(mse);
    if (unchanged) break;
  }
  alpha_ = current.alpha;
  beta_ = current.beta;
  fitted_ = true;
}

QuantizedWeight EmQuantizer::Quantize(const torch::Tensor& weights) {
  if (!fitted_) Fit(weights);
  torch::NoGradGuard no_grad;
  const int64_t n = num_levels();
  return FromLevels(AffineLevels(alpha_, beta_, n, weights), AffineIndices(weights, alpha_, beta_, n));
}

torch::Tensor EmQuantizer::State() const {
  if (!fitted_) return {};
  return torch::tensor({alpha_, beta_}, torch::kFloat64);
}

void EmQuantizer::LoadState(const torch::Tensor& state) {
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
