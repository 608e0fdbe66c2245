// Successive halving on training budget. Every configuration trains for
// min_iterations (rung 0); when a rung has finished, the best 1/eta of it
// (by the metric; failed runs are out) continue for eta times as many
// iterations, and so on until max_iterations. A continuing job resumes from
// the checkpoint its previous rung uploaded (train.resume_from_job), so
// each rung pays only for the iterations it adds.
//
// State: the trials (configuration, rung, job, value). The configurations
// themselves are recomputed from the spec (a grid, or random draws, which
// are reproducible).
#pragma once

#include <memory>
#include <string>
#include <vector>

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
  enum class TrialStatus { kPending, kSucceeded, kFailed };
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

  const Trial* Find(int config, int rung) const;
  /// The configurations that run in `rung`, given the rungs before it
  /// (empty when the rung before is not finished yet).
  std::vector<int> Participants(int rung) const;
  bool RungFinished(int rung) const;
  /// The first rung not finished (budgets_.size() when all are).
  int CurrentRung() const;

  SuccessiveHalvingSpec spec_;
  nlohmann::json base_;
  std::vector<int64_t> budgets_;
  std::vector<nlohmann::json> configs_;  // params of each configuration
  std::vector<Trial> trials_;
};

}  // namespace bitsweep::coordinator
