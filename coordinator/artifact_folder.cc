#include "coordinator/artifact_folder.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/store_paths.h"

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

Status WriteMarker(const fs::path& marker, const std::string& store_path, const std::string& store_id) {
  const fs::path partial = marker.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << nlohmann::json({{"store_id", store_id}, {"store", store_path}}).dump() << "\n";
    if (!out) return Status::IoError(partial.string() + ": cannot write the artifact folder's marker");
  }
  std::error_code ec;
  fs::rename(partial, marker, ec);
  if (ec) return Status::IoError(marker.string() + ": " + ec.message());
  return Status::Ok();
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
  const std::string owner_path = owner["store"].is_string() ? owner["store"].get<std::string>() : "";
  if (owner_id != store_id) {
    return Status::FailedPrecondition(folder.string() + " holds the artifacts of another results store (id " +
                                      owner_id + ", " + owner_path + "), not of " + store_path + " (id " + store_id +
                                      "); give this store an artifact folder of its own with --artifacts DIR");
  }
  if (owner_path != store_path) {
    // Same id, other file: the store was moved or renamed (then the folder
    // is ours), or one of the two files is a copy of the other (then both
    // would write the same files: refused).
    if (StoreIdOf(owner_path) == store_id) {
      return Status::FailedPrecondition(
          folder.string() + " holds the artifacts of " + owner_path + ", and " + store_path +
          " has the same store id (one is a copy of the other); give this one an artifact folder of its own with "
          "--artifacts DIR");
    }
    BITSWEEP_RETURN_IF_ERROR(WriteMarker(marker, store_path, store_id));
  }
  return folder.string();
}

}  // namespace bitsweep::coordinator
