#include "coordinator/reader_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>

#include "tests/test_util.h"

namespace bitsweep::coordinator {
namespace {

// A WAL database with one row, as the store keeps its file.
std::string MakeDatabase(const testing::TempDir& dir) {
  const std::string path = dir.File("store.db");
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)");
  return path;
}

TEST(ReaderPoolTest, ALongReadLeavesTheOtherConnectionsFree) {
  testing::TempDir dir;
  ReaderPool pool(MakeDatabase(dir), 2, 1000);
  auto long_read = pool.Acquire();
  SQLite::Statement open_cursor(long_read.db(), "SELECT x FROM t");
  ASSERT_TRUE(open_cursor.executeStep());  // a read transaction stays open on it
  auto other = pool.Acquire();             // would wait forever with one shared connection
  EXPECT_NE(&long_read.db(), &other.db());
  EXPECT_EQ(other.db().execAndGet("SELECT x FROM t").getInt(), 7);
}

TEST(ReaderPoolTest, AReaderWaitsForAConnectionWhenAllAreLeasedAndGetsTheReturnedOne) {
  testing::TempDir dir;
  ReaderPool pool(MakeDatabase(dir), 1, 1000);
  SQLite::Database* first = nullptr;
  std::atomic<bool> acquired{false};
  std::thread waiter;
  {
    auto lease = pool.Acquire();
    first = &lease.db();
    waiter = std::thread([&] {
      auto second = pool.Acquire();
      EXPECT_EQ(&second.db(), first);
      acquired = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(acquired) << "a second reader got a connection while the only one was leased";
  }
  waiter.join();
  EXPECT_TRUE(acquired);
}

TEST(ReaderPoolTest, AMissingDatabaseIsAnErrorAtOnce) {
  testing::TempDir dir;
  EXPECT_THROW(ReaderPool(dir.File("absent.db"), 2, 1000), SQLite::Exception);
}

}  // namespace
}  // namespace bitsweep::coordinator
