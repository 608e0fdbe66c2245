#include "common/service_memory.h"

#include <malloc.h>

namespace bitsweep {

void UseServiceMemorySettings() {
  // Setting either value turns glibc's dynamic adjustment of both off.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace bitsweep
