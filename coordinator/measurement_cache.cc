#include "coordinator/measurement_cache.h"

#include "coordinator/store.h"

namespace bitsweep::coordinator {

std::optional<PtqMeasurement> StoreMeasurementCache::FindMeasurement(const PtqMeasurementKey& key) {
  auto found = store_->FindMeasurement(key);
  return found.ok() ? found.value() : std::nullopt;
}

Result<BaselineRecord> StoreMeasurementCache::FindBaseline(int64_t job_id) { return store_->FindBaseline(job_id); }

}  // namespace bitsweep::coordinator
