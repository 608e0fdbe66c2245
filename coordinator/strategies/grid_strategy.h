// The grid: every point of the cartesian product of the axes, all at once.
#pragma once

#include <memory>
#include <vector>

#include "coordinator/strategy.h"

namespace bitsweep::coordinator {

class GridStrategy : public Strategy {
 public:
  /// A fresh grid expands (and so validates) every point at once.
  static Result<std::unique_ptr<Strategy>> Create(const SweepSpec& sweep, const nlohmann::json& saved_state);

  Result<std::vector<JobPlan>> Propose(int max_new) override;
  void Observe(const TrialResult&) override {}
  bool Done() const override { return proposed_ >= total_; }
  int MaxInFlight() const override;
  nlohmann::json SaveState() const override { return {{"proposed", proposed_}, {"total", total_}}; }
  nlohmann::json Outcome() const override { return nlohmann::json::object(); }

 private:
  explicit GridStrategy(SweepSpec sweep) : sweep_(std::move(sweep)) {}

  SweepSpec sweep_;
  std::vector<JobPlan> plans_;  // expanded until proposed, then released
  int64_t proposed_ = 0;
  int64_t total_ = 0;
};

}  // namespace bitsweep::coordinator
