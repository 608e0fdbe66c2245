// MeasurementCache: what a strategy may read from the store besides the
// results of its own jobs: post-training measurements made before (by any
// sweep), and finished jobs named as baselines.
//
// Strategies are deterministic functions of what they observed: one that
// reads the cache records what it read in its own state, so a restart
// continues from the same facts even if the cache has grown since.
#pragma once

#include <optional>

#include "common/status.h"
#include "coordinator/records.h"

namespace bitsweep::coordinator {

class Store;

class MeasurementCache {
 public:
  virtual ~MeasurementCache() = default;
  /// The stored measurement under `key`, if any. A read error counts as
  /// none (the job then runs).
  virtual std::optional<PtqMeasurement> FindMeasurement(const PtqMeasurementKey& key) = 0;
  /// Job `job_id` as a baseline (NotFound when there is no such job).
  virtual Result<BaselineRecord> FindBaseline(int64_t job_id) = 0;
};

/// The cache of a Store (its ptq_measurements table and jobs).
class StoreMeasurementCache : public MeasurementCache {
 public:
  explicit StoreMeasurementCache(Store* store) : store_(store) {}
  std::optional<PtqMeasurement> FindMeasurement(const PtqMeasurementKey& key) override;
  Result<BaselineRecord> FindBaseline(int64_t job_id) override;

 private:
  Store* store_;
};

}  // namespace bitsweep::coordinator
