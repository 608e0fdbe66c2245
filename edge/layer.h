// One layer of the generator as the runtime holds it, and how it is built
// from the file's tensors.
//
// Weights are held one of two ways:
//   packed  (bits 1..8): the level table plus the file's b-bit codes,
//           reordered at load into the order the kernels read them
//           (tile_layout.h) so that a tile decodes as one contiguous run;
//           still b bits per weight.
//   float   (bits 32): float32 in that same order. Layers the file stores in
//           float32 are always held so; WeightMode::kFloat32 decodes packed
//           layers too (the runtime's float path, to compare against).
// Batch norm is folded in at load: scale = gamma / sqrt(var + eps) and
// bias = beta - mean * scale per output channel. Float weights take the
// scale into the weights; packed weights cannot, so their kernels apply it
// to the sums.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edge/architecture.h"
#include "edge/bsg_file.h"
#include "edge/status.h"
#include "edge/tile_layout.h"

namespace bitsweep::edge {

enum class WeightMode {
  /// Keep packed layers packed; decode a tile at a time while generating.
  kPacked,
  /// Decode every layer to float32 at load.
  kFloat32,
};

struct Layer {
  LayerShape shape;
  /// The output layer: planar kernels, tanh, weights [phase][cout][tap][cin].
  bool output = false;
  /// 1..8 packed, 32 float.
  int bits = 32;
  /// Packed: 2^bits levels.
  std::vector<float> levels;
  /// Packed: the codes in kernel order, then kCodePadding zero bytes.
  std::vector<uint8_t> codes;
  /// Float: the weights in kernel order (hidden layers: every tile).
  std::vector<float> floats;
  /// Folded batch norm of hidden layers, one per output channel padded to
  /// whole column blocks. `scale` is empty when it is in `floats`.
  std::vector<float> scale;
  std::vector<float> bias;
  /// Hidden layers: how the weights are cut into tiles.
  TileGeometry tiles;

  bool packed() const { return bits <= 8; }
  /// Bytes held for this layer's parameters (weights, levels, folded norm).
  int64_t held_bytes() const;
};

/// Input channels per tile: a 16-slot tile of kKc x nr floats stays within
/// a core's L2 cache (128 x 32 floats x 16 slots = 256 KiB at nr 32).
constexpr int kKc = 128;

/// Builds `shape`'s layer from `file` for kernels `nr` columns wide.
Status BuildLayer(const BsgFile& file, const LayerShape& shape, bool output, int nr, WeightMode mode,
                  const std::string& source, Layer* layer);

}  // namespace bitsweep::edge
