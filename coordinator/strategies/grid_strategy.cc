#include "coordinator/strategies/grid_strategy.h"

#include <algorithm>
#include <optional>

namespace bitsweep::coordinator {
namespace {

constexpr size_t kCheckedValues = 1000;

// The values of a large grid's axis checked at submit (see Create).
std::vector<nlohmann::json> ValuesToCheck(const GridAxis& axis) {
  if (axis.values.size() <= kCheckedValues) return axis.values;
  std::vector<nlohmann::json> values(axis.values.begin(), axis.values.begin() + kCheckedValues);
  const nlohmann::json* low = nullptr;
  const nlohmann::json* high = nullptr;
  for (const auto& v : axis.values) {
    if (!v.is_number()) continue;
    if (low == nullptr || v < *low) low = &v;
    if (high == nullptr || v > *high) high = &v;
  }
  if (low != nullptr) values.push_back(*low);
  if (high != nullptr) values.push_back(*high);
  return values;
}

int64_t RawPoints(const SweepSpec& sweep) {
  int64_t total = 1;
  for (const auto& axis : sweep.axes) total *= static_cast<int64_t>(axis.values.size());
  return total;
}

}  // namespace

Result<std::unique_ptr<Strategy>> GridStrategy::Create(const SweepSpec& sweep, const nlohmann::json& saved_state) {
  std::unique_ptr<GridStrategy> grid(new GridStrategy(sweep));
  const int64_t raw = RawPoints(sweep);
  grid->lazy_ = raw > kWindow;
  if (saved_state.is_object() && saved_state.contains("proposed")) {
    // Saved before grids were planned as they run: everything was proposed
    // at submit.
    const int64_t proposed = saved_state.value("proposed", int64_t{0});
    const int64_t total = saved_state.value("total", int64_t{0});
    if (proposed < total) return Status::Internal("grid state from an older version proposed only part of the grid");
    grid->lazy_ = false;
    grid->next_point_ = grid->points_ = total;
    return std::unique_ptr<Strategy>(std::move(grid));
  }
  if (!grid->lazy_) {
    BITSWEEP_ASSIGN_OR_RETURN(grid->expanded_, ExpandGrid(sweep));
    grid->points_ = static_cast<int64_t>(grid->expanded_.size());
  } else {
    grid->points_ = raw;
    if (!saved_state.is_object()) {
      // A fresh large grid: axis values on the first point. Every value of
      // an axis of up to kCheckedValues; of a longer one (seeds, say: each
      // check costs tens of microseconds) the first kCheckedValues and its
      // smallest and largest numbers; its other values are checked as their
      // points are reached.
      const nlohmann::json first = grid->PointParams(0);
      for (const auto& axis : sweep.axes) {
        for (const auto& value : ValuesToCheck(axis)) {
          nlohmann::json params = first;
          params[axis.path] = value;
          auto plan = PlanJob(sweep.base, params);
          if (!plan.ok()) return plan.status().WithContext("strategy.axes");
        }
      }
      // The first window, planned now: an invalid point there refuses the
      // submit like in a small grid.
      while (static_cast<int64_t>(grid->ready_.size()) < kWindow && grid->next_point_ < grid->points_) {
        BITSWEEP_ASSIGN_OR_RETURN(auto plan, grid->PlanPoint(grid->next_point_));
        ++grid->next_point_;
        if (plan.has_value()) grid->ready_.push_back(std::move(*plan));
      }
      return std::unique_ptr<Strategy>(std::move(grid));
    }
  }
  if (saved_state.is_object()) grid->next_point_ = saved_state.value("next_point", int64_t{0});
  return std::unique_ptr<Strategy>(std::move(grid));
}

nlohmann::json GridStrategy::PointParams(int64_t n) const {
  nlohmann::json params = nlohmann::json::object();
  std::vector<size_t> index(sweep_.axes.size(), 0);
  for (size_t a = sweep_.axes.size(); a-- > 0;) {
    const auto size = static_cast<int64_t>(sweep_.axes[a].values.size());
    index[a] = static_cast<size_t>(n % size);
    n /= size;
  }
  for (size_t a = 0; a < sweep_.axes.size(); ++a) params[sweep_.axes[a].path] = sweep_.axes[a].values[index[a]];
  return params;
}

Result<std::optional<JobPlan>> GridStrategy::PlanPoint(int64_t n) const {
  const nlohmann::json params = PointParams(n);
  auto plan = PlanJob(sweep_.base, params);
  if (!plan.ok()) return plan.status().WithContext("strategy.axes");
  // PlanJob's one rewrite: a network with method "none" runs at 32 bits.
  // Such a point coincides with every point that differs from it only in
  // that network's bits; the first of them in grid order runs.
  for (const char* net : {"g", "d"}) {
    const std::string bits_path = std::string("quant.") + net + ".bits";
    if (!params.contains(bits_path) || plan->spec["quant"][net]["method"] != "none") continue;
    for (const auto& axis : sweep_.axes) {
      if (axis.path != bits_path) continue;
      for (const auto& value : axis.values) {
        if (value == params[bits_path]) break;  // no earlier value coincides
        nlohmann::json earlier = params;
        earlier[bits_path] = value;
        auto other = PlanJob(sweep_.base, earlier);
        if (other.ok() && other->params == plan->params) return std::optional<JobPlan>();
      }
    }
  }
  return std::optional<JobPlan>(std::move(plan.value()));
}

Result<std::vector<JobPlan>> GridStrategy::Propose(int max_new) {
  std::vector<JobPlan> out;
  if (!lazy_) {
    const int64_t end = std::min<int64_t>(points_, next_point_ + std::max(0, max_new));
    if (expanded_.empty() && next_point_ < end) {
      BITSWEEP_ASSIGN_OR_RETURN(expanded_, ExpandGrid(sweep_));  // after a restart
    }
    for (int64_t i = next_point_; i < end; ++i) out.push_back(std::move(expanded_[static_cast<size_t>(i)]));
    next_point_ = end;
    if (next_point_ >= points_) expanded_ = std::vector<JobPlan>();
    return out;
  }
  const size_t from_ready = std::min(ready_.size(), static_cast<size_t>(std::max(0, max_new)));
  for (size_t i = 0; i < from_ready; ++i) out.push_back(std::move(ready_[i]));
  ready_.erase(ready_.begin(), ready_.begin() + static_cast<std::ptrdiff_t>(from_ready));
  while (static_cast<int>(out.size()) < max_new && next_point_ < points_) {
    auto plan = PlanPoint(next_point_);
    // An invalid point: the valid ones before it first; the error next time.
    if (!plan.ok()) return out.empty() ? Result<std::vector<JobPlan>>(plan.status()) : out;
    ++next_point_;
    if (plan->has_value()) out.push_back(std::move(**plan));
  }
  return out;
}

}  // namespace bitsweep::coordinator
