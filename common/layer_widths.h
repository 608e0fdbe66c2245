// Per-layer widths of a job spec, and what follows from them without
// LibTorch: the exact packed size of the generator and the compact summary
// the results view shows (weight-averaged bits, "2,2,4,8").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/job_spec.h"
#include "common/network_layout.h"

namespace bitsweep {

/// One layer as a spec quantizes it.
struct LayerWidth {
  std::string name;
  LayerQuant quant;
  int64_t weights = 0;
  /// Exact bytes of its weights in the packed generator (PackedWeightBytes).
  int64_t packed_bytes = 0;
};

/// The shapes of the spec's networks (channels from the dataset, batch norm
/// in D unless the loss is wgan-gp).
DcganShape ShapeOf(const JobSpec& spec);

std::vector<LayerWidth> GeneratorWidths(const JobSpec& spec);
std::vector<LayerWidth> DiscriminatorWidths(const JobSpec& spec);

/// Bits per weight averaged over the layers' weights (full precision counts
/// 32): what a uniform width would need to take the same space, tables aside.
double MeanBits(const std::vector<LayerWidth>& widths);

/// The widths in network order, "2,2,4,8" (32 for full precision).
std::string WidthsText(const std::vector<LayerWidth>& widths);
std::string WidthsText(const std::vector<int>& bits);

/// The compact per-layer summary of one network ("g" or "d") of a canonical
/// job spec (as JobSpec::ToJson and PlanJob write it): what the results
/// view shows. Reads only the fields it needs, without validating the spec
/// again, so that planning a million grid points stays cheap.
struct WidthsSummary {
  /// "2,2,4,8".
  std::string text;
  double mean_bits = 32.0;
};
WidthsSummary SummarizeWidths(const nlohmann::json& canonical_spec, const std::string& network);

/// Exact payload bytes of the packed generator (.bsg) of a generator of
/// `layout` whose layers have `bits` (32: float32): every convolution's
/// weights, plus the batch norms' float32 parameters and statistics. The
/// file adds its 12-byte prefix and its JSON header to this.
int64_t PackedPayloadBytes(const NetworkLayout& layout, const std::vector<int>& bits);
/// The same for the generator of `spec`.
int64_t PackedPayloadBytes(const JobSpec& spec);

}  // namespace bitsweep
