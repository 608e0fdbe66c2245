// Fuzzes the edge runtime's packed generator reader: a .bsg may come from
// anywhere (a download, a device's storage), so a damaged or hostile file
// must give a Corruption error naming it, never a crash, a hang or a huge
// allocation; and a file it accepts must generate images in [-1, 1].
//
// Each input is read twice: as a device would (payload CRC checked, which
// stops most mutated payloads at once) and with the checksum check off, so
// that mutated payloads reach the shape, size and value checks and the
// kernels behind them.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edge/generator.h"
#include "edge/latents.h"
#include "fuzz/fuzz_util.h"

namespace {

using bitsweep::fuzz::Mentions;
using bitsweep::fuzz::Require;
using namespace bitsweep::edge;

void Check(const uint8_t* data, size_t size, bool verify_checksum) {
  Options options;
  options.verify_checksum = verify_checksum;
  std::unique_ptr<Generator> g;
  const Status s = Generator::LoadFromMemory(data, size, "input.bsg", options, &g);
  if (!s.ok()) {
    Require(s.code() == StatusCode::kCorruption, "not a Corruption status: " + s.message());
    Require(s.message().rfind("input.bsg: ", 0) == 0, "the error does not name the file: " + s.message());
    // The header may be a megabyte; messages quote only a little of it.
    Require(s.message().size() <= 400, "an error message of " + std::to_string(s.message().size()) + " bytes");
    Require(g == nullptr, "a generator despite the error");
    return;
  }
  // Held weights come from the file's bytes: packed, at most a few times
  // the file (reordered codes padded to whole kernel blocks).
  Require(g->weight_bytes() <= int64_t{8} * static_cast<int64_t>(size) + (int64_t{1} << 16),
          "holds " + std::to_string(g->weight_bytes()) + " bytes from a " + std::to_string(size) + "-byte file");
  const int n = 2, nz = g->info().arch.nz;
  std::vector<float> z(static_cast<size_t>(n) * nz), images(static_cast<size_t>(n * g->image_floats()));
  DrawLatents(1, n, nz, z.data());
  const Status generated = g->Generate(z.data(), n, images.data());
  Require(generated.ok(), "Generate failed on an accepted file: " + generated.message());
  for (float v : images) {
    // tanh keeps every value within [-1, 1]. The reader refuses non-finite
    // weights, but finite ones can be large enough for float32 sums to
    // overflow (inf - inf is NaN), as in LibTorch: NaN is the one other
    // outcome allowed.
    Require(std::isnan(v) || (v >= -1.0f && v <= 1.0f), "an image value outside [-1, 1]: " + std::to_string(v));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Check(data, size, /*verify_checksum=*/true);
  Check(data, size, /*verify_checksum=*/false);
  return 0;
}
