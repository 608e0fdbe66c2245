#include "common/layer_widths.h"

namespace bitsweep {
namespace {

std::vector<LayerWidth> WidthsOf(const NetworkLayout& layout, const QuantSpec& quant) {
  const std::vector<std::string> names = layout.names();
  std::vector<LayerWidth> widths;
  for (size_t i = 0; i < layout.layers.size(); ++i) {
    LayerWidth w;
    w.name = names[i];
    w.quant = quant.ForLayer(names, i);
    w.weights = layout.layers[i].weights();
    w.packed_bytes = PackedWeightBytes(w.weights, w.quant.bits);
    widths.push_back(std::move(w));
  }
  return widths;
}

}  // namespace

DcganShape ShapeOf(const JobSpec& spec) {
  DcganShape shape;
  shape.image_size = spec.dataset.image_size;
  shape.channels = DatasetChannels(spec.dataset.name);
  shape.nz = spec.model.nz;
  shape.ngf = spec.model.ngf;
  shape.ndf = spec.model.ndf;
  shape.d_batchnorm = spec.loss != LossKind::kWganGp;
  return shape;
}

std::vector<LayerWidth> GeneratorWidths(const JobSpec& spec) {
  return WidthsOf(GeneratorLayout(ShapeOf(spec)), spec.quant_g);
}

std::vector<LayerWidth> DiscriminatorWidths(const JobSpec& spec) {
  return WidthsOf(DiscriminatorLayout(ShapeOf(spec)), spec.quant_d);
}

double MeanBits(const std::vector<LayerWidth>& widths) {
  double bits = 0.0, weights = 0.0;
  for (const auto& w : widths) {
    bits += static_cast<double>(w.weights) * w.quant.bits;
    weights += static_cast<double>(w.weights);
  }
  return weights > 0.0 ? bits / weights : 32.0;
}

std::string WidthsText(const std::vector<int>& bits) {
  std::string text;
  for (int b : bits) text += (text.empty() ? "" : ",") + std::to_string(b);
  return text;
}

std::string WidthsText(const std::vector<LayerWidth>& widths) {
  std::vector<int> bits;
  for (const auto& w : widths) bits.push_back(w.quant.bits);
  return WidthsText(bits);
}

WidthsSummary SummarizeWidths(const nlohmann::json& spec, const std::string& network) {
  const nlohmann::json empty = nlohmann::json::object();
  const auto& model = spec.contains("model") ? spec["model"] : empty;
  const auto& dataset = spec.contains("dataset") ? spec["dataset"] : empty;
  DcganShape shape;
  shape.image_size = model.value("arch", "dcgan32") == "dcgan64" ? 64 : 32;
  shape.channels = DatasetChannels(dataset.value("name", "fashion-mnist"));
  shape.nz = model.value("nz", shape.nz);
  shape.ngf = model.value("ngf", shape.ngf);
  shape.ndf = model.value("ndf", shape.ndf);
  shape.d_batchnorm = spec.value("loss", "bce") != "wgan-gp";
  QuantSpec quant;
  const auto q = spec.contains("quant") && spec["quant"].contains(network) ? spec["quant"][network] : empty;
  auto method = ParseQuantMethod(q.value("method", "none"));
  quant.method = method.ok() ? method.value() : QuantMethod::kNone;
  quant.bits = q.value("bits", 32);
  quant.keep_first_last_fp = q.value("keep_first_last_fp", false);
  if (q.contains("layers") && q["layers"].is_object()) {
    for (const auto& [name, layer] : q["layers"].items()) {
      auto layer_method = ParseQuantMethod(layer.value("method", "none"));
      quant.layers[name] = LayerQuant{layer_method.ok() ? layer_method.value() : QuantMethod::kNone,
                                      layer.value("bits", 32)};
    }
  }
  const NetworkLayout layout = network == "d" ? DiscriminatorLayout(shape) : GeneratorLayout(shape);
  const std::vector<LayerWidth> widths = WidthsOf(layout, quant);
  return WidthsSummary{WidthsText(widths), MeanBits(widths)};
}

int64_t PackedPayloadBytes(const NetworkLayout& layout, const std::vector<int>& bits) {
  int64_t bytes = layout.BatchNormValues() * 4;
  for (size_t i = 0; i < layout.layers.size(); ++i) {
    bytes += PackedWeightBytes(layout.layers[i].weights(), i < bits.size() ? bits[i] : 32);
  }
  return bytes;
}

int64_t PackedPayloadBytes(const JobSpec& spec) {
  std::vector<int> bits;
  for (const auto& w : GeneratorWidths(spec)) bits.push_back(w.quant.bits);
  return PackedPayloadBytes(GeneratorLayout(ShapeOf(spec)), bits);
}

}  // namespace bitsweep
