// The layer-allocation search: per-layer widths of the generator, the whole
// front of packed bytes against quality, and the fewest bytes that surely
// meet a quality bound (docs/searches.md, "layer_allocation").
//
//  1. Baselines: a full-precision G and D per seed, trained here (uploading
//     their checkpoints) or named (strategy.baseline_jobs).
//  2. The reference: each seed's baseline "quantized" at full precision by
//     the same post-training pipeline (batch-norm re-estimation, evaluation
//     on the sweep's latents), so every ratio compares like with like.
//  3. Sensitivities, once per method on the first seed's baseline: each
//     layer alone at each of its candidate widths (the others at full
//     precision), by post-training quantization, with the FID, its standard
//     error and the output-distortion proxy. Each is looked up in the
//     store's measurements first (keyed by the checkpoint's hash, method,
//     widths, batch-norm re-estimation and the rest of the spec), so another
//     budget or bound on the same baseline runs none of them again.
//  4. The front (allocation_front.h): exact over every allocation under the
//     damage model "log(FID / FID at full precision) is the sum of the
//     layers' own log ratios" (each floored at 0: quantizing a layer is not
//     taken to help; a measured gain is noise).
//  5. Measurement: predicted is a hypothesis, measured is the answer. Real
//     post-training jobs measure every uniform width (the reference line),
//     a spread of front points, the points whose predicted FID lies near the
//     bound, and the best predicted points within the budget. Points near
//     the bound and the uniform widths are judged with the verdict
//     statistics of multi_precision (verdict.h; undecided ones get more
//     seeds). The bound's answer is the cheapest front point that meets it,
//     with its cheaper neighbour measured not to (the range widens along the
//     front until that holds, or until no point is left).
//  6. The answers again as warm-started quantization-aware training (qat),
//     reported beside the post-training numbers: additivity is an
//     assumption, and training may recover what post-training loses.
//
// State: the trials (configuration, seed, outcome; cached ones marked with
// the job that measured them) and each seed's baseline identity. The front,
// the ranges and every verdict are functions of them.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/network_layout.h"
#include "coordinator/strategies/allocation_front.h"
#include "coordinator/strategies/trial_status.h"
#include "coordinator/strategies/verdict.h"
#include "coordinator/strategy.h"

namespace bitsweep::coordinator {

class LayerAllocationStrategy : public Strategy {
 public:
  static Result<std::unique_ptr<Strategy>> Create(const SweepSpec& sweep, const nlohmann::json& saved_state,
                                                  MeasurementCache* cache);

  Result<std::vector<JobPlan>> Propose(int max_new) override;
  void Observe(const TrialResult& result) override;
  bool Done() const override;
  int MaxInFlight() const override { return spec_.max_in_flight; }
  std::vector<PtqMeasurement> TakeMeasurements() override;
  nlohmann::json SaveState() const override;
  nlohmann::json Outcome() const override;

 private:
  enum class Kind { kBaseline, kPtq, kQat };
  /// One generator: how it is made, its method ("none" for the baselines
  /// and the reference) and every layer's width.
  struct Config {
    Kind kind = Kind::kPtq;
    std::string method = "none";
    std::vector<int> bits;
    bool operator==(const Config& o) const { return kind == o.kind && method == o.method && bits == o.bits; }
  };
  struct Trial {
    Config config;
    uint64_t seed = 0;
    TrialStatus status = TrialStatus::kPending;
    int64_t job_id = 0;
    double value = 0.0;  // fid
    double std = 0.0;    // its sampling standard error (0: not measured)
    std::optional<double> distortion;
    /// Answered from the store's measurements (job_id measured it).
    bool cached = false;
    /// Baselines: what a post-training job quantizes (the checkpoint's
    /// SHA-256, or "spec:<hash>"). Post-training trials: the context hash
    /// of their measurement key.
    std::string identity;
    /// A baseline named by its file (strategy.baseline_files): the path the
    /// jobs start from (job_id is then 0).
    std::string file;
    std::string error;
  };
  enum class Verdict { kUntried, kBusy, kNeedsSeed, kPass, kFail, kUndecided };
  /// A method's front, once its sensitivities are in.
  struct Front {
    bool ready = false;
    std::string error;
    /// Per layer, width -> damage (log FID ratio, floored at 0).
    std::vector<std::map<int, double>> damage;
    std::vector<Allocation> points;
  };
  /// The bound's search along a front (indices into Front::points).
  struct BoundSearch {
    bool determined = false;
    int lo = 0, hi = -1;
    int answer = -1;
  };

  LayerAllocationStrategy(const SweepSpec& sweep, MeasurementCache* cache);

  // ---- configurations ----
  Config Baseline() const;
  Config Reference() const;
  /// A configuration; all at full precision it has method "none" whatever
  /// `method` says (the job is the same).
  static Config Make(Kind kind, const std::string& method, std::vector<int> bits);
  Config Ptq(const std::string& method, std::vector<int> bits) const { return Make(Kind::kPtq, method, std::move(bits)); }
  Config Alone(const std::string& method, size_t layer, int bits) const;
  /// Uniform width `bits`: every free layer at it, pinned layers at theirs.
  Config Uniform(const std::string& method, int bits) const;
  int64_t Bytes(const std::vector<int>& bits) const;
  /// The params of a trial of `config` on `seed`, starting from job `init`
  /// or, where `init_file` is not empty, from that checkpoint file.
  nlohmann::json Params(const Config& config, uint64_t seed, int64_t init, const std::string& init_file = "") const;
  /// Whether the baselines are named (jobs or files), never trained here.
  bool NamedBaselines() const { return !spec_.baseline_jobs.empty() || !spec_.baseline_files.empty(); }
  Config ConfigOf(const nlohmann::json& params) const;

  // ---- what the trials say ----
  const Trial* Find(const Config& config, uint64_t seed) const;
  std::vector<const Trial*> TrialsOf(const Config& config) const;
  /// The baseline trial of `seed` (null: not proposed).
  const Trial* BaselineOf(uint64_t seed) const { return Find(Baseline(), seed); }
  bool FirstBaselineFailed() const;
  uint64_t FirstSeed() const { return seeds_.front(); }
  uint64_t SeedAt(size_t i) const;
  /// The reference FID of `seed` (nullopt while unknown or failed).
  std::optional<double> ReferenceOf(uint64_t seed) const;
  Front FrontOf(const std::string& method) const;
  /// log(bound / reference of the first seed): where the front meets the
  /// bound; nullopt without a bound or a reference.
  std::optional<double> BoundDamage() const;
  BoundSearch SearchBound(const Front& front, const std::string& method) const;
  /// Front points measured for the picture: a spread by index.
  std::vector<int> SpreadPoints(const Front& front) const;
  /// The best predicted front points within the budget.
  std::vector<int> BudgetPoints(const Front& front) const;

  // ---- verdicts (as multi_precision's, on post-training margins) ----
  struct Margins {
    std::vector<double> margins;
    double sampling_variance = 0.0;
  };
  std::optional<Margins> MarginsOf(const Config& config) const;
  PooledSpread Spread() const;
  /// Verdicts rest on the evaluation's sampling error alone: every
  /// configuration has one seed and cannot get another (max_seeds 1).
  bool SamplingOnly() const { return spec_.max_seeds <= 1; }
  std::optional<Judgement> Statistics(const Config& config) const;
  Verdict Judge(const Config& config) const;
  /// The seeds `config` should have by now (judged ones get more while
  /// undecided).
  std::vector<uint64_t> SeedsWanted(const Config& config, bool judged) const;
  /// The seeds to run `config` on: a layer's sensitivity only on the first.
  std::vector<uint64_t> SeedsToRun(const Config& config, bool judged) const;
  /// Configurations judged against the bound (uniforms and the bound's
  /// range), per method.
  std::vector<Config> JudgedConfigs(const std::string& method) const;
  /// Everything the search wants run now, most needed first, with whether
  /// each is judged (gets extra seeds).
  std::vector<std::pair<Config, bool>> Wanted() const;
  /// The QAT re-measurements wanted once the answers are known.
  std::vector<Config> QatConfigs(const std::string& method) const;
  /// The measured mean FID of a configuration over its succeeded seeds.
  struct Measured {
    int n = 0;
    double mean = 0.0, se = 0.0;
    std::optional<double> distortion;
    bool failed = false;
    bool complete = false;  // every proposed seed finished
  };
  Measured MeasuredOf(const Config& config) const;
  std::optional<Config> BudgetAnswer(const std::string& method, const Front& front) const;

  /// `done`: whether the search has ended (a measured point short of
  /// seeds is then undecided, not pending).
  nlohmann::json MethodOutcome(const std::string& method, bool done) const;
  nlohmann::json ConfigJson(const Config& config, const Front& front, bool done) const;

  LayerAllocationSpec spec_;
  nlohmann::json base_;
  bool synthetic_ = false;
  MeasurementCache* cache_;
  NetworkLayout layout_;
  std::vector<std::string> names_;
  /// Candidate widths per layer, ascending.
  std::vector<std::vector<int>> candidates_;
  /// The seeds of the baselines (spec seeds, or the named jobs').
  std::vector<uint64_t> seeds_;
  std::vector<Trial> trials_;
  std::vector<PtqMeasurement> to_store_;
};

}  // namespace bitsweep::coordinator
