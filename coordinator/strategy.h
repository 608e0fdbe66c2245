// Strategy: how a sweep decides which jobs to run.
//
// A strategy proposes jobs, observes their results and says when it is done.
// The scheduler calls it under its lock and stores its state (SaveState) in
// the same transaction as the change that moved it: the jobs it proposed,
// or the result it observed. So a coordinator killed at any instant restarts
// with a strategy that has seen exactly the results in the store and has
// proposed exactly the jobs in it: no job is run twice, no decision is lost.
//
// Jobs are proposed on demand: the scheduler asks when a worker slot is idle
// (and the sweep has fewer than MaxInFlight jobs unfinished), so a strategy
// that speculates does so only with capacity that would otherwise idle.
//
// Strategies are deterministic functions of what they observed: the same
// results in the same order give the same proposals.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metric_value.h"
#include "common/status.h"
#include "common/sweep_spec.h"
#include "coordinator/measurement_cache.h"
#include "coordinator/records.h"

namespace bitsweep::coordinator {

/// What a finished job tells its strategy.
struct TrialResult {
  int64_t job_id = 0;
  /// The params the job was proposed with.
  nlohmann::json params;
  /// SUCCEEDED; otherwise the job FAILED or was cancelled, see `error`.
  bool succeeded = false;
  /// Cancelled by a user: it says nothing about the configuration (a
  /// search runs it again; cancel the sweep to stop the search).
  bool cancelled = false;
  std::vector<MetricValue> metrics;
  std::string error;
  int64_t model_bytes = 0;
  /// SHA-256 of each artifact the job uploaded, by name ("checkpoint.pt").
  std::map<std::string, std::string> artifact_sha256;

  /// The final value of `metric` (the one from the latest step), if measured.
  std::optional<double> Metric(const std::string& metric) const;
};

class Strategy {
 public:
  virtual ~Strategy() = default;

  /// Up to `max_new` further jobs, the most useful first; none when the
  /// strategy waits for results or is done. An error fails the sweep's
  /// submission (at submit) or is recorded on the sweep (later).
  virtual Result<std::vector<JobPlan>> Propose(int max_new) = 0;
  /// A job this strategy proposed finished (succeeded, failed or cancelled).
  virtual void Observe(const TrialResult& result) = 0;
  /// True when the strategy wants nothing more.
  virtual bool Done() const = 0;
  /// Most jobs of the sweep queued or running at once.
  virtual int MaxInFlight() const = 0;
  /// Whether the strategy wants its jobs queued ahead of demand, up to
  /// MaxInFlight (a grid: its jobs do not depend on results); the others
  /// propose only when a worker asks for work.
  virtual bool ProposesAhead() const { return false; }
  /// Called outside the scheduler's lock (possibly while another thread
  /// calls Propose under it): prepares what Propose will hand out, so that
  /// Propose stays cheap. Strategies whose jobs are cheap to make ignore it.
  virtual void PrepareAhead() {}
  /// Jobs the strategy will still propose for certain (counted as queued in
  /// the sweep's progress); 0 when that depends on results.
  virtual int64_t Unproposed() const { return 0; }
  /// Measurements made since the last call, for the store's cache of
  /// post-training measurements (written with the observation that made
  /// them). Most strategies keep none.
  virtual std::vector<PtqMeasurement> TakeMeasurements() { return {}; }
  /// Everything needed to continue after a restart (see CreateStrategy).
  virtual nlohmann::json SaveState() const = 0;
  /// What the search found so far, for people: chosen bit-widths, ranks...
  virtual nlohmann::json Outcome() const = 0;
};

/// The strategy of `sweep`, fresh (`saved_state` null) or as it was saved.
/// A fresh strategy checks every job it could propose where it can, so an
/// invalid sweep is refused at submit. `cache` (may be null: nothing is
/// cached) is what a strategy may read from the store; it must outlive the
/// strategy.
Result<std::unique_ptr<Strategy>> CreateStrategy(const SweepSpec& sweep, const nlohmann::json& saved_state,
                                                 MeasurementCache* cache = nullptr);

}  // namespace bitsweep::coordinator
