// The parameters of the adaptive search strategies, parsed and validated
// from a sweep spec's "strategy" object (the grid's axes live in SweepSpec).
//
// Errors name the field by its full path ("strategy.requirement.metric: ...")
// so that an invalid search is refused at submit, before anything runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/job_spec.h"
#include "common/spec_reader.h"
#include "common/status.h"

namespace bitsweep {

/// Whether a lower value of `metric` is better (fid, kid) or a higher one (is).
bool LowerIsBetter(const std::string& metric);

/// The sample quality a configuration must reach.
struct Requirement {
  /// fid, is or kid (as the results table names them).
  std::string metric = "fid";
  /// Bound relative to the full-precision baseline: fid <= r x baseline,
  /// is >= r x baseline. Set when the bound is relative.
  std::optional<double> relative_to_baseline;
  /// Absolute bound (the direction follows the metric): fid <= bound.
  std::optional<double> absolute;

  /// The bound a value must meet, given the baseline (ignored when absolute).
  double Threshold(double baseline) const;
  bool Meets(double value, double threshold) const;
  /// "fid <= 1.10 x baseline" or "is >= 8".
  std::string Describe() const;
  nlohmann::json ToJson() const;
};

/// Reads a "requirement" object: metric, and exactly one of
/// relative_to_baseline or the absolute bound (at_most; at_least for is).
Requirement ReadRequirement(SpecReader r);

/// How the seeds of one configuration combine into its quality.
enum class Aggregate { kMean, kMedian, kWorst };
const char* AggregateName(Aggregate aggregate);

/// QGAN's multi-precision search (DESIGN.md, "Search strategies").
struct MultiPrecisionSpec {
  /// Quantization methods searched, each on its own.
  std::vector<std::string> methods;
  /// Candidate bit-widths, ascending, each 1..8.
  std::vector<int> bits;
  Requirement requirement;
  /// Every configuration runs once per seed.
  std::vector<uint64_t> seeds = {1};
  /// How sure a verdict must be: a configuration meets (or fails) the
  /// requirement only when it does at this one-sided confidence over seeds
  /// and sampling; otherwise it is undecided and gets another seed, up to
  /// max_seeds. 0 turns the statistics off: the aggregate of `seeds` is
  /// compared with the bound, as a point estimate.
  double confidence = 0.9;
  /// Most seeds an undecided configuration gets (the extra seeds continue
  /// after the largest of `seeds`). At least seeds.size().
  int max_seeds = 0;
  Aggregate aggregate = Aggregate::kMean;
  /// Most jobs of the search running or queued at once.
  int max_in_flight = 4;
  /// Also search the discriminator's bits (with G at its chosen width).
  bool search_d = true;
  /// Warm start: each seed's baseline uploads its checkpoint, and every
  /// quantized configuration of that seed fine-tunes from it (for its own
  /// train.iterations) instead of training from scratch.
  bool warm_start = false;
  /// With warm_start: train.iterations of every fine-tuned configuration,
  /// so the baseline can train to convergence and the fine-tunes stay short
  /// (docs/protocols.md measures 300 after 3,000). 0: the base spec's.
  int64_t fine_tune_iterations = 0;
  /// Post-training quantization as a cheap first screen (multi-fidelity):
  /// each seed's baseline uploads its checkpoint, every G width is first
  /// quantized post-training; the narrowest width whose PTQ generator meets
  /// the requirement is an answer already, so quantization-aware training
  /// runs only for narrower widths (docs/searches.md).
  bool ptq_screen = false;
  /// ptq.bn_batches of the screen's PTQ jobs (batch-norm re-estimation).
  int ptq_bn_batches = PtqSpec().bn_batches;

  nlohmann::json ToJson() const;
};

/// One dimension of a random search space.
struct RandomAxis {
  enum class Kind { kChoice, kUniform, kLogUniform, kIntUniform };
  std::string path;
  Kind kind = Kind::kChoice;
  std::vector<nlohmann::json> choices;
  double low = 0.0, high = 0.0;

  nlohmann::json ToJson() const;
};

/// Random search: `trials` points drawn from `space`, reproducibly from `seed`.
struct RandomSpec {
  std::vector<RandomAxis> space;
  int trials = 10;
  uint64_t seed = 1;
  int max_in_flight = 4;

  nlohmann::json ToJson() const;
};

/// Successive halving on training budget: every configuration trains for
/// min_iterations; the best 1/eta continue (from their checkpoints) for eta
/// times as long, and so on up to max_iterations.
struct SuccessiveHalvingSpec {
  /// The configurations: a grid (path -> values) ...
  nlohmann::json axes;  // null when drawn at random
  /// ... or `configurations` points drawn from a random space.
  std::vector<RandomAxis> space;
  int configurations = 0;
  uint64_t seed = 1;
  /// Ranking metric: fid, is or kid.
  std::string metric = "fid";
  int64_t min_iterations = 100;
  int64_t max_iterations = 1000;
  int eta = 3;
  int max_in_flight = 8;

  /// The training budget of each rung, from min_iterations to max_iterations.
  std::vector<int64_t> Budgets() const;
  nlohmann::json ToJson() const;
};

/// Parsers: `strategy` reads the sweep's "strategy" object; `base` is the
/// canonical base job spec (paths must be fields of it).
Result<MultiPrecisionSpec> ReadMultiPrecision(SpecReader strategy);
Result<RandomSpec> ReadRandom(SpecReader strategy, const nlohmann::json& json, const nlohmann::json& base);
Result<SuccessiveHalvingSpec> ReadSuccessiveHalving(SpecReader strategy, const nlohmann::json& json,
                                                    const nlohmann::json& base);

/// Draws point `index` of a random space, reproducibly from `seed`.
nlohmann::json DrawRandomPoint(const std::vector<RandomAxis>& space, uint64_t seed, uint64_t index);

}  // namespace bitsweep
