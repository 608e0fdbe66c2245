// Reading the packed generator file (.bsg) that bitsweep writes
// (qgan/export/packed_generator.h), without LibTorch.
//
// Layout, all integers little-endian:
//   8 bytes   magic "BSWPGEN1"
//   4 bytes   header length H
//   H bytes   JSON header: "version" (1), "arch" {image_size, channels, nz,
//             ngf}, "quant" {method, bits, keep_first_last_fp}, "tensors"
//             (name, shape, offset, bytes, encoding and, when packed, bits
//             and levels), "payload_bytes", "payload_crc32",
//             "full_precision_bytes"
//   payload   the tensors' bytes, at the offsets the header gives
// A tensor's encoding is "float32" (raw floats) or "packed": a table of
// 2^b float32 levels followed by one b-bit level index ("code") per value,
// bit-packed LSB first, in the tensor's row-major order. Every tensor carries
// its own b, so a file may give each layer a different width.
//
// The file may come from anywhere: every size, offset and shape is checked
// against the architecture and the file's length before anything is read,
// and the payload against its CRC-32, so a damaged or hostile file gives a
// Corruption status naming the problem, never a crash or a huge allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edge/architecture.h"
#include "edge/status.h"

namespace bitsweep::edge {

enum class Encoding { kFloat32, kPacked };

/// One tensor of the file, checked: its bytes lie inside the payload and
/// agree with its shape and encoding.
struct BsgTensor {
  std::string name;
  std::vector<int64_t> shape;
  /// Number of values (the product of `shape`).
  int64_t count = 0;
  Encoding encoding = Encoding::kFloat32;
  /// Packed: bits per code, 1..8 (32 for float32).
  int bits = 32;
  /// The tensor's bytes inside the buffer given to ParseBsg. Packed:
  /// 2^bits float32 levels, then ceil(count * bits / 8) bytes of codes.
  const uint8_t* data = nullptr;
  size_t bytes = 0;
};

struct BsgFile {
  Arch arch;
  /// The header's "quant" as written: the method's name ("none", "em",
  /// "minmax", ...) and its nominal bits. The tensors' own bits are what
  /// decoding uses.
  std::string method = "none";
  int bits = 32;
  bool keep_first_last_fp = false;
  /// Bytes of the same generator in float32 (the header's figure; 0 when
  /// absent).
  int64_t full_precision_bytes = 0;
  /// Exactly the tensors the architecture needs, in file order.
  std::vector<BsgTensor> tensors;

  /// The tensor called `name`, or nullptr.
  const BsgTensor* Find(const std::string& name) const;
};

struct ParseOptions {
  /// Check the payload against the header's CRC-32. Only the fuzz target
  /// turns this off, to reach the checks behind it with mutated payloads.
  bool verify_checksum = true;
};

/// Largest header accepted. A real one is a few kilobytes.
constexpr size_t kMaxHeaderBytes = 1 << 20;

/// Parses and checks `size` bytes of a .bsg. `source` (a path, or a name for
/// a file in memory) starts every error message. The result points into
/// `data`, which must outlive it.
Status ParseBsg(const uint8_t* data, size_t size, const std::string& source, BsgFile* file,
                const ParseOptions& options = {});

}  // namespace bitsweep::edge
