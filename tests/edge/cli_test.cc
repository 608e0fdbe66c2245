// The bitsweep-edge binary as a user runs it: grids and raw images from a
// seed or from latents, bench, info, clear errors on damaged files, and no
// LibTorch (or anything else of bitsweep's) among its libraries.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "edge/generator.h"
#include "edge/latents.h"
#include "edge/npy.h"
#include "tests/edge/synthetic_bsg.h"
#include "tests/test_util.h"

namespace bitsweep::edge {
namespace {

using bitsweep::testing::ReadFile;
using bitsweep::testing::RunCommand;
using bitsweep::testing::TempDir;
using bitsweep::testing::WriteFile;

const std::string kBinary = BITSWEEP_EDGE_BINARY;

class EdgeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    synthetic_ = testing::MakeSynthetic({32, 3, 8, 6}, {2, 2, 2, 2}, 4);
    model_ = dir_.File("g.bsg");
    WriteFile(model_, testing::WriteBsg(synthetic_));
  }
  int Run(const std::string& args, std::string* out) { return RunCommand(kBinary + " " + args, out); }

  TempDir dir_;
  testing::SyntheticGenerator synthetic_;
  std::string model_;
};

TEST_F(EdgeCliTest, GeneratesAGridAndRawImagesFromASeed) {
  std::string out;
  ASSERT_EQ(Run("generate " + model_ + " -n 9 --seed 3 -o " + dir_.File("grid.png") + " --raw " + dir_.File("x.npy") +
                    " --latents-out " + dir_.File("z.npy"),
                &out),
            0)
      << out;
  EXPECT_NE(out.find("generated 9 image(s)"), std::string::npos) << out;
  const std::string png = ReadFile(dir_.File("grid.png"));
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  // 3 x 3 tiles of 32 px with 2 px padding: 104 x 104.
  auto be32 = [&](size_t at) {
    return (static_cast<uint8_t>(png[at]) << 24) | (static_cast<uint8_t>(png[at + 1]) << 16) |
           (static_cast<uint8_t>(png[at + 2]) << 8) | static_cast<uint8_t>(png[at + 3]);
  };
  EXPECT_EQ(be32(16), 104u);
  EXPECT_EQ(be32(20), 104u);

  NpyArray z, x;
  ASSERT_TRUE(ReadNpy(dir_.File("z.npy"), &z).ok());
  ASSERT_TRUE(ReadNpy(dir_.File("x.npy"), &x).ok());
  EXPECT_EQ(z.shape, (std::vector<int64_t>{9, 8}));
  EXPECT_EQ(x.shape, (std::vector<int64_t>{9, 3, 32, 32}));
  // The seed's latents are the documented generator's, and the images are
  // the network's of them.
  std::vector<float> expected_z(9 * 8);
  DrawLatents(3, 9, 8, expected_z.data());
  EXPECT_EQ(z.values, expected_z);
  const auto reference = testing::ReferenceForward(synthetic_, z.values, 9);
  float worst = 0;
  for (size_t i = 0; i < reference.size(); ++i) worst = std::max(worst, std::fabs(reference[i] - x.values[i]));
  EXPECT_LE(worst, 1e-4f);
}

TEST_F(EdgeCliTest, LatentsInGiveTheSameImages) {
  std::string out;
  ASSERT_EQ(Run("generate " + model_ + " -n 4 --seed 8 --raw " + dir_.File("a.npy") + " --latents-out " +
                    dir_.File("z.npy"),
                &out),
            0)
      << out;
  ASSERT_EQ(Run("generate " + model_ + " --latents " + dir_.File("z.npy") + " --raw " + dir_.File("b.npy") +
                    " --threads 2 --float32",
                &out),
            0)
      << out;
  NpyArray a, b;
  ASSERT_TRUE(ReadNpy(dir_.File("a.npy"), &a).ok());
  ASSERT_TRUE(ReadNpy(dir_.File("b.npy"), &b).ok());
  ASSERT_EQ(a.values.size(), b.values.size());
  for (size_t i = 0; i < a.values.size(); ++i) ASSERT_NEAR(a.values[i], b.values[i], 1e-5f) << i;
  // Latents of the wrong width are refused.
  std::vector<float> wrong(3 * 5, 0.0f);
  ASSERT_TRUE(WriteNpy(dir_.File("w.npy"), {3, 5}, wrong.data()).ok());
  EXPECT_EQ(Run("generate " + model_ + " --latents " + dir_.File("w.npy") + " --raw " + dir_.File("c.npy"), &out), 2);
  EXPECT_NE(out.find("latents must be [N, 8]"), std::string::npos) << out;
}

TEST_F(EdgeCliTest, BenchReportsMemoryAndLatency) {
  std::string out;
  ASSERT_EQ(Run("bench " + model_ + " --threads 1,2 --batch 1,4 --seconds 0 --json", &out), 0) << out;
  for (const char* field : {"\"weight_bytes\": ", "\"peak_rss_bytes\": ", "\"p50_ms\": ", "\"p99_ms\": "}) {
    EXPECT_NE(out.find(field), std::string::npos) << field << " in " << out;
  }
  EXPECT_EQ(std::count(out.begin(), out.end(), '{'), 1 + 1 + 4) << "the file, its arch and four cases: " << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("\"weight_bytes\": ([0-9]+)")));
  std::unique_ptr<Generator> g;
  ASSERT_TRUE(Generator::Load(model_, {}, &g).ok());
  EXPECT_EQ(std::stoll(m[1]), g->weight_bytes());
  ASSERT_EQ(Run("bench " + model_ + " --threads 1 --batch 2 --seconds 0", &out), 0) << out;
  EXPECT_NE(out.find("p99 ms/image"), std::string::npos) << out;
  EXPECT_NE(out.find("peak RSS"), std::string::npos) << out;
}

TEST_F(EdgeCliTest, InfoAndErrors) {
  std::string out;
  ASSERT_EQ(Run("info " + model_, &out), 0) << out;
  EXPECT_NE(out.find("dcgan32, 3 channel(s), nz 8, ngf 6"), std::string::npos) << out;
  EXPECT_NE(out.find("conv4  2-bit packed"), std::string::npos) << out;

  const std::string good = ReadFile(model_);
  WriteFile(dir_.File("cut.bsg"), good.substr(0, good.size() / 2));
  EXPECT_EQ(Run("generate " + dir_.File("cut.bsg") + " -o " + dir_.File("x.png"), &out), 1);
  EXPECT_NE(out.find("cut.bsg: truncated"), std::string::npos) << out;
  EXPECT_EQ(Run("generate " + dir_.File("none.bsg"), &out), 1);
  EXPECT_NE(out.find("cannot open"), std::string::npos) << out;
  EXPECT_EQ(Run("frobnicate " + model_, &out), 2);
  EXPECT_EQ(Run("generate " + model_ + " -n 0", &out), 2);
  EXPECT_EQ(Run("generate " + model_ + " --isa sse9", &out), 2);
  EXPECT_EQ(Run("generate", &out), 2);
  EXPECT_EQ(Run("generate " + model_ + " --seed -1", &out), 2);
  EXPECT_EQ(Run("generate " + model_ + " --seed 18446744073709551616", &out), 2);
  // Seeds use all 64 bits (the browser draws them so).
  ASSERT_EQ(Run("generate " + model_ + " -n 2 --seed 18446744073709551615 --latents-out " + dir_.File("s.npy") +
                    " --raw " + dir_.File("s-x.npy"),
                &out),
            0)
      << out;
  NpyArray z;
  ASSERT_TRUE(ReadNpy(dir_.File("s.npy"), &z).ok());
  std::vector<float> expected(2 * 8);
  DrawLatents(UINT64_MAX, 2, 8, expected.data());
  EXPECT_EQ(z.values, expected);
}

TEST(EdgeBinaryTest, LinksNoLibTorchNorAnythingElseOfBitsweeps) {
  std::string out;
  ASSERT_EQ(RunCommand("ldd " + kBinary, &out), 0) << out;
  // Whatever the platform lists, a line naming one of these would mean the
  // binary cannot be copied to a device without them.
  for (const char* lib : {"torch", "c10", "openblas", "blas", "gomp", "grpc", "protobuf", "sqlite", "ssl", "crypto",
                          "stdc++", "httplib", "z.so"}) {
    EXPECT_EQ(out.find(lib), std::string::npos) << lib << " in:\n" << out;
  }
  EXPECT_NE(out.find("libc.so"), std::string::npos) << out;
}

}  // namespace
}  // namespace bitsweep::edge
