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
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "coordinator/strategy.h"

namespace bitsweep::coordinator {

class GridStrategy : public Strategy {
 public:
  /// Most jobs of one grid queued or running at once.
  static constexpr int kWindow = 10000;

  static Result<std::unique_ptr<Strategy>> Create(const SweepSpec& sweep, const nlohmann::json& saved_state);

  Result<std::vector<JobPlan>> Propose(int max_new) override;
  void Observe(const TrialResult&) override {}
  bool Done() const override { return next_point_ >= points_ && ready_.empty(); }
  int MaxInFlight() const override { return kWindow; }
  bool ProposesAhead() const override { return true; }
  int64_t Unproposed() const override { return points_ - next_point_ + static_cast<int64_t>(ready_.size()); }
  /// (ready_ is always proposed at submit, before the state is first saved.)
  nlohmann::json SaveState() const override { return {{"next_point", next_point_}, {"points", points_}}; }
  nlohmann::json Outcome() const override { return nlohmann::json::object(); }

 private:
  explicit GridStrategy(SweepSpec sweep) : sweep_(std::move(sweep)) {}

  /// The raw parameters of point `n` (the last axis varies fastest).
  nlohmann::json PointParams(int64_t n) const;
  /// Point `n` planned, or nullopt when an earlier point plans to the same
  /// job (method "none" forces bits to 32: those points coincide).
  Result<std::optional<JobPlan>> PlanPoint(int64_t n) const;

  SweepSpec sweep_;
  /// Small grids: every distinct point, expanded at creation; points_ is
  /// then their count and next_point_ indexes them.
  std::vector<JobPlan> expanded_;
  bool lazy_ = false;
  /// Large grids: points planned at submit, not yet proposed.
  std::vector<JobPlan> ready_;
  int64_t next_point_ = 0;
  int64_t points_ = 0;
};

}  // namespace bitsweep::coordinator
