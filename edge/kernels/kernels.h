// The float micro-kernels the layers run on, one set per instruction set,
// chosen once at load (XNNPACK's shape: small kernels, separately tested,
// behind function pointers).
//
// igemm: an indirect GEMM block. For rows r < mr and taps t < taps:
//   C[r][0..nc) (+)= sum_t sum_{k<kc} A[t][r][k] * B[t][k][0..nr)
// where A[t][r] = a[t * mr + r] is a row pointer (an input pixel's channels,
// or a row of zeros for a pixel outside the image: the "indirection" that
// makes a convolution a GEMM without copying its input), B is a tile panel
// laid out [taps][kc][nr] (tile_layout.h), and C[r] = c[r] a row pointer
// into the output; only its first nc columns are read or written.
// With `accumulate` C's current values are added to; with an epilogue the
// result becomes relu?(C * scale + bias) (batch norm folded: scale is null
// when it was multiplied into the weights at load).
//
// planar: the output layer (1 or 3 channels, too few for a GEMM's
// columns), computed with the vector lanes along a row of output pixels:
//   out[b] = sum_t sum_{k<cin} w[t * cin + k] * x[t][k * channel_stride + b],  b < width
// where x[t] points at tap t's input row inside a planar (channel-major),
// zero-padded copy of the input, so every read is in bounds, and w at one
// output channel's weights, [taps][cin].
//
// tanh: x[i] = tanh(x[i]) for i < n, in place, over finished rows of the
// images (the output layer writes every other pixel of a row per phase). The
// vector kernels use a polynomial exp and are within 2e-7 of tanh; NaN
// stays NaN.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace bitsweep::edge {

struct Epilogue {
  /// Per output column of this block, or nullptr (scale 1).
  const float* scale = nullptr;
  /// Per output column of this block.
  const float* bias = nullptr;
  bool relu = true;
};

using IgemmFn = void (*)(size_t mr, size_t nc, size_t kc, size_t taps, const float* const* a, const float* b,
                         float* const* c, bool accumulate, const Epilogue* epilogue);

using PlanarFn = void (*)(size_t width, size_t cin, size_t taps, const float* const* x, size_t channel_stride,
                          const float* w, float* out);

using TanhFn = void (*)(float* x, size_t n);

enum class Isa {
  /// The best the CPU supports.
  kAuto,
  /// Plain C++ loops: the reference, and the fallback anywhere.
  kScalar,
  /// 128-bit vectors through the compiler's vector extension: SSE2 on
  /// x86-64, NEON on ARM, SIMD128 in WebAssembly.
  kVec128,
  /// x86-64 AVX2 + FMA, 256-bit.
  kAvx2,
  /// x86-64 AVX-512F, 512-bit.
  kAvx512,
};

struct Kernels {
  Isa isa = Isa::kScalar;
  const char* name = "scalar";
  /// Rows and columns of one igemm call (the register block).
  int mr = 1;
  int nr = 8;
  /// Any mr <= this->mr.
  IgemmFn igemm = nullptr;
  /// Exactly one row: used when a phase has a single row (a batch of one
  /// latent), where the mr-row kernel would compute mr - 1 rows for nothing.
  IgemmFn igemm_1 = nullptr;
  PlanarFn planar = nullptr;
  TanhFn tanh = nullptr;
};

/// The kernels for `isa`; kAuto or one this CPU or build lacks gives the
/// best available.
const Kernels& KernelsFor(Isa isa);
/// Whether `isa` was built in and runs on this CPU.
bool IsaAvailable(Isa isa);
/// Every available instruction set, best last.
std::vector<Isa> AvailableIsas();
const char* IsaName(Isa isa);
/// "scalar", "vec128", "avx2", "avx512" or "auto" -> Isa; false if unknown.
bool ParseIsa(const std::string& name, Isa* isa);

// Per instruction set (kernels/*.cc); nullptr when that file was not built.
const Kernels* ScalarKernels();
const Kernels* Vec128Kernels();
const Kernels* Avx2Kernels();
const Kernels* Avx512Kernels();

}  // namespace bitsweep::edge
