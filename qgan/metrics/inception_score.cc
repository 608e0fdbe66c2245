#include "qgan/metrics/inception_score.h"

#include <ATen/CPUGeneratorImpl.h>
#include <cmath>
#include <torch/torch.h>

namespace bitsweep::qgan {

ScoreWithSpread InceptionScore(const torch::Tensor& probabilities, int splits, uint64_t seed) {
  auto p = probabilities.detach().to(torch::kCPU, torch::kFloat64);
  const int64_t n = p.size(0);
  splits = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(splits, n)));
  auto order = torch::randperm(n, at::make_generator<at::CPUGeneratorImpl>(seed), torch::kInt64);
  p = p.index_select(0, order);
  // log(0) terms carry zero weight; a tiny floor keeps 0 * log 0 at 0.
  auto log_p = p.clamp_min(1e-300).log();
  std::vector<double> scores;
  for (int k = 0; k < splits; ++k) {
    const int64_t begin = k * n / splits;
    const int64_t end = (k + 1) * n / splits;
    auto part = p.narrow(0, begin, end - begin);
    auto log_part = log_p.narrow(0, begin, end - begin);
    auto marginal = part.mean(0, /*keepdim=*/true);
    auto kl = (part * (log_part - marginal.clamp_min(1e-300).log())).sum(1).mean();
    scores.push_back(std::exp(kl.item<double>()));
  }
  return MeanAndStd(scores);
}

ScoreWithSpread MeanAndStd(const std::vector<double>& values) {
  ScoreWithSpread result;
  if (values.empty()) return result;
  for (double v : values) result.mean += v;
  result.mean /= static_cast<double>(values.size());
  for (double v : values) result.std += (v - result.mean) * (v - result.mean);
  result.std = std::sqrt(result.std / static_cast<double>(values.size()));
  return result;
}

}  // namespace bitsweep::qgan
