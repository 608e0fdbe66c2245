// Memory settings for the long-running service processes (the coordinator
// and the dashboard), which handle a few very large, short-lived buffers: a
// submitted spec of a million grid points, its parsed axes, a results set of
// 100,000 rows. glibc raises its mmap threshold to the largest block freed
// (up to 32 MiB), after which such buffers come from the heap, where a few
// live blocks between them keep the pages from going back to the system.
#pragma once

namespace bitsweep {

/// Blocks of 1 MiB and more are mapped on their own (and unmapped when
/// freed), whatever was freed before; the heap is not shrunk on every free
/// (the services trim it themselves after large work). Not for processes
/// that train: LibTorch's CPU tensors would be mapped and faulted in anew
/// every step.
void UseServiceMemorySettings();

}  // namespace bitsweep
