#include "qgan/quant/device_affine.h"

#include <torch/torch.h>

namespace bitsweep::qgan {

torch::Tensor AffineIndicesOnDevice(const torch::Tensor& weights, const torch::Tensor& alpha,
                                    const torch::Tensor& beta, int64_t n) {
  const auto positive = alpha.gt(0.0);
  // Times 1 / alpha, as the CPU path computes it (a division could round the
  // other way at a level boundary); 1 where alpha is not positive, whose
  // indices are replaced below.
  const auto inv_alpha = torch::where(positive, alpha, torch::ones_like(alpha)).reciprocal();
  auto x = ((weights.to(torch::kFloat64) - beta) * inv_alpha).clamp_(0.0, static_cast<double>(n - 1));
  auto indices = x.add_(0.5).floor_().to(torch::kInt64);
  return torch::where(positive, indices, torch::zeros_like(indices));
}

QuantizedWeight AffineQuantizeOnDevice(const torch::Tensor& weights, const torch::Tensor& alpha,
                                       const torch::Tensor& beta, int64_t n) {
  auto i = torch::arange(n, weights.options().dtype(torch::kFloat64));
  auto levels = (i * alpha + beta).to(torch::kFloat32);
  return FromLevels(levels, AffineIndicesOnDevice(weights, alpha, beta, n));
}

}  // namespace bitsweep::qgan
