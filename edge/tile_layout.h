// Where the kernels find a layer's weights: the layouts, as data.
//
// A transposed 4x4 convolution is computed as sub-pixel phases (see
// conv_layer.h): every output pixel of a phase takes the same few kernel
// positions ("taps"), each from a fixed neighbour of its input pixel. So the
// 16 kernel positions (kh, kw) are ordered by phase, then tap: the "slot".
//   project (1x1 -> 4x4): 16 phases of 1 tap; slot = kh * 4 + kw.
//   upsample (2x): 4 phases (py, px) of 4 taps (dy, dx), where
//     py = 1 - kh % 2, dy = kh / 2 (likewise px, dx from kw),
//     slot = (py * 2 + px) * 4 + dy * 2 + dx,
//   and the tap reads input row ih = a + py - dy for output row 2a + py.
//
// Hidden layers (many output channels) run as an indirect GEMM whose B
// operand is a tile: kc input channels x nr output channels for all 16
// slots, floats laid out [slot][k][nr] (columns past cout are zero). The
// float32 path keeps every tile of the layer, ready to read; the packed path
// keeps the file's codes and decodes one tile at a time into a buffer of at
// most 16 * kc * nr floats.
//
// The output layer (1 or 3 channels, too few for the GEMM's columns) runs
// with the vector lanes along rows of output pixels instead (the planar
// kernel): its weights are laid out [phase][cout][tap][cin].
#pragma once

#include <cstddef>
#include <cstdint>

#include "edge/architecture.h"

namespace bitsweep::edge {

constexpr int kSlots = 16;

/// The slot of kernel position (kh, kw).
inline int KernelSlot(LayerKind kind, int kh, int kw) {
  if (kind == LayerKind::kProject) return kh * 4 + kw;
  const int py = 1 - kh % 2, dy = kh / 2, px = 1 - kw % 2, dx = kw / 2;
  return (py * 2 + px) * 4 + dy * 2 + dx;
}

/// How a hidden layer's B operand is cut into tiles.
struct TileGeometry {
  int cin = 0;
  int cout = 0;
  /// Columns per tile: the micro-kernel's width.
  int nr = 0;
  /// Input channels per tile (the last tile may have fewer).
  int kc = 0;

  int col_blocks() const { return (cout + nr - 1) / nr; }
  int k_blocks() const { return (cin + kc - 1) / kc; }
  /// Input channels in K block `kb`.
  int rows(int kb) const { return kb + 1 < k_blocks() ? kc : cin - kb * kc; }
  /// Output channels in column block `jb`.
  int cols(int jb) const { return jb + 1 < col_blocks() ? nr : cout - jb * nr; }
  /// Floats of tile (jb, kb).
  size_t tile_floats(int kb) const { return size_t{kSlots} * static_cast<size_t>(rows(kb)) * static_cast<size_t>(nr); }
  /// Offset of tile (jb, kb) when all tiles are stored, column block after
  /// column block.
  size_t tile_offset(int jb, int kb) const {
    return static_cast<size_t>(jb) * kSlots * static_cast<size_t>(cin) * static_cast<size_t>(nr) +
           size_t{kSlots} * static_cast<size_t>(kb) * static_cast<size_t>(kc) * static_cast<size_t>(nr);
  }
  /// Floats of all tiles.
  size_t total_floats() const {
    return static_cast<size_t>(col_blocks()) * kSlots * static_cast<size_t>(cin) * static_cast<size_t>(nr);
  }
};

}  // namespace bitsweep::edge
