// Sampling from a packed generator file (the `bitsweep sample` command).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace bitsweep::qgan {

struct SampleSummary {
  std::string method;
  int bits = 32;
  int64_t packed_bytes = 0;
  int64_t full_precision_bytes = 0;
};

/// Loads `model_path`, draws `count` images from noise seeded with `seed` and
/// writes them as a PNG grid to `out_png`.
Result<SampleSummary> SampleFromPackedGenerator(const std::string& model_path, int count, uint64_t seed,
                                                const std::string& out_png);

}  // namespace bitsweep::qgan
