// The code decoders against the one-code-at-a-time reference, for every
// width, start and length (including the byte-table paths of 1, 2 and 4
// bits and the tails that are not whole groups of 8).
#include "edge/decode.h"

#include <gtest/gtest.h>

#include <random>

namespace bitsweep::edge {
namespace {

TEST(DecodeTest, WriteThenReadRoundTripsEveryWidth) {
  for (int bits = 1; bits <= 8; ++bits) {
    std::vector<uint8_t> codes((1000 * bits + 7) / 8 + kCodePadding, 0);
    for (int i = 0; i < 1000; ++i) WriteCode(codes.data(), bits, i, static_cast<uint32_t>((i * 7919) % (1 << bits)));
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(ReadCode(codes.data(), bits, i), static_cast<uint32_t>((i * 7919) % (1 << bits)));
  }
}

TEST(DecodeTest, LsbFirstAsTheWriterPacksThem) {
  // qgan's PackIndices: index i occupies bits [i*b, (i+1)*b), LSB first.
  const uint8_t two_bit[] = {0b11100100, 0, 0, 0, 0, 0, 0, 0, 0};  // codes 0, 1, 2, 3
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ReadCode(two_bit, 2, i), static_cast<uint32_t>(i));
  const uint8_t three_bit[] = {0b10001101, 0b00000001, 0, 0, 0, 0, 0, 0, 0, 0};  // 5, 1, 6
  EXPECT_EQ(ReadCode(three_bit, 3, 0), 5u);
  EXPECT_EQ(ReadCode(three_bit, 3, 1), 1u);
  EXPECT_EQ(ReadCode(three_bit, 3, 2), 6u);
}

TEST(DecodeTest, EveryWidthMatchesTheReferenceAtAnyStartAndLength) {
  std::mt19937 rng(3);
  for (int bits = 1; bits <= 8; ++bits) {
    const int n = 1 << bits;
    std::vector<float> levels(static_cast<size_t>(n));
    for (int l = 0; l < n; ++l) levels[l] = 0.25f * static_cast<float>(l) - 3.0f + static_cast<float>(rng() % 7);
    const int64_t total = 777;
    std::vector<uint8_t> codes((total * bits + 7) / 8 + kCodePadding, 0);
    for (int64_t i = 0; i < total; ++i) WriteCode(codes.data(), bits, i, rng() % n);
    DecodeScratch scratch;
    for (int64_t first : {0, 8, 64, 200}) {
      for (int64_t count : {1, 7, 8, 9, 63, 64, 300, 577}) {
        if (first + count > total) continue;
        std::vector<float> out(static_cast<size_t>(count) + 1, -99.0f);
        DecodeCodes(codes.data(), bits, levels.data(), first, count, out.data(), &scratch);
        for (int64_t i = 0; i < count; ++i) {
          ASSERT_EQ(out[i], levels[ReadCode(codes.data(), bits, first + i)])
              << "bits " << bits << " first " << first << " count " << count << " i " << i;
        }
        EXPECT_EQ(out[count], -99.0f) << "wrote past the end";
      }
    }
  }
}

TEST(DecodeTest, ByteTablesFollowTheLevelTable) {
  // The 1/2/4-bit decoders cache a table built from the levels: a different
  // level table (the next layer) must not decode through the old one.
  std::vector<uint8_t> codes(1 + kCodePadding, 0);
  codes[0] = 0b10101010;
  std::vector<float> a = {-1.0f, 1.0f}, b = {-5.0f, 5.0f}, out(8);
  DecodeScratch scratch;
  DecodeCodes(codes.data(), 1, a.data(), 0, 8, out.data(), &scratch);
  EXPECT_EQ(out, (std::vector<float>{-1, 1, -1, 1, -1, 1, -1, 1}));
  DecodeCodes(codes.data(), 1, b.data(), 0, 8, out.data(), &scratch);
  EXPECT_EQ(out, (std::vector<float>{-5, 5, -5, 5, -5, 5, -5, 5}));
}

}  // namespace
}  // namespace bitsweep::edge
