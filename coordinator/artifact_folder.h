// The folder a store keeps its artifacts in, claimed for that store.
//
// Artifacts of a job go to "<root>/store-<id>/job-<job>/<name>", where root
// is the --artifacts folder (default: "artifacts" beside the store) and id
// is the store's own id (Store::store_id): two stores never write the same
// file, even with one root, and a store deleted and made anew in the same
// place gets a new id and so a new folder.
//
// The store's folder carries a marker ("STORE", JSON: store id and store
// file) so that a folder belonging to another store is refused at start,
// with an error naming both, instead of being written into. That happens to
// a copy of a store file (same id, other file) kept beside the original:
// give one of them a root of its own.
#pragma once

#include <string>

#include "common/status.h"

namespace bitsweep::coordinator {

/// Creates (or checks) the artifact folder of the store with `store_id` at
/// `store_path` under `root`, and returns it (absolute).
Result<std::string> ClaimArtifactFolder(const std::string& root, const std::string& store_path,
                                        const std::string& store_id);

}  // namespace bitsweep::coordinator
