// Status: how the edge runtime reports failure. The runtime depends on nothing
// else in bitsweep, so it has its own small copy of the idea in
// common/status.h: no exceptions, an OK value or a code with a message that
// names the file and the problem.
#pragma once

#include <string>
#include <utility>

namespace bitsweep::edge {

enum class StatusCode {
  kOk = 0,
  /// The caller passed something unusable (a batch of 0, a null pointer).
  kInvalidArgument,
  kNotFound,
  kIoError,
  /// The file is not a valid packed generator (truncated, damaged, absurd).
  kCorruption,
};

class Status {
 public:
  /// OK.
  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status IoError(std::string msg) { return {StatusCode::kIoError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace bitsweep::edge

/// Returns from the enclosing function when `expr` is not OK.
#define BITSWEEP_EDGE_RETURN_IF_ERROR(expr)          \
  do {                                               \
    ::bitsweep::edge::Status status_ = (expr);       \
    if (!status_.ok()) return status_;               \
  } while (false)
