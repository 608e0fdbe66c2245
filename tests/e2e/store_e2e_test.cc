// The results store keeps its own files and has one writer, with real
// processes: `bitsweep local` and `bitsweep coordinator` on real SQLite
// files, real Fashion-MNIST training for artifacts, sqlite3 and sha256sum as
// the independent readers.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_fixture.h"
#include "tests/test_util.h"

namespace bitsweep {
namespace {

namespace fs = std::filesystem;

class StoreE2ETest : public ServiceE2ETest {
 protected:
  // A grid of tiny real training jobs, one per width of G.
  std::string TinySweep(const std::string& name, const std::vector<int>& bits, int64_t iterations = 10) {
    nlohmann::json base = testing::TinyJobJson(iterations, /*limit=*/256);
    const std::string path = dir_.File(name + ".json");
    testing::WriteFile(path, nlohmann::json({{"name", name},
                                             {"base", base},
                                             {"strategy", {{"kind", "grid"}, {"axes", {{"quant.g.bits", bits}}}}}})
                                 .dump());
    return path;
  }

  void StartCoordinatorOn(const std::string& db) {
    address_ = StartCoordinator({}, "127.0.0.1:0", db);
    client_ = " --coordinator " + address_;
  }

  std::string RunLocal(const std::string& spec, const std::string& db) {
    int rc = 0;
    std::string out = Shell(kBinary + " local --quiet --threads 1 --spec " + spec + " --db " + db, &rc);
    EXPECT_EQ(rc, 0) << out;
    return out;
  }

  static std::string Sql(const std::string& db, const std::string& sql) {
    int rc = 0;
    std::string out = Shell("sqlite3 -readonly " + db + " \"" + sql + "\"", &rc);
    EXPECT_EQ(rc, 0) << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  // sha256sum's digest of a file.
  static std::string FileSha256(const std::string& path) {
    int rc = 0;
    std::string out = Shell("sha256sum " + path, &rc);
    EXPECT_EQ(rc, 0) << out;
    return out.substr(0, 64);
  }

  // The artifact folder of a store run with the defaults ("artifacts"
  // beside it).
  static std::string ArtifactFolderOf(const std::string& db) {
    return (fs::path(db).parent_path() / "artifacts" / StoreFolderOf(db)).string();
  }

  // Every artifact a store records: "job/name" -> {the file, the row's
  // path, bytes, sha256}. Rows name files relative to the store's folder.
  struct Stored {
    std::string path;
    std::string row;
    int64_t bytes = 0;
    std::string sha256;
  };
  static std::map<std::string, Stored> Artifacts(const std::string& db) {
    std::map<std::string, Stored> artifacts;
    const std::string folder = ArtifactFolderOf(db);
    for (const auto& line : Lines(Sql(db, "SELECT job_id || '/' || name, path, bytes, sha256 FROM artifacts"))) {
      std::vector<std::string> cells;
      std::stringstream in(line);
      std::string cell;
      while (std::getline(in, cell, '|')) cells.push_back(cell);
      if (cells.size() == 3) cells.push_back("");
      EXPECT_EQ(cells.size(), 4u) << line;
      if (cells.size() != 4) continue;
      const std::string file = fs::path(cells[1]).is_absolute() ? cells[1] : folder + "/" + cells[1];
      artifacts[cells[0]] = {file, cells[1], std::stoll(cells[2]), cells[3]};
    }
    return artifacts;
  }

  std::string address_;
  std::string client_;
};

TEST_F(StoreE2ETest, TwoLocalSweepsInOneFolderKeepTheirOwnArtifacts) {
  fs::create_directories(dir_.File("runs"));
  const std::string ref = dir_.File("runs/ref.db");
  const std::string demo = dir_.File("runs/demo2.db");
  RunLocal(TinySweep("ref", {1, 2}), ref);
  const auto ref_before = Artifacts(ref);
  // samples.png, generator.bsg and log.txt (each job ran in its own process)
  // of jobs 1 and 2
  ASSERT_EQ(ref_before.size(), 6u);
  // What each job uploaded is what the store recorded and what is on disk.
  for (const auto& [key, a] : ref_before) {
    EXPECT_EQ(a.sha256, FileSha256(a.path)) << key;
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(a.path)), a.bytes) << key;
    EXPECT_NE(a.path.find("/runs/artifacts/" + StoreFolderOf(ref) + "/job-"), std::string::npos) << a.path;
    // Named relative to the store's folder, so the store can move with it.
    EXPECT_EQ(a.row, "job-" + key.substr(0, key.find('/')) + key.substr(key.find('/'))) << a.row;
  }

  // The second store numbers its jobs from 1 too, in the same folder.
  RunLocal(TinySweep("demo2", {8, 4}), demo);
  const auto demo_artifacts = Artifacts(demo);
  ASSERT_EQ(demo_artifacts.size(), 6u);
  for (const auto& [key, a] : demo_artifacts) {
    EXPECT_EQ(a.sha256, FileSha256(a.path)) << key;
    EXPECT_NE(a.path, ref_before.at(key).path) << key;
  }
  // Job 2 is 2-bit in one store, 4-bit in the other: different generators.
  EXPECT_NE(demo_artifacts.at("2/generator.bsg").sha256, ref_before.at("2/generator.bsg").sha256);
  // The first store's files are untouched, byte for byte.
  for (const auto& [key, a] : ref_before) EXPECT_EQ(FileSha256(a.path), a.sha256) << key;

  // And its coordinator serves its own file, checked.
  StartCoordinatorOn(ref);
  int rc = 0;
  const std::string got = dir_.File("got.bsg");
  std::string out = Shell(kBinary + " artifacts get --job 2 generator.bsg -o " + got + client_, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(FileSha256(got), ref_before.at("2/generator.bsg").sha256);
  out = Shell(kBinary + " artifacts list --job 2" + client_, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(ref_before.at("2/generator.bsg").sha256), std::string::npos) << out;
}

TEST_F(StoreE2ETest, AReplacedOrDamagedArtifactIsRefusedNeverServed) {
  const std::string db = dir_.File("store.db");
  RunLocal(TinySweep("tamper", {2}), db);
  const auto artifacts = Artifacts(db);
  const Stored png = artifacts.at("1/samples.png");
  const Stored bsg = artifacts.at("1/generator.bsg");
  StartCoordinatorOn(db);
  int rc = 0;

  // Same size, other bytes: the hash catches it.
  std::string content = testing::ReadFile(png.path);
  content[content.size() / 2] ^= 0x5a;
  testing::WriteFile(png.path, content);
  const std::string found = FileSha256(png.path);
  const std::string got = dir_.File("got.png");
  std::string out = Shell(kBinary + " artifacts get --job 1 samples.png -o " + got + client_, &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("DATA_LOSS"), std::string::npos) << out;
  EXPECT_NE(out.find(png.path), std::string::npos) << out;
  EXPECT_NE(out.find(png.sha256), std::string::npos) << out;
  EXPECT_NE(out.find(found), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(got));
  EXPECT_FALSE(fs::exists(got + ".partial"));

  // Another size: refused before a byte is sent.
  testing::WriteFile(bsg.path, testing::ReadFile(bsg.path) + "x");
  out = Shell(kBinary + " artifacts get --job 1 generator.bsg -o " + got + client_, &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("bytes, the store recorded " + std::to_string(bsg.bytes)), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(got));
}

TEST_F(StoreE2ETest, AnArtifactStoredBeforeHashesIsServedWhenItsSizeMatches) {
  const std::string db = dir_.File("store.db");
  RunLocal(TinySweep("old", {2}), db);
  const Stored png = Artifacts(db).at("1/samples.png");
  // What a store from before hashes holds: no hash on its rows.
  int rc = 0;
  std::string out = Shell("sqlite3 " + db + " 'UPDATE artifacts SET sha256 = NULL'", &rc);
  ASSERT_EQ(rc, 0) << out;
  StartCoordinatorOn(db);
  out = Shell(kBinary + " artifacts list --job 1" + client_, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(" - "), std::string::npos) << out;
  const std::string got = dir_.File("got.png");
  out = Shell(kBinary + " artifacts get --job 1 samples.png -o " + got + client_, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(FileSha256(got), png.sha256);
  // Only its size can be checked, and it is.
  testing::WriteFile(png.path, testing::ReadFile(png.path).substr(10));
  out = Shell(kBinary + " artifacts get --job 1 samples.png -o " + got + ".2" + client_, &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("DATA_LOSS"), std::string::npos) << out;
}

TEST_F(StoreE2ETest, AStoreMadeAnewInTheSameFolderSeesNoneOfTheOldFilesOrCheckpoints) {
  const std::string db = dir_.File("store.db");
  const std::string spec = TinySweep("first", {2}, /*iterations=*/3000);
  // Interrupted mid-training: job 1 leaves a checkpoint in the work folder.
  {
    ChildProcess local({kBinary, "local", "--threads", "1", "--spec", spec, "--db", db},
                       dir_.File("first.log"));
    ASSERT_FALSE(local.WaitForLog("(job 1 RUNNING)", 60).empty()) << local.Log();
    std::this_thread::sleep_for(std::chrono::seconds(2));  // some training steps
    local.Signal(SIGINT);  // the job checkpoints and the run stops
    EXPECT_EQ(local.Wait(), 130) << local.Log();
  }
  const std::string old_folder = StoreFolderOf(db);
  ASSERT_TRUE(fs::exists(dir_.File("work/" + old_folder + "/job-1/checkpoint.pt")));
  // Deleted and made anew, in the same folder, with a job 1 of the same model.
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db + suffix);
  RunLocal(TinySweep("second", {2}, /*iterations=*/10), db);
  EXPECT_NE(StoreFolderOf(db), old_folder);
  const auto result = nlohmann::json::parse(Sql(db, "SELECT result_json FROM jobs WHERE id = 1"));
  EXPECT_EQ(result["resumed_from_step"], 0) << "the new store's job 1 resumed another store's checkpoint";
  for (const auto& [key, a] : Artifacts(db)) EXPECT_EQ(a.path.find(old_folder), std::string::npos) << a.path;
  // The old store's checkpoint is still there, untouched.
  EXPECT_TRUE(fs::exists(dir_.File("work/" + old_folder + "/job-1/checkpoint.pt")));
}

// ------------------------------------------------------------ stores that move

TEST_F(StoreE2ETest, AStoreMovedWithItsFolderServesEveryArtifactAndResumesItsSweep) {
  fs::create_directories(dir_.File("lab/runs"));
  const std::string db = dir_.File("lab/runs/store.db");
  RunLocal(TinySweep("done", {1, 2}), db);
  // A second sweep interrupted mid-training: its job 3 leaves a checkpoint
  // in work/ beside the store.
  const std::string unfinished = TinySweep("unfinished", {2, 4}, /*iterations=*/1500);
  {
    ChildProcess local({kBinary, "local", "--threads", "1", "--spec", unfinished, "--db", db},
                       dir_.File("first.log"));
    ASSERT_FALSE(local.WaitForLog("(job 3 RUNNING)", 60).empty()) << local.Log();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    local.Signal(SIGINT);
    EXPECT_EQ(local.Wait(), 130) << local.Log();
  }
  const auto before = Artifacts(db);
  ASSERT_EQ(before.size(), 6u);  // samples.png, generator.bsg, log.txt of jobs 1 and 2

  // Moved the way files leave a cluster: copied elsewhere, the original
  // deleted.
  fs::create_directories(dir_.File("laptop"));
  fs::copy(dir_.File("lab"), dir_.File("laptop/lab"), fs::copy_options::recursive);
  fs::remove_all(dir_.File("lab"));
  const std::string moved = dir_.File("laptop/lab/runs/store.db");

  // `bitsweep local` on the moved store carries on with the sweep, from the
  // checkpoint its job left.
  const std::string out = RunLocal(unfinished, moved);
  EXPECT_NE(out.find("resuming sweep 2"), std::string::npos) << out;
  EXPECT_EQ(Sql(moved, "SELECT group_concat(state) FROM jobs"), "SUCCEEDED,SUCCEEDED,SUCCEEDED,SUCCEEDED");
  const auto resumed = nlohmann::json::parse(Sql(moved, "SELECT result_json FROM jobs WHERE id = 3"));
  EXPECT_GT(resumed["resumed_from_step"].get<int64_t>(), 0) << resumed.dump();

  // Every artifact, old and new, is served from the moved folder, checked.
  const auto after = Artifacts(moved);
  ASSERT_EQ(after.size(), 12u);
  for (const auto& [key, a] : before) EXPECT_EQ(after.at(key).sha256, a.sha256) << key;
  StartCoordinatorOn(moved);
  int rc = 0;
  for (const auto& [key, a] : after) {
    EXPECT_FALSE(fs::path(a.row).is_absolute()) << key << ": " << a.row;
    const std::string job = key.substr(0, key.find('/')), name = key.substr(key.find('/') + 1);
    const std::string got = dir_.File("got-" + job + "-" + name);
    const std::string served = Shell(kBinary + " artifacts get --job " + job + " " + name + " -o " + got + client_, &rc);
    ASSERT_EQ(rc, 0) << key << ": " << served;
    EXPECT_EQ(FileSha256(got), a.sha256) << key;
  }
}

TEST_F(StoreE2ETest, AnOlderStoreWithAbsolutePathsIsAdoptedWhereItsFilesAreAndSaysWhichAreGone) {
  fs::create_directories(dir_.File("lab/runs"));
  const std::string db = dir_.File("lab/runs/store.db");
  RunLocal(TinySweep("old", {2}), db);
  const std::string folder = ArtifactFolderOf(db);
  const auto relative = Artifacts(db);
  // What an older coordinator left: absolute paths in the rows and a marker
  // naming the store absolutely.
  int rc = 0;
  std::string out = Shell("sqlite3 " + db + " \"UPDATE artifacts SET path = '" + folder + "/' || path\"", &rc);
  ASSERT_EQ(rc, 0) << out;
  testing::WriteFile(folder + "/STORE",
                     nlohmann::json({{"store_id", Sql(db, "SELECT value FROM store_info WHERE key = 'store_id'")}, {"store", db}}).dump());
  for (const auto& [key, a] : Artifacts(db)) ASSERT_TRUE(fs::path(a.row).is_absolute()) << key;
  // A backup restored elsewhere beside a copy of the artifacts folder.
  fs::create_directories(dir_.File("restored"));
  out = Shell("sqlite3 " + db + " '.backup " + dir_.File("restored/store-backup.db") + "'", &rc);
  ASSERT_EQ(rc, 0) << out;
  fs::copy(dir_.File("lab/runs/artifacts"), dir_.File("restored/artifacts"), fs::copy_options::recursive);
  // The store itself moved, with one of its files lost on the way.
  fs::create_directories(dir_.File("moved"));
  fs::copy(dir_.File("lab"), dir_.File("moved/lab"), fs::copy_options::recursive);
  fs::remove_all(dir_.File("lab"));
  const std::string moved = dir_.File("moved/lab/runs/store.db");
  fs::remove(ArtifactFolderOf(moved) + "/job-1/log.txt");

  StartCoordinatorOn(moved);
  for (const std::string name : {"samples.png", "generator.bsg"}) {
    const std::string got = dir_.File("got-" + name);
    out = Shell(kBinary + " artifacts get --job 1 " + name + " -o " + got + client_, &rc);
    ASSERT_EQ(rc, 0) << name << ": " << out;
    EXPECT_EQ(FileSha256(got), relative.at("1/" + name).sha256) << name;
  }
  // The lost one says so, by name; its row keeps the path it had.
  out = Shell(kBinary + " artifacts get --job 1 log.txt -o " + dir_.File("got-log.txt") + client_, &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("log.txt: artifact file is missing"), std::string::npos) << out;
  const auto adopted = Artifacts(moved);
  EXPECT_EQ(adopted.at("1/samples.png").row, "job-1/samples.png");
  EXPECT_EQ(adopted.at("1/generator.bsg").row, "job-1/generator.bsg");
  EXPECT_TRUE(fs::path(adopted.at("1/log.txt").row).is_absolute());
  coordinator_->Signal(SIGTERM);
  coordinator_->Wait();

  // The restored backup serves all three from the copied folder.
  StartCoordinatorOn(dir_.File("restored/store-backup.db"));
  for (const auto& [key, a] : relative) {
    const std::string name = key.substr(key.find('/') + 1);
    const std::string got = dir_.File("restored-" + name);
    out = Shell(kBinary + " artifacts get --job 1 " + name + " -o " + got + client_, &rc);
    ASSERT_EQ(rc, 0) << name << ": " << out;
    EXPECT_EQ(FileSha256(got), a.sha256) << name;
  }
}

// ---------------------------------------------------------------- one writer

TEST_F(StoreE2ETest, ASecondCoordinatorOnAPortInUseIsRefusedNotSharingIt) {
  StartCoordinatorOn(dir_.File("first.db"));
  int rc = 0;
  // Another store, the same port: with a shared port (SO_REUSEPORT) the two
  // would split every client's calls between them.
  std::string out =
      Shell("timeout 30 " + kBinary + " coordinator --listen " + address_ + " --db " + dir_.File("second.db"), &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("cannot listen on " + address_), std::string::npos) << out;
}

TEST_F(StoreE2ETest, ASecondCoordinatorOrLocalOnTheStoreIsRefusedNamingTheHolder) {
  const std::string db = dir_.File("store.db");
  StartCoordinatorOn(db);
  const std::string holder = "pid " + std::to_string(coordinator_->pid()) + " on host ";
  int rc = 0;
  // (Bounded: were it not refused, it would serve until stopped.)
  std::string out = Shell("timeout 30 " + kBinary + " coordinator --listen 127.0.0.1:0 --db " + db, &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("in use by a bitsweep coordinator (" + holder), std::string::npos) << out;
  const std::string spec = WriteSweep({{"name", "s"},
                                       {"base", {{"task", "synthetic"}}},
                                       {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", {1, 2}}}}}}});
  out = Shell("timeout 30 " + kBinary + " local --quiet --spec " + spec + " --db " + db, &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("in use by a bitsweep coordinator (" + holder), std::string::npos) << out;

  // Readers are not owners: they read while it runs.
  out = Shell(kBinary + " submit --spec " + spec + client_, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Sql(db, "SELECT COUNT(*) FROM jobs"), "2");
  out = Shell(kBinary + " query 'SELECT COUNT(*) AS n FROM jobs' --format csv" + client_, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("n\n2"), std::string::npos) << out;
  out = Shell("sqlite3 " + db + " '.backup " + dir_.File("backup.db") + "'", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Sql(dir_.File("backup.db"), "SELECT COUNT(*) FROM jobs"), "2");

  // A holder killed outright leaves no stale lock: the next one starts at once.
  coordinator_->Signal(SIGKILL);
  coordinator_->Wait();
  StartCoordinatorOn(db);
  out = Shell(kBinary + " status 1" + client_, &rc);
  EXPECT_EQ(rc, 0) << out;
}

TEST_F(StoreE2ETest, ACoordinatorWhoseStoreIsTakenOverStopsWritingAndExits) {
  const std::string db = dir_.File("store.db");
  StartCoordinatorOn(db);
  auto worker = StartWorker(address_, 1, {"--slots", "2"});
  std::vector<int> seeds;
  for (int i = 1; i <= 200; ++i) seeds.push_back(i);
  const std::string spec =
      WriteSweep({{"name", "busy"},
                  {"base", {{"task", "synthetic"}, {"synthetic", {{"seconds", 0.1}}}}},
                  {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", seeds}}}}}});
  int rc = 0;
  std::string out = Shell(kBinary + " submit --spec " + spec + client_, &rc);
  ASSERT_EQ(rc, 0) << out;
  for (int i = 0; i < 100 && std::stoi(Sql(db, "SELECT COUNT(*) FROM jobs WHERE state = 'SUCCEEDED'")) < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  // What a coordinator on another host does to a store on a shared volume,
  // where the lock file cannot be trusted: it bumps the owner epoch. In the
  // same transaction, a snapshot of everything the old owner writes.
  const std::string snapshot_sql =
      "SELECT group_concat(id || ':' || state || ':' || epoch || ':' || attempts, ',') FROM jobs; "
      "SELECT COUNT(*) || '/' || COALESCE(SUM(ended_ms IS NULL), 0) FROM attempts; "
      "SELECT COUNT(*) FROM metrics; SELECT group_concat(id || ':' || last_seen_ms) FROM workers;";
  const std::string now_ms = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
  out = Shell("sqlite3 " + db + " \"BEGIN IMMEDIATE; UPDATE store_owner SET epoch = epoch + 1, host = 'other-host', "
                                "pid = 99, started_ms = " + now_ms + ", heartbeat_ms = " + now_ms + "; " +
                  snapshot_sql + " COMMIT;\"",
              &rc);
  ASSERT_EQ(rc, 0) << out;
  const std::string at_takeover = out;
  EXPECT_NE(at_takeover.find("SUCCEEDED"), std::string::npos);
  EXPECT_NE(at_takeover.find("QUEUED"), std::string::npos) << "the sweep ended before the takeover";

  // It finds out at its next write (a heartbeat of the store within
  // seconds, if not a worker's report first), stops and says why.
  ASSERT_FALSE(coordinator_->WaitForLog("(taken over by the bitsweep coordinator pid 99 on host other-host)", 30)
                   .empty())
      << coordinator_->Log();
  EXPECT_EQ(coordinator_->Wait(), 1) << coordinator_->Log();
  // Nothing it did after the takeover reached the store.
  out = Shell("sqlite3 -readonly " + db + " \"" + snapshot_sql + "\"", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out, at_takeover);
  EXPECT_EQ(Sql(db, "PRAGMA integrity_check"), "ok");
  worker->Signal(SIGKILL);
}

}  // namespace
}  // namespace bitsweep
