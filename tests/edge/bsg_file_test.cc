// The reader refuses every kind of damaged or hostile file with a
// Corruption status that names the file and the problem.
#include "edge/bsg_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>

#include "edge/crc32.h"
#include "edge/generator.h"
#include "tests/edge/synthetic_bsg.h"

namespace bitsweep::edge {
namespace {

using testing::HeaderOf;
using testing::MakeSynthetic;
using testing::WithHeader;
using testing::WriteBsg;

std::string Good() { return WriteBsg(MakeSynthetic({32, 1, 4, 2}, {2, 3, 32, 1}, 1)); }

Status Parse(const std::string& bytes) {
  BsgFile file;
  return ParseBsg(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "bad.bsg", &file);
}

// The file with its payload's CRC recomputed, so that a damaged header
// field is what the reader meets (not the checksum).
std::string Resealed(const std::string& bsg) {
  const std::string header = HeaderOf(bsg);
  const std::string payload = bsg.substr(12 + header.size());
  const uint32_t crc = Crc32(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  return WithHeader(bsg, std::regex_replace(header, std::regex("\"payload_crc32\":[0-9]+"),
                                            "\"payload_crc32\":" + std::to_string(crc)));
}

// `bytes` is refused by the runtime with a Corruption naming the file and
// `reason`; by ParseBsg already unless only the values are wrong (those are
// checked while the layers are built).
void ExpectCorrupt(const std::string& bytes, const std::string& reason, bool values_only = false) {
  SCOPED_TRACE(reason);
  std::unique_ptr<Generator> g;
  Status s = Generator::LoadFromMemory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "bad.bsg", {}, &g);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(g, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message().rfind("bad.bsg: ", 0), 0u) << s.message();
  EXPECT_NE(s.message().find(reason), std::string::npos) << s.message();
  Status parsed = Parse(bytes);
  EXPECT_EQ(parsed.ok(), values_only) << parsed.message();
  if (!values_only) {
    EXPECT_EQ(parsed.message(), s.message());
  }
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

TEST(BsgFileTest, ReadsWhatTheWriterWrote) {
  const std::string good = Good();
  BsgFile file;
  Status s = ParseBsg(reinterpret_cast<const uint8_t*>(good.data()), good.size(), "good.bsg", &file);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(file.arch.nz, 4);
  EXPECT_EQ(file.arch.ngf, 2);
  EXPECT_EQ(file.tensors.size(), 4u + 3u * 4u);
  EXPECT_EQ(file.Find("conv1.weight")->bits, 2);
  EXPECT_EQ(file.Find("conv2.weight")->bits, 3);
  EXPECT_EQ(file.Find("conv3.weight")->encoding, Encoding::kFloat32);
  EXPECT_EQ(file.Find("bn2.running_var")->count, 4);
}

TEST(BsgFileTest, TruncatedFilesAndBadChecksums) {
  const std::string good = Good();
  for (size_t cut : {size_t{0}, size_t{5}, size_t{11}, size_t{40}, good.size() / 2, good.size() - 1}) {
    SCOPED_TRACE(cut);
    Status s = Parse(good.substr(0, cut));
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_FALSE(s.message().empty());
  }
  ExpectCorrupt(good.substr(0, 5), "too short");
  ExpectCorrupt(good.substr(0, 40), "truncated header");
  ExpectCorrupt(good.substr(0, good.size() - 3), "truncated: payload has");
  ExpectCorrupt(good + "x", "payload has");
  ExpectCorrupt("GIF89a" + good, "bad magic");
  std::string flipped = good;
  flipped[flipped.size() - 7] ^= 0x10;
  ExpectCorrupt(flipped, "checksum mismatch");
  std::string huge = good;
  huge[11] = '\x7f';  // a header length of ~2 GB
  ExpectCorrupt(huge, "header length");
}

TEST(BsgFileTest, HeadersThatLie) {
  const std::string good = Good();
  const std::string h = HeaderOf(good);
  auto with = [&](const std::string& from, const std::string& to) { return Resealed(WithHeader(good, Replace(h, from, to))); };
  ExpectCorrupt(WithHeader(good, "{\"version\": 1,"), "not valid JSON");
  ExpectCorrupt(WithHeader(good, "[1, 2]"), "not a JSON object");
  ExpectCorrupt(WithHeader(good, std::string(40, '[') + std::string(40, ']')), "nesting deeper");
  ExpectCorrupt(with("\"version\":1", "\"version\":2"), "format version 2");
  ExpectCorrupt(with("\"version\":1", "\"version\":\"1\""), "version must be a whole number");
  ExpectCorrupt(with("\"image_size\":32", "\"image_size\":48"), "image_size 48");
  ExpectCorrupt(with("\"channels\":1", "\"channels\":4"), "channels 4");
  ExpectCorrupt(with("\"ngf\":2", "\"ngf\":2000000000"), "ngf 2000000000");
  ExpectCorrupt(with("\"nz\":4", "\"nz\":-4"), "arch.nz must be a whole number");
  ExpectCorrupt(with("\"ngf\":2", "\"ngf\":3"), "has shape [4,8,4,4], the architecture needs [4,12,4,4]");
  ExpectCorrupt(with("\"payload_bytes\":", "\"payload_bytes\":1"), "payload has");
  ExpectCorrupt(with("\"method\":\"em\"", "\"method\":7"), "quant.method must be a string");
  ExpectCorrupt(with("\"tensors\":[", "\"tensors\":{\"a\":["), "not valid JSON");
}

TEST(BsgFileTest, TensorsThatLie) {
  const std::string good = Good();
  const std::string h = HeaderOf(good);
  auto with = [&](const std::string& from, const std::string& to) { return Resealed(WithHeader(good, Replace(h, from, to))); };
  // Absurd or wrong shapes, sizes and offsets.
  ExpectCorrupt(with("\"shape\":[4,8,4,4]", "\"shape\":[4,8,4,4000000000000]"), "has shape");
  ExpectCorrupt(with("\"shape\":[4,8,4,4]", "\"shape\":[4,8,16]"), "has shape [4,8,16]");
  ExpectCorrupt(with("\"shape\":[4,8,4,4]", "\"shape\":\"big\""), "shape must be a short array");
  ExpectCorrupt(with("\"offset\":0,", "\"offset\":999999999,"), "lies outside the payload");
  ExpectCorrupt(with("\"offset\":0,", "\"offset\":0.5,"), "offset must be a whole number");
  ExpectCorrupt(with("\"bits\":2,\"levels\":4", "\"bits\":2,\"levels\":8"), "8 levels for 2 bits");
  ExpectCorrupt(with("\"bits\":2,\"levels\":4", "\"bits\":9,\"levels\":512"), "bits must be a whole number within 1..8");
  ExpectCorrupt(with("\"bits\":2,\"levels\":4", "\"bits\":3,\"levels\":8"), "has the wrong size");
  ExpectCorrupt(with("\"encoding\":\"packed\"", "\"encoding\":\"float16\""), "unknown encoding \"float16\"");
  ExpectCorrupt(with("\"name\":\"bn1.bias\",\"shape\":[8],\"offset\":144,\"encoding\":\"float32\"",
                     "\"name\":\"bn1.bias\",\"shape\":[8],\"offset\":144,\"encoding\":\"packed\",\"bits\":1,\"levels\":2"),
                "only convolution weights may be");
  // Unknown, repeated and missing tensors.
  ExpectCorrupt(with("\"name\":\"conv1.weight\"", "\"name\":\"conv9.weight\""), "unknown tensor \"conv9.weight\"");
  ExpectCorrupt(with("\"name\":\"bn1.bias\"", "\"name\":\"bn1.weight\""), "bn1.weight is listed twice");
  const size_t last = h.rfind(",{\"name\"");
  const size_t end = h.find('}', last) + 1;
  ExpectCorrupt(Resealed(WithHeader(good, h.substr(0, last) + h.substr(end))), "is missing");
}

TEST(BsgFileTest, ValuesThatCannotBeRight) {
  // Sizes all agree, the checksum is right, but the values are not a
  // generator: NaN levels, negative variances.
  auto synthetic = MakeSynthetic({32, 1, 4, 2}, {2, 2, 2, 2}, 1);
  synthetic.layers[1].var[3] = -1.0f;
  ExpectCorrupt(WriteBsg(synthetic), "negative variance", true);
  synthetic = MakeSynthetic({32, 1, 4, 2}, {2, 32, 2, 2}, 1);
  synthetic.layers[1].weights[5] = std::numeric_limits<float>::quiet_NaN();
  ExpectCorrupt(WriteBsg(synthetic), "non-finite value", true);
  synthetic = MakeSynthetic({32, 1, 4, 2}, {2, 2, 2, 2}, 1);
  synthetic.layers[2].levels[1] = std::numeric_limits<float>::infinity();
  ExpectCorrupt(WriteBsg(synthetic), "non-finite level", true);
}

}  // namespace
}  // namespace bitsweep::edge
