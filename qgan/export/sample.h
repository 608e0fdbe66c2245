// Sampling from a packed generator file (the `bitsweep sample` command).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/layer_widths.h"
#include "common/status.h"

namespace bitsweep::qgan {

struct SampleSummary {
  /// The network's method and nominal width (the file's quant.method and
  /// quant.bits); `layers` says what each layer really holds.
  std::string method;
  int bits = 32;
  /// Each layer as the file holds it: its method and width (full precision:
  /// none, 32), weights, and in packed_bytes its weights' bytes in the file
  /// (level table and packed indices, or float32).
  std::vector<LayerWidth> layers;
  /// Whether the layers differ in method or width.
  bool per_layer = false;
  int64_t packed_bytes = 0;
  int64_t full_precision_bytes = 0;
  /// Images drawn.
  int count = 0;
};

struct SampleOptions {
  /// Images to draw, 1..4096; 0: as many as `latents_in` holds, else 64.
  int count = 0;
  /// Seed of LibTorch's generator for the latents (unless `latents_in`).
  uint64_t seed = 1;
  /// The images as a PNG grid ("" = none).
  std::string out_png = "samples.png";
  /// Latent vectors to use instead of drawing them: .npy [N, nz], float32
  /// or float64 (what numpy.save writes). LibTorch's generator cannot be
  /// reproduced elsewhere, so this is how another runtime (the edge
  /// runtime, bitsweep-edge) and this command see the same latents.
  std::string latents_in;
  /// Where to write the latents used, .npy float32 [N, nz] ("" = nowhere).
  std::string latents_out;
  /// Where to write the images, .npy float32 [N, C, H, W] in [-1, 1].
  std::string images_out;
};

/// Loads `model_path` (LibTorch decodes the weights to float32), draws the
/// images from latents seeded with `options.seed` or read from
/// `options.latents_in`, and writes what `options` asks for.
Result<SampleSummary> SampleFromPackedGenerator(const std::string& model_path, const SampleOptions& options);

/// The grid of `count` images from `seed`, written to `out_png`.
Result<SampleSummary> SampleFromPackedGenerator(const std::string& model_path, int count, uint64_t seed,
                                                const std::string& out_png);

}  // namespace bitsweep::qgan
