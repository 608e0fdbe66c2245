#include "coordinator/artifact_folder.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/store_paths.h"
#include "coordinator/store.h"

namespace bitsweep::coordinator {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMarkerName = "STORE";

// The id of the store at `path`, or "" when it is not a readable store with
// one (gone, not SQLite, older than store ids).
std::string StoreIdOf(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return "";
  sqlite3* db = nullptr;
  std::string id;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT value FROM store_info WHERE key = 'store_id'", -1, &q, nullptr) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
      id = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  return id;
}

// The marker names the store relative to the folder, so that a store copied
// or moved together with its folder still matches its marker.
Status WriteMarker(const fs::path& marker, const std::string& store_path, const std::string& store_id) {
  const fs::path partial = marker.string() + ".partial";
  const std::string relative = fs::path(store_path).lexically_relative(marker.parent_path()).string();
  {
    std::ofstream out(partial, std::ios::trunc);
    out << nlohmann::json({{"store_id", store_id}, {"store", relative.empty() ? store_path : relative}}).dump()
        << "\n";
    if (!out) return Status::IoError(partial.string() + ": cannot write the artifact folder's marker");
  }
  std::error_code ec;
  fs::rename(partial, marker, ec);
  if (ec) return Status::IoError(marker.string() + ": " + ec.message());
  return Status::Ok();
}

bool SameFile(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return a.lexically_normal() == b.lexically_normal() || fs::equivalent(a, b, ec);
}

// A marker written before markers held relative paths names its store
// absolutely, so a folder copied together with its store still names the
// original. The folder is the original's only if the original has no folder
// of its own at the place this one sits relative to this store.
bool OriginalHasOtherFolder(const fs::path& folder, const fs::path& store_path, const fs::path& original) {
  const fs::path place = store_path.parent_path();
  const fs::path mirrored = original.parent_path() / folder.lexically_relative(place);
  std::error_code ec;
  return fs::is_directory(mirrored, ec) && !SameFile(mirrored, folder);
}

}  // namespace

Result<std::string> ClaimArtifactFolder(const std::string& root, const std::string& store_path,
                                        const std::string& store_id) {
  const fs::path folder = fs::absolute(fs::path(root) / StoreFolderName(store_id));
  const fs::path marker = folder / kMarkerName;
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return Status::IoError(folder.string() + ": cannot create the artifact folder: " + ec.message());

  std::ifstream in(marker);
  if (!in) {
    BITSWEEP_RETURN_IF_ERROR(WriteMarker(marker, store_path, store_id));
    return folder.string();
  }
  std::stringstream text;
  text << in.rdbuf();
  auto owner = nlohmann::json::parse(text.str(), nullptr, false);
  if (owner.is_discarded() || !owner.is_object() || !owner.contains("store_id") || !owner.contains("store")) {
    return Status::Corruption(marker.string() + ": not an artifact folder marker (JSON with store_id and store)");
  }
  const std::string owner_id = owner["store_id"].is_string() ? owner["store_id"].get<std::string>() : "";
  const std::string owner_text = owner["store"].is_string() ? owner["store"].get<std::string>() : "";
  const fs::path owner_path = fs::path(owner_text).is_absolute() ? fs::path(owner_text) : folder / owner_text;
  if (owner_id != store_id) {
    return Status::FailedPrecondition(folder.string() + " holds the artifacts of another results store (id " +
                                      owner_id + ", " + owner_path.lexically_normal().string() + "), not of " +
                                      store_path + " (id " + store_id +
                                      "); give this store an artifact folder of its own with --artifacts DIR");
  }
  if (!SameFile(owner_path, store_path)) {
    // Same id, other file: the store was moved or renamed (then the folder
    // is ours), or one of the two files is a copy of the other sharing this
    // folder (then both would write the same files: refused).
    const bool copied_with_its_folder =
        fs::path(owner_text).is_absolute() && OriginalHasOtherFolder(folder, store_path, owner_path);
    if (StoreIdOf(owner_path.string()) == store_id && !copied_with_its_folder) {
      return Status::FailedPrecondition(
          folder.string() + " holds the artifacts of " + owner_path.lexically_normal().string() + ", and " +
          store_path + " has the same store id (one is a copy of the other); give this one an artifact folder of " +
          "its own with --artifacts DIR");
    }
  }
  // Rewritten every start: an older marker gets the relative form.
  if (owner_text != fs::path(store_path).lexically_relative(folder).string()) {
    BITSWEEP_RETURN_IF_ERROR(WriteMarker(marker, store_path, store_id));
  }
  return folder.string();
}

std::string ArtifactJobFolder(int64_t job_id) { return "job-" + std::to_string(job_id); }

std::string StoredArtifactPath(int64_t job_id, const std::string& name) {
  return (fs::path(ArtifactJobFolder(job_id)) / name).string();
}

std::string ArtifactFile(const std::string& folder, const std::string& stored_path) {
  if (fs::path(stored_path).is_absolute()) return stored_path;
  return (fs::path(folder) / stored_path).string();
}

Result<int64_t> AdoptMovedArtifacts(Store* store, const std::string& folder) {
  BITSWEEP_ASSIGN_OR_RETURN(auto rows, store->ListAbsoluteArtifactPaths());
  std::vector<ArtifactRecord> adopted;
  for (auto& row : rows) {
    const fs::path stored(row.path);
    const fs::path inside = stored.lexically_relative(folder);
    const bool under_folder = !inside.empty() && *inside.begin() != "..";
    // Where it is (not moved), else where its job and name put it.
    const std::string relative = under_folder ? inside.string() : StoredArtifactPath(row.job_id, row.name);
    std::error_code ec;
    const auto size = fs::file_size(fs::path(folder) / relative, ec);
    if (ec || static_cast<int64_t>(size) != row.bytes) continue;
    row.path = relative;
    adopted.push_back(std::move(row));
  }
  if (!adopted.empty()) {
    BITSWEEP_RETURN_IF_ERROR(store->InTransaction([&] { return store->SetArtifactPaths(adopted); }));
  }
  return static_cast<int64_t>(adopted.size());
}

}  // namespace bitsweep::coordinator
