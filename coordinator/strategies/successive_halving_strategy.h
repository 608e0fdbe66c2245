// Successive halving on training budget. Every configuration trains for
// min_iterations (rung 0); when a rung has finished, the best 1/eta of it
// (by the metric; failed runs are out) continue for eta times as many
// iterations, and so on until max_iterations. A continuing job resumes from
// the checkpoint its previous rung uploaded (train.resume_from_job), so
// each rung pays only for the iterations it adds.
//
// State: the configurations (their params, as drawn at submit) and the
// trials (configuration, rung, job, value).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "coordinator/strategies/trial_status.h"
#include "coordinator/strategy.h"

namespace bitsweep::coordinator {

class SuccessiveHalvingStrategy : public Strategy {
 public:
  static Result<std::unique_ptr<Strategy>> Create(const SweepSpec& sweep, const nlohmann::json& saved_state);

  Result<std::vector<JobPlan>> Propose(int max_new) override;
  void Observe(const TrialResult& result) override;
  bool Done() const override;
  int MaxInFlight() const override { return spec_.max_in_flight; }
  nlohmann::json SaveState() const override;
  nlohmann::json Outcome() const override;

 private:
  struct Trial {
    int config = 0;
    int rung = 0;
    TrialStatus status = TrialStatus::kPending;
    int64_t job_id = 0;
    double value = 0.0;
    std::string error;
  };

  explicit SuccessiveHalvingStrategy(const SweepSpec& sweep)
      : spec_(sweep.successive_halving), base_(sweep.base), budgets_(spec_.Budgets()) {}

  /// Where the halving stands: the configurations of every rung reached,
  /// and the first rung not finished (budgets_.size() when all are).
  struct Progress {
    std::vector<std::vector<int>> participants;
    int current = 0;
  };
  const Trial* Find(int config, int rung) const;
  /// One pass over the rungs, from the first (each rung's participants are
  /// the best 1/eta of the finished rung before it).
  Progress Walk() const;

  SuccessiveHalvingSpec spec_;
  nlohmann::json base_;
  std::vector<int64_t> budgets_;
  std::vector<nlohmann::json> configs_;  // params of each configuration
  std::vector<Trial> trials_;
};

}  // namespace bitsweep::coordinator
