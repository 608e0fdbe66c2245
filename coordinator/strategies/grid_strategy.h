// The grid: every point of the cartesian product of the axes.
//
// A grid of up to kWindow points is expanded (and so checked) whole at
// submit, as it always was. A larger one is planned as it runs, so that a
// million-point grid submits in seconds and the coordinator holds at most
// kWindow of its jobs: at submit the axis values are checked on the first
// point (all of them for axes of up to 1,000 values; of longer axes, such as
// seeds, the first 1,000 and the smallest and largest) and the first
// kWindow points are planned (and so checked) and queued; the scheduler
// asks for more as jobs finish. A later point found invalid (in
// combination, or a value of a long axis) ends the sweep with its error;
// the jobs before it still run.
//
// Planning a point costs tens of microseconds, too much to do under the
// scheduler's lock at thousands of jobs per second: PrepareAhead (called
// outside that lock) keeps points planned ahead, and Propose (under it)
// only hands them out.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "coordinator/strategy.h"

namespace bitsweep::coordinator {

class GridStrategy : public Strategy {
 public:
  /// Most jobs of one grid queued or running at once.
  static constexpr int kWindow = 10000;
  /// Points PrepareAhead keeps planned for a large grid.
  static constexpr int kPlannedAhead = 1024;

  static Result<std::unique_ptr<Strategy>> Create(const SweepSpec& sweep, const nlohmann::json& saved_state);

  Result<std::vector<JobPlan>> Propose(int max_new) override;
  void Observe(const TrialResult&) override {}
  bool Done() const override;
  int MaxInFlight() const override { return kWindow; }
  bool ProposesAhead() const override { return true; }
  void PrepareAhead() override;
  int64_t Unproposed() const override;
  nlohmann::json SaveState() const override;
  nlohmann::json Outcome() const override { return nlohmann::json::object(); }

 private:
  explicit GridStrategy(SweepSpec sweep) : sweep_(std::move(sweep)) {}

  /// The raw parameters of point `n` (the last axis varies fastest).
  nlohmann::json PointParams(int64_t n) const;
  /// Point `n` planned, or nullopt when an earlier point plans to the same
  /// job (method "none" forces bits to 32: those points coincide).
  Result<std::optional<JobPlan>> PlanPoint(int64_t n) const;
  /// Plans up to `count` further points into ready_ (planning_mu_ held);
  /// stops at an invalid point and keeps its error for Propose.
  void PlanMore(int64_t count);
  /// The first point not yet handed out (state_mu_ held).
  int64_t FirstUnproposedLocked() const;

  const SweepSpec sweep_;
  /// Small grids: every distinct point, expanded at creation.
  std::vector<JobPlan> expanded_;
  bool lazy_ = false;
  int64_t points_ = 0;

  std::mutex planning_mu_;  // one planner at a time; taken before state_mu_
  mutable std::mutex state_mu_;
  /// Small grids: index into expanded_. Large ones: the next point to plan.
  int64_t next_point_ = 0;
  /// Large grids: planned points not yet handed out, with their indices.
  std::deque<std::pair<int64_t, JobPlan>> ready_;
  Status pending_error_;
};

}  // namespace bitsweep::coordinator
