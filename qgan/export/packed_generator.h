// The packed generator: what a lab ships to an edge device.
//
// File layout (all integers little-endian):
//   8 bytes  magic "BSWPGEN1"
//   4 bytes  header length H
//   H bytes  JSON header: format version, architecture, quantization, and for
//            every tensor its name, shape, encoding and byte range
//   payload  the tensors, back to back
// Encodings: "packed" = the level table (2^b float32) followed by one b-bit
// level index per weight, bit-packed LSB first; "float32" = raw floats
// (full-precision layers, batch-norm scale/shift and running statistics).
// Each packed tensor has its own b (per-layer widths); the header's "quant"
// says how the file was made: method, bits, keep_first_last_fp and, for
// per-layer widths, "layers" {name: {method, bits}}. The payload is exactly
// the tensors' bytes back to back, so its size is the sum of the layers'
// (common/layer_widths.h, PackedPayloadBytes, computes it without LibTorch).
// The header carries the payload's CRC-32 and both the packed and the
// full-precision size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "qgan/models/dcgan.h"

namespace bitsweep::qgan {

struct PackedGeneratorInfo {
  DcganOptions arch;
  QuantSpec quant;
  /// Size of the packed file.
  int64_t packed_bytes = 0;
  /// Size of the same generator with 32-bit float weights.
  int64_t full_precision_bytes = 0;
  nlohmann::json header;
};

/// Writes `generator` with its weights quantized by its current fit.
Result<PackedGeneratorInfo> WritePackedGenerator(GeneratorImpl& generator, const std::string& path);

struct LoadedGenerator {
  /// A full-precision generator (in eval mode) whose weights are the decoded
  /// levels: its output equals the quantized generator's.
  Generator generator{nullptr};
  PackedGeneratorInfo info;
};

/// Reads a packed generator; corrupt or truncated files give an error.
Result<LoadedGenerator> ReadPackedGenerator(const std::string& path);

/// Bit-packs `indices` (each < 2^bits) LSB first.
std::vector<uint8_t> PackIndices(const std::vector<int64_t>& indices, int bits);
/// The inverse of PackIndices for `count` indices.
std::vector<int64_t> UnpackIndices(const uint8_t* data, size_t size, int64_t count, int bits);

}  // namespace bitsweep::qgan
