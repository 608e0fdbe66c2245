// Random search: `trials` points drawn from a space, reproducibly from a
// seed (point i depends only on the seed and i), at most max_in_flight at
// once. A point that makes an invalid job is recorded and skipped.
#pragma once

#include <memory>
#include <vector>

#include "coordinator/strategy.h"

namespace bitsweep::coordinator {

class RandomStrategy : public Strategy {
 public:
  static Result<std::unique_ptr<Strategy>> Create(const SweepSpec& sweep, const nlohmann::json& saved_state);

  Result<std::vector<JobPlan>> Propose(int max_new) override;
  void Observe(const TrialResult& result) override;
  bool Done() const override { return drawn_ >= spec_.trials; }
  int MaxInFlight() const override { return spec_.max_in_flight; }
  nlohmann::json SaveState() const override;
  nlohmann::json Outcome() const override;

 private:
  explicit RandomStrategy(const SweepSpec& sweep) : spec_(sweep.random), base_(sweep.base) {}

  RandomSpec spec_;
  nlohmann::json base_;
  int64_t drawn_ = 0;     // points drawn (proposed or skipped)
  int64_t finished_ = 0;  // jobs observed
  int64_t failed_ = 0;
  nlohmann::json skipped_ = nlohmann::json::array();  // invalid points and why
};

}  // namespace bitsweep::coordinator
