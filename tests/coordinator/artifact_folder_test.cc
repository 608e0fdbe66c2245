// Each store's artifact folder: keyed by its id, marked, and refused to any
// other store.
#include "coordinator/artifact_folder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include "coordinator/store.h"
#include "tests/test_util.h"

namespace bitsweep::coordinator {
namespace {

using bitsweep::testing::TempDir;
namespace fs = std::filesystem;

TEST(ArtifactFolderTest, TwoStoresUnderOneRootGetFoldersOfTheirOwn) {
  TempDir dir;
  const std::string root = dir.File("artifacts");
  auto a = ClaimArtifactFolder(root, dir.File("a.db"), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  auto b = ClaimArtifactFolder(root, dir.File("b.db"), "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE(a.value(), b.value());
  EXPECT_EQ(fs::path(a.value()).filename(), "store-aaaaaaaaaaaa");
  EXPECT_TRUE(fs::exists(fs::path(a.value()) / "STORE"));
  // Claiming again is fine (a restart).
  EXPECT_EQ(ClaimArtifactFolder(root, dir.File("a.db"), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").value(), a.value());
}

TEST(ArtifactFolderTest, AFolderMarkedForAnotherStoreIsRefused) {
  TempDir dir;
  const std::string root = dir.File("artifacts");
  ASSERT_TRUE(ClaimArtifactFolder(root, dir.File("a.db"), "aaaaaaaaaaaa1111111111111111111a").ok());
  // Another id with the same 12-digit prefix lands on the same folder name.
  auto other = ClaimArtifactFolder(root, dir.File("b.db"), "aaaaaaaaaaaa2222222222222222222b");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("holds the artifacts of another results store"), std::string::npos);
  EXPECT_NE(other.status().message().find(dir.File("a.db")), std::string::npos) << other.status().message();
}

TEST(ArtifactFolderTest, ACopyOfAStoreIsRefusedAMovedStoreKeepsItsFolder) {
  TempDir dir;
  const std::string root = dir.File("artifacts");
  std::string id;
  {
    auto store = Store::Open(dir.File("a.db"));
    ASSERT_TRUE(store.ok());
    id = store.value()->store_id();
  }
  ASSERT_TRUE(ClaimArtifactFolder(root, dir.File("a.db"), id).ok());
  fs::copy_file(dir.File("a.db"), dir.File("copy.db"));
  auto copy = ClaimArtifactFolder(root, dir.File("copy.db"), id);
  ASSERT_FALSE(copy.ok());
  EXPECT_NE(copy.status().message().find("one is a copy of the other"), std::string::npos) << copy.status().message();
  // Renamed (the original is gone): the folder follows the store.
  fs::rename(dir.File("a.db"), dir.File("renamed.db"));
  fs::remove(dir.File("copy.db"));
  EXPECT_TRUE(ClaimArtifactFolder(root, dir.File("renamed.db"), id).ok());
}

// A store file with its id, made where asked; returns the id.
std::string MakeStore(const std::string& path) {
  auto store = Store::Open(path);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? store.value()->store_id() : "";
}

TEST(ArtifactFolderTest, AStoreCopiedWithItsFolderOwnsTheCopyAndTheOriginalKeepsItsOwn) {
  TempDir dir;
  fs::create_directories(dir.File("lab/runs"));
  const std::string id = MakeStore(dir.File("lab/runs/store.db"));
  ASSERT_TRUE(ClaimArtifactFolder(dir.File("lab/runs/artifacts"), dir.File("lab/runs/store.db"), id).ok());
  // The marker names the store relative to the folder.
  const auto marker = nlohmann::json::parse(
      bitsweep::testing::ReadFile(dir.File("lab/runs/artifacts/store-" + id.substr(0, 12) + "/STORE")));
  EXPECT_EQ(marker["store"], "../../store.db");

  fs::create_directories(dir.File("laptop"));

  fs::copy(dir.File("lab"), dir.File("laptop/lab"), fs::copy_options::recursive);
  auto copy = ClaimArtifactFolder(dir.File("laptop/lab/runs/artifacts"), dir.File("laptop/lab/runs/store.db"), id);
  EXPECT_TRUE(copy.ok()) << copy.status().ToString();
  auto original = ClaimArtifactFolder(dir.File("lab/runs/artifacts"), dir.File("lab/runs/store.db"), id);
  EXPECT_TRUE(original.ok()) << original.status().ToString();
  EXPECT_NE(copy.value(), original.value());
  // The copy pointed at the original's folder shares it: refused.
  auto shared = ClaimArtifactFolder(dir.File("lab/runs/artifacts"), dir.File("laptop/lab/runs/store.db"), id);
  ASSERT_FALSE(shared.ok());
  EXPECT_NE(shared.status().message().find("one is a copy of the other"), std::string::npos)
      << shared.status().message();
}

TEST(ArtifactFolderTest, AnOlderMarkerNamingTheOriginalAbsolutelyFollowsACopyMadeWithItsFolder) {
  TempDir dir;
  fs::create_directories(dir.File("lab/runs"));
  const std::string id = MakeStore(dir.File("lab/runs/store.db"));
  const std::string folder = dir.File("lab/runs/artifacts/store-" + id.substr(0, 12));
  fs::create_directories(folder);
  // What markers held before: the store's absolute path.
  bitsweep::testing::WriteFile(folder + "/STORE",
                               nlohmann::json({{"store_id", id}, {"store", dir.File("lab/runs/store.db")}}).dump());
  fs::create_directories(dir.File("laptop"));
  fs::copy(dir.File("lab"), dir.File("laptop/lab"), fs::copy_options::recursive);
  auto copy = ClaimArtifactFolder(dir.File("laptop/lab/runs/artifacts"), dir.File("laptop/lab/runs/store.db"), id);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  const auto marker = nlohmann::json::parse(bitsweep::testing::ReadFile(copy.value() + "/STORE"));
  EXPECT_EQ(marker["store"], "../../store.db");
  // A copy of the file beside the original, with the original's folder and
  // an older marker: still refused.
  fs::copy_file(dir.File("lab/runs/store.db"), dir.File("lab/runs/copy.db"));
  auto beside = ClaimArtifactFolder(dir.File("lab/runs/artifacts"), dir.File("lab/runs/copy.db"), id);
  ASSERT_FALSE(beside.ok());
  EXPECT_NE(beside.status().message().find("one is a copy of the other"), std::string::npos)
      << beside.status().message();
}

TEST(ArtifactFolderTest, RowsNameFilesRelativeToTheFolderAndOlderAbsoluteRowsAreAdoptedWhereTheFileIs) {
  TempDir dir;
  const std::string db = dir.File("store.db");
  auto store = Store::Open(db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  {
    SQLite::Database raw(db, SQLite::OPEN_READWRITE);
    raw.exec("INSERT INTO sweeps (id, name, strategy, spec_json, state, priority, max_attempts, created_ms) "
             "VALUES (1, 's', 'grid', '{}', 'DONE', 0, 3, 1000)");
    raw.exec("INSERT INTO jobs (id, sweep_id, ordinal, params_json, task, method_g, bits_g, method_d, bits_d, loss, "
             "dataset, seed, state, attempts, max_attempts, epoch) VALUES "
             "(1, 1, 0, '{}', 'qgan', 'em', 2, 'none', 32, 'bce', 'fashion-mnist', 1, 'SUCCEEDED', 1, 3, 1)");
    // As an older coordinator wrote them, at the folder's old place (the
    // store moved): one found with its size, one of another size, one
    // gone; and one at the folder's current place (not moved).
    raw.exec("INSERT INTO artifacts VALUES (1, 'found.png', '/old/artifacts/store-x/job-1/found.png', 5, 1, NULL)");
    raw.exec("INSERT INTO artifacts VALUES (1, 'resized.bsg', '/old/artifacts/store-x/job-1/resized.bsg', 5, 1, NULL)");
    raw.exec("INSERT INTO artifacts VALUES (1, 'gone.txt', '/old/artifacts/store-x/job-1/gone.txt', 5, 1, NULL)");
    const std::string here = dir.File("artifacts/job-1/here.txt");
    raw.exec("INSERT INTO artifacts VALUES (1, 'named-otherwise.txt', '" + here + "', 5, 1, NULL)");
  }
  const std::string folder = dir.File("artifacts");
  fs::create_directories(folder + "/job-1");
  bitsweep::testing::WriteFile(folder + "/job-1/found.png", "12345");
  bitsweep::testing::WriteFile(folder + "/job-1/resized.bsg", "1234567");
  bitsweep::testing::WriteFile(folder + "/job-1/here.txt", "abcde");

  auto adopted = AdoptMovedArtifacts(store.value().get(), folder);
  ASSERT_TRUE(adopted.ok()) << adopted.status().ToString();
  EXPECT_EQ(adopted.value(), 2);
  std::map<std::string, std::string> rows;
  const auto listed = store.value()->ListArtifacts(1, 0);
  ASSERT_TRUE(listed.ok());
  for (const auto& a : listed.value()) rows[a.name] = a.path;
  EXPECT_EQ(rows["found.png"], "job-1/found.png");
  EXPECT_EQ(rows["named-otherwise.txt"], "job-1/here.txt");
  EXPECT_EQ(rows["resized.bsg"], "/old/artifacts/store-x/job-1/resized.bsg");
  EXPECT_EQ(rows["gone.txt"], "/old/artifacts/store-x/job-1/gone.txt");
  EXPECT_EQ(ArtifactFile(folder, rows["found.png"]), folder + "/job-1/found.png");
  EXPECT_EQ(ArtifactFile(folder, rows["gone.txt"]), "/old/artifacts/store-x/job-1/gone.txt");
  // Nothing left to adopt: a second start changes nothing.
  EXPECT_EQ(AdoptMovedArtifacts(store.value().get(), folder).value(), 0);
}

}  // namespace
}  // namespace bitsweep::coordinator
