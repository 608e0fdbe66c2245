#include "common/sweep_spec.h"

#include <filesystem>
#include <set>

#include "common/job_spec.h"
#include "common/spec_reader.h"

namespace bitsweep {

nlohmann::json::json_pointer JsonPointerOf(const std::string& dotted) {
  // Tokens are pushed as they are (no escaping to undo), one per part
  // between dots; a trailing dot adds no empty part. Planning a grid point
  // builds several of these, so no stream.
  nlohmann::json::json_pointer pointer;
  std::string part;
  for (size_t i = 0; i < dotted.size(); ++i) {
    if (dotted[i] != '.') {
      part += dotted[i];
      continue;
    }
    pointer.push_back(part);
    part.clear();
  }
  if (!part.empty()) pointer.push_back(part);
  return pointer;
}

namespace {

// Per-layer widths are absent from a canonical spec that has none, yet a
// sweep may vary them: "quant.g.layers", "quant.g.layers.conv3",
// "quant.g.layers.conv3.bits" or ".method" (each point's job spec then
// checks the layer's name and width).
bool IsLayerWidthPath(const std::string& path) {
  for (const std::string prefix : {"quant.g.layers", "quant.d.layers"}) {
    if (path == prefix) return true;
    if (path.rfind(prefix + ".", 0) != 0) continue;
    const std::string rest = path.substr(prefix.size() + 1);
    const size_t dot = rest.find('.');
    if (dot == std::string::npos) return !rest.empty();
    const std::string leaf = rest.substr(dot + 1);
    return dot > 0 && (leaf == "bits" || leaf == "method");
  }
  return false;
}

}  // namespace

bool IsFieldOf(const nlohmann::json& base, const std::string& path) {
  if (IsLayerWidthPath(path)) return true;
  // A path through an array with an index no array can have names nothing
  // (the JSON library throws on it).
  try {
    return !path.empty() && base.contains(JsonPointerOf(path));
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

namespace {

std::string DescribePoint(const nlohmann::json& params) {
  std::string s;
  for (const auto& [path, value] : params.items()) {
    if (!s.empty()) s += ", ";
    s += path + "=" + value.dump();
  }
  return "{" + s + "}";
}

// Full precision has no bit-width: a point that says method none runs at 32
// (so a grid of methods x bits holds one full-precision job). A bit-width
// that would be invalid with any method is still an error. A point may have
// set any value anywhere: what is not a quantization object with a string
// method is left for the job spec check to report.
Status NormaliseFullPrecision(nlohmann::json* spec) {
  for (const char* net : {"g", "d"}) {
    const auto where = JsonPointerOf(std::string("quant.") + net);
    if (!spec->contains(where) || !(*spec)[where].is_object()) continue;
    auto& q = (*spec)[where];
    const auto method = q.find("method");
    if (method != q.end() && !method->is_null() && *method != "none") continue;  // null reads as absent
    const auto& bits = q["bits"];
    const bool valid = bits.is_number_integer() && (bits.get<int64_t>() == 32 ||
                                                    (bits.get<int64_t>() >= 1 && bits.get<int64_t>() <= 8));
    if (!valid) return Status::InvalidArgument(std::string("quant.") + net + ".bits: " + bits.dump() + " is outside 1..8 or 32");
    q["bits"] = 32;
  }
  return Status::Ok();
}

// Sets one field of a point (objects are merged). Throws the JSON library's
// exception when an earlier field of the same point put a value that is not
// an object on the way (axes "quant": [5] and "quant.g.bits": [2]).
void SetParam(nlohmann::json* spec, const std::string& path, const nlohmann::json& value) {
  auto& field = (*spec)[JsonPointerOf(path)];
  if (value.is_object() && field.is_object()) {
    field.merge_patch(value);
  } else {
    field = value;
  }
}

}  // namespace

nlohmann::json ApplyParams(const nlohmann::json& base, const nlohmann::json& params) {
  nlohmann::json spec = base;
  for (const auto& [path, value] : params.items()) SetParam(&spec, path, value);
  return spec;
}

Result<std::vector<GridAxis>> ReadGridAxes(SpecReader strategy, const nlohmann::json& axes_json,
                                           const nlohmann::json& base) {
  std::vector<GridAxis> axes;
  if (!axes_json.is_object() || axes_json.empty()) {
    strategy.Fail("axes", "must be an object of field path -> list of values, with at least one axis");
    return strategy.status();
  }
  for (const auto& [path, values] : axes_json.items()) {
    std::string where = "axes." + path;
    if (!IsFieldOf(base, path)) {
      strategy.Fail(where, "\"" + path + "\" is not a field of the job spec");
      return strategy.status();
    }
    if (!values.is_array() || values.empty()) {
      strategy.Fail(where, "must be a non-empty list of values");
      return strategy.status();
    }
    axes.push_back({path, std::vector<nlohmann::json>(values.begin(), values.end())});
  }
  return axes;
}

Result<JobPlan> PlanJob(const nlohmann::json& base, const nlohmann::json& params) {
  JobPlan plan;
  plan.params = params;
  plan.spec = base;
  for (const auto& [path, value] : params.items()) {
    try {
      SetParam(&plan.spec, path, value);
    } catch (const nlohmann::json::exception&) {
      return Status::InvalidArgument("point " + DescribePoint(params) + ": " + path +
                                     ": cannot be set: another field of the point replaced the object it is in");
    }
  }
  Status normalised = NormaliseFullPrecision(&plan.spec);
  auto parsed = normalised.ok() ? JobSpec::FromJson(plan.spec) : Result<JobSpec>(normalised);
  if (!parsed.ok()) return Status::InvalidArgument("point " + DescribePoint(params) + ": " + parsed.status().message());
  plan.spec = parsed->ToJson();
  // Record the point as it will run (bits 32 for full precision). A lease
  // rebuilds the spec from base + params alone, so a bit-width that full
  // precision forced is recorded even where the point did not name it
  // (a grid over quant.g.method alone).
  for (const auto& [path, value] : plan.params.items()) plan.params[path] = plan.spec[JsonPointerOf(path)];
  // Only the base's quantization object and the point's fields in it decide
  // the bits a lease will see: rebuild just that, not the whole spec.
  nlohmann::json leased = nlohmann::json::object();
  if (base.contains("quant")) leased["quant"] = base["quant"];
  for (const auto& [path, value] : plan.params.items()) {
    if (path == "quant" || path.rfind("quant.", 0) == 0) SetParam(&leased, path, value);
  }
  for (const char* net : {"g", "d"}) {
    const std::string bits_path = std::string("quant.") + net + ".bits";
    const auto bits = JsonPointerOf(bits_path);
    if (!leased.contains(bits) || leased.at(bits) != plan.spec.at(bits)) plan.params[bits_path] = plan.spec.at(bits);
  }
  return plan;
}

Result<SweepSpec> SweepSpec::FromJson(const nlohmann::json& json, const std::string& base_dir) {
  SpecReader r(json);
  BITSWEEP_RETURN_IF_ERROR(r.status());
  SweepSpec sweep;
  sweep.name = r.RequiredString("name");
  sweep.max_attempts = static_cast<int>(r.Int("max_attempts", sweep.max_attempts, 1, 100));
  sweep.priority = static_cast<int>(r.Int("priority", sweep.priority, -1000000, 1000000));
  if (r.status().ok() && sweep.name.empty()) r.Fail("name", "must not be empty");
  if (!r.Has("base")) r.Fail("base", "missing (required: the job spec every job starts from)");
  BITSWEEP_RETURN_IF_ERROR(r.status());

  (void)r.Child("base");  // marks it read; parsed as a job spec below
  auto base = JobSpec::FromJson(json["base"], base_dir);
  if (!base.ok()) return base.status().WithContext("base");
  sweep.base = base->ToJson();

  SpecReader strategy = r.Child("strategy");
  sweep.strategy = strategy.OneOf("kind", "grid",
                                  {"grid", "multi_precision", "random", "successive_halving", "layer_allocation"});
  BITSWEEP_RETURN_IF_ERROR(strategy.status());
  const nlohmann::json strategy_json =
      json.contains("strategy") && json["strategy"].is_object() ? json["strategy"] : nlohmann::json::object();
  if (sweep.strategy == "grid") {
    (void)strategy.Child("axes");
    BITSWEEP_ASSIGN_OR_RETURN(sweep.axes,
                              ReadGridAxes(strategy, strategy_json.value("axes", nlohmann::json()), sweep.base));
    strategy.RejectUnknownKeys();
  } else if (sweep.strategy == "multi_precision") {
    BITSWEEP_ASSIGN_OR_RETURN(sweep.multi_precision, ReadMultiPrecision(strategy));
  } else if (sweep.strategy == "random") {
    BITSWEEP_ASSIGN_OR_RETURN(sweep.random, ReadRandom(strategy, strategy_json, sweep.base));
  } else if (sweep.strategy == "layer_allocation") {
    BITSWEEP_ASSIGN_OR_RETURN(sweep.layer_allocation, ReadLayerAllocation(strategy, sweep.base, base_dir));
  } else {
    BITSWEEP_ASSIGN_OR_RETURN(sweep.successive_halving, ReadSuccessiveHalving(strategy, strategy_json, sweep.base));
  }
  r.RejectUnknownKeys();
  BITSWEEP_RETURN_IF_ERROR(r.status());
  return sweep;
}

Result<SweepSpec> SweepSpec::FromFile(const std::string& path, const std::vector<std::string>& overrides) {
  BITSWEEP_ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(path));
  for (const auto& assignment : overrides) {
    const size_t equals = assignment.find('=');
    const std::string field = assignment.substr(0, equals);
    if (equals == std::string::npos || field.empty() || field.front() == '.' || field.back() == '.' ||
        field.find("..") != std::string::npos) {
      return Status::InvalidArgument("--set " + assignment + ": expected FIELD=VALUE, e.g. base.train.seed=2");
    }
    const std::string text = assignment.substr(equals + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) value = text;  // a bare string: a path, a name
    if (!json.is_object()) break;  // FromJson names what is wrong with the file
    SetParam(&json, field, value);
  }
  auto sweep = FromJson(json, std::filesystem::absolute(path).parent_path().string());
  if (!sweep.ok()) return sweep.status().WithContext(path);
  return sweep;
}

nlohmann::json SweepSpec::ToJson() const {
  nlohmann::json strategy_json;
  if (strategy == "grid") {
    nlohmann::json axes_json = nlohmann::json::object();
    for (const auto& axis : axes) axes_json[axis.path] = axis.values;
    strategy_json = {{"kind", strategy}, {"axes", axes_json}};
  } else if (strategy == "multi_precision") {
    strategy_json = multi_precision.ToJson();
  } else if (strategy == "random") {
    strategy_json = random.ToJson();
  } else if (strategy == "layer_allocation") {
    strategy_json = layer_allocation.ToJson();
  } else {
    strategy_json = successive_halving.ToJson();
  }
  return {{"name", name},
          {"base", base},
          {"strategy", strategy_json},
          {"max_attempts", max_attempts},
          {"priority", priority}};
}

int64_t GridPoints(const std::vector<GridAxis>& axes) {
  const auto over = static_cast<int64_t>(kMaxJobsPerSweep) + 1;
  int64_t total = 1;
  for (const auto& axis : axes) {
    // Stops before the product can overflow.
    if (axis.values.empty()) return 0;
    if (total > over / static_cast<int64_t>(std::min<size_t>(axis.values.size(), static_cast<size_t>(over)))) {
      return over;
    }
    total *= static_cast<int64_t>(axis.values.size());
    if (total > over) return over;
  }
  return total;
}

Result<std::vector<JobPlan>> ExpandGrid(const SweepSpec& sweep) {
  auto plans = ExpandAxes(sweep.axes, sweep.base);
  if (!plans.ok()) return plans.status().WithContext("strategy.axes");
  return plans;
}

Result<std::vector<JobPlan>> ExpandAxes(const std::vector<GridAxis>& axes, const nlohmann::json& base) {
  const auto total = static_cast<size_t>(GridPoints(axes));
  if (total > kMaxJobsPerSweep) {
    return Status::InvalidArgument("the grid has more than " + std::to_string(kMaxJobsPerSweep) + " points");
  }
  std::vector<JobPlan> jobs;
  jobs.reserve(total);
  std::set<std::string> seen;
  std::vector<size_t> index(axes.size(), 0);
  for (size_t n = 0; n < total; ++n) {
    nlohmann::json params = nlohmann::json::object();
    for (size_t a = 0; a < axes.size(); ++a) params[axes[a].path] = axes[a].values[index[a]];
    BITSWEEP_ASSIGN_OR_RETURN(JobPlan plan, PlanJob(base, params));
    if (seen.insert(plan.params.dump()).second) jobs.push_back(std::move(plan));
    for (size_t a = axes.size(); a-- > 0;) {
      if (++index[a] < axes[a].values.size()) break;
      index[a] = 0;
    }
  }
  return jobs;
}

}  // namespace bitsweep
