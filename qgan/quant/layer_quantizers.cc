#include "qgan/quant/layer_quantizers.h"

#include <torch/torch.h>

namespace bitsweep::qgan {

void LayerQuantizers::Configure(const std::vector<std::string>& layers, const QuantSpec& spec) {
  spec_ = spec;
  layers_.clear();
  for (size_t i = 0; i < layers.size(); ++i) {
    Layer layer;
    layer.name = layers[i];
    const LayerQuant own = spec.ForLayer(layers, i);
    if (own.quantized()) {
      QuantSpec layer_spec = spec;
      layer_spec.method = own.method;
      layer_spec.bits = own.bits;
      layer.quantizer = MakeQuantizer(layer_spec);
    }
    layers_.push_back(std::move(layer));
  }
}

LayerQuant LayerQuantizers::LayerSpec(size_t layer) const {
  if (!IsQuantized(layer)) return LayerQuant{};
  const Quantizer& q = *layers_[layer].quantizer;
  return LayerQuant{q.method(), q.bits()};
}

bool LayerQuantizers::IsQuantized(size_t layer) const {
  return layer < layers_.size() && layers_[layer].quantizer != nullptr;
}

torch::Tensor LayerQuantizers::Apply(size_t index, const torch::Tensor& shadow, bool training) {
  if (bypass_ || !IsQuantized(index)) return shadow;
  Layer& layer = layers_[index];
  const void* data = shadow.data_ptr();
  int64_t version = static_cast<int64_t>(shadow._version());
  if (data != layer.cached_data || version != layer.cached_version || !layer.cached.values.defined()) {
    if (training) layer.quantizer->Fit(shadow.detach());
    layer.cached = layer.quantizer->Quantize(shadow.detach());
    layer.cached_data = data;
    layer.cached_version = version;
  }
  const torch::Tensor& values = layer.cached.values;
  if (!torch::GradMode::is_enabled() || !shadow.requires_grad()) return values;
  // Straight-through: forward uses `values`, backward sees d(surrogate)/dw.
  torch::Tensor surrogate = layer.quantizer->Surrogate(shadow);
  return surrogate + (values - surrogate).detach();
}

void LayerQuantizers::FitToConvergence(const std::vector<torch::Tensor>& weights) {
  for (size_t i = 0; i < layers_.size() && i < weights.size(); ++i) {
    if (!IsQuantized(i)) continue;
    layers_[i].quantizer->FitToConvergence(weights[i].detach());
    layers_[i].cached_data = nullptr;  // the fit changed: requantize on next use
  }
}

QuantizedWeight LayerQuantizers::Quantize(size_t layer, const torch::Tensor& weights) {
  return layers_.at(layer).quantizer->Quantize(weights.detach());
}

std::vector<LevelStats> LayerQuantizers::Measure(const std::vector<torch::Tensor>& weights) {
  std::vector<LevelStats> stats;
  for (size_t i = 0; i < layers_.size() && i < weights.size(); ++i) {
    if (!IsQuantized(i)) continue;
    auto& q = *layers_[i].quantizer;
    stats.push_back(MeasureLevels(layers_[i].name, q.method(), q.bits(), weights[i], Quantize(i, weights[i])));
  }
  return stats;
}

std::vector<torch::Tensor> LayerQuantizers::States() const {
  std::vector<torch::Tensor> states;
  for (const auto& layer : layers_) states.push_back(layer.quantizer ? layer.quantizer->State() : torch::Tensor());
  return states;
}

bool LayerQuantizers::FitIsCurrent(size_t index, const torch::Tensor& shadow) const {
  if (!IsQuantized(index)) return false;
  const Layer& layer = layers_[index];
  return layer.cached.values.defined() && layer.cached_data == shadow.data_ptr() &&
         layer.cached_version == static_cast<int64_t>(shadow._version());
}

void LayerQuantizers::MarkFitCurrent(size_t index, const torch::Tensor& shadow) {
  if (!IsQuantized(index)) return;
  Layer& layer = layers_[index];
  layer.cached = layer.quantizer->Quantize(shadow.detach());
  layer.cached_data = shadow.data_ptr();
  layer.cached_version = static_cast<int64_t>(shadow._version());
}

void LayerQuantizers::LoadStates(const std::vector<torch::Tensor>& states) {
  for (size_t i = 0; i < layers_.size() && i < states.size(); ++i) {
    if (layers_[i].quantizer) layers_[i].quantizer->LoadState(states[i]);
    layers_[i].cached_data = nullptr;  // the fit changed: requantize on next use
  }
}

}  // namespace bitsweep::qgan
