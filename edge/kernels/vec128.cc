// 128-bit vector kernels: SSE2 on x86-64 (every x86-64 CPU has it), NEON on
// ARM, SIMD128 in WebAssembly when built with -msimd128.
#include <cstring>

#include "edge/kernels/kernels.h"

#define EDGE_VEC_BYTES 16
#define EDGE_MR 4
#define EDGE_NV 2

namespace bitsweep::edge::vec128 {
#include "edge/kernels/vec_kernels.inc"
}  // namespace bitsweep::edge::vec128

namespace bitsweep::edge {

const Kernels* Vec128Kernels() {
  static const Kernels kernels = {Isa::kVec128, "vec128", EDGE_MR, vec128::kNr, vec128::Igemm<EDGE_MR>,
                                  vec128::Igemm<1>, vec128::Planar, vec128::TanhInPlace};
  return &kernels;
}

}  // namespace bitsweep::edge
