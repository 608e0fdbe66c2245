#include "common/network_layout.h"

namespace bitsweep {
namespace {

// Channel multipliers of the hidden layers, widest first: a 32x32 DCGAN
// upsamples 4 -> 8 -> 16 -> 32, a 64x64 one has one more stage.
std::vector<int> Multipliers(int image_size) {
  return image_size == 64 ? std::vector<int>{8, 4, 2, 1} : std::vector<int>{4, 2, 1};
}

}  // namespace

std::vector<std::string> NetworkLayout::names() const {
  std::vector<std::string> out;
  for (const auto& layer : layers) out.push_back(layer.name);
  return out;
}

int NetworkLayout::IndexOf(const std::string& name) const {
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string NetworkLayout::NameList() const {
  std::string list;
  for (const auto& layer : layers) list += (list.empty() ? "" : ", ") + layer.name;
  return list;
}

int64_t NetworkLayout::BatchNormValues() const {
  int64_t values = 0;
  for (const auto& layer : layers) {
    if (layer.batch_norm) values += 4 * int64_t{layer.out_channels};
  }
  return values;
}

NetworkLayout GeneratorLayout(const DcganShape& shape) {
  NetworkLayout layout;
  std::vector<int> widths;
  for (int m : Multipliers(shape.image_size)) widths.push_back(m * shape.ngf);
  int in = shape.nz;
  for (size_t i = 0; i <= widths.size(); ++i) {
    const bool first = i == 0, last = i == widths.size();
    ConvLayer layer;
    layer.name = "conv" + std::to_string(i + 1);
    layer.in_channels = in;
    layer.out_channels = last ? shape.channels : widths[i];
    layer.stride = first ? 1 : 2;
    layer.padding = first ? 0 : 1;
    layer.batch_norm = !last;
    in = layer.out_channels;
    layout.layers.push_back(std::move(layer));
  }
  return layout;
}

NetworkLayout DiscriminatorLayout(const DcganShape& shape) {
  NetworkLayout layout;
  std::vector<int> widths;
  auto multipliers = Multipliers(shape.image_size);
  for (auto it = multipliers.rbegin(); it != multipliers.rend(); ++it) widths.push_back(*it * shape.ndf);
  int in = shape.channels;
  for (size_t i = 0; i <= widths.size(); ++i) {
    const bool first = i == 0, last = i == widths.size();
    ConvLayer layer;
    layer.name = "conv" + std::to_string(i + 1);
    layer.in_channels = in;
    layer.out_channels = last ? 1 : widths[i];
    layer.stride = last ? 1 : 2;
    layer.padding = last ? 0 : 1;
    // DCGAN: no batch norm on the input layer or the output layer.
    layer.batch_norm = !first && !last && shape.d_batchnorm;
    in = layer.out_channels;
    layout.layers.push_back(std::move(layer));
  }
  return layout;
}

std::vector<std::string> LayerNamesOf(const std::string& arch) {
  DcganShape shape;
  shape.image_size = arch == "dcgan64" ? 64 : 32;
  return GeneratorLayout(shape).names();
}

int DatasetChannels(const std::string& dataset_name) {
  return dataset_name == "cifar10" || dataset_name == "image-folder" ? 3 : 1;
}

int64_t PackedWeightBytes(int64_t weights, int bits) {
  if (bits >= 32) return weights * 4;
  return (int64_t{1} << bits) * 4 + (weights * bits + 7) / 8;
}

}  // namespace bitsweep
