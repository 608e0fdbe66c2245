// Fuzzes the sweep-spec parser and validator: sweep specs arrive from users
// over the network and the coordinator parses them in-process, so no input
// may crash it, and what it accepts must mean one thing. Checks: an error
// has a message; an accepted spec round-trips through its canonical form;
// the jobs it plans (where there are few enough to plan in a fuzz run) are
// valid job specs that the lease reproduces from base + params.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/job_spec.h"
#include "common/sweep_spec.h"
#include "fuzz/fuzz_util.h"

namespace bitsweep::fuzz {
namespace {

// Planning validates a whole job spec per point; beyond this many points a
// run would test the same code again, only slower.
constexpr int64_t kMostPointsPlanned = 64;

// A job a strategy plans is leased as ApplyParams(base, params): the worker
// must read back exactly the spec that was validated.
void CheckPlan(const nlohmann::json& base, const Result<JobPlan>& plan) {
  if (!plan.ok()) {
    Require(!plan.status().message().empty(), "a planning error without a message");
    return;
  }
  const nlohmann::json leased = ApplyParams(base, plan->params);
  auto job = JobSpec::FromJson(leased);
  Require(job.ok(), "the leased spec of point " + plan->params.dump() + " is invalid: " + job.status().message());
  Require(job->ToJson() == plan->spec, "the leased spec of point " + plan->params.dump() + " differs from the planned one");
}

void CheckPlans(const nlohmann::json& base, const Result<std::vector<JobPlan>>& plans) {
  if (!plans.ok()) {
    Require(!plans.status().message().empty(), "a grid error without a message");
    return;
  }
  for (const auto& plan : plans.value()) CheckPlan(base, plan);
}

void CheckRandomPoints(const nlohmann::json& base, const std::vector<RandomAxis>& space, uint64_t seed,
                       int points) {
  for (int i = 0; i < std::min(points, 8); ++i) {
    CheckPlan(base, PlanJob(base, DrawRandomPoint(space, seed, static_cast<uint64_t>(i))));
  }
}

void CheckStrategy(const SweepSpec& sweep) {
  if (sweep.strategy == "grid") {
    if (GridPoints(sweep.axes) <= kMostPointsPlanned) CheckPlans(sweep.base, ExpandGrid(sweep));
  } else if (sweep.strategy == "multi_precision") {
    for (const auto& method : sweep.multi_precision.methods) {
      for (int bits : sweep.multi_precision.bits) {
        // The shape of the strategy's trials: one network quantized, the other at full precision.
        const nlohmann::json trial = {{"quant.g.method", method}, {"quant.g.bits", bits}, {"quant.d.method", "none"},
                                      {"quant.d.bits", 32}, {"train.seed", sweep.multi_precision.seeds.front()}};
        CheckPlan(sweep.base, PlanJob(sweep.base, trial));
      }
    }
  } else if (sweep.strategy == "random") {
    CheckRandomPoints(sweep.base, sweep.random.space, sweep.random.seed, sweep.random.trials);
  } else {
    const auto& halving = sweep.successive_halving;
    const auto budgets = halving.Budgets();
    Require(budgets.front() == halving.min_iterations && budgets.back() == halving.max_iterations &&
                std::is_sorted(budgets.begin(), budgets.end()),
            "successive halving budgets do not climb from min_iterations to max_iterations");
    if (halving.axes.is_null()) {
      CheckRandomPoints(sweep.base, halving.space, halving.seed, halving.configurations);
      return;
    }
    // What the strategy does with its axes when it starts.
    const nlohmann::json strategy = {{"axes", halving.axes}};
    SpecReader reader(strategy, "strategy");
    auto axes = ReadGridAxes(reader, halving.axes, sweep.base);
    if (!axes.ok()) {
      Require(!axes.status().message().empty(), "an axes error without a message");
    } else if (GridPoints(*axes) <= kMostPointsPlanned) {
      CheckPlans(sweep.base, ExpandAxes(*axes, sweep.base));
    }
  }
}

}  // namespace
}  // namespace bitsweep::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using bitsweep::SweepSpec;
  using bitsweep::fuzz::Require;
  const nlohmann::json json = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;  // the JSON library's own parser is not ours to fuzz

  auto sweep = SweepSpec::FromJson(json);
  if (!sweep.ok()) {
    Require(!sweep.status().message().empty(), "an error without a message");
    return 0;
  }
  const nlohmann::json canonical = sweep->ToJson();
  auto again = SweepSpec::FromJson(canonical);
  Require(again.ok(), "the canonical form is refused: " + again.status().message() + "\n" + canonical.dump());
  Require(again->ToJson() == canonical, "the canonical form changes when read again: " + canonical.dump());
  bitsweep::fuzz::CheckStrategy(*sweep);
  return 0;
}
