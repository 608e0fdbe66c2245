#include "qgan/metrics/sampling_error.h"

#include <ATen/CPUGeneratorImpl.h>
#include <cmath>
#include <torch/torch.h>

#include "qgan/metrics/kid.h"

namespace bitsweep::qgan {
namespace {

// Unbiased mean of the off-diagonal entries of a square kernel matrix.
double OffDiagonalMean(const torch::Tensor& k) {
  const double n = static_cast<double>(k.size(0));
  return (k.sum() - k.diagonal().sum()).item<double>() / (n * (n - 1.0));
}

std::optional<double> StdOfReplicates(const std::vector<double>& replicates) {
  if (replicates.size() < 2) return std::nullopt;
  return SampleStd(replicates);
}

std::vector<double> ToVector(const torch::Tensor& values) {
  auto v = values.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

}  // namespace

torch::Tensor BootstrapIndices(int64_t n, int replicates, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randint(0, std::max<int64_t>(n, 1), {std::max(replicates, 0), n}, generator,
                        torch::TensorOptions().dtype(torch::kInt64));
}

double SampleStd(const std::vector<double>& values) {
  if (values.size() < 2) return 0.0;
  double mean = 0.0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double sum = 0.0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return std::sqrt(sum / static_cast<double>(values.size() - 1));
}

std::vector<double> FidBootstrapReplicates(const torch::Tensor& features, const GaussianStats& reference,
                                           const torch::Tensor& indices) {
  torch::NoGradGuard no_grad;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(features.device());
  auto x = features.detach().to(torch::kFloat64);
  const int64_t n = x.size(0);
  const int64_t replicates = indices.size(0);
  if (n < 2 || replicates == 0) return {};
  auto idx = indices.to(x.device());

  // Moments about the full sample's mean: a replicate's mean is then a small
  // offset and its covariance no difference of large numbers.
  auto centre = x.mean(0);
  auto xc = x - centre;
  // counts[b, i]: how often row i is in replicate b. Replicate moments are
  // count-weighted moments of the original rows: no resampled copies.
  auto counts = torch::zeros({replicates, n}, f64).scatter_add_(1, idx, torch::ones(idx.sizes(), f64));
  auto offsets = counts.mm(xc) / static_cast<double>(n);  // [B, d]: replicate mean - centre

  // The reference is fixed: its square root and trace serve every replicate.
  // tr sqrt(S_b S_r) = tr sqrt(R S_b R) with R = sqrt(S_r), a symmetric PSD
  // form (the same identity FrechetDistance uses, with the roles swapped).
  auto s_r = reference.covariance.to(x.device(), torch::kFloat64);
  auto [l_r, v_r] = torch::linalg_eigh(s_r);
  auto root_r = (v_r * l_r.clamp_min(0).sqrt().unsqueeze(0)).mm(v_r.t());
  const double trace_r = s_r.trace().item<double>();
  auto mean_terms = (offsets + (centre - reference.mean.to(x.device(), torch::kFloat64))).square().sum(1);

  std::vector<torch::Tensor> covariance_traces, sqrt_traces;
  for (int64_t b = 0; b < replicates; ++b) {
    // sum_i w_i (x_i - mu_b)(x_i - mu_b)^T = sum_i w_i xc_i xc_i^T - n o o^T.
    // About 37% of the rows are not drawn at all (P(count = 0) ~ 1/e): the
    // product skips them.
    auto o = offsets[b];
    auto drawn = counts[b].nonzero().squeeze(1);
    auto rows = xc.index_select(0, drawn);
    auto cov = (rows.t() * counts[b].index_select(0, drawn)).mm(rows) - static_cast<double>(n) * torch::outer(o, o);
    cov /= static_cast<double>(n - 1);
    auto m = root_r.mm(cov).mm(root_r);
    m = (m + m.t()) * 0.5;  // symmetric up to rounding; make it exactly so for eigvalsh
    covariance_traces.push_back(cov.trace());
    sqrt_traces.push_back(torch::linalg_eigvalsh(m).clamp_min(0).sqrt().sum());
  }
  return ToVector(mean_terms + torch::stack(covariance_traces) + trace_r - 2.0 * torch::stack(sqrt_traces));
}

std::optional<double> FidStandardError(const torch::Tensor& features, const GaussianStats& reference,
                                       const torch::Tensor& indices) {
  return StdOfReplicates(FidBootstrapReplicates(features, reference, indices));
}

std::vector<double> InceptionScoreBootstrapReplicates(const torch::Tensor& probabilities, const torch::Tensor& indices,
                                                      int splits) {
  torch::NoGradGuard no_grad;
  auto p = probabilities.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t n = p.size(0);
  const int64_t replicates = indices.size(0);
  if (n < 1 || replicates == 0) return {};
  const int64_t s = std::max<int64_t>(1, std::min<int64_t>(splits, n));

  // KL(p_i || m) averaged over a split = mean_i sum_k p_ik log p_ik
  // - sum_k m_k log m_k, so a split needs only the mean of the rows' negative
  // entropies and its marginal m. embedding_bag takes both means over index
  // slices without materialising the resampled [B * N, K] rows.
  auto neg_entropy = (p * p.clamp_min(1e-300).log()).sum(1, /*keepdim=*/true);  // [N, 1]
  auto flat = indices.to(torch::kCPU, torch::kInt64).reshape({-1});
  std::vector<int64_t> starts;
  starts.reserve(static_cast<size_t>(replicates * s));
  for (int64_t b = 0; b < replicates; ++b) {
    for (int64_t k = 0; k < s; ++k) starts.push_back(b * n + k * n / s);  // InceptionScore's split bounds
  }
  auto offsets = torch::tensor(starts, torch::kInt64);
  constexpr int64_t kMean = 1;
  auto marginal = std::get<0>(torch::embedding_bag(p, flat, offsets, false, kMean));             // [B*s, K]
  auto mean_neg_entropy = std::get<0>(torch::embedding_bag(neg_entropy, flat, offsets, false, kMean));  // [B*s, 1]
  auto kl = mean_neg_entropy.squeeze(1) - (marginal * marginal.clamp_min(1e-300).log()).sum(1);
  return ToVector(kl.exp().reshape({replicates, s}).mean(1));
}

std::optional<double> InceptionScoreStandardError(const torch::Tensor& probabilities, const torch::Tensor& indices,
                                                  int splits) {
  return StdOfReplicates(InceptionScoreBootstrapReplicates(probabilities, indices, splits));
}

std::optional<double> KidBlockStandardError(const torch::Tensor& generated, const torch::Tensor& reference,
                                            int max_blocks, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto x = generated.detach().to(torch::kCPU, torch::kFloat64);
  auto y = reference.detach().to(torch::kCPU, torch::kFloat64);
  const int64_t n = x.size(0);
  const int64_t blocks = std::min<int64_t>(max_blocks, n / 2);  // every block needs 2 rows
  if (blocks < 2 || y.size(0) < 2) return std::nullopt;
  const int64_t m = n / blocks;
  const int64_t r = std::min(m, y.size(0));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto ys = y.index_select(0, torch::randperm(y.size(0), generator, torch::kInt64).narrow(0, 0, r));
  // The reference term is the same for every block; it is kept so that the
  // block values are real MMD^2 estimates, though it cancels in their spread.
  const double yy = OffDiagonalMean(PolynomialKernel(ys, ys));
  std::vector<double> values;
  for (int64_t b = 0; b < blocks; ++b) {
    auto xb = x.narrow(0, b * m, m);
    const double xy = PolynomialKernel(xb, ys).mean().item<double>();
    values.push_back(OffDiagonalMean(PolynomialKernel(xb, xb)) + yy - 2.0 * xy);
  }
  return SampleStd(values) / std::sqrt(static_cast<double>(blocks));
}

}  // namespace bitsweep::qgan
