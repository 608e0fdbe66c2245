// Where one results store's files live inside a shared folder: artifacts on
// the coordinator, job work folders (checkpoints) on workers. Job ids are
// unique within one store only, so every store gets a folder of its own,
// named after the id the store got when it was created.
#pragma once

#include <string>

namespace bitsweep {

/// "store-" and the first 12 hex digits of `store_id`; "" when the id is
/// unknown (a coordinator older than store ids: files go straight into the
/// shared folder, as they did then).
inline std::string StoreFolderName(const std::string& store_id) {
  return store_id.empty() ? std::string() : "store-" + store_id.substr(0, 12);
}

}  // namespace bitsweep
