// SHA-256 of artifacts: what the store records when a file is written and
// checks when it is read back, so that a file replaced or damaged on disk is
// an error instead of a silently wrong answer.
#pragma once

#include <memory>
#include <string>

namespace bitsweep {

/// Incremental SHA-256 (OpenSSL underneath): Update() with the bytes as they
/// stream by, then HexDigest() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const char* data, size_t size);
  void Update(const std::string& data) { Update(data.data(), data.size()); }
  /// The digest as 64 lower-case hex digits. Call once.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// SHA-256 of `data` as 64 lower-case hex digits.
std::string Sha256Hex(const std::string& data);

}  // namespace bitsweep
