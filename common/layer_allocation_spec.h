// The parameters of the layer-allocation search (strategy kind
// "layer_allocation", docs/searches.md): per-layer widths of the generator
// chosen from measured layer sensitivities, against a byte budget and/or a
// quality bound. Errors name the field ("strategy.pinned.conv9: ...").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/spec_reader.h"
#include "common/status.h"
#include "common/strategy_spec.h"

namespace bitsweep {

/// A trained full-precision checkpoint (G and D, as `bitsweep train` writes
/// it) that the search quantizes instead of training a baseline.
struct BaselineFile {
  /// As the workers read it (relative paths resolve against the sweep file).
  std::string path;
  /// The seed of its post-training and fine-tuning jobs.
  uint64_t seed = 0;
  /// SHA-256 of its bytes, 64 lower-case hex digits: the key its stored
  /// measurements are kept under. `bitsweep submit` and `bitsweep local`
  /// compute it from the file (HashBaselineFiles); the coordinator never
  /// reads the file.
  std::string sha256;
};

struct LayerAllocationSpec {
  /// Quantization methods, each allocated on its own.
  std::vector<std::string> methods;
  /// Candidate widths of every layer (1..8; 32 = the layer may stay at full
  /// precision), ascending.
  std::vector<int> bits;
  /// Candidate widths of single layers, replacing `bits` for them.
  std::map<std::string, std::vector<int>> layer_bits;
  /// Layers held at one width (32: full precision); their sensitivity is
  /// still measured, so the prediction includes them.
  std::map<std::string, int> pinned;
  /// The quality bound (fid only: the damage model is on log FID): the
  /// search finds the fewest bytes that surely meet it.
  std::optional<Requirement> requirement;
  /// The byte budget (packed payload bytes): the search finds the best
  /// measured quality within it.
  std::optional<int64_t> budget_bytes;
  /// Seeds of the baselines: every judged configuration runs once per seed
  /// (post-training, on that seed's baseline); sensitivities are measured on
  /// the first seed's baseline.
  std::vector<uint64_t> seeds = {1};
  /// Verdicts (as in multi_precision): meets or fails at this one-sided
  /// confidence, else undecided and another seed, up to max_seeds; 0 compares
  /// point estimates.
  double confidence = 0.9;
  int max_seeds = 0;
  /// ptq.bn_batches of every post-training job.
  int ptq_bn_batches = 20;
  /// ptq.distortion_samples: the label-free proxy measured beside each FID.
  int distortion_samples = 256;
  /// Front points whose predicted log(FID / full precision) lies within
  /// this of the bound's are measured and judged first.
  double window = 0.25;
  /// Further front points measured, spread along it by bytes.
  int spread = 6;
  /// Re-measure the answers as warm-started quantization-aware training.
  bool qat = true;
  /// train.iterations of those fine-tunes (0: the base spec's).
  int64_t fine_tune_iterations = 0;
  /// Finished full-precision jobs (one per seed, with uploaded checkpoints)
  /// to quantize instead of training baselines: their stored sensitivities
  /// and measurements are reused.
  std::vector<int64_t> baseline_jobs;
  /// Checkpoint files (one per seed) to quantize instead of training
  /// baselines, keyed by their SHA-256: a search on the same file (or on a
  /// job whose uploaded checkpoint has the same bytes) reuses the stored
  /// measurements. Not with baseline_jobs or seeds.
  std::vector<BaselineFile> baseline_files;
  int max_in_flight = 4;

  /// The candidate widths of layer `name` (pinned: its one width).
  std::vector<int> CandidatesOf(const std::string& name) const;
  nlohmann::json ToJson() const;
};

/// Reads the "strategy" object of a layer-allocation sweep; `base` is the
/// canonical base job spec (its model names the layers); relative
/// baseline_files paths resolve against `base_dir`. Reads no file.
Result<LayerAllocationSpec> ReadLayerAllocation(SpecReader strategy, const nlohmann::json& base,
                                                const std::string& base_dir = "");

}  // namespace bitsweep
