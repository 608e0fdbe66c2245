// AVX2 + FMA kernels (compiled with -mavx2 -mfma; chosen only when the CPU
// has both). 6 x 16 block: 12 accumulators, 2 weight vectors and a
// broadcast fill 15 of the 16 ymm registers.
#include <cstring>

#include "edge/kernels/kernels.h"

#define EDGE_VEC_BYTES 32
#define EDGE_MR 6
#define EDGE_NV 2

namespace bitsweep::edge::avx2 {
#include "edge/kernels/vec_kernels.inc"
}  // namespace bitsweep::edge::avx2

namespace bitsweep::edge {

const Kernels* Avx2Kernels() {
  static const Kernels kernels = {Isa::kAvx2, "avx2", EDGE_MR, avx2::kNr, avx2::Igemm<EDGE_MR>, avx2::Igemm<1>,
                                  avx2::Planar, avx2::TanhInPlace};
  return &kernels;
}

}  // namespace bitsweep::edge
