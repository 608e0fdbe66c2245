#include "edge/decode.h"

#include <cstring>

namespace bitsweep::edge {
namespace {

uint64_t Load64(const uint8_t* p) {
  // Little-endian, as the file is; memcpy compiles to one load.
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

// 8 codes from b bytes per step (3, 5, 6 and 7 bits).
template <int B>
void DecodeWords(const uint8_t* p, const float* levels, int64_t groups, float* out) {
  constexpr uint64_t kMask = (uint64_t{1} << B) - 1;
  for (int64_t g = 0; g < groups; ++g, p += B, out += 8) {
    const uint64_t w = Load64(p);
    for (int j = 0; j < 8; ++j) out[j] = levels[(w >> (B * j)) & kMask];
  }
}

void BuildByteTable(int bits, const float* levels, DecodeScratch* scratch) {
  if (scratch->built_from == levels && scratch->built_bits == bits) return;
  const int per_byte = 8 / bits;
  const unsigned mask = (1u << bits) - 1;
  scratch->byte_table.resize(static_cast<size_t>(256 * per_byte));
  for (unsigned byte = 0; byte < 256; ++byte) {
    for (int j = 0; j < per_byte; ++j) scratch->byte_table[byte * per_byte + j] = levels[(byte >> (bits * j)) & mask];
  }
  scratch->built_from = levels;
  scratch->built_bits = bits;
}

// 1, 2 and 4 bits: one table row (8/b floats) per byte; PER_BYTE is a
// constant so the copy is a single vector move.
template <int PER_BYTE>
void DecodeBytes(const uint8_t* p, const float* table, int64_t bytes, float* out) {
  for (int64_t i = 0; i < bytes; ++i, out += PER_BYTE) {
    std::memcpy(out, table + p[i] * PER_BYTE, sizeof(float) * PER_BYTE);
  }
}

}  // namespace

uint32_t ReadCode(const uint8_t* codes, int bits, int64_t index) {
  uint32_t code = 0;
  int64_t bit = index * bits;
  for (int b = 0; b < bits; ++b, ++bit) {
    if ((codes[bit / 8] >> (bit % 8)) & 1) code |= 1u << b;
  }
  return code;
}

void WriteCode(uint8_t* codes, int bits, int64_t index, uint32_t code) {
  int64_t bit = index * bits;
  for (int b = 0; b < bits; ++b, ++bit) {
    if ((code >> b) & 1) codes[bit / 8] = static_cast<uint8_t>(codes[bit / 8] | (1u << (bit % 8)));
  }
}

void DecodeCodes(const uint8_t* codes, int bits, const float* levels, int64_t first, int64_t count, float* out,
                 DecodeScratch* scratch) {
  const uint8_t* p = codes + first / 8 * bits;
  // Whole groups of 8 codes first, then the tail one code at a time.
  const int64_t groups = count / 8;
  switch (bits) {
    case 1: BuildByteTable(1, levels, scratch); DecodeBytes<8>(p, scratch->byte_table.data(), groups, out); break;
    case 2: BuildByteTable(2, levels, scratch); DecodeBytes<4>(p, scratch->byte_table.data(), groups * 2, out); break;
    case 4: BuildByteTable(4, levels, scratch); DecodeBytes<2>(p, scratch->byte_table.data(), groups * 4, out); break;
    case 8:
      for (int64_t i = 0; i < groups * 8; ++i) out[i] = levels[p[i]];
      break;
    case 3: DecodeWords<3>(p, levels, groups, out); break;
    case 5: DecodeWords<5>(p, levels, groups, out); break;
    case 6: DecodeWords<6>(p, levels, groups, out); break;
    case 7: DecodeWords<7>(p, levels, groups, out); break;
    default: return;
  }
  for (int64_t i = groups * 8; i < count; ++i) out[i] = levels[ReadCode(codes, bits, first + i)];
}

}  // namespace bitsweep::edge
