#include "common/baseline_files.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/sha256.h"

namespace bitsweep {

Status HashBaselineFiles(SweepSpec* sweep) {
  if (sweep->strategy != "layer_allocation") return Status::Ok();
  auto& files = sweep->layer_allocation.baseline_files;
  for (size_t i = 0; i < files.size(); ++i) {
    BaselineFile& file = files[i];
    const std::string field = "strategy.baseline_files[" + std::to_string(i) + "]";
    std::error_code error;
    // Only a regular file: a device or a pipe would never end.
    if (!std::filesystem::is_regular_file(file.path, error)) {
      if (!file.sha256.empty()) continue;  // only the workers see it: the given hash stands
      return Status::InvalidArgument(field + ".path: " + file.path +
                                     " is not a file here (give its sha256 when only the workers can read it)");
    }
    std::ifstream in(file.path, std::ios::binary);
    if (!in) return Status::InvalidArgument(field + ".path: cannot read " + file.path);
    Sha256 sha;
    char buffer[1 << 16];
    while (in) {
      in.read(buffer, sizeof buffer);
      sha.Update(buffer, static_cast<size_t>(in.gcount()));
    }
    if (in.bad()) return Status::InvalidArgument(field + ".path: error reading " + file.path);
    const std::string digest = sha.HexDigest();
    if (!file.sha256.empty() && file.sha256 != digest) {
      return Status::InvalidArgument(field + ".sha256: " + file.path + " has SHA-256 " + digest + ", not " +
                                     file.sha256 + " (the file changed)");
    }
    file.sha256 = digest;
  }
  return Status::Ok();
}

}  // namespace bitsweep
