// QGAN's multi-precision search: the fewest bits that still meet a quality
// requirement (DESIGN.md, "Search strategies", our reading of the paper).
//
//  1. The full-precision baseline, once per seed.
//  2. Per method, with D at full precision: the fewest G bits whose quality
//     (aggregated over seeds) meets the requirement.
//  3. Per method, with G at that width: the fewest D bits that still meet it.
//
// Quality is taken to be monotone in bits: a width that meets the
// requirement implies every wider one does, one that fails implies every
// narrower one fails. So a search over the candidate widths is a bisection,
// and a configuration whose verdict is implied is never run. With idle
// capacity the bisection becomes a k-section: the widest unresolved gaps
// are split at once, and the G searches of all methods start while the
// baseline still runs (their verdicts wait for it).
//
// With the PTQ screen (ptq_screen), step 2 first searches the widths with
// post-training quantization of each seed's baseline; a PTQ generator that
// meets the requirement is an answer at its width, so training runs only
// for narrower widths (docs/searches.md, "The PTQ screen").
//
// A configuration with a failed job (a run that diverged, or one whose
// attempts ran out) fails the requirement, and the reason is recorded.
//
// Verdicts carry their uncertainty (verdict.h): a configuration meets or
// fails only at the spec's confidence over seeds and sampling; one that is
// undecided gets another seed (and so does the baseline, to stay paired),
// up to max_seeds. Still undecided then, it counts as failing: the width
// chosen is the fewest that surely meet the requirement.
//
// State: the list of trials (configuration, seed, outcome). Every decision
// is a function of it, so it is all a restart needs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/strategies/trial_status.h"
#include "coordinator/strategies/verdict.h"
#include "coordinator/strategy.h"

namespace bitsweep::coordinator {

class MultiPrecisionStrategy : public Strategy {
 public:
  static Result<std::unique_ptr<Strategy>> Create(const SweepSpec& sweep, const nlohmann::json& saved_state);

  Result<std::vector<JobPlan>> Propose(int max_new) override;
  void Observe(const TrialResult& result) override;
  bool Done() const override;
  int MaxInFlight() const override { return spec_.max_in_flight; }
  nlohmann::json SaveState() const override;
  nlohmann::json Outcome() const override;

 private:
  /// One network's quantization: method "none" with 32 bits is full precision.
  struct Net {
    std::string method = "none";
    int bits = 32;
    bool operator==(const Net& o) const { return method == o.method && bits == o.bits; }
  };
  struct Config {
    Net g, d;
    /// G quantized post-training (the PTQ screen), not trained.
    bool ptq = false;
    bool operator==(const Config& o) const { return g == o.g && d == o.d && ptq == o.ptq; }
  };
  struct Trial {
    Config config;
    uint64_t seed = 0;
    TrialStatus status = TrialStatus::kPending;
    int64_t job_id = 0;
    double value = 0.0;
    /// Sampling standard error of `value` (0 when not measured).
    double std = 0.0;
    std::string error;
    int64_t model_bytes = 0;
  };
  /// What a configuration's trials say so far.
  struct Evaluation {
    int proposed = 0, finished = 0, succeeded = 0;
    double value = 0.0, std = 0.0;
    int64_t model_bytes = 0;
    std::string failure;  // first failed seed's error
    /// Every proposed seed finished, and at least `seeds` of them.
    bool complete(size_t seeds) const { return finished == proposed && finished >= static_cast<int>(seeds); }
  };
  /// kNeedsSeed: undecided, and another seed may decide it. kUndecided:
  /// undecided with max_seeds spent (the search treats it as failing).
  enum class Verdict { kUntried, kBusy, kNeedsSeed, kPass, kFail, kUndecided };
  /// A configuration's per-seed margins against the bound (verdict.h), with
  /// the mean sampling variance of one margin.
  struct Margins {
    std::vector<double> margins;
    double sampling_variance = 0.0;
  };
  /// The state of one bisection over the candidate widths.
  struct Search {
    std::vector<Config> candidates;  // ascending bits
    bool determined = false;
    int answer = -1;                 // index into candidates, -1: none meets
    std::vector<int> picks;          // candidates to start now, best first
  };

  MultiPrecisionStrategy(const SweepSpec& sweep) : spec_(sweep.multi_precision), base_(sweep.base) {}

  Config Baseline() const { return Config{}; }
  Evaluation Evaluate(const Config& config) const;
  /// The bound configurations must meet; none while the baseline runs.
  std::optional<double> Threshold() const;
  bool BaselineFailed() const;
  Verdict Judge(const Config& config) const;
  /// The margins of a configuration's finished seeds; nullopt while a
  /// baseline seed they pair with is still running.
  std::optional<Margins> MarginsOf(const Config& config) const;
  /// The seed-to-seed spread of margins, pooled over the configurations of
  /// one kind (trained, or post-training: their noise differs).
  PooledSpread Spread(bool ptq) const;
  /// The statistics of one configuration (needs its margins).
  std::optional<Judgement> Statistics(const Config& config) const;
  /// The i-th seed a configuration runs: spec seeds first, then more.
  uint64_t SeedAt(size_t i) const;
  /// The seeds a configuration should have been given by now.
  std::vector<uint64_t> SeedsWanted(const Config& config) const;
  bool Statistical() const { return spec_.confidence > 0.0; }
  Search RunSearch(std::vector<Config> candidates, int max_picks) const;
  /// The G search of `method`. With the PTQ screen, first over the widths
  /// quantized post-training; once that is determined, over the trained
  /// widths narrower than the narrowest PTQ one that meets, with that PTQ
  /// configuration as the last candidate (it is known to meet).
  Search SearchG(const std::string& method, int max_picks) const;
  /// The D search of `method`, once its G search is determined.
  std::optional<Search> SearchD(const std::string& method, int max_picks) const;
  /// The params of one trial; `init_from_job` (warm starts) names the
  /// baseline job it starts from (0: from scratch).
  nlohmann::json TrialParams(const Config& config, uint64_t seed, int64_t init_from_job = 0) const;
  /// The job a trial warm-starts from (or, post-training, quantizes): 0 for
  /// none (no warm start, the baseline itself, or that seed's baseline
  /// failed), nullopt while that seed's baseline runs.
  std::optional<int64_t> WarmStartJob(const Config& config, uint64_t seed) const;

  MultiPrecisionSpec spec_;
  nlohmann::json base_;
  std::vector<Trial> trials_;
};

}  // namespace bitsweep::coordinator
