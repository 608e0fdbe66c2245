// Turning b-bit codes back into floats through a layer's level table: the
// step between the packed weights in memory and the float kernels.
//
// A code stream holds one b-bit level index per weight, bit-packed LSB first
// (the first code in the lowest bits of byte 0). Eight codes always fill
// exactly b bytes, so a decode that starts at a multiple of 8 codes starts
// on a byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bitsweep::edge {

/// Zero bytes kept after every code stream, so that a decoder may read a
/// whole 64-bit word for any group of 8 codes.
constexpr size_t kCodePadding = 8;

/// Scratch for the byte lookup tables of DecodeCodes (b = 1, 2, 4): for each
/// byte value the 8/b floats it decodes to, at most 2048 floats.
struct DecodeScratch {
  std::vector<float> byte_table;
  /// The level table and width the byte table was built from (rebuilt when
  /// they change).
  const float* built_from = nullptr;
  int built_bits = 0;
};

/// Writes levels[code] for codes [first, first + count) of `codes` to
/// `out`. `first` must be a multiple of 8; `codes` must hold the stream
/// plus kCodePadding bytes. 1-, 2- and 4-bit streams decode a byte at a
/// time through a table of what each byte value stands for (built in
/// `scratch`), 8-bit ones a byte per code, the others 8 codes per 64-bit word.
void DecodeCodes(const uint8_t* codes, int bits, const float* levels, int64_t first, int64_t count, float* out,
                 DecodeScratch* scratch);

/// The plain reference: one code at a time, any `first`. Tests compare
/// DecodeCodes against it; loading uses it to reorder codes.
uint32_t ReadCode(const uint8_t* codes, int bits, int64_t index);
/// Sets code `index` (the stream's byte must be zero-initialised there).
void WriteCode(uint8_t* codes, int bits, int64_t index, uint32_t code);

}  // namespace bitsweep::edge
