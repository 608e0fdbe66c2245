#include "qgan/metrics/fid.h"

#include <torch/torch.h>

namespace bitsweep::qgan {

GaussianStats ComputeStats(const torch::Tensor& features) {
  auto x = features.detach().to(torch::kFloat64);
  GaussianStats s;
  s.count = x.size(0);
  s.mean = x.mean(0);
  auto centred = x - s.mean;
  s.covariance = centred.t().mm(centred) / static_cast<double>(std::max<int64_t>(1, s.count - 1));
  return s;
}

double FrechetDistance(const GaussianStats& a, const GaussianStats& b) {
  torch::NoGradGuard no_grad;
  auto s1 = a.covariance.to(torch::kFloat64);
  auto s2 = b.covariance.to(torch::kFloat64);
  double mean_term = (a.mean - b.mean).square().sum().item<double>();

  // sqrt(S1) = V diag(sqrt(max(l, 0))) V^T.
  auto [l1, v1] = torch::linalg_eigh(s1);
  auto sqrt_s1 = (v1 * l1.clamp_min(0).sqrt().unsqueeze(0)).mm(v1.t());
  auto m = sqrt_s1.mm(s2).mm(sqrt_s1);
  m = (m + m.t()) * 0.5;  // symmetric up to rounding; make it exactly so for eigvalsh
  double trace_sqrt = torch::linalg_eigvalsh(m).clamp_min(0).sqrt().sum().item<double>();

  return mean_term + s1.trace().item<double>() + s2.trace().item<double>() - 2.0 * trace_sqrt;
}

}  // namespace bitsweep::qgan
