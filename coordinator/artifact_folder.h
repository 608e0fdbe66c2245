// The folder a store keeps its artifacts in, claimed for that store, and
// how the store's rows name the files in it.
//
// Artifacts of a job go to "<root>/store-<id>/job-<job>/<name>", where root
// is the --artifacts folder (default: "artifacts" beside the store) and id
// is the store's own id (Store::store_id): two stores never write the same
// file, even with one root, and a store deleted and made anew in the same
// place gets a new id and so a new folder.
//
// The rows name each file relative to that folder ("job-12/samples.png"), so
// a store moved or copied with its folder (off a cluster onto a laptop, a
// renamed project folder, a volume mounted elsewhere, a `.backup` restored
// beside a copy of the folder) still finds every file. Rows written before
// held absolute paths; AdoptMovedArtifacts rewrites them.
//
// The store's folder carries a marker ("STORE", JSON: store id and the
// store file's path relative to the folder) so that a folder belonging to
// another store is refused at start, with an error naming both, instead of
// being written into. That happens to a copy of a store file (same id, other
// file) kept beside the original and sharing its folder: give one of them a
// root of its own.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace bitsweep::coordinator {

class Store;

/// Creates (or checks) the artifact folder of the store with `store_id` at
/// `store_path` under `root`, and returns it (absolute).
Result<std::string> ClaimArtifactFolder(const std::string& root, const std::string& store_path,
                                        const std::string& store_id);

/// The folder of job `job_id`'s artifacts, relative to the store's folder.
std::string ArtifactJobFolder(int64_t job_id);

/// What a row stores for artifact `name` of job `job_id`: its path relative
/// to the store's artifact folder.
std::string StoredArtifactPath(int64_t job_id, const std::string& name);

/// The file a row's `stored_path` names, given the store's artifact
/// `folder`: relative paths are under it; an absolute path (a row from
/// before relative paths that could not be adopted) is taken as it is.
std::string ArtifactFile(const std::string& folder, const std::string& stored_path);

/// Rewrites the store's absolute artifact paths relative to `folder` where
/// the file is there: at the same place (the store did not move) or at the
/// place its job and name give (the store moved with its folder; the size
/// must match, and the SHA-256 is still checked on every read). Rows whose
/// file is found nowhere keep their path, and reading them says so per file.
/// Returns how many rows were rewritten.
Result<int64_t> AdoptMovedArtifacts(Store* store, const std::string& folder);

}  // namespace bitsweep::coordinator
