// What the layer-allocation search found, for people and for what draws
// it (sweeps.strategy_outcome; the fields are listed in docs/searches.md).
#include <cmath>
#include <set>

#include "common/layer_widths.h"
#include "coordinator/strategies/layer_allocation_strategy.h"

namespace bitsweep::coordinator {
namespace {

constexpr int kFullPrecision = 32;

}  // namespace

nlohmann::json LayerAllocationStrategy::ConfigJson(const Config& config, const Front& front, bool done) const {
  nlohmann::json c = {{"widths", WidthsText(config.bits)}, {"bytes", Bytes(config.bits)}};
  double bits = 0.0, weights = 0.0;
  double damage = 0.0;
  bool predicted = front.ready && front.error.empty();
  for (size_t l = 0; l < names_.size(); ++l) {
    bits += static_cast<double>(layout_.layers[l].weights()) * config.bits[l];
    weights += static_cast<double>(layout_.layers[l].weights());
    if (!predicted) continue;
    auto d = front.damage[l].find(config.bits[l]);
    if (d == front.damage[l].end()) {
      predicted = false;  // a width without a measured sensitivity
    } else {
      damage += d->second;
    }
  }
  c["mean_bits"] = bits / weights;
  const auto ref = ReferenceOf(FirstSeed());
  if (predicted && ref) c["predicted_fid"] = *ref * std::exp(damage);
  const Measured m = MeasuredOf(config);
  if (m.n > 0) {
    c["fid"] = m.mean;
    c["fid_se"] = m.se;
    c["n"] = m.n;
    if (m.distortion) c["distortion"] = *m.distortion;
    if (predicted && ref) {
      // Additivity, checked: measured against predicted, in log FID ratio,
      // on the first seed (the one the sensitivities were measured on).
      if (const Trial* first = Find(config, FirstSeed()); first && first->status == TrialStatus::kSucceeded) {
        c["additivity_error"] = std::log(first->value / *ref) - damage;
      }
    }
  }
  if (m.failed) c["failed"] = true;
  if (spec_.requirement && config.kind == Kind::kPtq) {
    const Verdict v = Judge(config);
    c["verdict"] = v == Verdict::kPass        ? "meets"
                   : v == Verdict::kFail      ? "fails"
                   : v == Verdict::kUndecided ? "undecided"
                   : v == Verdict::kUntried   ? "not measured"
                   : done                     ? "undecided"  // measured, not judged further
                                              : "pending";
    if (spec_.confidence > 0.0) {
      if (auto stats = Statistics(config); stats && std::isfinite(stats->upper)) {
        c["vs_bound"] = {{"estimate", std::exp(stats->mean)},
                         {"low", std::exp(stats->lower)},
                         {"high", std::exp(stats->upper)},
                         {"seeds", stats->n}};
      }
    }
  }
  return c;
}

nlohmann::json LayerAllocationStrategy::MethodOutcome(const std::string& method, bool done) const {
  nlohmann::json out;
  const Front front = FrontOf(method);
  if (!front.ready) {
    out["status"] = "measuring sensitivities";
  } else if (!front.error.empty()) {
    out["status"] = "error";
    out["error"] = front.error;
  }
  // The sensitivities, with the proxy's rank agreement.
  nlohmann::json sensitivities = nlohmann::json::array();
  std::vector<double> fids, distortions;
  const auto ref = ReferenceOf(FirstSeed());
  for (size_t l = 0; l < names_.size(); ++l) {
    for (int b : candidates_[l]) {
      if (b == kFullPrecision) continue;
      const Trial* t = Find(Alone(method, l, b), FirstSeed());
      if (t == nullptr) continue;
      nlohmann::json s = {{"layer", names_[l]}, {"bits", b}, {"status", TrialStatusName(t->status)}};
      if (t->job_id != 0) s["job"] = t->job_id;
      if (t->cached) s["cached"] = true;
      if (t->status == TrialStatus::kSucceeded) {
        s["fid"] = t->value;
        s["fid_se"] = t->std;
        if (ref) s["damage"] = std::max(0.0, std::log(t->value / *ref));
        if (t->distortion) {
          s["distortion"] = *t->distortion;
          fids.push_back(t->value);
          distortions.push_back(*t->distortion);
        }
      }
      sensitivities.push_back(std::move(s));
    }
  }
  out["sensitivities"] = sensitivities;
  if (fids.size() >= 2) {
    out["proxy"] = {{"kendall_tau", KendallTau(distortions, fids)}, {"pairs", fids.size()}};
  }
  if (!front.ready || !front.error.empty()) return out;

  // The front: every point, with what was measured of it.
  nlohmann::json points = nlohmann::json::array();
  std::vector<double> additivity;
  for (const auto& p : front.points) {
    nlohmann::json c = ConfigJson(Ptq(method, p.bits), front, done);
    if (c.contains("additivity_error")) additivity.push_back(c["additivity_error"].get<double>());
    points.push_back(std::move(c));
  }
  out["front"] = points;
  nlohmann::json uniform = nlohmann::json::array();
  for (int b : spec_.bits) {
    if (b == kFullPrecision) continue;
    nlohmann::json c = ConfigJson(Uniform(method, b), front, done);
    c["bits"] = b;
    uniform.push_back(std::move(c));
  }
  out["uniform"] = uniform;
  if (!additivity.empty()) {
    double mean_abs = 0.0, worst = 0.0;
    for (double e : additivity) {
      mean_abs += std::fabs(e);
      worst = std::max(worst, std::fabs(e));
    }
    out["additivity"] = {{"mean_abs_log_error", mean_abs / additivity.size()},
                         {"max_abs_log_error", worst},
                         {"points", additivity.size()}};
  }

  // The measured front: of every post-training generator measured here
  // (front points and uniform widths alike), those no other beats on both
  // bytes and mean FID.
  std::vector<Allocation> measured;
  std::set<std::vector<int>> seen;
  for (const auto& t : trials_) {
    if (t.config.kind != Kind::kPtq || t.config.method != method || !seen.insert(t.config.bits).second) continue;
    const Measured m = MeasuredOf(t.config);
    if (m.n == 0 || m.failed) continue;
    measured.push_back(Allocation{t.config.bits, Bytes(t.config.bits), m.mean});
  }
  nlohmann::json measured_front = nlohmann::json::array();
  for (const auto& a : coordinator::FrontOf(measured)) measured_front.push_back(ConfigJson(Ptq(method, a.bits), front, done));
  out["measured_front"] = measured_front;

  auto answer = [&](const Config& c) {
    nlohmann::json a = ConfigJson(c, front, done);
    const Config qat = Make(Kind::kQat, method, c.bits);
    const Measured q = MeasuredOf(qat);
    if (q.n > 0) {
      a["qat"] = {{"fid", q.mean}, {"fid_se", q.se}, {"n", q.n}};
      if (spec_.requirement) {
        if (auto margins = MarginsOf(qat)) {
          double mean = 0.0;
          for (double m : margins->margins) mean += m;
          a["qat"]["vs_bound"] = std::exp(mean / static_cast<double>(margins->margins.size()));
        }
      }
    } else if (q.failed) {
      a["qat"] = {{"failed", true}};
    }
    return a;
  };
  if (spec_.requirement) {
    const BoundSearch search = SearchBound(front, method);
    nlohmann::json bound = {{"requirement", spec_.requirement->Describe()}};
    if (!search.determined) {
      bound["status"] = "searching";
    } else if (search.answer < 0) {
      bound["status"] = "none_meets";
    } else {
      bound["status"] = "found";
      bound["answer"] = answer(Ptq(method, front.points[search.answer].bits));
      if (search.answer > 0) {
        bound["cheaper_neighbour"] = ConfigJson(Ptq(method, front.points[search.answer - 1].bits), front, done);
      }
    }
    // The uniform width that answers the same bound, and the saving.
    for (int b : spec_.bits) {
      if (b != kFullPrecision && Judge(Uniform(method, b)) == Verdict::kPass) {
        bound["uniform_answer"] = answer(Uniform(method, b));
        bound["uniform_answer"]["bits"] = b;
        break;
      }
    }
    if (bound.contains("answer") && bound.contains("uniform_answer")) {
      const double per_layer = bound["answer"]["bytes"].get<double>();
      const double uniform_bytes = bound["uniform_answer"]["bytes"].get<double>();
      bound["saving"] = 1.0 - per_layer / uniform_bytes;
    }
    out["bound"] = bound;
  }
  if (spec_.budget_bytes) {
    nlohmann::json budget = {{"bytes", *spec_.budget_bytes}};
    if (auto best = BudgetAnswer(method, front)) {
      budget["status"] = "found";
      budget["answer"] = answer(*best);
    } else {
      budget["status"] = BudgetPoints(front).empty() ? "nothing_fits" : "measuring";
    }
    out["budget"] = budget;
  }
  return out;
}

nlohmann::json LayerAllocationStrategy::Outcome() const {
  nlohmann::json out;
  out["damage_model"] =
      "log(FID / FID at full precision) = sum over layers of that layer's own log ratio, measured alone by "
      "post-training quantization with the other layers at full precision (floored at 0)";
  out["bytes"] = "packed payload bytes (every layer at its width, batch norms at float32; the .bsg file adds its "
                 "header)";
  nlohmann::json layers = nlohmann::json::array();
  int64_t brute_force = 1;
  for (size_t l = 0; l < names_.size(); ++l) {
    layers.push_back({{"name", names_[l]}, {"weights", layout_.layers[l].weights()}, {"candidates", candidates_[l]}});
    brute_force *= static_cast<int64_t>(candidates_[l].size());
  }
  out["layers"] = layers;
  if (spec_.requirement) {
    out["requirement"] = spec_.requirement->Describe();
    if (spec_.requirement->relative_to_baseline) out["bound_ratio"] = *spec_.requirement->relative_to_baseline;
  }
  out["seeds"] = seeds_;
  out["confidence"] = spec_.confidence;
  out["max_seeds"] = spec_.max_seeds;
  if (const auto ref = ReferenceOf(FirstSeed())) {
    const Measured m = MeasuredOf(Reference());
    out["reference"] = {{"fid", *ref}, {"mean_fid", m.mean}, {"fid_se", m.se}, {"n", m.n},
                        {"bytes", Bytes(Reference().bits)}};
    // The bound as a FID, for pictures on the axes of mean FID: r x the
    // references' mean (each verdict pairs a seed with its own reference).
    if (spec_.requirement) {
      out["bound_fid"] = spec_.requirement->relative_to_baseline ? *spec_.requirement->relative_to_baseline * m.mean
                                                                 : spec_.requirement->absolute.value_or(0.0);
    }
  }
  // What each seed's jobs start from: a baseline trained here, a named job
  // or a named checkpoint file (by its SHA-256).
  nlohmann::json baselines = nlohmann::json::array();
  for (uint64_t seed : seeds_) {
    const Trial* b = BaselineOf(seed);
    if (b == nullptr) continue;
    nlohmann::json j = {{"seed", seed}, {"status", TrialStatusName(b->status)}};
    if (b->job_id != 0) j["job"] = b->job_id;
    if (!b->file.empty()) j["file"] = b->file;
    if (!b->identity.empty() && b->identity.rfind("spec:", 0) != 0) j["sha256"] = b->identity;
    baselines.push_back(std::move(j));
  }
  out["baselines"] = baselines;
  if (spec_.requirement && spec_.confidence > 0.0) {
    const PooledSpread spread = Spread();
    if (std::isinf(spread.df)) {
      // One seed each: the intervals cover the evaluation's sampling error,
      // not training noise.
      out["sampling_only"] = true;
    } else {
      out["seed_spread"] = {{"sd", std::sqrt(spread.variance)}, {"df", spread.df}};
    }
  }
  if (FirstBaselineFailed()) {
    out["error"] = "the first seed's baseline (or its reference) failed: nothing to measure sensitivities on";
  }
  const bool done = Done();
  nlohmann::json methods = nlohmann::json::object();
  for (const auto& method : spec_.methods) methods[method] = MethodOutcome(method, done);
  out["methods"] = methods;
  int jobs = 0, cached = 0, ptq_jobs = 0;
  for (const auto& t : trials_) {
    if (t.cached) {
      ++cached;
      continue;
    }
    if (t.status == TrialStatus::kFailed && t.job_id == 0) continue;  // never ran
    ++jobs;
    ptq_jobs += t.config.kind == Kind::kPtq;
  }
  out["jobs"] = jobs;
  out["ptq_jobs"] = ptq_jobs;
  out["cached"] = cached;
  // Brute force: post-training quantization of every allocation, per
  // method, on one seed.
  out["brute_force_jobs"] = brute_force * static_cast<int64_t>(spec_.methods.size());
  out["done"] = done;
  return out;
}

}  // namespace bitsweep::coordinator
