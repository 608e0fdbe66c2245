// Read-only connections to the store, one per read at a time, so that a
// long read (every result of a 100,000-job sweep) does not hold up the
// short ones behind it (a sweep's counts, a job): in WAL mode SQLite lets
// readers run side by side, each on its own connection.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>

namespace bitsweep::coordinator {

class ReaderPool {
 public:
  /// Opens `size` connections to `path` (throws what SQLiteCpp throws when
  /// one cannot be opened), so that handing one out never fails.
  ReaderPool(const std::string& path, int size, int busy_timeout_ms);

  /// One connection, the holder's alone until the lease ends.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<SQLite::Database> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    ~Lease();
    SQLite::Database& db() { return *db_; }

   private:
    ReaderPool* pool_;
    std::unique_ptr<SQLite::Database> db_;
  };

  /// A free connection; waits while all are in use.
  Lease Acquire();

 private:
  void Release(std::unique_ptr<SQLite::Database> db);

  std::mutex mu_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<SQLite::Database>> idle_;
};

}  // namespace bitsweep::coordinator
