#include "qgan/quant/quantizer.h"

#include <torch/torch.h>

#include "qgan/quant/em_quantizer.h"
#include "qgan/quant/simple_quantizers.h"

namespace bitsweep::qgan {

std::unique_ptr<Quantizer> MakeQuantizer(const QuantSpec& spec) {
  switch (spec.method) {
    case QuantMethod::kMinMax: return std::make_unique<MinMaxQuantizer>(spec.bits);
    case QuantMethod::kLog: return std::make_unique<LogQuantizer>(spec.bits);
    case QuantMethod::kTanh: return std::make_unique<TanhQuantizer>(spec.bits);
    case QuantMethod::kEm: return std::make_unique<EmQuantizer>(spec.bits, spec.em_max_iters);
    case QuantMethod::kBinary: return std::make_unique<BinaryQuantizer>();
    case QuantMethod::kNone: break;
  }
  return nullptr;
}

QuantizedWeight FromLevels(torch::Tensor levels, torch::Tensor indices) {
  QuantizedWeight q;
  q.values = levels.index_select(0, indices.reshape({-1})).view_as(indices);
  q.indices = std::move(indices);
  q.levels = std::move(levels);
  return q;
}

torch::Tensor AffineLevels(double alpha, double beta, int64_t n, const torch::Tensor& like) {
  auto i = torch::arange(n, like.options().dtype(torch::kFloat64));
  return (i * alpha + beta).to(torch::kFloat32);
}

torch::Tensor AffineIndices(const torch::Tensor& weights, double alpha, double beta, int64_t n) {
  if (!(alpha > 0.0)) return torch::zeros(weights.sizes(), weights.options().dtype(torch::kInt64));
  return ((weights - beta) / alpha).round_().clamp_(0, static_cast<double>(n - 1)).to(torch::kInt64);
}

QuantizedWeight AffineQuantize(const torch::Tensor& weights, double alpha, double beta, int64_t n) {
  torch::Tensor levels = AffineLevels(alpha, beta, n, weights);
  if (!weights.device().is_cpu() || weights.scalar_type() != torch::kFloat32 || !(alpha > 0.0)) {
    return FromLevels(levels, AffineIndices(weights, alpha, beta, n));
  }
  auto w = weights.contiguous();
  QuantizedWeight q;
  q.levels = levels;
  q.indices = torch::empty(w.sizes(), w.options().dtype(torch::kInt64));
  q.values = torch::empty_like(w);
  const float* in = w.data_ptr<float>();
  const float* table = levels.data_ptr<float>();
  int64_t* index = q.indices.data_ptr<int64_t>();
  float* out = q.values.data_ptr<float>();
  const double inv_alpha = 1.0 / alpha;
  const double top = static_cast<double>(n - 1);
  const int64_t count = w.numel();
  for (int64_t j = 0; j < count; ++j) {
    const int64_t k = NearestAffineLevel((static_cast<double>(in[j]) - beta) * inv_alpha, top);
    index[j] = k;
    out[j] = table[k];
  }
  return q;
}

}  // namespace bitsweep::qgan
