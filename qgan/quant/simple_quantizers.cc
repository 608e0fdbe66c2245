#include "qgan/quant/simple_quantizers.h"

#include <cmath>

#include <torch/torch.h>

#include "qgan/quant/device_affine.h"

namespace bitsweep::qgan {

QuantizedWeight MinMaxQuantizer::Quantize(const torch::Tensor& weights) {
  torch::NoGradGuard no_grad;
  const int64_t n = num_levels();
  if (UseDevicePath(weights)) {
    auto w = weights.to(torch::kFloat64);
    auto lo = w.min();
    return AffineQuantizeOnDevice(weights, (w.max() - lo) / static_cast<double>(n - 1), lo, n);
  }
  double lo = weights.min().item<double>();
  double hi = weights.max().item<double>();
  double alpha = (hi - lo) / static_cast<double>(n - 1);
  return AffineQuantize(weights, alpha, lo, n);
}

QuantizedWeight LogQuantizer::Quantize(const torch::Tensor& weights) {
  torch::NoGradGuard no_grad;
  const int64_t magnitudes = num_levels() / 2 > 0 ? num_levels() / 2 : 1;
  if (UseDevicePath(weights)) {
    // The same as below with the top exponent kept on the device.
    auto max_abs = weights.abs().max().to(torch::kFloat64);
    auto top = torch::where(max_abs.gt(0.0), torch::log2(max_abs).round(), torch::zeros_like(max_abs));
    auto k = torch::arange(magnitudes, weights.options().dtype(torch::kFloat64));
    auto positive = torch::pow(2.0, top - k);
    auto levels = torch::cat({positive, -positive}).to(torch::kFloat32);
    auto exponent = torch::log2(weights.abs().clamp_min(1e-30)).round_().to(torch::kFloat64);
    auto magnitude_index = (top - exponent).clamp_(0, static_cast<double>(magnitudes - 1)).to(torch::kInt64);
    return FromLevels(levels, magnitude_index + weights.lt(0).to(torch::kInt64) * magnitudes);
  }
  double max_abs = weights.abs().max().item<double>();
  // An all-zero tensor has no exponent; any level set gives zero error after
  // the sign, so use 2^0 and let every weight take it.
  double top_exponent = max_abs > 0.0 ? std::round(std::log2(max_abs)) : 0.0;

  // Level k (0 <= k < M) is +2^(top-k); level M + k is -2^(top-k).
  auto k = torch::arange(magnitudes, weights.options().dtype(torch::kFloat64));
  auto positive = torch::pow(2.0, top_exponent - k);
  auto levels = torch::cat({positive, -positive}).to(torch::kFloat32);

  auto exponent = torch::log2(weights.abs().clamp_min(1e-30)).round_();
  auto magnitude_index =
      (top_exponent - exponent).clamp_(0, static_cast<double>(magnitudes - 1)).to(torch::kInt64);
  auto indices = magnitude_index + weights.lt(0).to(torch::kInt64) * magnitudes;
  return FromLevels(levels, indices);
}

QuantizedWeight TanhQuantizer::Quantize(const torch::Tensor& weights) {
  torch::NoGradGuard no_grad;
  const int64_t n = num_levels();
  auto t = torch::tanh(weights);
  if (UseDevicePath(weights)) {
    // The same as below with max|tanh w| and max|w| kept on the device.
    auto max_t = t.abs().max().to(torch::kFloat64);
    auto scale = weights.abs().max().to(torch::kFloat64);
    auto safe_max_t = torch::where(max_t.gt(0.0), max_t, torch::ones_like(max_t));
    // The factor rounded to float, as the CPU path's scalar multiply does.
    auto factor = (static_cast<double>(n - 1) / (2.0 * safe_max_t)).to(torch::kFloat32);
    auto rounded = t.mul(factor).add_((n - 1) / 2.0).round_().to(torch::kInt64);
    auto indices = torch::where(max_t.gt(0.0), rounded, torch::full_like(rounded, (n - 1) / 2));
    auto k = torch::arange(n, weights.options().dtype(torch::kFloat64));
    auto levels = ((k / static_cast<double>(n - 1)) * 2.0 - 1.0) * scale;
    return FromLevels(levels.to(torch::kFloat32), indices);
  }
  double max_t = t.abs().max().item<double>();
  double scale = weights.abs().max().item<double>();
  // round((t / (2 max_t) + 1/2) * (n - 1)), folded into one multiply-add.
  auto indices = max_t > 0.0 ? t.mul_((n - 1) / (2.0 * max_t)).add_((n - 1) / 2.0).round_().to(torch::kInt64)
                             : torch::full(t.sizes(), (n - 1) / 2, t.options().dtype(torch::kInt64));
  auto k = torch::arange(n, t.options().dtype(torch::kFloat64));
  auto levels = ((k / static_cast<double>(n - 1)) * 2.0 - 1.0) * scale;
  return FromLevels(levels.to(torch::kFloat32), indices);
}

torch::Tensor TanhQuantizer::Surrogate(const torch::Tensor& weights) {
  // d/dw of the pre-rounding DoReFa map, scaled like the levels. The scale is
  // treated as a constant (as DoReFa treats its normaliser's range).
  auto t = torch::tanh(weights);
  auto max_t = t.abs().max().detach().clamp_min(1e-12);
  auto scale = weights.abs().max().detach();
  return t / max_t * scale;
}

QuantizedWeight BinaryQuantizer::Quantize(const torch::Tensor& weights) {
  torch::NoGradGuard no_grad;
  if (UseDevicePath(weights)) {
    auto mean_abs = weights.abs().mean().to(torch::kFloat32).reshape({1});
    return FromLevels(torch::cat({-mean_abs, mean_abs}), weights.ge(0).to(torch::kInt64));
  }
  double mean_abs = weights.abs().mean().item<double>();
  auto levels = torch::tensor({-mean_abs, mean_abs}, weights.options().dtype(torch::kFloat32));
  auto indices = weights.ge(0).to(torch::kInt64);
  return FromLevels(levels, indices);
}

}  // namespace bitsweep::qgan
