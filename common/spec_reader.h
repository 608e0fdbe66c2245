// SpecReader: typed, validated reads from a JSON object, with errors that name
// the field by its full path ("quant.g.bits: 0 is outside 1..8 or 32").
//
// Readers for nested objects share one error slot; the first error wins and
// later reads return their fallbacks, so parsing code stays a flat list of
// reads followed by one check of the error.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace bitsweep {

class SpecReader {
 public:
  /// Reads `object`, found at `path` ("" for the document root). A value that
  /// is not an object is reported as an error at once.
  explicit SpecReader(const nlohmann::json& object, std::string path = "");

  /// The reader of a nested object; an absent key reads as an empty object.
  SpecReader Child(const std::string& key);

  bool Has(const std::string& key) const;
  /// The keys of this object, in order (for objects keyed by names, such as
  /// quant.g.layers).
  std::vector<std::string> Keys() const;

  /// Optional fields return `fallback` when absent. Required ones record
  /// "<path>: missing (required)".
  std::string String(const std::string& key, const std::string& fallback);
  std::string RequiredString(const std::string& key);
  /// A string that must be one of `allowed`.
  std::string OneOf(const std::string& key, const std::string& fallback,
                    const std::vector<std::string>& allowed);
  int64_t Int(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  double Number(const std::string& key, double fallback, double min, double max);
  bool Bool(const std::string& key, bool fallback);
  std::vector<double> NumberArray(const std::string& key, std::vector<double> fallback,
                                  size_t expected_size, double min, double max);
  std::vector<std::string> StringArray(const std::string& key, std::vector<std::string> fallback);
  /// A list of objects, one reader each ("<path>.<key>[i]"), sharing this
  /// reader's error slot; absent: none.
  std::vector<SpecReader> ObjectArray(const std::string& key);

  /// Records a custom error for `key` ("<path>.<key>: <message>").
  void Fail(const std::string& key, const std::string& message);

  /// Reports keys that were present but never read (typos such as "bitz").
  /// Call once after all reads of this object.
  void RejectUnknownKeys();

  /// The first error recorded by this reader or any reader derived from it.
  Status status() const { return *error_; }

  /// Full dotted path of `key` under this object.
  std::string PathOf(const std::string& key) const;

 private:
  SpecReader(const nlohmann::json& object, std::string path, std::shared_ptr<Status> error);
  const nlohmann::json* Find(const std::string& key);
  bool failed() const { return !error_->ok(); }

  const nlohmann::json& object_;
  std::string path_;
  std::shared_ptr<Status> error_;
  std::set<std::string> read_keys_;
};

/// Reads a JSON file, with the position of a syntax error in the message.
Result<nlohmann::json> ReadJsonFile(const std::string& path);

}  // namespace bitsweep
