#include "common/allocator_tuning.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace bitsweep {

void TuneAllocatorForLargeTensors() {
#if defined(__GLIBC__)
  static const bool tuned = [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);  // 1 GiB: larger blocks still get their own mapping
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)tuned;
#endif
}

}  // namespace bitsweep
