#include "common/strategy_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "common/hash.h"
#include "common/job_spec.h"
#include "common/sweep_spec.h"

namespace bitsweep {
namespace {

bool IsWhole(double x) { return std::floor(x) == x; }

// Whole numbers a double holds exactly.
constexpr double kMaxWhole = 9007199254740992.0;  // 2^53

// The longest training a job spec accepts (train.iterations).
constexpr int64_t kMaxIterations = int64_t{1} << 40;

std::string FormatBound(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", x);
  return text;
}

std::vector<RandomAxis> ReadSpace(SpecReader& r, const std::string& key, const nlohmann::json& space_json,
                                  const nlohmann::json& base) {
  std::vector<RandomAxis> space;
  (void)r.Child(key);
  if (!space_json.is_object() || space_json.empty()) {
    r.Fail(key, "must be an object of field path -> list of values or {\"uniform\"|\"log_uniform\"|"
                "\"int_uniform\": [low, high]}");
    return space;
  }
  for (const auto& [path, value] : space_json.items()) {
    const std::string where = key + "." + path;
    if (!IsFieldOf(base, path)) {
      r.Fail(where, "\"" + path + "\" is not a field of the job spec");
      return space;
    }
    RandomAxis axis;
    axis.path = path;
    if (value.is_array() && !value.empty()) {
      axis.choices.assign(value.begin(), value.end());
    } else if (value.is_object() && value.size() == 1) {
      const std::string kind = value.begin().key();
      const auto& range = value.begin().value();
      if (kind == "uniform") {
        axis.kind = RandomAxis::Kind::kUniform;
      } else if (kind == "log_uniform") {
        axis.kind = RandomAxis::Kind::kLogUniform;
      } else if (kind == "int_uniform") {
        axis.kind = RandomAxis::Kind::kIntUniform;
      } else {
        r.Fail(where, "\"" + kind + "\" is not a distribution (uniform, log_uniform, int_uniform)");
        return space;
      }
      if (!range.is_array() || range.size() != 2 || !range[0].is_number() || !range[1].is_number() ||
          range[0].get<double>() > range[1].get<double>()) {
        r.Fail(where + "." + kind, "expected [low, high] with low <= high, got " + range.dump());
        return space;
      }
      axis.low = range[0].get<double>();
      axis.high = range[1].get<double>();
      if (axis.kind == RandomAxis::Kind::kLogUniform && axis.low <= 0.0) {
        r.Fail(where + "." + kind, "needs low > 0");
        return space;
      }
      if (axis.kind == RandomAxis::Kind::kIntUniform &&
          !(IsWhole(axis.low) && IsWhole(axis.high) && std::fabs(axis.low) <= kMaxWhole && std::fabs(axis.high) <= kMaxWhole)) {
        r.Fail(where + "." + kind, "needs whole numbers within +-2^53");
        return space;
      }
    } else {
      r.Fail(where, "must be a non-empty list of values or one distribution, got " + value.dump());
      return space;
    }
    space.push_back(std::move(axis));
  }
  return space;
}

nlohmann::json SpaceToJson(const std::vector<RandomAxis>& space) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& axis : space) j[axis.path] = axis.ToJson();
  return j;
}

}  // namespace

bool LowerIsBetter(const std::string& metric) { return metric != "is"; }

Requirement ReadRequirement(SpecReader r) {
  Requirement req;
  req.metric = r.OneOf("metric", "fid", {"fid", "is", "kid"});
  const bool lower = LowerIsBetter(req.metric);
  const bool relative = r.Has("relative_to_baseline");
  const char* absolute_key = lower ? "at_most" : "at_least";
  const char* wrong_key = lower ? "at_least" : "at_most";
  if (r.Has(wrong_key)) {
    r.Fail(wrong_key, std::string("does not fit ") + req.metric + " (" + (lower ? "lower" : "higher") +
                          " is better): use " + absolute_key);
  }
  const bool absolute = r.Has(absolute_key);
  if (relative == absolute) {
    r.Fail("relative_to_baseline",
           std::string("give exactly one bound: relative_to_baseline (e.g. 1.10) or ") + absolute_key);
  }
  if (relative) req.relative_to_baseline = r.Number("relative_to_baseline", 1.0, 1e-6, 1e6);
  if (absolute) req.absolute = r.Number(absolute_key, 0.0, -1e12, 1e12);
  r.RejectUnknownKeys();
  return req;
}


double Requirement::Threshold(double baseline) const {
  return relative_to_baseline ? *relative_to_baseline * baseline : absolute.value_or(0.0);
}

bool Requirement::Meets(double value, double threshold) const {
  if (!std::isfinite(value)) return false;
  return LowerIsBetter(metric) ? value <= threshold : value >= threshold;
}

std::string Requirement::Describe() const {
  std::string s = metric + (LowerIsBetter(metric) ? " <= " : " >= ");
  if (relative_to_baseline) return s + FormatBound(*relative_to_baseline) + " x baseline";
  return s + FormatBound(absolute.value_or(0.0));
}

nlohmann::json Requirement::ToJson() const {
  nlohmann::json j = {{"metric", metric}};
  if (relative_to_baseline) j["relative_to_baseline"] = *relative_to_baseline;
  if (absolute) j[LowerIsBetter(metric) ? "at_most" : "at_least"] = *absolute;
  return j;
}

const char* AggregateName(Aggregate aggregate) {
  switch (aggregate) {
    case Aggregate::kMean: return "mean";
    case Aggregate::kMedian: return "median";
    case Aggregate::kWorst: return "worst";
  }
  return "mean";
}

nlohmann::json MultiPrecisionSpec::ToJson() const {
  nlohmann::json j = {{"kind", "multi_precision"},  {"methods", methods},         {"bits", bits},
          {"requirement", requirement.ToJson()}, {"seeds", seeds}, {"confidence", confidence},
          {"max_seeds", max_seeds}, {"aggregate", AggregateName(aggregate)},
          {"max_in_flight", max_in_flight}, {"search_d", search_d}, {"warm_start", warm_start}};
  // Only when set, so that the canonical form of every search written
  // before the screen existed stays as it was.
  if (fine_tune_iterations > 0) j["fine_tune_iterations"] = fine_tune_iterations;
  if (ptq_screen) {
    j["ptq_screen"] = true;
    j["ptq_bn_batches"] = ptq_bn_batches;
  }
  return j;
}

nlohmann::json RandomAxis::ToJson() const {
  switch (kind) {
    case Kind::kChoice: return choices;
    case Kind::kUniform: return {{"uniform", {low, high}}};
    case Kind::kLogUniform: return {{"log_uniform", {low, high}}};
    case Kind::kIntUniform: return {{"int_uniform", {low, high}}};
  }
  return nullptr;
}

nlohmann::json RandomSpec::ToJson() const {
  return {{"kind", "random"}, {"space", SpaceToJson(space)}, {"trials", trials}, {"seed", seed},
          {"max_in_flight", max_in_flight}};
}

std::vector<int64_t> SuccessiveHalvingSpec::Budgets() const {
  std::vector<int64_t> budgets = {min_iterations};
  while (budgets.back() < max_iterations) budgets.push_back(std::min(budgets.back() * eta, max_iterations));
  return budgets;
}

nlohmann::json SuccessiveHalvingSpec::ToJson() const {
  nlohmann::json j = {{"kind", "successive_halving"}, {"metric", metric},
                      {"min_iterations", min_iterations}, {"max_iterations", max_iterations},
                      {"eta", eta}, {"max_in_flight", max_in_flight}};
  if (!axes.is_null()) {
    j["axes"] = axes;
  } else {
    j["space"] = SpaceToJson(space);
    j["configurations"] = configurations;
    j["seed"] = seed;
  }
  return j;
}

Result<MultiPrecisionSpec> ReadMultiPrecision(SpecReader r) {
  MultiPrecisionSpec spec;
  spec.methods = r.StringArray("methods", {});
  if (r.status().ok() && spec.methods.empty()) r.Fail("methods", "missing (required: e.g. [\"em\", \"minmax\"])");
  for (size_t i = 0; i < spec.methods.size() && r.status().ok(); ++i) {
    auto method = ParseQuantMethod(spec.methods[i]);
    if (!method.ok() || method.value() == QuantMethod::kNone) {
      r.Fail("methods[" + std::to_string(i) + "]",
             "\"" + spec.methods[i] + "\" is not a quantization method (minmax, log, tanh, em, binary)");
    }
  }
  for (double b : r.NumberArray("bits", {}, 0, 1, 8)) {
    if (!IsWhole(b)) r.Fail("bits", "bit-widths are whole numbers, got " + FormatBound(b));
    spec.bits.push_back(static_cast<int>(b));
  }
  if (r.status().ok() && spec.bits.empty()) r.Fail("bits", "missing (required: candidate bit-widths, e.g. [1, 2, 4])");
  std::sort(spec.bits.begin(), spec.bits.end());
  spec.bits.erase(std::unique(spec.bits.begin(), spec.bits.end()), spec.bits.end());
  if (!r.Has("requirement")) r.Fail("requirement", "missing (required: e.g. {\"metric\": \"fid\", "
                                                   "\"relative_to_baseline\": 1.10})");
  if (r.status().ok()) spec.requirement = ReadRequirement(r.Child("requirement"));
  if (r.Has("seeds")) {
    spec.seeds.clear();
    for (double s : r.NumberArray("seeds", {}, 0, 0, 9.0e15)) {
      if (!IsWhole(s)) r.Fail("seeds", "seeds are whole numbers, got " + FormatBound(s));
      spec.seeds.push_back(static_cast<uint64_t>(s));
    }
    if (r.status().ok() && spec.seeds.empty()) r.Fail("seeds", "must hold at least one seed");
  }
  spec.confidence = r.Number("confidence", spec.confidence, 0.0, 0.999);
  if (r.status().ok() && spec.confidence != 0.0 && spec.confidence <= 0.5) {
    r.Fail("confidence", "must be above 0.5 (e.g. 0.9), or 0 to compare point estimates");
  }
  const int default_max_seeds = spec.confidence == 0.0 ? static_cast<int>(spec.seeds.size())
                                                       : static_cast<int>(spec.seeds.size()) + 2;
  spec.max_seeds = static_cast<int>(r.Int("max_seeds", default_max_seeds, 1, 1000));
  if (r.status().ok() && spec.max_seeds < static_cast<int>(spec.seeds.size())) {
    r.Fail("max_seeds", "must be at least the number of seeds (" + std::to_string(spec.seeds.size()) + ")");
  }
  const std::string aggregate = r.OneOf("aggregate", "mean", {"mean", "median", "worst"});
  spec.aggregate = aggregate == "median" ? Aggregate::kMedian : aggregate == "worst" ? Aggregate::kWorst
                                                                                     : Aggregate::kMean;
  spec.max_in_flight = static_cast<int>(r.Int("max_in_flight", spec.max_in_flight, 1, 100000));
  spec.search_d = r.Bool("search_d", spec.search_d);
  spec.warm_start = r.Bool("warm_start", spec.warm_start);
  spec.fine_tune_iterations = r.Int("fine_tune_iterations", 0, 1, INT64_MAX);
  if (r.status().ok() && spec.fine_tune_iterations > 0 && !spec.warm_start) {
    r.Fail("fine_tune_iterations", "needs \"warm_start\": true (only warm-started configurations fine-tune)");
  }
  spec.ptq_screen = r.Bool("ptq_screen", spec.ptq_screen);
  spec.ptq_bn_batches = static_cast<int>(r.Int("ptq_bn_batches", spec.ptq_bn_batches, 0, 100000));
  r.RejectUnknownKeys();
  BITSWEEP_RETURN_IF_ERROR(r.status());
  return spec;
}

Result<RandomSpec> ReadRandom(SpecReader r, const nlohmann::json& json, const nlohmann::json& base) {
  RandomSpec spec;
  spec.space = ReadSpace(r, "space", json.value("space", nlohmann::json()), base);
  spec.trials = static_cast<int>(r.Int("trials", spec.trials, 1, static_cast<int64_t>(kMaxJobsPerSweep)));
  spec.seed = static_cast<uint64_t>(r.Int("seed", 1, 0, INT64_MAX));
  spec.max_in_flight = static_cast<int>(r.Int("max_in_flight", spec.max_in_flight, 1, 100000));
  r.RejectUnknownKeys();
  BITSWEEP_RETURN_IF_ERROR(r.status());
  return spec;
}

Result<SuccessiveHalvingSpec> ReadSuccessiveHalving(SpecReader r, const nlohmann::json& json,
                                                    const nlohmann::json& base) {
  SuccessiveHalvingSpec spec;
  const bool has_axes = r.Has("axes"), has_space = r.Has("space");
  if (has_axes == has_space) {
    r.Fail("axes", "give the configurations either as a grid (axes) or as a random space (space + configurations)");
  } else if (has_axes) {
    (void)r.Child("axes");
    // The grid's points are checked when the search starts; its shape is
    // checked here, so that a search that cannot start is refused at submit.
    if (ReadGridAxes(r, json["axes"], base).ok()) spec.axes = json["axes"];
  } else {
    spec.space = ReadSpace(r, "space", json["space"], base);
    spec.configurations = static_cast<int>(r.Int("configurations", 0, 1, 100000));
    if (r.status().ok() && spec.configurations == 0) r.Fail("configurations", "missing (required with space)");
    spec.seed = static_cast<uint64_t>(r.Int("seed", 1, 0, INT64_MAX));
  }
  spec.metric = r.OneOf("metric", "fid", {"fid", "is", "kid"});
  spec.min_iterations = r.Int("min_iterations", spec.min_iterations, 1, kMaxIterations);
  spec.max_iterations = r.Int("max_iterations", spec.max_iterations, 1, kMaxIterations);
  spec.eta = static_cast<int>(r.Int("eta", spec.eta, 2, 100));
  spec.max_in_flight = static_cast<int>(r.Int("max_in_flight", spec.max_in_flight, 1, 100000));
  if (r.status().ok() && spec.max_iterations < spec.min_iterations) {
    r.Fail("max_iterations", std::to_string(spec.max_iterations) + " is below min_iterations " +
                                 std::to_string(spec.min_iterations));
  }
  r.RejectUnknownKeys();
  BITSWEEP_RETURN_IF_ERROR(r.status());
  return spec;
}

nlohmann::json DrawRandomPoint(const std::vector<RandomAxis>& space, uint64_t seed, uint64_t index) {
  // One generator per point, seeded from (seed, index): point i is the same
  // whichever points were drawn before it, so a restarted search draws again
  // exactly what it drew.
  std::mt19937_64 rng(Fnv1a64(std::to_string(seed) + "/" + std::to_string(index)));
  nlohmann::json point = nlohmann::json::object();
  for (const auto& axis : space) {
    switch (axis.kind) {
      case RandomAxis::Kind::kChoice: {
        std::uniform_int_distribution<size_t> pick(0, axis.choices.size() - 1);
        point[axis.path] = axis.choices[pick(rng)];
        break;
      }
      case RandomAxis::Kind::kUniform:
        point[axis.path] = std::uniform_real_distribution<double>(axis.low, axis.high)(rng);
        break;
      case RandomAxis::Kind::kLogUniform:
        point[axis.path] =
            std::exp(std::uniform_real_distribution<double>(std::log(axis.low), std::log(axis.high))(rng));
        break;
      case RandomAxis::Kind::kIntUniform:
        point[axis.path] = std::uniform_int_distribution<int64_t>(static_cast<int64_t>(axis.low),
                                                                  static_cast<int64_t>(axis.high))(rng);
        break;
    }
  }
  return point;
}

}  // namespace bitsweep
