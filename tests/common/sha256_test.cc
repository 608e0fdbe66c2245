#include "common/sha256.h"

#include <gtest/gtest.h>

namespace bitsweep {
namespace {

// FIPS 180-2 test vectors.
TEST(Sha256Test, MatchesTheStandardsVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, StreamingInPiecesGivesTheSameDigest) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 31 + 7));
  Sha256 hash;
  for (size_t at = 0; at < data.size(); at += 4093) hash.Update(data.data() + at, std::min<size_t>(4093, data.size() - at));
  const std::string digest = hash.HexDigest();
  EXPECT_EQ(digest, Sha256Hex(data));
  data[500] ^= 1;  // one bit changes the digest
  EXPECT_NE(Sha256Hex(data), digest);
}

}  // namespace
}  // namespace bitsweep
