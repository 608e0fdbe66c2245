// One measurement of sample quality, as results carry it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace bitsweep {

struct MetricValue {
  /// fid, is or kid; "distortion" for the output-distortion proxy of a
  /// post-training job (ptq.distortion_samples).
  std::string metric;
  double value = 0.0;
  /// The sampling standard error of `value`: how far it may be from what an
  /// unlimited sample of the same generator would give (bootstrap over the
  /// generated samples for FID and IS, disjoint blocks for KID; see
  /// qgan/metrics/sampling_error.h). Absent where not estimated.
  std::optional<double> std;
  /// Training iteration the samples came from.
  int64_t step = 0;
  int64_t n_samples = 0;
  /// Which evaluator produced it, and the hash of its file.
  std::string evaluator;
  std::string evaluator_hash;

  nlohmann::json ToJson() const;
  static MetricValue FromJson(const nlohmann::json& j);
};

}  // namespace bitsweep
