#include "coordinator/sql_query.h"

#include <cctype>
#include <chrono>
#include <memory>

#include <sqlite3.h>

namespace bitsweep::coordinator {
namespace {

using Clock = std::chrono::steady_clock;

// SQLite calls this every kProgressSteps virtual-machine steps; a non-zero
// answer interrupts the statement.
constexpr int kProgressSteps = 1000;

int StopAfterDeadline(void* deadline) {
  return Clock::now() > *static_cast<Clock::time_point*>(deadline) ? 1 : 0;
}

// Reading is all a query may do. Everything else (writes, ATTACH, PRAGMA,
// schema changes, transactions) is refused while the statement is prepared,
// before it runs.
// For SQLITE_FUNCTION the function name is the second argument; for PRAGMA
// and ATTACH the first.
int AllowReadingOnly(void* refused, int action, const char* arg1, const char* arg2, const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (arg2 != nullptr && std::string(arg2) == "load_extension") break;
      return SQLITE_OK;
    default:
      break;
  }
  auto* what = static_cast<std::string*>(refused);
  if (what->empty()) {
    switch (action) {
      case SQLITE_ATTACH: *what = "ATTACH"; break;
      case SQLITE_DETACH: *what = "DETACH"; break;
      case SQLITE_PRAGMA: *what = std::string("PRAGMA ") + (arg1 ? arg1 : ""); break;
      case SQLITE_INSERT: *what = "INSERT"; break;
      case SQLITE_UPDATE: *what = "UPDATE"; break;
      case SQLITE_DELETE: *what = "DELETE"; break;
      case SQLITE_TRANSACTION: *what = "a transaction"; break;
      case SQLITE_FUNCTION: *what = std::string("the function ") + (arg2 ? arg2 : ""); break;
      default: *what = "a statement that changes the store (action " + std::to_string(action) + ")"; break;
    }
  }
  return SQLITE_DENY;
}

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct FinalizeStatement {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};

bool OnlyBlanksLeft(const char* tail) {
  // SQLite leaves the tail at the next statement; trailing blanks and ';'
  // are fine, a second statement is not.
  for (; tail != nullptr && *tail != '\0'; ++tail) {
    if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';') return false;
  }
  return true;
}

}  // namespace

Result<QueryTable> RunReadOnlyQuery(const std::string& db_path, const std::string& sql, const QueryLimits& limits) {
  if (sql.size() > limits.max_sql_bytes) {
    return Status::InvalidArgument("query: " + std::to_string(sql.size()) + " bytes of SQL; at most " +
                                   std::to_string(limits.max_sql_bytes) + " are accepted");
  }
  sqlite3* raw = nullptr;
  const int opened = sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, CloseDb> db(raw);
  if (opened != SQLITE_OK) {
    return Status::IoError("query: cannot open the results store " + db_path + ": " +
                           (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(opened)));
  }
  sqlite3_limit(db.get(), SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(db.get(), SQLITE_LIMIT_LENGTH, static_cast<int>(limits.max_answer_bytes));
  sqlite3_busy_timeout(db.get(), 1000);
  sqlite3_exec(db.get(), "PRAGMA query_only = 1", nullptr, nullptr, nullptr);
  std::string refused;
  sqlite3_set_authorizer(db.get(), AllowReadingOnly, &refused);
  Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(limits.timeout_ms);
  sqlite3_progress_handler(db.get(), kProgressSteps, StopAfterDeadline, &deadline);

  sqlite3_stmt* raw_statement = nullptr;
  const char* tail = nullptr;
  const int prepared = sqlite3_prepare_v2(db.get(), sql.c_str(), static_cast<int>(sql.size()), &raw_statement, &tail);
  std::unique_ptr<sqlite3_stmt, FinalizeStatement> statement(raw_statement);
  if (!refused.empty()) return Status::InvalidArgument("query: read-only: " + refused + " is not allowed");
  if (prepared != SQLITE_OK) return Status::InvalidArgument(std::string("query: ") + sqlite3_errmsg(db.get()));
  if (statement == nullptr) return Status::InvalidArgument("query: no SQL statement given");
  if (!OnlyBlanksLeft(tail)) return Status::InvalidArgument("query: one statement at a time");
  if (!sqlite3_stmt_readonly(statement.get())) return Status::InvalidArgument("query: read-only: the statement writes");

  QueryTable table;
  const int columns = sqlite3_column_count(statement.get());
  for (int c = 0; c < columns; ++c) table.columns.emplace_back(sqlite3_column_name(statement.get(), c));
  size_t answer_bytes = 0;
  while (true) {
    const int stepped = sqlite3_step(statement.get());
    if (stepped == SQLITE_DONE) break;
    if (stepped == SQLITE_INTERRUPT) {
      return Status::DeadlineExceeded("query: stopped after " + std::to_string(limits.timeout_ms) +
                                      " ms (the coordinator's --query-timeout)");
    }
    if (stepped != SQLITE_ROW) return Status::InvalidArgument(std::string("query: ") + sqlite3_errmsg(db.get()));
    if (static_cast<int>(table.rows.size()) >= limits.max_rows) {
      table.truncated = true;
      break;
    }
    std::vector<QueryCell> row(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      QueryCell& cell = row[static_cast<size_t>(c)];
      switch (sqlite3_column_type(statement.get(), c)) {
        case SQLITE_INTEGER:
          cell.kind = QueryCell::Kind::kInteger;
          cell.integer = sqlite3_column_int64(statement.get(), c);
          break;
        case SQLITE_FLOAT:
          cell.kind = QueryCell::Kind::kReal;
          cell.real = sqlite3_column_double(statement.get(), c);
          break;
        case SQLITE_TEXT:
          cell.kind = QueryCell::Kind::kText;
          cell.text = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), c));
          break;
        case SQLITE_BLOB:
          cell.kind = QueryCell::Kind::kBlob;
          cell.integer = sqlite3_column_bytes(statement.get(), c);
          break;
        default:
          break;
      }
      answer_bytes += 16 + cell.text.size();
    }
    if (answer_bytes > limits.max_answer_bytes) {
      return Status::ResourceExhausted("query: the answer passed " + std::to_string(limits.max_answer_bytes >> 20) +
                                       " MiB; select fewer rows or columns");
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace bitsweep::coordinator
