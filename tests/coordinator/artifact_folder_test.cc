// Each store's artifact folder: keyed by its id, marked, and refused to any
// other store.
#include "coordinator/artifact_folder.h"

#include <gtest/gtest.h>

#include <filesystem>

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

}  // namespace
}  // namespace bitsweep::coordinator
