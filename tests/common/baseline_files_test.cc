#include "common/baseline_files.h"

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "tests/test_util.h"

namespace bitsweep {
namespace {

using testing::TempDir;

SweepSpec Search(const std::string& path, const std::string& sha256 = "") {
  nlohmann::json file = {{"path", path}, {"seed", 3}};
  if (!sha256.empty()) file["sha256"] = sha256;
  auto sweep = SweepSpec::FromJson({{"name", "s"},
                                    {"base", {{"task", "synthetic"}}},
                                    {"strategy",
                                     {{"kind", "layer_allocation"},
                                      {"methods", {"em"}},
                                      {"bits", {1, 2}},
                                      {"budget_bytes", 1000},
                                      {"baseline_files", {file}}}}});
  EXPECT_TRUE(sweep.ok()) << sweep.status().ToString();
  return sweep.value();
}

TEST(BaselineFilesTest, TheSubmittingSideHashesTheFileAndTheHashTravelsInTheSpec) {
  TempDir dir;
  const std::string path = dir.File("checkpoint.pt");
  const std::string content(200000, 'x');  // more than one read buffer
  testing::WriteFile(path, content);
  SweepSpec sweep = Search(path);
  ASSERT_TRUE(HashBaselineFiles(&sweep).ok());
  EXPECT_EQ(sweep.layer_allocation.baseline_files[0].sha256, Sha256Hex(content));
  EXPECT_EQ(sweep.ToJson()["strategy"]["baseline_files"][0]["sha256"], Sha256Hex(content));

  // A given hash is checked against the file...
  SweepSpec stale = Search(path, std::string(64, '0'));
  Status changed = HashBaselineFiles(&stale);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.message(), "strategy.baseline_files[0].sha256: " + path + " has SHA-256 " + Sha256Hex(content) +
                                   ", not " + std::string(64, '0') + " (the file changed)");
  // ... and stands where only the workers see the file.
  SweepSpec remote = Search(dir.File("elsewhere.pt"), std::string(64, '1'));
  ASSERT_TRUE(HashBaselineFiles(&remote).ok());
  EXPECT_EQ(remote.layer_allocation.baseline_files[0].sha256, std::string(64, '1'));
  // No file and no hash: refused, naming the field.
  SweepSpec missing = Search(dir.File("missing.pt"));
  Status refused = HashBaselineFiles(&missing);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.message(), "strategy.baseline_files[0].path: " + dir.File("missing.pt") +
                                   " is not a file here (give its sha256 when only the workers can read it)");
  // Not a regular file (a device would never end): the same.
  SweepSpec device = Search("/dev/zero");
  EXPECT_FALSE(HashBaselineFiles(&device).ok());
}

}  // namespace
}  // namespace bitsweep
