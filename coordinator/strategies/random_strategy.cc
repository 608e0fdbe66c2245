#include "coordinator/strategies/random_strategy.h"

namespace bitsweep::coordinator {

Result<std::unique_ptr<Strategy>> RandomStrategy::Create(const SweepSpec& sweep, const nlohmann::json& saved_state) {
  std::unique_ptr<RandomStrategy> s(new RandomStrategy(sweep));
  if (saved_state.is_object()) {
    s->drawn_ = saved_state.value("drawn", int64_t{0});
    s->finished_ = saved_state.value("finished", int64_t{0});
    s->failed_ = saved_state.value("failed", int64_t{0});
    s->skipped_ = saved_state.value("skipped", nlohmann::json::array());
    return std::unique_ptr<Strategy>(std::move(s));
  }
  // Each choice on its own, and each range's ends, must make a valid job
  // (combinations are checked as they are drawn).
  for (const auto& axis : s->spec_.space) {
    std::vector<nlohmann::json> values = axis.choices;
    if (axis.kind == RandomAxis::Kind::kIntUniform) {
      values = {static_cast<int64_t>(axis.low), static_cast<int64_t>(axis.high)};
    } else if (axis.kind != RandomAxis::Kind::kChoice) {
      values = {axis.low, axis.high};
    }
    for (const auto& v : values) {
      auto plan = PlanJob(sweep.base, {{axis.path, v}});
      if (!plan.ok()) return plan.status().WithContext("strategy.space");
    }
  }
  return std::unique_ptr<Strategy>(std::move(s));
}

Result<std::vector<JobPlan>> RandomStrategy::Propose(int max_new) {
  std::vector<JobPlan> plans;
  while (static_cast<int>(plans.size()) < max_new && drawn_ < spec_.trials) {
    nlohmann::json point = DrawRandomPoint(spec_.space, spec_.seed, static_cast<uint64_t>(drawn_));
    ++drawn_;
    auto plan = PlanJob(base_, point);
    if (!plan.ok()) {
      skipped_.push_back({{"point", point}, {"error", plan.status().message()}});
      continue;
    }
    plans.push_back(std::move(plan.value()));
  }
  return plans;
}

void RandomStrategy::Observe(const TrialResult& result) {
  ++finished_;
  if (!result.succeeded) ++failed_;
}

nlohmann::json RandomStrategy::SaveState() const {
  return {{"drawn", drawn_}, {"finished", finished_}, {"failed", failed_}, {"skipped", skipped_}};
}

nlohmann::json RandomStrategy::Outcome() const {
  return {{"trials", spec_.trials}, {"drawn", drawn_}, {"finished", finished_}, {"failed", failed_},
          {"skipped", skipped_}, {"done", Done()}};
}

}  // namespace bitsweep::coordinator
