#include "coordinator/strategies/layer_allocation_strategy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "common/hash.h"
#include "common/layer_widths.h"
#include "coordinator/strategies/seed_stats.h"

namespace bitsweep::coordinator {
namespace {

constexpr int kFullPrecision = 32;
// How many of the best predicted front points within a budget are measured.
constexpr int kBudgetPoints = 3;

// The hash of everything in a post-training job's spec that shapes its
// measurement besides what the key names on its own (the model quantized,
// the method and widths, batch-norm re-estimation): the evaluation and its
// latents, the seed (batch-norm re-estimation's latents), the dataset...
// Not what only training or the machine reads.
std::string MeasurementContext(nlohmann::json spec) {
  spec["quant"].erase("g");
  for (const char* key : {"init_from_job", "init_from_file", "iterations", "checkpoint_every", "log_every",
                          "upload_checkpoint", "resume_from_job"}) {
    spec["train"].erase(key);
  }
  spec.erase("runtime");
  if (spec.contains("ptq")) spec["ptq"].erase("bn_batches");
  return Fnv1a64Hex(spec.dump());
}

double RelativeVariance(double value, double std) { return value > 0.0 ? (std / value) * (std / value) : 0.0; }

}  // namespace

LayerAllocationStrategy::LayerAllocationStrategy(const SweepSpec& sweep, MeasurementCache* cache)
    : spec_(sweep.layer_allocation), base_(sweep.base), cache_(cache) {
  synthetic_ = base_.value("task", "qgan") == "synthetic";
  auto base = JobSpec::FromJson(base_);
  layout_ = GeneratorLayout(base.ok() ? ShapeOf(base.value()) : DcganShape{});
  names_ = layout_.names();
  for (const auto& name : names_) candidates_.push_back(spec_.CandidatesOf(name));
  seeds_ = spec_.seeds;
}

Result<std::unique_ptr<Strategy>> LayerAllocationStrategy::Create(const SweepSpec& sweep,
                                                                 const nlohmann::json& saved_state,
                                                                 MeasurementCache* cache) {
  std::unique_ptr<LayerAllocationStrategy> s(new LayerAllocationStrategy(sweep, cache));
  if (saved_state.is_object()) {
    s->seeds_ = saved_state.at("seeds").get<std::vector<uint64_t>>();
    for (const auto& t : saved_state.at("trials")) {
      Trial trial;
      const int kind = t.at("kind").get<int>();
      trial.config = Config{static_cast<Kind>(kind), t.at("method").get<std::string>(),
                            t.at("bits").get<std::vector<int>>()};
      trial.seed = t.at("seed").get<uint64_t>();
      trial.status = ParseTrialStatus(t.value("status", "pending"));
      trial.job_id = t.value("job", int64_t{0});
      trial.value = t.value("value", 0.0);
      trial.std = t.value("std", 0.0);
      if (t.contains("distortion")) trial.distortion = t["distortion"].get<double>();
      trial.cached = t.value("cached", false);
      trial.identity = t.value("identity", "");
      trial.file = t.value("file", "");
      trial.error = t.value("error", "");
      s->trials_.push_back(std::move(trial));
    }
    return std::unique_ptr<Strategy>(std::move(s));
  }

  // A fresh search: refuse at submit what cannot run.
  const nlohmann::json& base = sweep.base;
  const std::string task = base.value("task", "qgan");
  if (task == "ptq") return Status::InvalidArgument("base.task: the search trains or names its baselines: use qgan");
  if (base["quant"]["g"].contains("layers") || base["quant"]["d"].contains("layers")) {
    return Status::InvalidArgument(
        "base.quant: the search sets every layer's width: give fixed widths as strategy.pinned, not quant.*.layers");
  }
  if (task == "qgan") {
    const auto metrics = base.contains("eval") ? base["eval"].value("metrics", nlohmann::json::array())
                                               : nlohmann::json::array();
    if (std::find(metrics.begin(), metrics.end(), "fid") == metrics.end()) {
      return Status::InvalidArgument("strategy: the layer allocation judges FID: add fid to base.eval.metrics");
    }
  }
  if (!sweep.layer_allocation.baseline_jobs.empty()) {
    if (cache == nullptr) return Status::FailedPrecondition("strategy.baseline_jobs: no store to read them from");
    s->seeds_.clear();
    for (size_t i = 0; i < sweep.layer_allocation.baseline_jobs.size(); ++i) {
      const int64_t id = sweep.layer_allocation.baseline_jobs[i];
      const std::string field = "strategy.baseline_jobs[" + std::to_string(i) + "]";
      auto found = cache->FindBaseline(id);
      if (!found.ok()) return found.status().WithContext(field);
      if (!found->succeeded) return Status::InvalidArgument(field + ": job " + std::to_string(id) + " did not succeed");
      if (found->checkpoint_sha256.empty()) {
        return Status::InvalidArgument(field + ": job " + std::to_string(id) +
                                       " uploaded no checkpoint (run it with train.upload_checkpoint)");
      }
      const auto seed = static_cast<uint64_t>(found->seed);
      if (std::find(s->seeds_.begin(), s->seeds_.end(), seed) != s->seeds_.end()) {
        return Status::InvalidArgument(field + ": another named baseline has seed " + std::to_string(seed) +
                                       " (one baseline per seed)");
      }
      s->seeds_.push_back(seed);
      Trial trial;
      trial.config = s->Baseline();
      trial.seed = seed;
      trial.status = TrialStatus::kSucceeded;
      trial.job_id = id;
      trial.cached = true;
      trial.identity = found->checkpoint_sha256;
      s->trials_.push_back(std::move(trial));
    }
  }
  // Named checkpoint files: each is its seed's baseline, known by the
  // SHA-256 the submitting command computed (the coordinator reads no file).
  const auto& files = sweep.layer_allocation.baseline_files;
  for (size_t i = 0; i < files.size(); ++i) {
    if (files[i].sha256.empty()) {
      return Status::InvalidArgument("strategy.baseline_files[" + std::to_string(i) +
                                     "].sha256: missing (bitsweep submit and bitsweep local compute it from the file)");
    }
    Trial trial;
    trial.config = s->Baseline();
    trial.seed = files[i].seed;
    trial.status = TrialStatus::kSucceeded;
    trial.cached = true;
    trial.identity = files[i].sha256;
    trial.file = files[i].path;
    s->trials_.push_back(std::move(trial));
  }
  // Every kind of job the search may run must be a valid job.
  const std::string method = sweep.layer_allocation.methods.front();
  std::vector<int> mixed(s->names_.size(), kFullPrecision);
  mixed.front() = s->candidates_.front().front();
  const std::string init_file = files.empty() ? "" : files.front().path;
  for (const Config& config :
       {s->Baseline(), s->Reference(), s->Ptq(method, mixed), Make(Kind::kQat, method, mixed)}) {
    auto plan = PlanJob(base, s->Params(config, s->FirstSeed(), /*init=*/1, init_file));
    if (!plan.ok()) return plan.status().WithContext("strategy");
  }
  return std::unique_ptr<Strategy>(std::move(s));
}

// ---- configurations ----

LayerAllocationStrategy::Config LayerAllocationStrategy::Make(Kind kind, const std::string& method,
                                                              std::vector<int> bits) {
  const bool full = std::all_of(bits.begin(), bits.end(), [](int b) { return b == kFullPrecision; });
  return Config{kind, full ? "none" : method, std::move(bits)};
}

LayerAllocationStrategy::Config LayerAllocationStrategy::Baseline() const {
  return Config{Kind::kBaseline, "none", std::vector<int>(names_.size(), kFullPrecision)};
}

LayerAllocationStrategy::Config LayerAllocationStrategy::Reference() const {
  return Ptq("none", std::vector<int>(names_.size(), kFullPrecision));
}

LayerAllocationStrategy::Config LayerAllocationStrategy::Alone(const std::string& method, size_t layer,
                                                               int bits) const {
  std::vector<int> widths(names_.size(), kFullPrecision);
  widths[layer] = bits;
  return Ptq(method, widths);
}

LayerAllocationStrategy::Config LayerAllocationStrategy::Uniform(const std::string& method, int bits) const {
  std::vector<int> widths;
  for (const auto& name : names_) {
    auto pinned = spec_.pinned.find(name);
    widths.push_back(pinned != spec_.pinned.end() ? pinned->second : bits);
  }
  return Ptq(method, widths);
}

int64_t LayerAllocationStrategy::Bytes(const std::vector<int>& bits) const { return PackedPayloadBytes(layout_, bits); }

nlohmann::json LayerAllocationStrategy::Params(const Config& config, uint64_t seed, int64_t init,
                                              const std::string& init_file) const {
  // The whole quantization object of G, so that the job's widths follow
  // from its params alone: the method at the narrowest quantized width, and
  // every layer that differs named.
  nlohmann::json g = {{"keep_first_last_fp", false}, {"layers", nullptr}};
  int narrowest = kFullPrecision;
  for (int b : config.bits) narrowest = std::min(narrowest, b);
  if (narrowest == kFullPrecision) {
    g["method"] = "none";
    g["bits"] = kFullPrecision;
  } else {
    g["method"] = config.method;
    g["bits"] = narrowest;
    nlohmann::json layers = nlohmann::json::object();
    for (size_t i = 0; i < names_.size(); ++i) {
      if (config.bits[i] == narrowest) continue;
      layers[names_[i]] = {{"method", config.bits[i] == kFullPrecision ? "none" : config.method},
                           {"bits", config.bits[i]}};
    }
    if (!layers.empty()) g["layers"] = layers;
  }
  nlohmann::json params = {{"quant.g", g},
                           {"quant.d", {{"method", "none"}, {"bits", kFullPrecision}, {"keep_first_last_fp", false},
                                        {"layers", nullptr}}},
                           {"train.seed", seed}};
  const char* init_key = init_file.empty() ? "train.init_from_job" : "train.init_from_file";
  const nlohmann::json init_value = init_file.empty() ? nlohmann::json(init) : nlohmann::json(init_file);
  switch (config.kind) {
    case Kind::kBaseline:
      params["train.upload_checkpoint"] = true;
      break;
    case Kind::kPtq:
      params[init_key] = init_value;
      if (synthetic_) {
        // The synthetic task stands in for post-training quantization with
        // a flag of its own (it has no model to quantize).
        params["synthetic.post_training"] = true;
        if (spec_.distortion_samples > 0) params["synthetic.distortion"] = true;
      } else {
        params["task"] = "ptq";
        params["ptq.bn_batches"] = spec_.ptq_bn_batches;
        if (spec_.distortion_samples > 0) params["ptq.distortion_samples"] = spec_.distortion_samples;
      }
      break;
    case Kind::kQat:
      params[init_key] = init_value;
      if (spec_.fine_tune_iterations > 0) params["train.iterations"] = spec_.fine_tune_iterations;
      break;
  }
  return params;
}

LayerAllocationStrategy::Config LayerAllocationStrategy::ConfigOf(const nlohmann::json& p) const {
  Config config;
  const bool ptq = p.value("task", "") == "ptq" || p.value("synthetic.post_training", false);
  const bool warm = p.contains("train.init_from_job") || p.contains("train.init_from_file");
  config.kind = ptq ? Kind::kPtq : warm ? Kind::kQat : Kind::kBaseline;
  const nlohmann::json g = p.value("quant.g", nlohmann::json::object());
  config.method = g.value("method", "none");
  const int bits = g.value("bits", kFullPrecision);
  const nlohmann::json layers = g.value("layers", nlohmann::json::object());
  for (const auto& name : names_) {
    config.bits.push_back(layers.contains(name) ? layers[name].value("bits", kFullPrecision) : bits);
  }
  return config;
}

// ---- what the trials say ----

const LayerAllocationStrategy::Trial* LayerAllocationStrategy::Find(const Config& config, uint64_t seed) const {
  for (const auto& t : trials_) {
    if (t.config == config && t.seed == seed) return &t;
  }
  return nullptr;
}

std::vector<const LayerAllocationStrategy::Trial*> LayerAllocationStrategy::TrialsOf(const Config& config) const {
  std::vector<const Trial*> out;
  for (const auto& t : trials_) {
    if (t.config == config) out.push_back(&t);
  }
  return out;
}

bool LayerAllocationStrategy::FirstBaselineFailed() const {
  const Trial* b = BaselineOf(FirstSeed());
  const Trial* ref = Find(Reference(), FirstSeed());
  return (b != nullptr && b->status == TrialStatus::kFailed) || (ref != nullptr && ref->status == TrialStatus::kFailed);
}

uint64_t LayerAllocationStrategy::SeedAt(size_t i) const {
  if (i < seeds_.size()) return seeds_[i];
  return *std::max_element(seeds_.begin(), seeds_.end()) + (i - seeds_.size() + 1);
}

std::optional<double> LayerAllocationStrategy::ReferenceOf(uint64_t seed) const {
  const Trial* ref = Find(Reference(), seed);
  if (ref == nullptr || ref->status != TrialStatus::kSucceeded || !(ref->value > 0.0)) return std::nullopt;
  return ref->value;
}

LayerAllocationStrategy::Front LayerAllocationStrategy::FrontOf(const std::string& method) const {
  Front front;
  const auto ref = ReferenceOf(FirstSeed());
  if (!ref) return front;
  std::vector<std::vector<LayerChoice>> choices(names_.size());
  front.damage.resize(names_.size());
  for (size_t l = 0; l < names_.size(); ++l) {
    for (int b : candidates_[l]) {
      double damage = 0.0;
      if (b != kFullPrecision) {
        const Trial* t = Find(Alone(method, l, b), FirstSeed());
        if (t == nullptr || t->status == TrialStatus::kPending) return Front{};  // still measuring
        // A width whose measurement failed is left out of the choices.
        if (t->status == TrialStatus::kFailed) continue;
        damage = std::max(0.0, std::log(t->value / *ref));
      }
      front.damage[l][b] = damage;
      choices[l].push_back(LayerChoice{b, PackedWeightBytes(layout_.layers[l].weights(), b), damage});
    }
    if (choices[l].empty()) {
      front.ready = true;
      front.error = names_[l] + ": every candidate width failed to measure";
      return front;
    }
  }
  front.points = AllocationFront(choices);
  const int64_t fixed = layout_.BatchNormValues() * 4;
  for (auto& point : front.points) point.bytes += fixed;
  front.ready = true;
  return front;
}

std::optional<double> LayerAllocationStrategy::BoundDamage() const {
  if (!spec_.requirement) return std::nullopt;
  if (spec_.requirement->relative_to_baseline) return std::log(*spec_.requirement->relative_to_baseline);
  const auto ref = ReferenceOf(FirstSeed());
  if (!ref) return std::nullopt;
  return std::log(spec_.requirement->absolute.value_or(0.0) / *ref);
}

LayerAllocationStrategy::BoundSearch LayerAllocationStrategy::SearchBound(const Front& front,
                                                                         const std::string& method) const {
  BoundSearch search;
  const auto bound = BoundDamage();
  const int n = static_cast<int>(front.points.size());
  if (!front.ready || !bound || n == 0) {
    search.determined = front.ready && (n == 0 || !spec_.requirement);
    return search;
  }
  // The first range: the points predicted near the bound; without any, the
  // cheapest one predicted to meet it and its cheaper neighbour.
  int lo = n, hi = -1;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(front.points[i].damage - *bound) <= spec_.window) {
      lo = std::min(lo, i);
      hi = std::max(hi, i);
    }
  }
  if (hi < 0) {
    int first = n - 1;
    for (int i = 0; i < n; ++i) {
      if (front.points[i].damage <= *bound) {
        first = i;
        break;
      }
    }
    lo = std::max(0, first - 1);
    hi = first;
  }
  // Widen it along the front until its answer is sure: the cheapest point
  // that meets, its cheaper neighbour measured not to (or none cheaper).
  while (true) {
    search.lo = lo;
    search.hi = hi;
    int cheapest = -1;
    for (int i = lo; i <= hi; ++i) {
      switch (Judge(Ptq(method, front.points[i].bits))) {
        case Verdict::kPass:
          if (cheapest < 0) cheapest = i;
          break;
        case Verdict::kFail:
        case Verdict::kUndecided:
          break;
        default:
          return search;  // still measuring
      }
    }
    if (cheapest < 0) {
      if (hi + 1 < n) {
        ++hi;
        continue;
      }
      search.determined = true;
      return search;
    }
    if (cheapest == lo && lo > 0) {
      --lo;
      continue;
    }
    search.determined = true;
    search.answer = cheapest;
    return search;
  }
}

std::vector<int> LayerAllocationStrategy::SpreadPoints(const Front& front) const {
  std::vector<int> points;
  const int n = static_cast<int>(front.points.size());
  const int k = std::min(spec_.spread, n);
  for (int i = 0; i < k; ++i) {
    const int index = k == 1 ? 0 : static_cast<int>(std::lround(static_cast<double>(i) * (n - 1) / (k - 1)));
    if (points.empty() || points.back() != index) points.push_back(index);
  }
  return points;
}

std::vector<int> LayerAllocationStrategy::BudgetPoints(const Front& front) const {
  std::vector<int> points;
  if (!spec_.budget_bytes) return points;
  for (int i = static_cast<int>(front.points.size()) - 1; i >= 0 && static_cast<int>(points.size()) < kBudgetPoints;
       --i) {
    if (front.points[i].bytes <= *spec_.budget_bytes) points.push_back(i);
  }
  return points;
}

// ---- verdicts ----

std::optional<LayerAllocationStrategy::Margins> LayerAllocationStrategy::MarginsOf(const Config& config) const {
  const auto& req = *spec_.requirement;
  Margins out;
  for (const Trial* t : TrialsOf(config)) {
    if (t->status != TrialStatus::kSucceeded) continue;
    double bound = req.absolute.value_or(0.0);
    double variance = RelativeVariance(t->value, t->std);
    if (req.relative_to_baseline) {
      // Paired: r x the reference of the same seed (same baseline, same
      // latents).
      const Trial* ref = Find(Reference(), t->seed);
      if (ref == nullptr || ref->status == TrialStatus::kPending) return std::nullopt;
      if (ref->status != TrialStatus::kSucceeded) continue;  // that seed says nothing
      bound = *req.relative_to_baseline * ref->value;
      variance += RelativeVariance(ref->value, ref->std);
    }
    out.margins.push_back(Margin(t->value, bound, /*lower_is_better=*/true));
    out.sampling_variance += variance;
  }
  if (out.margins.empty()) return std::nullopt;
  out.sampling_variance /= static_cast<double>(out.margins.size());
  return out;
}

PooledSpread LayerAllocationStrategy::Spread() const {
  std::vector<Config> seen;
  std::vector<std::vector<double>> margins;
  for (const auto& t : trials_) {
    if (t.config.kind != Kind::kPtq || t.config == Reference()) continue;
    if (std::find(seen.begin(), seen.end(), t.config) != seen.end()) continue;
    seen.push_back(t.config);
    if (auto m = MarginsOf(t.config)) margins.push_back(std::move(m->margins));
  }
  PooledSpread spread = PoolSpread(margins);
  if (spread.df <= 0.0 && SamplingOnly()) {
    // One seed and no way to another (one named baseline, or max_seeds 1):
    // the evaluation's sampling error is all there is to judge with, as
    // `bitsweep report` judges one seed (the outcome says so).
    return PooledSpread{0.0, std::numeric_limits<double>::infinity()};
  }
  if (spread.df > 0.0 && spec_.requirement->relative_to_baseline) {
    // Every margin shares the noise of the few references it is paired
    // with: the degrees of freedom are capped by theirs (as multi_precision).
    int references = 0;
    for (const Trial* t : TrialsOf(Reference())) references += t->status == TrialStatus::kSucceeded;
    spread.df = std::min(spread.df, static_cast<double>(references - 1));
  }
  return spread;
}

std::optional<Judgement> LayerAllocationStrategy::Statistics(const Config& config) const {
  auto margins = MarginsOf(config);
  if (!margins) return std::nullopt;
  return JudgeMargins(margins->margins, Spread(), margins->sampling_variance, spec_.confidence);
}

LayerAllocationStrategy::Verdict LayerAllocationStrategy::Judge(const Config& config) const {
  const auto trials = TrialsOf(config);
  if (trials.empty()) return Verdict::kUntried;
  int finished = 0;
  bool failed = false;
  for (const Trial* t : trials) {
    finished += t->status != TrialStatus::kPending;
    failed |= t->status == TrialStatus::kFailed;
  }
  const int proposed = static_cast<int>(trials.size());
  if (finished < proposed || proposed < static_cast<int>(SeedsWanted(config, false).size())) return Verdict::kBusy;
  if (failed) return Verdict::kFail;
  if (spec_.confidence == 0.0) {
    auto margins = MarginsOf(config);
    if (!margins) return Verdict::kBusy;
    double mean = 0.0;
    for (double m : margins->margins) mean += m;
    return mean <= 0.0 ? Verdict::kPass : Verdict::kFail;
  }
  auto stats = Statistics(config);
  if (!stats) return Verdict::kBusy;
  switch (stats->decision) {
    case Decision::kMeets: return Verdict::kPass;
    case Decision::kFails: return Verdict::kFail;
    case Decision::kUndecided: break;
  }
  return proposed < spec_.max_seeds ? Verdict::kNeedsSeed : Verdict::kUndecided;
}

std::vector<uint64_t> LayerAllocationStrategy::SeedsWanted(const Config& config, bool judged) const {
  std::vector<uint64_t> seeds = seeds_;
  auto add = [&](uint64_t seed) {
    if (std::find(seeds.begin(), seeds.end(), seed) == seeds.end()) seeds.push_back(seed);
  };
  if (config == Baseline() || config == Reference()) {
    // Paired comparisons: every seed any configuration runs or is about to.
    for (const auto& t : trials_) add(t.seed);
    for (const auto& method : spec_.methods) {
      for (const Config& c : JudgedConfigs(method)) {
        for (uint64_t seed : SeedsWanted(c, /*judged=*/true)) add(seed);
      }
    }
    return seeds;
  }
  const int proposed = static_cast<int>(TrialsOf(config).size());
  for (size_t i = seeds.size(); i < static_cast<size_t>(proposed); ++i) seeds.push_back(SeedAt(i));
  if (judged && Judge(config) == Verdict::kNeedsSeed) seeds.push_back(SeedAt(static_cast<size_t>(proposed)));
  return seeds;
}

std::vector<uint64_t> LayerAllocationStrategy::SeedsToRun(const Config& config, bool judged) const {
  // A layer's sensitivity is measured once, on the first seed's baseline.
  const bool sensitivity = config.kind == Kind::kPtq && !judged &&
                           std::count_if(config.bits.begin(), config.bits.end(),
                                         [](int b) { return b != kFullPrecision; }) == 1;
  if (sensitivity) return {FirstSeed()};
  return SeedsWanted(config, judged);
}

std::vector<LayerAllocationStrategy::Config> LayerAllocationStrategy::JudgedConfigs(const std::string& method) const {
  std::vector<Config> judged;
  if (!spec_.requirement) return judged;
  const Front front = FrontOf(method);
  if (!front.ready || !front.error.empty()) return judged;
  for (int b : spec_.bits) {
    if (b != kFullPrecision) judged.push_back(Uniform(method, b));
  }
  const BoundSearch search = SearchBound(front, method);
  for (int i = search.lo; i <= search.hi && i < static_cast<int>(front.points.size()); ++i) {
    const Config c = Ptq(method, front.points[i].bits);
    if (std::find(judged.begin(), judged.end(), c) == judged.end()) judged.push_back(c);
  }
  return judged;
}

LayerAllocationStrategy::Measured LayerAllocationStrategy::MeasuredOf(const Config& config) const {
  Measured m;
  std::vector<double> values;
  double variance = 0.0, distortion = 0.0;
  int distortions = 0, finished = 0;
  const auto trials = TrialsOf(config);
  for (const Trial* t : trials) {
    finished += t->status != TrialStatus::kPending;
    if (t->status == TrialStatus::kFailed) m.failed = true;
    if (t->status != TrialStatus::kSucceeded) continue;
    values.push_back(t->value);
    variance += t->std * t->std;
    if (t->distortion) {
      distortion += *t->distortion;
      ++distortions;
    }
  }
  m.complete = !trials.empty() && finished == static_cast<int>(trials.size());
  m.n = static_cast<int>(values.size());
  if (m.n == 0) return m;
  const SeedStats stats = Summarise(values, Aggregate::kMean, /*lower_is_better=*/true);
  m.mean = stats.value;
  // The standard error of the mean over seeds: their spread, or (one seed)
  // the sampling error alone.
  m.se = m.n > 1 ? stats.std / std::sqrt(static_cast<double>(m.n)) : std::sqrt(variance);
  if (distortions > 0) m.distortion = distortion / distortions;
  return m;
}

std::optional<LayerAllocationStrategy::Config> LayerAllocationStrategy::BudgetAnswer(const std::string& method,
                                                                                     const Front& front) const {
  if (!spec_.budget_bytes) return std::nullopt;
  std::optional<Config> best;
  double best_fid = 0.0;
  std::vector<Config> candidates;
  for (int i : BudgetPoints(front)) candidates.push_back(Ptq(method, front.points[i].bits));
  for (int b : spec_.bits) {
    if (b != kFullPrecision) candidates.push_back(Uniform(method, b));
  }
  for (const Config& c : candidates) {
    if (Bytes(c.bits) > *spec_.budget_bytes) continue;
    const Measured m = MeasuredOf(c);
    if (!m.complete) return std::nullopt;  // not all in yet
    if (m.n == 0 || m.failed) continue;
    if (!best || m.mean < best_fid) {
      best = c;
      best_fid = m.mean;
    }
  }
  return best;
}

std::vector<LayerAllocationStrategy::Config> LayerAllocationStrategy::QatConfigs(const std::string& method) const {
  std::vector<Config> qat;
  if (!spec_.qat) return qat;
  const Front front = FrontOf(method);
  if (!front.ready || !front.error.empty()) return qat;
  auto add = [&](const std::vector<int>& bits) {
    const Config c = Make(Kind::kQat, method, bits);
    if (std::find(qat.begin(), qat.end(), c) == qat.end()) qat.push_back(c);
  };
  if (spec_.requirement) {
    const BoundSearch search = SearchBound(front, method);
    if (search.determined && search.answer >= 0) add(front.points[search.answer].bits);
    // The uniform answer too, on the same footing.
    bool all_decided = true;
    for (int b : spec_.bits) {
      if (b == kFullPrecision) continue;
      const Verdict v = Judge(Uniform(method, b));
      if (v != Verdict::kPass && v != Verdict::kFail && v != Verdict::kUndecided) all_decided = false;
    }
    if (search.determined && all_decided) {
      for (int b : spec_.bits) {
        if (b != kFullPrecision && Judge(Uniform(method, b)) == Verdict::kPass) {
          add(Uniform(method, b).bits);
          break;
        }
      }
    }
  }
  if (auto budget = BudgetAnswer(method, front)) add(budget->bits);
  return qat;
}

std::vector<std::pair<LayerAllocationStrategy::Config, bool>> LayerAllocationStrategy::Wanted() const {
  std::vector<std::pair<Config, bool>> wanted;
  auto add = [&](const Config& c, bool judged) {
    for (auto& [config, j] : wanted) {
      if (config == c) {
        j = j || judged;  // a sensitivity that is also judged gets every seed
        return;
      }
    }
    wanted.emplace_back(c, judged);
  };
  add(Baseline(), false);
  add(Reference(), false);
  for (const auto& method : spec_.methods) {
    for (size_t l = 0; l < names_.size(); ++l) {
      for (int b : candidates_[l]) {
        if (b != kFullPrecision) add(Alone(method, l, b), false);
      }
    }
  }
  for (const auto& method : spec_.methods) {
    const Front front = FrontOf(method);
    if (!front.ready || !front.error.empty()) continue;
    for (const Config& c : JudgedConfigs(method)) add(c, true);
    for (int b : spec_.bits) {
      if (b != kFullPrecision) add(Uniform(method, b), false);
    }
    for (int i : BudgetPoints(front)) add(Ptq(method, front.points[i].bits), false);
    for (int i : SpreadPoints(front)) add(Ptq(method, front.points[i].bits), false);
    for (const Config& c : QatConfigs(method)) add(c, false);
  }
  return wanted;
}

// ---- the Strategy interface ----

Result<std::vector<JobPlan>> LayerAllocationStrategy::Propose(int max_new) {
  std::vector<JobPlan> plans;
  // Measurements found in the store change what is wanted next: look again
  // until a pass finds nothing more there.
  for (bool progressed = true; progressed && static_cast<int>(plans.size()) < max_new && !Done();) {
    progressed = false;
    const auto wanted = Wanted();
    std::vector<Trial> added;
    auto proposed = [&](const Config& config, uint64_t seed) {
      auto same = [&](const Trial& t) { return t.config == config && t.seed == seed; };
      return std::any_of(trials_.begin(), trials_.end(), same) || std::any_of(added.begin(), added.end(), same);
    };
    for (const auto& [config, judged] : wanted) {
      if (static_cast<int>(plans.size()) >= max_new) break;
      for (uint64_t seed : SeedsToRun(config, judged)) {
        if (static_cast<int>(plans.size()) >= max_new) break;
        if (proposed(config, seed)) continue;
        Trial trial;
        trial.config = config;
        trial.seed = seed;
        int64_t init = 0;
        std::string model, init_file;
        if (config.kind != Kind::kBaseline) {
          const Trial* baseline = BaselineOf(seed);
          if (baseline == nullptr || baseline->status == TrialStatus::kPending) continue;  // once it has finished
          if (baseline->status == TrialStatus::kFailed) {
            trial.status = TrialStatus::kFailed;
            trial.error = "the baseline of seed " + std::to_string(seed) + " failed: nothing to start from";
            added.push_back(std::move(trial));
            progressed = true;
            continue;
          }
          init = baseline->job_id;
          init_file = baseline->file;
          model = baseline->identity;
        } else if (NamedBaselines()) {
          continue;  // named baselines only
        }
        BITSWEEP_ASSIGN_OR_RETURN(JobPlan plan, PlanJob(base_, Params(config, seed, init, init_file)));
        if (config.kind == Kind::kPtq) {
          trial.identity = MeasurementContext(plan.spec);
          if (cache_ != nullptr) {
            const PtqMeasurementKey key{model, config.method, WidthsText(config.bits),
                                        synthetic_ ? 0 : spec_.ptq_bn_batches, trial.identity};
            if (auto found = cache_->FindMeasurement(key)) {
              trial.status = TrialStatus::kSucceeded;
              trial.cached = true;
              trial.job_id = found->job_id;
              trial.value = found->fid;
              trial.std = found->fid_se.value_or(0.0);
              trial.distortion = found->distortion;
              added.push_back(std::move(trial));
              progressed = true;
              continue;
            }
          }
        }
        plans.push_back(std::move(plan));
        added.push_back(std::move(trial));
      }
    }
    trials_.insert(trials_.end(), added.begin(), added.end());
  }
  return plans;
}

void LayerAllocationStrategy::Observe(const TrialResult& result) {
  const Config config = ConfigOf(result.params);
  const uint64_t seed = result.params.value("train.seed", uint64_t{0});
  for (auto it = trials_.begin(); it != trials_.end(); ++it) {
    Trial& t = *it;
    if (!(t.config == config) || t.seed != seed || t.status != TrialStatus::kPending) continue;
    if (result.cancelled) {
      trials_.erase(it);  // not a verdict on the configuration: proposed again
      return;
    }
    t.job_id = result.job_id;
    if (!result.succeeded) {
      t.status = TrialStatus::kFailed;
      t.error = result.error.empty() ? "job failed" : result.error;
      return;
    }
    if (config.kind == Kind::kBaseline) {
      // What later post-training jobs quantize: the checkpoint (by its
      // hash), or for a job without one (synthetic) its spec.
      auto sha = result.artifact_sha256.find("checkpoint.pt");
      if (sha != result.artifact_sha256.end() && !sha->second.empty()) {
        t.identity = sha->second;
      } else {
        auto plan = PlanJob(base_, result.params);
        nlohmann::json spec = plan.ok() ? plan->spec : result.params;
        spec.erase("runtime");
        t.identity = "spec:" + Fnv1a64Hex(spec.dump());
      }
      t.status = TrialStatus::kSucceeded;
      return;
    }
    auto fid = result.Metric("fid");
    if (!fid || !std::isfinite(*fid)) {
      t.status = TrialStatus::kFailed;
      t.error = fid ? "fid is not finite" : "fid was not measured";
      return;
    }
    t.status = TrialStatus::kSucceeded;
    t.value = *fid;
    int64_t step = -1;
    for (const auto& m : result.metrics) {
      if (m.metric == "fid" && m.step >= step && m.std) {
        step = m.step;
        t.std = *m.std;
      }
    }
    t.distortion = result.Metric("distortion");
    if (config.kind == Kind::kPtq) {
      const Trial* baseline = BaselineOf(seed);
      if (baseline != nullptr && !baseline->identity.empty()) {
        PtqMeasurement m;
        m.key = PtqMeasurementKey{baseline->identity, config.method, WidthsText(config.bits),
                                  synthetic_ ? 0 : spec_.ptq_bn_batches, t.identity};
        m.fid = t.value;
        if (t.std > 0.0) m.fid_se = t.std;
        m.distortion = t.distortion;
        m.job_id = t.job_id;
        to_store_.push_back(std::move(m));
      }
    }
    return;
  }
}

std::vector<PtqMeasurement> LayerAllocationStrategy::TakeMeasurements() {
  std::vector<PtqMeasurement> out;
  out.swap(to_store_);
  return out;
}

bool LayerAllocationStrategy::Done() const {
  if (FirstBaselineFailed()) return true;
  for (const auto& [config, judged] : Wanted()) {
    for (uint64_t seed : SeedsToRun(config, judged)) {
      const Trial* t = Find(config, seed);
      if (config.kind == Kind::kBaseline && NamedBaselines() && t == nullptr) continue;
      if (t == nullptr || t->status == TrialStatus::kPending) return false;
    }
  }
  for (const auto& method : spec_.methods) {
    const Front front = FrontOf(method);
    if (!front.ready) return false;
    if (!front.error.empty()) continue;
    if (spec_.requirement && !SearchBound(front, method).determined) return false;
  }
  return true;
}

nlohmann::json LayerAllocationStrategy::SaveState() const {
  nlohmann::json trials = nlohmann::json::array();
  for (const auto& t : trials_) {
    nlohmann::json j = {{"kind", static_cast<int>(t.config.kind)},
                        {"method", t.config.method},
                        {"bits", t.config.bits},
                        {"seed", t.seed},
                        {"status", TrialStatusName(t.status)}};
    if (t.job_id != 0) j["job"] = t.job_id;
    if (t.status == TrialStatus::kSucceeded && t.config.kind != Kind::kBaseline) j["value"] = t.value;
    if (t.std != 0.0) j["std"] = t.std;
    if (t.distortion) j["distortion"] = *t.distortion;
    if (t.cached) j["cached"] = true;
    if (!t.identity.empty()) j["identity"] = t.identity;
    if (!t.file.empty()) j["file"] = t.file;
    if (!t.error.empty()) j["error"] = t.error;
    trials.push_back(std::move(j));
  }
  return {{"seeds", seeds_}, {"trials", trials}};
}

}  // namespace bitsweep::coordinator
