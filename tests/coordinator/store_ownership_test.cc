// One writer per store: the lock beside it, the owner row's epoch checked in
// every write, the store's own id and the worker-id counter. Real SQLite
// files; a second "coordinator" is a second Store on the same file, and a
// coordinator on another host is simulated by writing the owner row the way
// its Store would.
#include <gtest/gtest.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include "common/host.h"
#include "coordinator/schema.h"
#include "coordinator/store.h"
#include "tests/test_util.h"

namespace bitsweep::coordinator {
namespace {

using bitsweep::testing::TempDir;

// What another host's coordinator does when it takes a store over.
void TakeOverFromAnotherHost(const std::string& path, int64_t heartbeat_ms) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  SQLite::Statement u(db,
                      "UPDATE store_owner SET epoch = epoch + 1, host = 'gpu-node-7', pid = 4242, started_ms = ?1, "
                      "heartbeat_ms = ?1");
  u.bind(1, heartbeat_ms);
  u.exec();
}

int64_t CountSweeps(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("SELECT COUNT(*) FROM sweeps").getInt64();
}

Status InsertSweep(Store* store, int64_t id) {
  return store->InTransaction([&] {
    SweepRecord sweep;
    sweep.id = id;
    sweep.name = "s" + std::to_string(id);
    sweep.strategy = "grid";
    sweep.spec_json = "{}";
    std::vector<JobRecord> jobs;
    return store->InsertSweep(&sweep, &jobs);
  });
}

TEST(StoreOwnershipTest, ASecondOpenOfTheSameStoreIsRefusedNamingTheHolder) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  auto first = Store::Open(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = Store::Open(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  const std::string& message = second.status().message();
  EXPECT_NE(message.find("in use by a bitsweep coordinator"), std::string::npos) << message;
  EXPECT_NE(message.find("pid " + std::to_string(getpid())), std::string::npos) << message;
  EXPECT_NE(message.find("host " + HostName()), std::string::npos) << message;
  // The refused open changed nothing, and the holder goes on writing.
  ASSERT_TRUE(InsertSweep(first->get(), 1).ok());
  first->reset();
  // Once the holder is gone (closed, or dead: the kernel drops its lock),
  // the next one opens at once.
  auto third = Store::Open(path);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(CountSweeps(path), 1);
}

TEST(StoreOwnershipTest, EachOpenBumpsTheEpochAndACleanCloseGivesOwnershipUp) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  int64_t first_epoch = 0;
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto owner = store.value()->Owner();
    ASSERT_TRUE(owner.ok());
    first_epoch = owner->epoch;
    EXPECT_EQ(owner->host, HostName());
    EXPECT_EQ(owner->pid, getpid());
    EXPECT_GT(owner->heartbeat_ms, 0);
  }
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT heartbeat_ms FROM store_owner").getInt64(), 0);
  auto again = Store::Open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value()->Owner()->epoch, first_epoch + 1);
}

TEST(StoreOwnershipTest, AStoreTakenOverStopsWritingAndSaysByWhom) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(InsertSweep(store->get(), 1).ok());
  TakeOverFromAnotherHost(path, UnixNowMs());

  Status refused = InsertSweep(store->get(), 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("taken over by the bitsweep coordinator pid 4242 on host gpu-node-7"),
            std::string::npos)
      << refused.message();
  EXPECT_TRUE(store.value()->fenced());
  EXPECT_EQ(CountSweeps(path), 1);
  // It stays refused, also for writes that need no owner check of their own.
  EXPECT_FALSE(store.value()->InTransaction([&] { return store.value()->RenewOwnership(UnixNowMs()); }).ok());
  store->reset();
  // Its close does not give away an ownership it no longer has.
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT host FROM store_owner").getString(), "gpu-node-7");
  EXPECT_GT(db.execAndGet("SELECT heartbeat_ms FROM store_owner").getInt64(), 0);
}

TEST(StoreOwnershipTest, ALiveOwnerOnAnotherHostIsRefusedUnlessStaleOrTakenOver) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  ASSERT_TRUE(Store::Open(path).ok());
  TakeOverFromAnotherHost(path, UnixNowMs());

  auto refused = Store::Open(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("owned by the bitsweep coordinator pid 4242 on host gpu-node-7"),
            std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("--take-over"), std::string::npos);

  Store::OwnerOptions take_over;
  take_over.take_over = true;
  auto taken = Store::Open(path, take_over);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken.value()->Owner()->host, HostName());
  taken->reset();

  // An owner whose heartbeat is older than stale_ms is taken to be gone.
  TakeOverFromAnotherHost(path, UnixNowMs() - 60000);
  Store::OwnerOptions patient;
  patient.stale_ms = 30000;
  EXPECT_TRUE(Store::Open(path, patient).ok());
}

TEST(StoreOwnershipTest, TheStoreIdIsMadeOnceAndKept) {
  TempDir dir;
  std::string id;
  {
    auto store = Store::Open(dir.File("a.db"));
    ASSERT_TRUE(store.ok());
    id = store.value()->store_id();
  }
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  auto reopened = Store::Open(dir.File("a.db"));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened.value()->store_id(), id);
  auto other = Store::Open(dir.File("b.db"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other.value()->store_id(), id);
}

TEST(StoreOwnershipTest, AVersion3StoreGetsAnIdAWorkerCounterPastItsIdsAndArtifactsWithoutHashes) {
  TempDir dir;
  const std::string path = dir.File("v3.db");
  ASSERT_TRUE(Store::OpenAtVersion(path, 3).ok());
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO sweeps (id, name, strategy, spec_json, state, priority, max_attempts, created_ms) "
            "VALUES (1, 'old', 'grid', '{}', 'DONE', 0, 3, 1000)");
    db.exec("INSERT INTO jobs (id, sweep_id, ordinal, params_json, task, method_g, bits_g, method_d, bits_d, loss, "
            "dataset, seed, state, max_attempts) VALUES (1, 1, 0, '{}', 'qgan', 'em', 2, 'none', 32, 'bce', "
            "'fashion-mnist', 1, 'SUCCEEDED', 3)");
    db.exec("INSERT INTO workers VALUES ('w-2', 'h', '[]', 1, '0.1.0', 1, 1)");
    // An attempt names a worker the workers table no longer has.
    db.exec("INSERT INTO attempts VALUES (1, 1, 1, 'w-9', 1, 2, 'succeeded', NULL)");
    db.exec("INSERT INTO artifacts VALUES (1, 'samples.png', '/old/job-1/samples.png', 123, 1)");
  }
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store.value()->store_id().size(), 32u);
  EXPECT_EQ(store.value()->NextWorkerNumber().value(), 10);
  auto artifacts = store.value()->ListArtifacts(1, 0);
  ASSERT_TRUE(artifacts.ok());
  ASSERT_EQ(artifacts->size(), 1u);
  EXPECT_EQ((*artifacts)[0].sha256, "");
  EXPECT_EQ((*artifacts)[0].bytes, 123);
}

TEST(StoreOwnershipTest, TheWorkerCounterNeverGoesBack) {
  TempDir dir;
  auto store = Store::Open(dir.File("s.db"));
  ASSERT_TRUE(store.ok());
  WorkerRecord w;
  w.id = "w-5";
  w.host = "h";
  ASSERT_TRUE(store.value()->InTransaction([&] { return store.value()->UpsertWorker(w, 6); }).ok());
  EXPECT_EQ(store.value()->NextWorkerNumber().value(), 6);
  w.id = "w-2";
  ASSERT_TRUE(store.value()->InTransaction([&] { return store.value()->UpsertWorker(w, 3); }).ok());
  EXPECT_EQ(store.value()->NextWorkerNumber().value(), 6);
}

}  // namespace
}  // namespace bitsweep::coordinator
