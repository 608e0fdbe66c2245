// The edge runtime against LibTorch: from the same .bsg and the same
// latents, its images equal what `bitsweep sample` computes, for every
// quantization method and width 1-8, full precision, first and last layers
// kept in float32, per-layer widths, and both DCGAN architectures. The
// generators are randomly initialised, quantized and batch-norm calibrated
// with the qgan library (equality needs no training).
#include <stb/stb_image.h>
#include <zlib.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <tuple>

#include "edge/generator.h"
#include "edge/latents.h"
#include "edge/npy.h"
#include "qgan/export/packed_generator.h"
#include "qgan/export/sample.h"
#include "qgan/metrics/npy.h"
#include "qgan/train/post_training.h"
#include "tests/test_util.h"

namespace bitsweep {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// Largest |edge - LibTorch| allowed on images in [-1, 1] (docs/edge.md):
// float32 sums taken in another order, with batch norm folded, drift by a
// few ulps per layer. Measured on these cases: at most 3.4e-7.
constexpr float kTolerance = 1e-5f;

struct Case {
  QuantMethod method;
  int bits;
  bool keep_first_last = false;
};

std::string CaseName(const Case& c) {
  return std::string(QuantMethodName(c.method)) + "-" + std::to_string(c.bits) + (c.keep_first_last ? "-fp-ends" : "");
}

std::vector<Case> EveryMethodAndWidth() {
  std::vector<Case> cases = {{QuantMethod::kNone, 32}, {QuantMethod::kBinary, 1}, {QuantMethod::kEm, 2, true}};
  for (QuantMethod m : {QuantMethod::kMinMax, QuantMethod::kLog, QuantMethod::kTanh, QuantMethod::kEm}) {
    for (int bits = 1; bits <= 8; ++bits) cases.push_back({m, bits});
  }
  return cases;
}

qgan::DcganOptions Arch32() {
  qgan::DcganOptions o;
  o.image_size = 32;
  o.channels = 1;
  o.nz = 16;
  o.ngf = 8;
  return o;
}

qgan::DcganOptions Arch64() {
  qgan::DcganOptions o;
  o.image_size = 64;
  o.channels = 3;
  o.nz = 12;
  o.ngf = 4;
  return o;
}

// A randomly initialised generator, quantized by `spec` (fitted to
// convergence) and with batch-norm statistics measured on its quantized
// weights, written as a .bsg.
void WriteQuantizedGenerator(const qgan::DcganOptions& arch, const QuantSpec& spec, uint64_t seed,
                             const std::string& path) {
  torch::manual_seed(static_cast<int64_t>(seed));
  qgan::Generator g(arch);
  qgan::InitDcganWeights(*g);
  g->quantizers().Configure(g->layer_names(), spec);
  qgan::FitQuantizersToConvergence(*g);
  qgan::RecalibrateBatchNorm(*g, 2, 32, seed, torch::kCPU);
  auto written = qgan::WritePackedGenerator(*g, path);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
}

void WriteQuantizedGenerator(const qgan::DcganOptions& arch, const Case& c, uint64_t seed, const std::string& path) {
  QuantSpec spec;
  spec.method = c.method;
  spec.bits = c.bits;
  spec.keep_first_last_fp = c.keep_first_last;
  WriteQuantizedGenerator(arch, spec, seed, path);
}

std::vector<float> EdgeImages(const std::string& path, const std::vector<float>& z, int64_t n,
                              const edge::Options& options = {}) {
  std::unique_ptr<edge::Generator> g;
  edge::Status s = edge::Generator::Load(path, options, &g);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return {};
  std::vector<float> images(static_cast<size_t>(n * g->image_floats()));
  s = g->Generate(z.data(), n, images.data());
  EXPECT_TRUE(s.ok()) << s.message();
  return images;
}

// What `bitsweep sample --latents-in z.npy --images-out x.npy` computes.
std::vector<float> LibTorchImages(const std::string& path, const std::string& latents, const std::string& images) {
  qgan::SampleOptions options;
  options.latents_in = latents;
  options.images_out = images;
  options.out_png = "";
  auto summary = qgan::SampleFromPackedGenerator(path, options);
  EXPECT_TRUE(summary.ok()) << summary.status().ToString();
  edge::NpyArray x;
  edge::Status s = edge::ReadNpy(images, &x);
  EXPECT_TRUE(s.ok()) << s.message();
  return x.values;
}

float MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  if (a.size() != b.size() || a.empty()) return 1e9f;
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

float Spread(const std::vector<float>& v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return v.empty() ? 0.0f : *hi - *lo;
}

void ExpectEqualOnBothArchitectures(const std::vector<Case>& cases) {
  TempDir dir;
  for (const auto& arch : {Arch32(), Arch64()}) {
    const int n = 6;
    std::vector<float> z(static_cast<size_t>(n * arch.nz));
    edge::DrawLatents(3, n, arch.nz, z.data());
    const std::string latents = dir.File("z.npy");
    ASSERT_TRUE(edge::WriteNpy(latents, {n, arch.nz}, z.data()).ok());
    for (const Case& c : cases) {
      SCOPED_TRACE("dcgan" + std::to_string(arch.image_size) + " " + CaseName(c));
      const std::string bsg = dir.File("g.bsg");
      WriteQuantizedGenerator(arch, c, 5, bsg);
      const auto expected = LibTorchImages(bsg, latents, dir.File("x.npy"));
      ASSERT_GT(Spread(expected), 0.1f) << "a flat picture would make the comparison empty";
      EXPECT_LE(MaxDiff(EdgeImages(bsg, z, n), expected), kTolerance);
      edge::Options float_path;
      float_path.weights = edge::WeightMode::kFloat32;
      EXPECT_LE(MaxDiff(EdgeImages(bsg, z, n, float_path), expected), kTolerance);
    }
  }
}

TEST(LibTorchEqualityTest, MinMaxLogAndTanhAtEveryWidth) {
  std::vector<Case> cases;
  for (const Case& c : EveryMethodAndWidth()) {
    if (c.method != QuantMethod::kEm) cases.push_back(c);
  }
  ExpectEqualOnBothArchitectures(cases);
}

TEST(LibTorchEqualityTest, EmAtEveryWidthFullPrecisionAndFloatEnds) {
  std::vector<Case> cases;
  for (const Case& c : EveryMethodAndWidth()) {
    if (c.method == QuantMethod::kEm || c.method == QuantMethod::kNone) cases.push_back(c);
  }
  ExpectEqualOnBothArchitectures(cases);
}

// A .bsg whose layers come from different files of the same architecture:
// layer i from files[i] (per-layer widths; the format stores each tensor's
// own width, and both readers honour it).
std::string SpliceLayers(const std::vector<std::string>& files) {
  auto header_of = [](const std::string& f) {
    uint32_t size = 0;
    for (int i = 0; i < 4; ++i) size |= uint32_t{static_cast<uint8_t>(f[8 + i])} << (8 * i);
    return std::make_pair(nlohmann::json::parse(f.substr(12, size)), f.substr(12 + size));
  };
  auto [header, ignored] = header_of(files[0]);
  std::string payload;
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& entry : header["tensors"]) {
    const std::string name = entry["name"];
    // conv2.weight -> layer 1; batch norms and everything else from file 0.
    const size_t layer = name.rfind("conv", 0) == 0 ? std::stoul(name.substr(4)) - 1 : 0;
    auto [source_header, source_payload] = header_of(files[layer % files.size()]);
    for (auto e : source_header["tensors"]) {
      if (e["name"] != name) continue;
      const std::string bytes = source_payload.substr(e["offset"].get<size_t>(), e["bytes"].get<size_t>());
      e["offset"] = payload.size();
      payload += bytes;
      tensors.push_back(e);
    }
  }
  header["tensors"] = tensors;
  header["payload_bytes"] = payload.size();
  header["payload_crc32"] = crc32(0L, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  const std::string text = header.dump();
  std::string out = "BSWPGEN1";
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
  return out + text + payload;
}

TEST(LibTorchEqualityTest, PerLayerWidths) {
  TempDir dir;
  const auto arch = Arch64();
  std::vector<std::string> files;
  for (const Case& c : std::vector<Case>{{QuantMethod::kEm, 1}, {QuantMethod::kNone, 32}, {QuantMethod::kLog, 3},
                                         {QuantMethod::kEm, 6}, {QuantMethod::kTanh, 8}}) {
    WriteQuantizedGenerator(arch, c, 9, dir.File("part.bsg"));
    files.push_back(ReadFile(dir.File("part.bsg")));
  }
  const std::string mixed = dir.File("mixed.bsg");
  WriteFile(mixed, SpliceLayers(files));
  const int n = 4;
  std::vector<float> z(static_cast<size_t>(n * arch.nz));
  edge::DrawLatents(11, n, arch.nz, z.data());
  ASSERT_TRUE(edge::WriteNpy(dir.File("z.npy"), {n, arch.nz}, z.data()).ok());
  const auto expected = LibTorchImages(mixed, dir.File("z.npy"), dir.File("x.npy"));
  ASSERT_GT(Spread(expected), 0.1f);
  std::unique_ptr<edge::Generator> g;
  ASSERT_TRUE(edge::Generator::Load(mixed, {}, &g).ok());
  const std::vector<int> widths = {1, 32, 3, 6, 8};
  for (size_t i = 0; i < widths.size(); ++i) EXPECT_EQ(g->info().layer_bits[i].second, widths[i]) << i;
  EXPECT_LE(MaxDiff(EdgeImages(mixed, z, n), expected), kTolerance);
}

TEST(LibTorchEqualityTest, PerLayerWidthsOfTheJobSpec) {
  // What a job with quant.g.layers exports: each layer at its own method and
  // width, the widths in the header's quant.layers.
  TempDir dir;
  const auto arch = Arch32();
  QuantSpec spec;
  spec.method = QuantMethod::kEm;
  spec.bits = 2;
  spec.layers["conv1"] = {QuantMethod::kMinMax, 5};
  spec.layers["conv3"] = {QuantMethod::kLog, 3};
  spec.layers["conv4"] = {QuantMethod::kNone, 32};
  WriteQuantizedGenerator(arch, spec, 13, dir.File("g.bsg"));
  const int n = 5;
  std::vector<float> z(static_cast<size_t>(n * arch.nz));
  edge::DrawLatents(17, n, arch.nz, z.data());
  ASSERT_TRUE(edge::WriteNpy(dir.File("z.npy"), {n, arch.nz}, z.data()).ok());
  const auto expected = LibTorchImages(dir.File("g.bsg"), dir.File("z.npy"), dir.File("x.npy"));
  ASSERT_GT(Spread(expected), 0.1f);
  std::unique_ptr<edge::Generator> g;
  ASSERT_TRUE(edge::Generator::Load(dir.File("g.bsg"), {}, &g).ok());
  const std::vector<std::pair<std::string, int>> widths = {{"conv1", 5}, {"conv2", 2}, {"conv3", 3}, {"conv4", 32}};
  EXPECT_EQ(g->info().layer_bits, widths);
  EXPECT_LE(MaxDiff(EdgeImages(dir.File("g.bsg"), z, n), expected), kTolerance);
}

TEST(LibTorchEqualityTest, TheTwoBinariesAgreeThroughLatentFiles) {
  // The user's path: `bitsweep sample` writes the latents it drew with
  // LibTorch's generator; bitsweep-edge reads them; the images agree.
  TempDir dir;
  WriteQuantizedGenerator(Arch32(), Case{QuantMethod::kEm, 2}, 4, dir.File("g.bsg"));
  std::string out;
  ASSERT_EQ(testing::RunCommand(std::string(BITSWEEP_BINARY) + " sample --model " + dir.File("g.bsg") +
                                    " -n 5 --seed 9 -o " + dir.File("torch.png") + " --latents-out " +
                                    dir.File("z.npy") + " --images-out " + dir.File("torch.npy"),
                                &out),
            0)
      << out;
  ASSERT_EQ(testing::RunCommand(std::string(BITSWEEP_EDGE_BINARY) + " generate " + dir.File("g.bsg") + " --latents " +
                                    dir.File("z.npy") + " --raw " + dir.File("edge.npy") + " -o " + dir.File("edge.png"),
                                &out),
            0)
      << out;
  edge::NpyArray torch_images, edge_images, z;
  ASSERT_TRUE(edge::ReadNpy(dir.File("torch.npy"), &torch_images).ok());
  ASSERT_TRUE(edge::ReadNpy(dir.File("edge.npy"), &edge_images).ok());
  ASSERT_TRUE(edge::ReadNpy(dir.File("z.npy"), &z).ok());
  EXPECT_EQ(z.shape, (std::vector<int64_t>{5, 16}));
  EXPECT_EQ(torch_images.shape, (std::vector<int64_t>{5, 1, 32, 32}));
  EXPECT_EQ(edge_images.shape, torch_images.shape);
  EXPECT_LE(MaxDiff(edge_images.values, torch_images.values), kTolerance);
  // The grids: the same layout, the same pixels (a value within 1e-5 of a
  // rounding boundary may round the other way: one level at most).
  int tw = 0, th = 0, tc = 0, ew = 0, eh = 0, ec = 0;
  unsigned char* torch_png = stbi_load(dir.File("torch.png").c_str(), &tw, &th, &tc, 0);
  unsigned char* edge_png = stbi_load(dir.File("edge.png").c_str(), &ew, &eh, &ec, 0);
  ASSERT_NE(torch_png, nullptr);
  ASSERT_NE(edge_png, nullptr);
  EXPECT_EQ(std::make_tuple(ew, eh, ec), std::make_tuple(tw, th, tc));
  int worst = 0;
  for (int i = 0; i < tw * th * tc && ew == tw && eh == th && ec == tc; ++i) {
    worst = std::max(worst, std::abs(int{torch_png[i]} - int{edge_png[i]}));
  }
  EXPECT_LE(worst, 1);
  stbi_image_free(torch_png);
  stbi_image_free(edge_png);
  // The seed's latents are LibTorch's: drawing again gives the same.
  auto again = torch::randn({5, 16}, at::make_generator<at::CPUGeneratorImpl>(9));
  EXPECT_TRUE(torch::equal(again, torch::from_blob(z.values.data(), {5, 16})));
  // -n must agree with the file when both are given.
  EXPECT_EQ(testing::RunCommand(std::string(BITSWEEP_BINARY) + " sample --model " + dir.File("g.bsg") + " -n 6 " +
                                    "--latents-in " + dir.File("z.npy") + " -o " + dir.File("x.png"),
                                &out),
            2)
      << out;
  EXPECT_NE(out.find("holds 5 latent vectors"), std::string::npos) << out;
}

}  // namespace
}  // namespace bitsweep
