#include "coordinator/strategies/grid_strategy.h"

#include <algorithm>

namespace bitsweep::coordinator {
namespace {

constexpr size_t kCheckedValues = 1000;

// The values of a large grid's axis checked at submit (see the header).
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

}  // namespace

Result<std::unique_ptr<Strategy>> GridStrategy::Create(const SweepSpec& sweep, const nlohmann::json& saved_state) {
  std::unique_ptr<GridStrategy> grid(new GridStrategy(sweep));
  if (saved_state.is_object() && saved_state.contains("proposed")) {
    // Saved before grids were planned as they run: everything was proposed
    // at submit.
    const int64_t proposed = saved_state.value("proposed", int64_t{0});
    const int64_t total = saved_state.value("total", int64_t{0});
    if (proposed < total) return Status::Internal("grid state from an older version proposed only part of the grid");
    grid->next_point_ = grid->points_ = total;
    return std::unique_ptr<Strategy>(std::move(grid));
  }
  const int64_t raw = GridPoints(sweep.axes);
  if (raw > static_cast<int64_t>(kMaxJobsPerSweep)) {
    return Status::InvalidArgument("strategy.axes: the grid has more than " + std::to_string(kMaxJobsPerSweep) +
                                   " points");
  }
  grid->lazy_ = raw > kWindow;
  if (saved_state.is_object()) grid->next_point_ = saved_state.value("next_point", int64_t{0});
  if (!grid->lazy_) {
    BITSWEEP_ASSIGN_OR_RETURN(grid->expanded_, ExpandGrid(sweep));
    grid->points_ = static_cast<int64_t>(grid->expanded_.size());
    return std::unique_ptr<Strategy>(std::move(grid));
  }
  grid->points_ = raw;
  if (saved_state.is_object()) return std::unique_ptr<Strategy>(std::move(grid));
  // A fresh large grid: axis values on the first point, then the first
  // window planned; an invalid one refuses the submit like in a small grid.
  const nlohmann::json first = grid->PointParams(0);
  for (const auto& axis : sweep.axes) {
    for (const auto& value : ValuesToCheck(axis)) {
      nlohmann::json params = first;
      params[axis.path] = value;
      auto plan = PlanJob(sweep.base, params);
      if (!plan.ok()) return plan.status().WithContext("strategy.axes");
    }
  }
  {
    std::lock_guard<std::mutex> planning(grid->planning_mu_);
    grid->PlanMore(kWindow + kPlannedAhead);
  }
  if (!grid->pending_error_.ok() && grid->ready_.size() < static_cast<size_t>(kWindow)) return grid->pending_error_;
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

void GridStrategy::PlanMore(int64_t count) {
  // Only the holder of planning_mu_ moves next_point_, so it can plan
  // without state_mu_ and publish each point under it.
  int64_t n = 0;
  {
    std::lock_guard<std::mutex> state(state_mu_);
    if (!pending_error_.ok()) return;
    n = next_point_;
  }
  for (int64_t planned = 0; planned < count && n < points_; ++n) {
    auto plan = PlanPoint(n);
    std::lock_guard<std::mutex> state(state_mu_);
    if (!plan.ok()) {
      pending_error_ = plan.status();
      return;
    }
    next_point_ = n + 1;
    if (plan->has_value()) {
      ready_.emplace_back(n, std::move(**plan));
      ++planned;
    }
  }
}

void GridStrategy::PrepareAhead() {
  if (!lazy_) return;
  std::unique_lock<std::mutex> planning(planning_mu_, std::try_to_lock);
  if (!planning.owns_lock()) return;  // another thread is planning
  int64_t missing = 0;
  {
    std::lock_guard<std::mutex> state(state_mu_);
    missing = kPlannedAhead - static_cast<int64_t>(ready_.size());
  }
  if (missing > kPlannedAhead / 2) PlanMore(missing);
}

Result<std::vector<JobPlan>> GridStrategy::Propose(int max_new) {
  std::vector<JobPlan> out;
  if (max_new <= 0) return out;
  if (!lazy_) {
    std::lock_guard<std::mutex> state(state_mu_);
    const int64_t end = std::min<int64_t>(points_, next_point_ + max_new);
    if (expanded_.empty() && next_point_ < end) {
      BITSWEEP_ASSIGN_OR_RETURN(expanded_, ExpandGrid(sweep_));  // after a restart
    }
    for (int64_t i = next_point_; i < end; ++i) out.push_back(std::move(expanded_[static_cast<size_t>(i)]));
    next_point_ = end;
    if (next_point_ >= points_) expanded_ = std::vector<JobPlan>();
    return out;
  }
  auto take = [&] {
    std::lock_guard<std::mutex> state(state_mu_);
    while (static_cast<int>(out.size()) < max_new && !ready_.empty()) {
      out.push_back(std::move(ready_.front().second));
      ready_.pop_front();
    }
    return pending_error_;
  };
  Status error = take();
  if (static_cast<int>(out.size()) < max_new && error.ok() && !Done()) {
    // Nothing planned ahead (yet): plan what is asked for here.
    std::lock_guard<std::mutex> planning(planning_mu_);
    PlanMore(max_new - static_cast<int64_t>(out.size()));
    error = take();
  }
  // An invalid point: the valid ones before it first, its error next time.
  if (out.empty() && !error.ok()) return error;
  return out;
}

int64_t GridStrategy::FirstUnproposedLocked() const {
  if (lazy_ && !ready_.empty()) return ready_.front().first;
  return next_point_;
}

bool GridStrategy::Done() const {
  std::lock_guard<std::mutex> state(state_mu_);
  return FirstUnproposedLocked() >= points_ && ready_.empty();
}

int64_t GridStrategy::Unproposed() const {
  std::lock_guard<std::mutex> state(state_mu_);
  return points_ - FirstUnproposedLocked();
}

nlohmann::json GridStrategy::SaveState() const {
  std::lock_guard<std::mutex> state(state_mu_);
  return {{"next_point", FirstUnproposedLocked()}, {"points", points_}};
}

}  // namespace bitsweep::coordinator
