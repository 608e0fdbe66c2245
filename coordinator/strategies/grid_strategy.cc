#include "coordinator/strategies/grid_strategy.h"

#include <algorithm>
#include <climits>

namespace bitsweep::coordinator {

Result<std::unique_ptr<Strategy>> GridStrategy::Create(const SweepSpec& sweep, const nlohmann::json& saved_state) {
  std::unique_ptr<GridStrategy> grid(new GridStrategy(sweep));
  if (saved_state.is_object()) {
    grid->proposed_ = saved_state.value("proposed", int64_t{0});
    grid->total_ = saved_state.value("total", int64_t{0});
  }
  if (grid->proposed_ == 0) {
    BITSWEEP_ASSIGN_OR_RETURN(grid->plans_, ExpandGrid(sweep));
    grid->total_ = static_cast<int64_t>(grid->plans_.size());
  }
  return std::unique_ptr<Strategy>(std::move(grid));
}

// A grid has nothing to learn from results: every point is wanted at once.
int GridStrategy::MaxInFlight() const { return INT_MAX; }

Result<std::vector<JobPlan>> GridStrategy::Propose(int max_new) {
  std::vector<JobPlan> out;
  if (proposed_ >= total_ || max_new <= 0) return out;
  if (plans_.empty()) {
    // Restarted part-way (never happens today: a grid proposes everything
    // at submit), so expand again and skip what was proposed.
    BITSWEEP_ASSIGN_OR_RETURN(plans_, ExpandGrid(sweep_));
  }
  const int64_t end = std::min<int64_t>(total_, proposed_ + max_new);
  for (int64_t i = proposed_; i < end; ++i) out.push_back(std::move(plans_[i]));
  proposed_ = end;
  if (proposed_ >= total_) plans_ = std::vector<JobPlan>();
  return out;
}

}  // namespace bitsweep::coordinator
