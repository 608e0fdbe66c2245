// The read-only query path: one SQL statement from a user, run on its own
// read-only connection to the results store. It cannot write (read-only
// connection, query_only, and an authorizer that allows reading only), cannot
// attach other files or change settings (ATTACH and PRAGMA denied, attached
// databases limited to none), and cannot run unbounded (a deadline checked
// while SQLite works, a row limit and a byte limit on the answer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace bitsweep::coordinator {

struct QueryCell {
  enum class Kind { kNull, kInteger, kReal, kText, kBlob };
  Kind kind = Kind::kNull;
  int64_t integer = 0;  // kInteger; the size for kBlob
  double real = 0.0;
  std::string text;
};

struct QueryTable {
  std::vector<std::string> columns;
  std::vector<std::vector<QueryCell>> rows;
  /// More rows were there than the limit let through.
  bool truncated = false;
};

struct QueryLimits {
  int max_rows = 10000;
  int64_t timeout_ms = 5000;
  size_t max_sql_bytes = 64 << 10;
  size_t max_answer_bytes = 32 << 20;
};

/// Runs `sql` on `db_path`. Errors: INVALID_ARGUMENT for bad SQL, more than
/// one statement or anything but reading (naming what was refused);
/// DEADLINE_EXCEEDED past the time limit; RESOURCE_EXHAUSTED past the byte
/// limit; IO_ERROR when the store cannot be opened.
Result<QueryTable> RunReadOnlyQuery(const std::string& db_path, const std::string& sql, const QueryLimits& limits);

}  // namespace bitsweep::coordinator
