#include "coordinator/strategies/successive_halving_strategy.h"

#include <algorithm>
#include <cmath>

namespace bitsweep::coordinator {
namespace {

// What identifies a configuration in a job's params: everything but the
// training budget and the checkpoint plumbing, which vary by rung.
nlohmann::json ConfigPart(nlohmann::json params) {
  params.erase("train.iterations");
  params.erase("train.resume_from_job");
  params.erase("train.upload_checkpoint");
  return params;
}

}  // namespace

Result<std::unique_ptr<Strategy>> SuccessiveHalvingStrategy::Create(const SweepSpec& sweep,
                                                                    const nlohmann::json& saved_state) {
  std::unique_ptr<SuccessiveHalvingStrategy> s(new SuccessiveHalvingStrategy(sweep));
  if (saved_state.is_object()) {
    for (const auto& c : saved_state.at("configs")) s->configs_.push_back(c);
    for (const auto& t : saved_state.value("trials", nlohmann::json::array())) {
      Trial trial;
      trial.config = t.at("config").get<int>();
      trial.rung = t.at("rung").get<int>();
      if (trial.config < 0 || trial.config >= static_cast<int>(s->configs_.size()) || trial.rung < 0 ||
          trial.rung >= static_cast<int>(s->budgets_.size())) {
        return Status::Corruption("strategy state: trial " + t.dump() + " names no configuration or rung");
      }
      trial.status = ParseTrialStatus(t.value("status", "pending"));
      trial.job_id = t.value("job", int64_t{0});
      trial.value = t.value("value", 0.0);
      trial.error = t.value("error", "");
      s->trials_.push_back(std::move(trial));
    }
    return std::unique_ptr<Strategy>(std::move(s));
  }
  const auto& spec = s->spec_;
  if (!spec.axes.is_null()) {
    SpecReader reader(nlohmann::json{{"axes", spec.axes}}, "strategy");
    BITSWEEP_ASSIGN_OR_RETURN(auto axes, ReadGridAxes(reader, spec.axes, sweep.base));
    auto plans = ExpandAxes(axes, sweep.base);
    if (!plans.ok()) return plans.status().WithContext("strategy.axes");
    for (auto& plan : plans.value()) s->configs_.push_back(plan.params);
  } else {
    for (int i = 0; i < spec.configurations; ++i) {
      nlohmann::json point = DrawRandomPoint(spec.space, spec.seed, static_cast<uint64_t>(i));
      auto plan = PlanJob(sweep.base, point);
      if (!plan.ok()) return plan.status().WithContext("strategy.space");
      s->configs_.push_back(plan->params);
    }
  }
  for (const char* path : {"train.iterations", "train.resume_from_job", "train.upload_checkpoint"}) {
    for (const auto& c : s->configs_) {
      if (c.contains(path)) {
        return Status::InvalidArgument(std::string("strategy: ") + path +
                                       " is set by successive halving and cannot be an axis");
      }
    }
  }
  // Every rung's budget must make a valid job.
  for (int64_t budget : s->budgets_) {
    nlohmann::json params = s->configs_.front();
    params["train.iterations"] = budget;
    params["train.upload_checkpoint"] = true;
    params["train.resume_from_job"] = 1;
    auto plan = PlanJob(sweep.base, params);
    if (!plan.ok()) return plan.status().WithContext("strategy");
  }
  return std::unique_ptr<Strategy>(std::move(s));
}

const SuccessiveHalvingStrategy::Trial* SuccessiveHalvingStrategy::Find(int config, int rung) const {
  for (const auto& t : trials_) {
    if (t.config == config && t.rung == rung) return &t;
  }
  return nullptr;
}

SuccessiveHalvingStrategy::Progress SuccessiveHalvingStrategy::Walk() const {
  Progress p;
  std::vector<int> all(configs_.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  p.participants.push_back(all);
  const bool lower = LowerIsBetter(spec_.metric);
  for (p.current = 0; p.current < static_cast<int>(budgets_.size()); ++p.current) {
    const std::vector<int>& here = p.participants.back();
    std::vector<const Trial*> ranked;
    for (int c : here) {
      const Trial* t = Find(c, p.current);
      if (t == nullptr || t->status == TrialStatus::kPending) return p;  // this rung is still running
      if (t->status == TrialStatus::kSucceeded) ranked.push_back(t);
    }
    if (p.current + 1 == static_cast<int>(budgets_.size())) continue;
    std::stable_sort(ranked.begin(), ranked.end(), [&](const Trial* a, const Trial* b) {
      return lower ? a->value < b->value : a->value > b->value;
    });
    const size_t keep = std::min(ranked.size(), std::max<size_t>(1, here.size() / spec_.eta));
    std::vector<int> next;
    for (size_t i = 0; i < keep; ++i) next.push_back(ranked[i]->config);
    p.participants.push_back(std::move(next));
  }
  return p;
}

Result<std::vector<JobPlan>> SuccessiveHalvingStrategy::Propose(int max_new) {
  std::vector<JobPlan> plans;
  const Progress progress = Walk();
  const int rung = progress.current;
  if (rung >= static_cast<int>(budgets_.size())) return plans;
  const bool last = rung + 1 == static_cast<int>(budgets_.size());
  std::vector<Trial> added;  // recorded only once every plan was made
  for (int c : progress.participants[rung]) {
    if (static_cast<int>(plans.size()) >= max_new) break;
    if (Find(c, rung) != nullptr) continue;
    nlohmann::json params = configs_[c];
    params["train.iterations"] = budgets_[rung];
    // Only runs that may continue keep their checkpoint.
    params["train.upload_checkpoint"] = !last;
    params["train.resume_from_job"] = rung == 0 ? int64_t{0} : Find(c, rung - 1)->job_id;
    BITSWEEP_ASSIGN_OR_RETURN(JobPlan plan, PlanJob(base_, params));
    plans.push_back(std::move(plan));
    added.push_back(Trial{c, rung, TrialStatus::kPending, 0, 0.0, ""});
  }
  trials_.insert(trials_.end(), added.begin(), added.end());
  return plans;
}

void SuccessiveHalvingStrategy::Observe(const TrialResult& result) {
  const nlohmann::json config = ConfigPart(result.params);
  const int64_t iterations = result.params.value("train.iterations", int64_t{0});
  for (auto it = trials_.begin(); it != trials_.end(); ++it) {
    Trial& t = *it;
    if (t.status != TrialStatus::kPending || budgets_[t.rung] != iterations || configs_[t.config] != config) continue;
    if (result.cancelled) {  // no verdict: run it again
      trials_.erase(it);
      return;
    }
    t.job_id = result.job_id;
    auto value = result.Metric(spec_.metric);
    if (!result.succeeded || !value || !std::isfinite(*value)) {
      t.status = TrialStatus::kFailed;
      t.error = !result.succeeded ? result.error : spec_.metric + (value ? " is not finite" : " was not measured");
    } else {
      t.status = TrialStatus::kSucceeded;
      t.value = *value;
    }
    return;
  }
}

bool SuccessiveHalvingStrategy::Done() const {
  const Progress p = Walk();
  return p.current >= static_cast<int>(budgets_.size()) || p.participants[p.current].empty();
}

nlohmann::json SuccessiveHalvingStrategy::SaveState() const {
  nlohmann::json trials = nlohmann::json::array();
  for (const auto& t : trials_) {
    nlohmann::json j = {{"config", t.config}, {"rung", t.rung},
                        {"status", TrialStatusName(t.status)}};
    if (t.job_id != 0) j["job"] = t.job_id;
    if (t.status == TrialStatus::kSucceeded) j["value"] = t.value;
    if (!t.error.empty()) j["error"] = t.error;
    trials.push_back(std::move(j));
  }
  return {{"configs", configs_}, {"trials", trials}};
}

nlohmann::json SuccessiveHalvingStrategy::Outcome() const {
  nlohmann::json rungs = nlohmann::json::array();
  for (size_t r = 0; r < budgets_.size(); ++r) {
    int started = 0, finished = 0;
    for (const auto& t : trials_) {
      if (t.rung != static_cast<int>(r)) continue;
      ++started;
      if (t.status != TrialStatus::kPending) ++finished;
    }
    rungs.push_back({{"iterations", budgets_[r]}, {"jobs", started}, {"finished", finished}});
  }
  nlohmann::json out = {{"metric", spec_.metric}, {"configurations", configs_.size()}, {"rungs", rungs},
                        {"jobs", trials_.size()}, {"done", Done()}};
  // The best configuration of the furthest rung with a result.
  const bool lower = LowerIsBetter(spec_.metric);
  const Trial* best = nullptr;
  for (const auto& t : trials_) {
    if (t.status != TrialStatus::kSucceeded) continue;
    if (best == nullptr || t.rung > best->rung ||
        (t.rung == best->rung && (lower ? t.value < best->value : t.value > best->value))) {
      best = &t;
    }
  }
  if (best != nullptr) {
    out["best"] = {{"params", configs_[best->config]}, {"value", best->value},
                   {"iterations", budgets_[best->rung]}, {"job", best->job_id}};
  }
  return out;
}

}  // namespace bitsweep::coordinator
