// SweepSpec: a base job spec plus how to vary it, parsed and validated.
//
// A sweep is self-contained: `base` is a whole job spec. The grid strategy
// varies fields of it by their dotted paths ("quant.g.bits"); every point of
// the grid must itself be a valid job spec, and an invalid one is reported
// with the point that made it so, before anything runs.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/layer_allocation_spec.h"
#include "common/status.h"
#include "common/strategy_spec.h"

namespace bitsweep {

/// One axis of a grid: a job spec field and the values it takes. A value may
/// be an object, which is merged into the field (e.g. axis "quant.g" with
/// values {"method": "em", "bits": 2}).
struct GridAxis {
  std::string path;
  std::vector<nlohmann::json> values;
};

/// One job a strategy asks for: the grid point and the complete job spec.
struct JobPlan {
  /// Field path -> value, e.g. {"quant.g.bits": 2, "train.seed": 1}.
  nlohmann::json params = nlohmann::json::object();
  /// The canonical job spec with the params applied.
  nlohmann::json spec;
};

struct SweepSpec {
  std::string name;
  /// The canonical base job spec (every field, defaults filled in).
  nlohmann::json base;
  /// grid, multi_precision, random, successive_halving or layer_allocation.
  std::string strategy = "grid";
  /// Grid axes in the order they vary: the first slowest (grid only).
  std::vector<GridAxis> axes;
  /// The parameters of the other strategies (the one `strategy` names).
  MultiPrecisionSpec multi_precision;
  RandomSpec random;
  SuccessiveHalvingSpec successive_halving;
  LayerAllocationSpec layer_allocation;
  int max_attempts = 3;
  /// Higher runs first; equal priorities run in submission order.
  int priority = 0;

  /// Parses and validates a sweep spec. The jobs it expands to are checked
  /// by ExpandGrid (grid) or by the strategy when it proposes them. Relative paths in the base job spec resolve against `base_dir`.
  static Result<SweepSpec> FromJson(const nlohmann::json& json, const std::string& base_dir = "");
  /// Reads a sweep spec file (relative paths resolve against its folder).
  /// Each of `overrides` ("base.train.seed=2", the command line's --set)
  /// replaces one field before validation; the value is JSON when it parses
  /// as JSON, a string otherwise.
  static Result<SweepSpec> FromFile(const std::string& path, const std::vector<std::string>& overrides = {});

  /// The canonical form: what the coordinator stores and FromJson accepts.
  nlohmann::json ToJson() const;
};

/// The most jobs one sweep may hold.
inline constexpr size_t kMaxJobsPerSweep = 1000000;

/// The number of points of a grid over `axes` (before coinciding points are
/// merged), or kMaxJobsPerSweep + 1 when it has more than kMaxJobsPerSweep.
int64_t GridPoints(const std::vector<GridAxis>& axes);

/// The jobs of a grid sweep, in order. A point that sets a network to method
/// "none" forces its bits to 32 (full precision has no bit-width), and
/// points that thereby coincide are run once. Errors name the grid point.
Result<std::vector<JobPlan>> ExpandGrid(const SweepSpec& sweep);

/// `base` with every "a.b.c": value of `params` set (objects are merged).
nlohmann::json ApplyParams(const nlohmann::json& base, const nlohmann::json& params);

/// The job `params` make of `base`, validated as a job spec: method "none"
/// forces bits 32, and `plan.params` records the values as they will run.
/// An invalid point's error names it: "point {quant.g.bits=12}: ...".
Result<JobPlan> PlanJob(const nlohmann::json& base, const nlohmann::json& params);

/// The JSON pointer of a dotted field path ("quant.g.bits" -> /quant/g/bits).
nlohmann::json::json_pointer JsonPointerOf(const std::string& dotted);

/// Whether the dotted `path` names a field of `base` (false for ""). Paths
/// of per-layer widths ("quant.g.layers.conv3.bits") always do: a spec
/// without them still has room for them.
bool IsFieldOf(const nlohmann::json& base, const std::string& path);

/// The grid of `axes` (path -> list of values), as SweepSpec reads it.
Result<std::vector<GridAxis>> ReadGridAxes(SpecReader strategy, const nlohmann::json& axes_json,
                                           const nlohmann::json& base);

/// Every point of a grid over `base`, in order, validated (see ExpandGrid).
Result<std::vector<JobPlan>> ExpandAxes(const std::vector<GridAxis>& axes, const nlohmann::json& base);

}  // namespace bitsweep
