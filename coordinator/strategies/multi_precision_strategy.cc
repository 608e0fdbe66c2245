#include "coordinator/strategies/multi_precision_strategy.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "coordinator/strategies/seed_stats.h"

namespace bitsweep::coordinator {
Result<std::unique_ptr<Strategy>> MultiPrecisionStrategy::Create(const SweepSpec& sweep,
                                                                 const nlohmann::json& saved_state) {
  std::unique_ptr<MultiPrecisionStrategy> s(new MultiPrecisionStrategy(sweep));
  if (saved_state.is_object()) {
    for (const auto& t : saved_state.value("trials", nlohmann::json::array())) {
      Trial trial;
      trial.config.g = {t.at("g").at(0).get<std::string>(), t.at("g").at(1).get<int>()};
      trial.config.d = {t.at("d").at(0).get<std::string>(), t.at("d").at(1).get<int>()};
      trial.config.ptq = t.value("ptq", false);
      trial.seed = t.at("seed").get<uint64_t>();
      trial.status = ParseTrialStatus(t.value("status", "pending"));
      trial.job_id = t.value("job", int64_t{0});
      trial.value = t.value("value", 0.0);
      trial.std = t.value("std", 0.0);
      trial.error = t.value("error", "");
      trial.model_bytes = t.value("model_bytes", int64_t{0});
      s->trials_.push_back(std::move(trial));
    }
    return std::unique_ptr<Strategy>(std::move(s));
  }
  // A fresh search: every configuration it may run must be a valid job.
  const auto& base = sweep.base;
  if (base.value("task", "qgan") == "qgan") {
    const auto metrics = base.contains("eval") ? base["eval"].value("metrics", nlohmann::json::array())
                                               : nlohmann::json::array();
    if (std::find(metrics.begin(), metrics.end(), s->spec_.requirement.metric) == metrics.end()) {
      return Status::InvalidArgument("strategy.requirement.metric: \"" + s->spec_.requirement.metric +
                                     "\" is not measured by the base job spec (add it to base.eval.metrics)");
    }
  }
  std::vector<Config> configs = {s->Baseline()};
  for (const auto& method : s->spec_.methods) {
    for (int bits : s->spec_.bits) {
      configs.push_back(Config{Net{method, bits}, Net{}});
      configs.push_back(Config{Net{}, Net{method, bits}});
      if (s->spec_.ptq_screen) configs.push_back(Config{Net{method, bits}, Net{}, /*ptq=*/true});
    }
  }
  for (const auto& config : configs) {
    for (uint64_t seed : s->spec_.seeds) {
      // (A warm start's job id is known only once its baseline ran; any
      // positive one checks the spec.)
      auto plan = PlanJob(base, s->TrialParams(config, seed, /*init_from_job=*/1));
      if (!plan.ok()) return plan.status().WithContext("strategy");
    }
  }
  return std::unique_ptr<Strategy>(std::move(s));
}

nlohmann::json MultiPrecisionStrategy::TrialParams(const Config& config, uint64_t seed, int64_t init_from_job) const {
  nlohmann::json params = {{"quant.g.method", config.g.method}, {"quant.g.bits", config.g.bits},
                           {"quant.d.method", config.d.method}, {"quant.d.bits", config.d.bits},
                           {"train.seed", seed}};
  if ((spec_.warm_start || spec_.ptq_screen) && config == Baseline()) params["train.upload_checkpoint"] = true;
  if (init_from_job != 0) params["train.init_from_job"] = init_from_job;
  // A fine-tune is short; a configuration whose baseline failed trains
  // from scratch, for as long as the baseline would have.
  if (init_from_job != 0 && !config.ptq && spec_.fine_tune_iterations > 0) {
    params["train.iterations"] = spec_.fine_tune_iterations;
  }
  if (config.ptq) {
    // The synthetic task stands in for post-training quantization with a
    // flag of its own (it has no model to quantize).
    if (base_.value("task", "qgan") == "synthetic") {
      params["synthetic.post_training"] = true;
    } else {
      params["task"] = "ptq";
      params["ptq.bn_batches"] = spec_.ptq_bn_batches;
    }
  }
  return params;
}

std::optional<int64_t> MultiPrecisionStrategy::WarmStartJob(const Config& config, uint64_t seed) const {
  if ((!spec_.warm_start && !config.ptq) || config == Baseline()) return int64_t{0};
  for (const auto& t : trials_) {
    if (!(t.config == Baseline()) || t.seed != seed) continue;
    if (t.status == TrialStatus::kSucceeded) return t.job_id;
    // That seed's baseline failed: nothing to start from; this seed trains
    // from scratch (the outcome's configs say which job started how).
    if (t.status == TrialStatus::kFailed) return int64_t{0};
  }
  return std::nullopt;  // the baseline of this seed has not finished
}

MultiPrecisionStrategy::Evaluation MultiPrecisionStrategy::Evaluate(const Config& config) const {
  Evaluation e;
  std::vector<double> values;
  for (const auto& t : trials_) {
    if (!(t.config == config)) continue;
    ++e.proposed;
    if (t.status == TrialStatus::kPending) continue;
    ++e.finished;
    if (t.status == TrialStatus::kFailed) {
      if (e.failure.empty()) e.failure = "seed " + std::to_string(t.seed) + ": " + t.error;
      continue;
    }
    ++e.succeeded;
    values.push_back(t.value);
    e.model_bytes = t.model_bytes;
  }
  if (!values.empty()) {
    SeedStats stats = Summarise(values, spec_.aggregate, LowerIsBetter(spec_.requirement.metric));
    e.value = stats.value;
    e.std = stats.std;
  }
  return e;
}

bool MultiPrecisionStrategy::BaselineFailed() const {
  Evaluation e = Evaluate(Baseline());
  return e.complete(spec_.seeds.size()) && e.succeeded == 0;
}

std::optional<double> MultiPrecisionStrategy::Threshold() const {
  if (!spec_.requirement.relative_to_baseline) return spec_.requirement.Threshold(0.0);
  Evaluation e = Evaluate(Baseline());
  // The baseline's failed seeds (if any) are left out of it: the bound is
  // what full precision reaches when it trains at all.
  if (!e.complete(spec_.seeds.size()) || e.finished < e.proposed || e.succeeded == 0) return std::nullopt;
  return spec_.requirement.Threshold(e.value);
}

uint64_t MultiPrecisionStrategy::SeedAt(size_t i) const {
  if (i < spec_.seeds.size()) return spec_.seeds[i];
  return *std::max_element(spec_.seeds.begin(), spec_.seeds.end()) + (i - spec_.seeds.size() + 1);
}

std::vector<uint64_t> MultiPrecisionStrategy::SeedsWanted(const Config& config) const {
  std::vector<uint64_t> seeds(spec_.seeds.begin(), spec_.seeds.end());
  auto add = [&](uint64_t seed) {
    if (std::find(seeds.begin(), seeds.end(), seed) == seeds.end()) seeds.push_back(seed);
  };
  if (config == Baseline()) {
    // Paired comparisons (and warm starts): the baseline runs every seed any
    // configuration runs or is about to.
    if (spec_.requirement.relative_to_baseline || spec_.warm_start) {
      std::vector<Config> seen;
      for (const auto& t : trials_) {
        add(t.seed);
        if (t.config == Baseline() || std::find(seen.begin(), seen.end(), t.config) != seen.end()) continue;
        seen.push_back(t.config);
        for (uint64_t seed : SeedsWanted(t.config)) add(seed);
      }
    }
    return seeds;
  }
  Evaluation e = Evaluate(config);
  for (size_t i = seeds.size(); i < static_cast<size_t>(e.proposed); ++i) add(SeedAt(i));
  if (Judge(config) == Verdict::kNeedsSeed) add(SeedAt(static_cast<size_t>(e.proposed)));
  return seeds;
}

std::optional<MultiPrecisionStrategy::Margins> MultiPrecisionStrategy::MarginsOf(const Config& config) const {
  const bool lower = LowerIsBetter(spec_.requirement.metric);
  const auto& relative = spec_.requirement.relative_to_baseline;
  Evaluation base = Evaluate(Baseline());
  if (relative && base.succeeded == 0) return std::nullopt;
  Margins out;
  auto relative_variance = [](double value, double std) { return value > 0.0 ? (std / value) * (std / value) : 0.0; };
  std::map<uint64_t, const Trial*> baseline_seeds;
  for (const auto& b : trials_) {
    if (b.config == Baseline()) baseline_seeds[b.seed] = &b;
  }
  for (const auto& t : trials_) {
    if (!(t.config == config) || t.status != TrialStatus::kSucceeded) continue;
    double bound = relative ? 0.0 : spec_.requirement.Threshold(0.0);
    double variance = relative_variance(t.value, t.std);
    if (relative) {
      auto found = baseline_seeds.find(t.seed);
      const Trial* paired = found == baseline_seeds.end() ? nullptr : found->second;
      if (paired == nullptr || paired->status == TrialStatus::kPending) return std::nullopt;
      if (paired->status == TrialStatus::kSucceeded) {
        bound = *relative * paired->value;
        variance += relative_variance(paired->value, paired->std);
      } else {
        // That seed of the baseline failed: compare with the baseline's
        // mean instead (unpaired).
        bound = *relative * base.value;
      }
    }
    out.margins.push_back(Margin(t.value, bound, lower));
    out.sampling_variance += variance;
  }
  if (out.margins.empty()) return std::nullopt;
  out.sampling_variance /= static_cast<double>(out.margins.size());
  return out;
}

PooledSpread MultiPrecisionStrategy::Spread(bool ptq) const {
  std::vector<Config> seen;
  std::vector<std::vector<double>> margins;
  for (const auto& t : trials_) {
    if (t.config == Baseline() || t.config.ptq != ptq) continue;
    if (std::find(seen.begin(), seen.end(), t.config) != seen.end()) continue;
    seen.push_back(t.config);
    if (auto m = MarginsOf(t.config)) margins.push_back(std::move(m->margins));
  }
  PooledSpread spread = PoolSpread(margins);
  if (spread.df > 0.0 && spec_.requirement.relative_to_baseline) {
    // Every margin shares the noise of the few baseline seeds it is paired
    // with, so the pooled spread knows that part of the noise only from
    // those seeds: its degrees of freedom are capped by theirs (measured:
    // without the cap, a search with 3% noise per run estimated the spread
    // 25% low with a nominal 47 degrees of freedom).
    spread.df = std::min(spread.df, static_cast<double>(Evaluate(Baseline()).succeeded - 1));
  }
  return spread;
}

std::optional<Judgement> MultiPrecisionStrategy::Statistics(const Config& config) const {
  auto margins = MarginsOf(config);
  if (!margins) return std::nullopt;
  return JudgeMargins(margins->margins, Spread(config.ptq), margins->sampling_variance, spec_.confidence);
}

MultiPrecisionStrategy::Verdict MultiPrecisionStrategy::Judge(const Config& config) const {
  Evaluation e = Evaluate(config);
  if (e.proposed == 0) return Verdict::kUntried;
  if (e.finished < e.proposed || e.proposed < static_cast<int>(spec_.seeds.size())) return Verdict::kBusy;
  if (!e.failure.empty()) return Verdict::kFail;  // no threshold needed
  if (!Statistical()) {
    auto threshold = Threshold();
    if (!threshold) return Verdict::kBusy;
    return spec_.requirement.Meets(e.value, *threshold) ? Verdict::kPass : Verdict::kFail;
  }
  auto stats = Statistics(config);
  if (!stats) return Verdict::kBusy;  // a baseline seed it pairs with still runs
  switch (stats->decision) {
    case Decision::kMeets: return Verdict::kPass;
    case Decision::kFails: return Verdict::kFail;
    case Decision::kUndecided: break;
  }
  return e.proposed < spec_.max_seeds ? Verdict::kNeedsSeed : Verdict::kUndecided;
}

MultiPrecisionStrategy::Search MultiPrecisionStrategy::RunSearch(std::vector<Config> candidates, int max_picks) const {
  Search search;
  search.candidates = std::move(candidates);
  const int k = static_cast<int>(search.candidates.size());
  std::vector<Verdict> verdicts;
  for (const auto& c : search.candidates) verdicts.push_back(Judge(c));
  // hi: the narrowest width known to meet the requirement; lo: the widest
  // narrower one known to fail. Everything above hi is implied to pass,
  // everything below lo to fail.
  int hi = k;
  for (int i = 0; i < k; ++i) {
    if (verdicts[i] == Verdict::kPass) {
      hi = i;
      break;
    }
  }
  int lo = -1;
  for (int i = hi - 1; i >= 0; --i) {
    // Undecided with every seed spent counts as failing: the answer is the
    // fewest bits that surely meet the requirement.
    if (verdicts[i] == Verdict::kFail || verdicts[i] == Verdict::kUndecided) {
      lo = i;
      break;
    }
  }
  if (hi - lo == 1) {
    search.determined = true;
    search.answer = hi < k ? hi : -1;
    return search;
  }
  // Split the widest open gaps; a running candidate already splits its gap.
  std::vector<int> bounds = {lo};
  for (int i = lo + 1; i < hi; ++i) {
    if (verdicts[i] == Verdict::kBusy || verdicts[i] == Verdict::kNeedsSeed) bounds.push_back(i);
  }
  bounds.push_back(hi);
  while (static_cast<int>(search.picks.size()) < max_picks) {
    int best = -1, best_width = 1;
    for (size_t j = 0; j + 1 < bounds.size(); ++j) {
      if (bounds[j + 1] - bounds[j] > best_width) {
        best_width = bounds[j + 1] - bounds[j];
        best = static_cast<int>(j);
      }
    }
    if (best < 0) break;
    const int mid = bounds[best] + best_width / 2;
    search.picks.push_back(mid);
    bounds.insert(bounds.begin() + best + 1, mid);
  }
  return search;
}

MultiPrecisionStrategy::Search MultiPrecisionStrategy::SearchG(const std::string& method, int max_picks) const {
  std::vector<Config> candidates;
  if (!spec_.ptq_screen) {
    for (int bits : spec_.bits) candidates.push_back(Config{Net{method, bits}, Net{}});
    return RunSearch(std::move(candidates), max_picks);
  }
  std::vector<Config> post_training;
  for (int bits : spec_.bits) post_training.push_back(Config{Net{method, bits}, Net{}, /*ptq=*/true});
  Search screen = RunSearch(post_training, max_picks);
  if (!screen.determined) return screen;
  // A PTQ generator that meets the requirement is an answer at its width,
  // trained or not: only narrower widths can improve on it, and only by
  // training. (Quality is taken to be monotone in bits for each kind.)
  const size_t narrower = screen.answer >= 0 ? static_cast<size_t>(screen.answer) : spec_.bits.size();
  for (size_t i = 0; i < narrower; ++i) candidates.push_back(Config{Net{method, spec_.bits[i]}, Net{}});
  if (screen.answer >= 0) candidates.push_back(post_training[static_cast<size_t>(screen.answer)]);
  return RunSearch(std::move(candidates), max_picks);
}

std::optional<MultiPrecisionStrategy::Search> MultiPrecisionStrategy::SearchD(const std::string& method,
                                                                              int max_picks) const {
  if (!spec_.search_d) return std::nullopt;
  Search g = SearchG(method, 0);
  if (!g.determined) return std::nullopt;
  // No G width meets the requirement: D is searched with G at full precision.
  const Net chosen_g = g.answer >= 0 ? g.candidates[g.answer].g : Net{};
  std::vector<Config> candidates;
  for (int bits : spec_.bits) candidates.push_back(Config{chosen_g, Net{method, bits}});
  return RunSearch(std::move(candidates), max_picks);
}

Result<std::vector<JobPlan>> MultiPrecisionStrategy::Propose(int max_new) {
  std::vector<JobPlan> plans;
  if (max_new <= 0 || Done()) return plans;
  const size_t seeds = spec_.seeds.size();
  // Configurations to run, most needed first: the baseline when a
  // configuration runs a seed it has not (their comparison is paired), any
  // configuration short of the seeds it needs (an undecided one gets
  // another), then each method's next candidates in turn (its bisection
  // point first, speculative splits after).
  auto short_of_seeds = [&](const Config& config) {
    return static_cast<int>(SeedsWanted(config).size()) > Evaluate(config).proposed;
  };
  std::vector<Config> wanted;
  if (short_of_seeds(Baseline())) wanted.push_back(Baseline());
  for (const auto& t : trials_) {
    if (std::find(wanted.begin(), wanted.end(), t.config) == wanted.end() && short_of_seeds(t.config)) {
      wanted.push_back(t.config);
    }
  }
  const int max_picks = static_cast<int>((max_new + seeds - 1) / seeds);
  std::vector<std::vector<Config>> per_method;
  for (const auto& method : spec_.methods) {
    Search g = SearchG(method, max_picks);
    std::vector<Config> picks;
    if (!g.determined) {
      for (int i : g.picks) picks.push_back(g.candidates[i]);
    } else if (auto d = SearchD(method, max_picks)) {
      for (int i : d->picks) picks.push_back(d->candidates[i]);
    }
    per_method.push_back(std::move(picks));
  }
  for (size_t round = 0;; ++round) {
    bool any = false;
    for (const auto& picks : per_method) {
      if (round < picks.size()) {
        any = true;
        if (std::find(wanted.begin(), wanted.end(), picks[round]) == wanted.end()) wanted.push_back(picks[round]);
      }
    }
    if (!any) break;
  }
  // All or nothing: trials are recorded only once every plan was made.
  std::vector<Trial> added;
  auto proposed = [&](const Config& config, uint64_t seed) {
    auto same = [&](const Trial& t) { return t.config == config && t.seed == seed; };
    return std::any_of(trials_.begin(), trials_.end(), same) || std::any_of(added.begin(), added.end(), same);
  };
  for (const auto& config : wanted) {
    for (uint64_t seed : SeedsWanted(config)) {
      if (static_cast<int>(plans.size()) >= max_new) break;
      if (proposed(config, seed)) continue;
      const std::optional<int64_t> init = WarmStartJob(config, seed);
      if (!init) continue;  // proposed once its baseline seed has finished
      if (config.ptq && *init == 0) {
        // That seed's baseline failed: there is no trained model to
        // quantize, so this seed of the screen fails (which only makes the
        // screen prune less).
        Trial trial;
        trial.config = config;
        trial.seed = seed;
        trial.status = TrialStatus::kFailed;
        trial.error = "the baseline of this seed failed: no trained model to quantize";
        added.push_back(std::move(trial));
        continue;
      }
      BITSWEEP_ASSIGN_OR_RETURN(JobPlan plan, PlanJob(base_, TrialParams(config, seed, *init)));
      plans.push_back(std::move(plan));
      Trial trial;
      trial.config = config;
      trial.seed = seed;
      added.push_back(std::move(trial));
    }
  }
  trials_.insert(trials_.end(), added.begin(), added.end());
  return plans;
}

void MultiPrecisionStrategy::Observe(const TrialResult& result) {
  const auto& p = result.params;
  Config config{Net{p.value("quant.g.method", "none"), p.value("quant.g.bits", 32)},
                Net{p.value("quant.d.method", "none"), p.value("quant.d.bits", 32)},
                p.value("task", "") == "ptq" || p.value("synthetic.post_training", false)};
  const uint64_t seed = p.value("train.seed", uint64_t{0});
  for (auto it = trials_.begin(); it != trials_.end(); ++it) {
    Trial& t = *it;
    if (!(t.config == config) || t.seed != seed || t.status != TrialStatus::kPending) continue;
    if (result.cancelled) {
      // Not a verdict on the configuration: forget the trial, so that it is
      // proposed again (cancelling a width must not fail the ones below it).
      trials_.erase(it);
      return;
    }
    t.job_id = result.job_id;
    t.model_bytes = result.model_bytes;
    auto value = result.Metric(spec_.requirement.metric);
    if (!result.succeeded) {
      t.status = TrialStatus::kFailed;
      t.error = result.error.empty() ? "job failed" : result.error;
    } else if (!value || !std::isfinite(*value)) {
      t.status = TrialStatus::kFailed;
      t.error = spec_.requirement.metric + (value ? " is not finite" : " was not measured");
    } else {
      t.status = TrialStatus::kSucceeded;
      t.value = *value;
      t.std = 0.0;
      int64_t step = -1;
      for (const auto& m : result.metrics) {
        if (m.metric == spec_.requirement.metric && m.step >= step && m.std) {
          step = m.step;
          t.std = *m.std;
        }
      }
    }
    return;
  }
}

bool MultiPrecisionStrategy::Done() const {
  if (spec_.requirement.relative_to_baseline && BaselineFailed()) return true;
  for (const auto& method : spec_.methods) {
    if (!SearchG(method, 0).determined) return false;
    auto d = SearchD(method, 0);
    if (d && !d->determined) return false;
  }
  return true;
}

nlohmann::json MultiPrecisionStrategy::SaveState() const {
  nlohmann::json trials = nlohmann::json::array();
  for (const auto& t : trials_) {
    nlohmann::json j = {{"g", {t.config.g.method, t.config.g.bits}},
                        {"d", {t.config.d.method, t.config.d.bits}},
                        {"seed", t.seed},
                        {"status", TrialStatusName(t.status)}};
    if (t.config.ptq) j["ptq"] = true;
    if (t.job_id != 0) j["job"] = t.job_id;
    if (t.status == TrialStatus::kSucceeded) j["value"] = t.value;
    if (t.std != 0.0) j["std"] = t.std;
    if (!t.error.empty()) j["error"] = t.error;
    if (t.model_bytes != 0) j["model_bytes"] = t.model_bytes;
    trials.push_back(std::move(j));
  }
  return {{"trials", trials}};
}

nlohmann::json MultiPrecisionStrategy::Outcome() const {
  nlohmann::json out;
  out["requirement"] = spec_.requirement.Describe();
  out["metric"] = spec_.requirement.metric;
  out["aggregate"] = AggregateName(spec_.aggregate);
  out["seeds"] = spec_.seeds.size();
  out["confidence"] = spec_.confidence;
  out["max_seeds"] = spec_.max_seeds;
  if (Statistical()) {
    const PooledSpread spread = Spread(/*ptq=*/false);
    out["seed_spread"] = {{"sd", std::sqrt(spread.variance)}, {"df", spread.df}};
    if (spec_.ptq_screen) {
      const PooledSpread ptq_spread = Spread(/*ptq=*/true);
      out["ptq_seed_spread"] = {{"sd", std::sqrt(ptq_spread.variance)}, {"df", ptq_spread.df}};
    }
  }
  Evaluation base = Evaluate(Baseline());
  if (base.succeeded > 0) out["baseline"] = {{"value", base.value}, {"std", base.std}, {"n", base.succeeded}};
  auto threshold = Threshold();
  out["threshold"] = threshold ? nlohmann::json(*threshold) : nlohmann::json();
  if (spec_.requirement.relative_to_baseline && BaselineFailed()) {
    out["error"] = "the full-precision baseline failed (" + base.failure + "): no bound to search against";
  }

  auto describe = [&](const Search& s, bool g) -> nlohmann::json {
    if (!s.determined) return {{"status", "searching"}};
    if (s.answer < 0) return {{"status", "none_meets"}, {"bits", 32}};
    const Config& chosen = s.candidates[s.answer];
    nlohmann::json found = {{"status", "found"}, {"bits", g ? chosen.g.bits : chosen.d.bits}};
    // How the generator that meets was made: trained or post-training.
    if (spec_.ptq_screen) found["by"] = chosen.ptq ? "ptq" : "qat";
    return found;
  };
  nlohmann::json methods = nlohmann::json::object();
  for (const auto& method : spec_.methods) {
    nlohmann::json m;
    m["g"] = describe(SearchG(method, 0), true);
    if (auto d = SearchD(method, 0)) m["d"] = describe(*d, false);
    methods[method] = m;
  }
  out["methods"] = methods;

  // Every configuration tried, in the order first proposed.
  nlohmann::json configs = nlohmann::json::array();
  std::vector<Config> seen;
  for (const auto& t : trials_) {
    if (std::find(seen.begin(), seen.end(), t.config) != seen.end()) continue;
    seen.push_back(t.config);
    Evaluation e = Evaluate(t.config);
    const Verdict v = t.config == Baseline() ? Verdict::kBusy : Judge(t.config);
    nlohmann::json c = {{"g", {t.config.g.method, t.config.g.bits}},
                        {"d", {t.config.d.method, t.config.d.bits}},
                        {"jobs", e.proposed},
                        {"finished", e.finished}};
    if (t.config.ptq) c["ptq"] = true;
    if (e.succeeded > 0) {
      c["value"] = e.value;
      c["std"] = e.std;
      c["n"] = e.succeeded;
      c["model_bytes"] = e.model_bytes;
    }
    if (!e.failure.empty()) c["failure"] = e.failure;
    if (Statistical() && !(t.config == Baseline()) && e.failure.empty()) {
      if (auto stats = Statistics(t.config); stats && std::isfinite(stats->upper)) {
        // value / bound (fid, kid) or bound / value (is): at most 1 meets.
        c["vs_bound"] = {{"estimate", std::exp(stats->mean)},
                         {"low", std::exp(stats->lower)},
                         {"high", std::exp(stats->upper)},
                         {"seeds", stats->n}};
      }
    }
    // A speculative configuration still short of seeds when the search
    // ended was not needed for the answer.
    c["verdict"] = t.config == Baseline()     ? "baseline"
                   : v == Verdict::kPass      ? "meets"
                   : v == Verdict::kFail      ? "fails"
                   : v == Verdict::kUndecided ? "undecided"
                   : Done()                   ? "not needed"
                                              : "pending";
    configs.push_back(std::move(c));
  }
  out["configs"] = configs;
  const size_t grid_configs = 1 + spec_.methods.size() * spec_.bits.size() * (spec_.search_d ? 2 : 1);
  out["jobs"] = trials_.size();
  if (spec_.ptq_screen) {
    out["ptq_jobs"] = std::count_if(trials_.begin(), trials_.end(), [](const Trial& t) { return t.config.ptq; });
  }
  // The grid answering the same question by brute force: every candidate
  // width of every search, every seed.
  out["grid_jobs"] = grid_configs * spec_.seeds.size();
  out["done"] = Done();
  return out;
}

}  // namespace bitsweep::coordinator
