#include "qgan/quant/level_stats.h"

#include <cmath>

#include <torch/torch.h>

namespace bitsweep::qgan {

LevelStats MeasureLevels(const std::string& layer, QuantMethod method, int bits,
                         const torch::Tensor& weights, const QuantizedWeight& q) {
  torch::NoGradGuard no_grad;
  LevelStats s;
  s.layer = layer;
  s.method = QuantMethodName(method);
  s.bits = bits;
  s.num_weights = weights.numel();
  s.mse = (q.values.to(torch::kFloat64) - weights.to(torch::kFloat64)).square().mean().item<double>();
  auto counts = torch::bincount(q.indices.reshape({-1}).to(torch::kCPU), /*weights=*/{},
                                /*minlength=*/q.levels.numel())
                    .to(torch::kFloat64);
  auto fraction = counts / static_cast<double>(std::max<int64_t>(1, s.num_weights));
  auto accessor = fraction.accessor<double, 1>();
  double entropy = 0.0;
  for (int64_t i = 0; i < fraction.size(0); ++i) {
    double p = accessor[i];
    s.level_fraction.push_back(p);
    if (p > 0.0) {
      ++s.levels_used;
      entropy -= p * std::log2(p);
    }
  }
  s.utilisation = entropy / static_cast<double>(bits);
  return s;
}

nlohmann::json LevelStats::ToJson() const {
  return {{"layer", layer}, {"method", method},           {"bits", bits},
          {"num_weights", num_weights}, {"levels_used", levels_used}, {"utilisation", utilisation},
          {"mse", mse},     {"level_fraction", level_fraction}};
}

}  // namespace bitsweep::qgan
