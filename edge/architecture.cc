#include "edge/architecture.h"

namespace bitsweep::edge {

bool ValidArch(const Arch& arch, std::string* why) {
  if (arch.image_size != 32 && arch.image_size != 64) {
    *why = "image_size " + std::to_string(arch.image_size) + " is not 32 or 64";
  } else if (arch.channels != 1 && arch.channels != 3) {
    *why = "channels " + std::to_string(arch.channels) + " is not 1 or 3";
  } else if (arch.nz < 1 || arch.nz > kMaxNz) {
    *why = "nz " + std::to_string(arch.nz) + " is outside 1.." + std::to_string(kMaxNz);
  } else if (arch.ngf < 1 || arch.ngf > kMaxNgf) {
    *why = "ngf " + std::to_string(arch.ngf) + " is outside 1.." + std::to_string(kMaxNgf);
  } else {
    return true;
  }
  return false;
}

std::vector<LayerShape> GeneratorLayers(const Arch& arch) {
  // Channel multipliers of the hidden layers, widest first (as in
  // qgan/models/dcgan.cc): 4 -> 8 -> 16 -> 32, one stage more for 64.
  const std::vector<int> multipliers = arch.image_size == 64 ? std::vector<int>{8, 4, 2, 1} : std::vector<int>{4, 2, 1};
  std::vector<LayerShape> layers;
  int cin = arch.nz;
  int size = 1;
  for (size_t i = 0; i <= multipliers.size(); ++i) {
    const bool first = i == 0;
    const bool last = i == multipliers.size();
    LayerShape layer;
    layer.name = "conv" + std::to_string(i + 1);
    layer.norm = last ? "" : "bn" + std::to_string(i + 1);
    layer.kind = first ? LayerKind::kProject : LayerKind::kUpsample2x;
    layer.cin = cin;
    layer.cout = last ? arch.channels : multipliers[i] * arch.ngf;
    layer.in_size = size;
    layer.out_size = first ? 4 : 2 * size;
    layers.push_back(layer);
    cin = layer.cout;
    size = layer.out_size;
  }
  return layers;
}

}  // namespace bitsweep::edge
