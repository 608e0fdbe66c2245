// The runtime's C interface for JavaScript: what the dashboard's job page
// calls in the WebAssembly build (edge/CMakeLists.txt builds edge.wasm with
// emscripten; dashboard/web/edge.js loads it). Plain functions over numbers
// and pointers into the module's memory; no exceptions, no threads, no
// files: the page hands over the .bsg's bytes and reads the images back.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "edge/generator.h"
#include "edge/latents.h"

namespace {

std::string& LastError() {
  static std::string error;
  return error;
}

}  // namespace

extern "C" {

/// Memory for the caller to fill (the .bsg, latents) or read (images).
void* bsg_malloc(size_t bytes) { return std::malloc(bytes); }
void bsg_free(void* p) { std::free(p); }

/// Loads a .bsg from `size` bytes at `data` (copied what is needed; the
/// caller may free them). Returns a handle, or null with bsg_error() set.
bitsweep::edge::Generator* bsg_load(const uint8_t* data, size_t size) {
  std::unique_ptr<bitsweep::edge::Generator> g;
  bitsweep::edge::Status s =
      bitsweep::edge::Generator::LoadFromMemory(data, size, "generator.bsg", bitsweep::edge::Options(), &g);
  if (!s.ok()) {
    LastError() = s.message();
    return nullptr;
  }
  return g.release();
}

/// The last error's message (NUL-terminated).
const char* bsg_error() { return LastError().c_str(); }

int bsg_nz(const bitsweep::edge::Generator* g) { return g->info().arch.nz; }
int bsg_channels(const bitsweep::edge::Generator* g) { return g->info().arch.channels; }
int bsg_image_size(const bitsweep::edge::Generator* g) { return g->info().arch.image_size; }
/// Bytes held for the weights (a double: JavaScript numbers).
double bsg_weight_bytes(const bitsweep::edge::Generator* g) { return static_cast<double>(g->weight_bytes()); }
const char* bsg_kernels(const bitsweep::edge::Generator* g) { return g->info().kernels; }

/// The runtime's latents (edge/latents.h) for seed (seed_hi << 32 | seed_lo).
void bsg_draw_latents(uint32_t seed_lo, uint32_t seed_hi, int n, int nz, float* out) {
  bitsweep::edge::DrawLatents(uint64_t{seed_hi} << 32 | seed_lo, n, nz, out);
}

/// images [n][channels][size][size] from latents [n][nz]; 0 on success,
/// else -1 with bsg_error() set.
int bsg_generate(bitsweep::edge::Generator* g, const float* latents, int n, float* images) {
  bitsweep::edge::Status s = g->Generate(latents, n, images);
  if (!s.ok()) {
    LastError() = s.message();
    return -1;
  }
  return 0;
}

void bsg_release(bitsweep::edge::Generator* g) { delete g; }

}  // extern "C"
