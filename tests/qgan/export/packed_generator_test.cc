#include "qgan/export/packed_generator.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/test_util.h"

namespace bitsweep::qgan {
namespace {

using bitsweep::testing::ReadFile;
using bitsweep::testing::TempDir;
using bitsweep::testing::WriteFile;

// A generator that has seen a few training-mode forwards (so quantizers are
// fitted and batch-norm statistics are not the defaults).
Generator MakeFittedGenerator(QuantMethod method, int bits, bool keep_first_last = false) {
  DcganOptions o;
  o.nz = 16;
  o.ngf = 16;
  torch::manual_seed(2);
  Generator g(o);
  InitDcganWeights(*g);
  QuantSpec spec;
  spec.method = method;
  spec.bits = bits;
  spec.keep_first_last_fp = keep_first_last;
  g->quantizers().Configure(g->layer_names(), spec);
  g->train();
  for (int i = 0; i < 3; ++i) g->forward(torch::randn({8, 16}));
  g->eval();
  return g;
}

TEST(PackIndicesTest, RoundTripsEveryWidth) {
  for (int bits = 1; bits <= 8; ++bits) {
    std::vector<int64_t> indices;
    for (int i = 0; i < 1001; ++i) indices.push_back((i * 7919) % (1 << bits));
    auto packed = PackIndices(indices, bits);
    EXPECT_EQ(packed.size(), (indices.size() * bits + 7) / 8);
    EXPECT_EQ(UnpackIndices(packed.data(), packed.size(), static_cast<int64_t>(indices.size()), bits), indices);
  }
}

TEST(PackedGeneratorTest, LoadedGeneratorReproducesTheQuantizedOne) {
  struct Case {
    QuantMethod method;
    int bits;
    bool keep_first_last;
  };
  for (const Case& c : std::vector<Case>{{QuantMethod::kEm, 2, false},
                                         {QuantMethod::kEm, 1, true},
                                         {QuantMethod::kMinMax, 3, false},
                                         {QuantMethod::kLog, 4, false},
                                         {QuantMethod::kTanh, 2, false},
                                         {QuantMethod::kBinary, 1, false},
                                         {QuantMethod::kNone, 32, false}}) {
    SCOPED_TRACE(std::string(QuantMethodName(c.method)) + " " + std::to_string(c.bits));
    TempDir dir;
    Generator g = MakeFittedGenerator(c.method, c.bits, c.keep_first_last);
    torch::NoGradGuard no_grad;
    auto z = torch::randn({16, 16});
    auto expected = g->forward(z);

    auto written = WritePackedGenerator(*g, dir.File("g.bsg"));
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    EXPECT_EQ(written->packed_bytes, static_cast<int64_t>(std::filesystem::file_size(dir.File("g.bsg"))));

    auto loaded = ReadPackedGenerator(dir.File("g.bsg"));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->info.quant.method, c.method);
    EXPECT_EQ(loaded->info.quant.bits, c.bits);
    auto actual = loaded->generator->forward(z);
    EXPECT_LE((actual - expected).abs().max().item<float>(), 1e-6f);

    if (c.method != QuantMethod::kNone && !c.keep_first_last) {
      // b-bit indices plus small tables and batch norm: far below fp32.
      double ratio = static_cast<double>(written->packed_bytes) / static_cast<double>(written->full_precision_bytes);
      EXPECT_LT(ratio, c.bits / 32.0 + 0.05);
    }
  }
}

TEST(PackedGeneratorTest, CorruptFilesAreRejectedWithAReason) {
  TempDir dir;
  Generator g = MakeFittedGenerator(QuantMethod::kEm, 2);
  ASSERT_TRUE(WritePackedGenerator(*g, dir.File("g.bsg")).ok());
  const std::string good = ReadFile(dir.File("g.bsg"));

  auto expect_corrupt = [&](const std::string& bytes, const std::string& reason) {
    WriteFile(dir.File("bad.bsg"), bytes);
    auto r = ReadPackedGenerator(dir.File("bad.bsg"));
    ASSERT_FALSE(r.ok()) << reason;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find("bad.bsg"), std::string::npos);
    EXPECT_NE(r.status().message().find(reason), std::string::npos) << r.status().message();
  };
  std::string flipped = good;
  flipped[flipped.size() - 10] ^= 0x40;
  expect_corrupt(flipped, "checksum mismatch");
  expect_corrupt(good.substr(0, good.size() - 100), "truncated");
  expect_corrupt(good.substr(0, 20), "truncated header");
  expect_corrupt("PNG" + good, "bad magic");
  expect_corrupt("", "bad magic");

  auto missing = ReadPackedGenerator(dir.File("none.bsg"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(PackedGeneratorTest, SampleCommandWritesAGrid) {
  TempDir dir;
  Generator g = MakeFittedGenerator(QuantMethod::kEm, 2);
  ASSERT_TRUE(WritePackedGenerator(*g, dir.File("g.bsg")).ok());
  std::string out;
  int rc = testing::RunCommand(std::string(BITSWEEP_BINARY) + " sample --model " + dir.File("g.bsg") + " -n 9 -o " +
                                   dir.File("grid.png"),
                               &out);
  EXPECT_EQ(rc, 0) << out;
  std::string png = ReadFile(dir.File("grid.png"));
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_NE(out.find("em 2-bit"), std::string::npos) << out;

  rc = testing::RunCommand(std::string(BITSWEEP_BINARY) + " sample --model " + dir.File("grid.png") + " -o " +
                               dir.File("x.png"),
                           &out);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("bad magic"), std::string::npos) << out;
}

TEST(PackedGeneratorTest, SampleCommandNamesEachLayersWidth) {
  // A generator whose layers differ: the command says each layer's width,
  // not the network's nominal 2 bits.
  TempDir dir;
  DcganOptions o;
  o.nz = 16;
  o.ngf = 16;
  torch::manual_seed(3);
  Generator g(o);
  InitDcganWeights(*g);
  QuantSpec spec;
  spec.method = QuantMethod::kEm;
  spec.bits = 2;
  spec.layers["conv3"] = LayerQuant{QuantMethod::kEm, 4};
  spec.layers["conv4"] = LayerQuant{QuantMethod::kNone, 32};
  g->quantizers().Configure(g->layer_names(), spec);
  g->train();
  for (int i = 0; i < 3; ++i) g->forward(torch::randn({8, 16}));
  g->eval();
  ASSERT_TRUE(WritePackedGenerator(*g, dir.File("g.bsg")).ok());
  std::string out;
  ASSERT_EQ(testing::RunCommand(std::string(BITSWEEP_BINARY) + " sample --model " + dir.File("g.bsg") + " -n 4 -o " +
                                    dir.File("grid.png"),
                                &out),
            0)
      << out;
  EXPECT_NE(out.find("from a generator with per-layer widths em 2,2,4,32 ("), std::string::npos) << out;
  EXPECT_EQ(out.find("em 2-bit generator"), std::string::npos) << out;
  auto loaded = ReadPackedGenerator(dir.File("g.bsg"));
  ASSERT_TRUE(loaded.ok());
  int rows = 0;
  for (const auto& t : loaded->info.header["tensors"]) {
    const std::string name = t["name"].get<std::string>();
    if (name.rfind("conv", 0) != 0 || name.substr(name.size() - 7) != ".weight") continue;  // not batch norms
    const std::string layer = name.substr(0, name.size() - 7);
    const std::string width = layer == "conv4" ? "float32" : layer == "conv3" ? "em 4-bit" : "em 2-bit";
    // "  conv3  em 4-bit   ... weights ... bytes", the bytes the file holds.
    const std::string row = "  " + layer;
    const size_t at = out.find(row + std::string(6 - layer.size() + 1, ' ') + width);
    ASSERT_NE(at, std::string::npos) << layer << "\n" << out;
    const std::string line = out.substr(at, out.find('\n', at) - at);
    EXPECT_NE(line.find(" " + std::to_string(t["bytes"].get<int64_t>()) + " bytes"), std::string::npos) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 4);
}

}  // namespace
}  // namespace bitsweep::qgan
