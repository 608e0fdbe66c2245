// Status and Result<T>: how every bitsweep module reports failure.
//
// Nothing throws across module boundaries. A function that can fail returns a
// Status (or a Result<T> that holds either a value or a non-OK Status). The
// message names what went wrong in the words a user needs: the spec field, the
// file, the step.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace bitsweep {

/// Canonical error categories (they map one-to-one onto gRPC codes later).
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kCancelled,
  kIoError,
  kCorruption,
  kUnavailable,
  kResourceExhausted,
  kDeadlineExceeded,
  kInternal,
  kUnauthenticated,
  kPermissionDenied,
  /// Stored data that does not match what was recorded (an artifact whose
  /// hash differs): never served as if it were right.
  kDataLoss,
};

/// Upper-case name of a code, e.g. "INVALID_ARGUMENT".
const char* StatusCodeName(StatusCode code);

/// The outcome of an operation: OK, or a code with a message.
class Status {
 public:
  /// Creates an OK status.
  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status IoError(std::string msg) { return {StatusCode::kIoError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
  static Status DeadlineExceeded(std::string msg) { return {StatusCode::kDeadlineExceeded, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  static Status Unauthenticated(std::string msg) { return {StatusCode::kUnauthenticated, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status DataLoss(std::string msg) { return {StatusCode::kDataLoss, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  /// "OK" or "<CODE>: <message>".
  std::string ToString() const;

  /// The same status with "context: " put in front of the message (OK stays OK).
  Status WithContext(const std::string& context) const;

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

/// Either a value of type T or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status::Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace bitsweep

#define BITSWEEP_CONCAT_INNER(a, b) a##b
#define BITSWEEP_CONCAT(a, b) BITSWEEP_CONCAT_INNER(a, b)

/// Returns the Status from the enclosing function when `expr` is not OK.
#define BITSWEEP_RETURN_IF_ERROR(expr)                 \
  do {                                                 \
    ::bitsweep::Status bitsweep_status_ = (expr);      \
    if (!bitsweep_status_.ok()) return bitsweep_status_; \
  } while (0)

/// `lhs = value of expr`, or returns its Status from the enclosing function.
#define BITSWEEP_ASSIGN_OR_RETURN(lhs, expr) \
  BITSWEEP_ASSIGN_OR_RETURN_IMPL(BITSWEEP_CONCAT(bitsweep_result_, __LINE__), lhs, expr)
#define BITSWEEP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
