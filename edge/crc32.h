// CRC-32 (the zlib / PNG polynomial, reflected 0xEDB88320): the checksum the
// packed generator's header records for its payload.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bitsweep::edge {

/// The CRC-32 of `size` bytes, continuing from `crc` (0 to start), so that
/// Crc32(b, nb, Crc32(a, na)) == Crc32(a then b). Equals zlib's crc32().
uint32_t Crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

}  // namespace bitsweep::edge
