// Each job in its own process: the worker forks and execs `bitsweep
// job-child` per job and supervises it, so that a job that crashes (a
// segfault in a native library, a poisoned CUDA context), runs out of
// memory or hangs fails alone, at once, with its signal and the tail of its
// output, while the worker and its other slots carry on.
//
// Parent and child talk over two pipes and the job's attempt folder:
//   <work_dir>/attempt-N/job.json      the spec and the slot's context (parent)
//   <work_dir>/attempt-N/log.txt       the child's stdout and stderr
//   <work_dir>/attempt-N/outcome.json  the result or the task's error (child)
//   events pipe (child -> parent)      JSON lines: progress, artifact requests
//   replies pipe (parent -> child)     JSON lines: where a fetched artifact is
// The child writes outcome.json last (atomically); a child that ends without
// one crashed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "worker/task.h"

namespace bitsweep::worker {

struct JobProcessOptions {
  /// The bitsweep executable the child runs (`binary job-child ...`).
  std::string binary;
  /// After SIGTERM (cancel, lease lost, worker stopping), how long the job
  /// has to checkpoint and end before SIGKILL.
  double grace_seconds = 10.0;
  /// How often the supervisor looks at the child (exit, limits, cancel).
  int poll_ms = 50;
  /// Lines of the job's output kept in a failure's error.
  int tail_lines = 20;
};

/// A runner that runs each job in a child process under `options`, with the
/// spec's runtime.max_wall_seconds and runtime.max_memory_mb as limits and
/// CUDA_VISIBLE_DEVICES narrowed to the slot's GPU. A successful job's
/// output comes back as the artifact "log.txt".
TaskRunner RunInOwnProcess(JobProcessOptions options);

/// The child's side (`bitsweep job-child`): runs the job described in
/// `attempt_dir`/job.json with the runner of its task kind, reporting over
/// the two pipes, and writes outcome.json. Returns the process exit code.
int RunJobChild(const std::string& attempt_dir, int events_fd, int replies_fd,
                const std::map<std::string, TaskRunner>& runners);

/// What a child on `device` ("cpu", "cuda", "cuda:N") sees: the value of
/// CUDA_VISIBLE_DEVICES that shows it only the slot's GPU ("" for a CPU
/// slot: the environment stays as it is), and the device it then uses. A
/// worker whose own CUDA_VISIBLE_DEVICES (`inherited`) already narrows its
/// view indexes into that list.
struct SlotGpu {
  std::string visible_devices;
  std::string device;
};
SlotGpu NarrowToSlotGpu(const std::string& device, const char* inherited);

/// The environment of a job's process: the worker's own (`inherited`, as
/// `environ`), with CUDA_VISIBLE_DEVICES set to `visible_gpu` when that is
/// not empty, and OMP_WAIT_POLICY=PASSIVE unless the worker's environment
/// sets a policy. A job shares the cores with the worker's other slots and
/// whatever else runs on the machine; OpenMP threads (LibTorch's and
/// OpenBLAS's) that spin at every barrier while a core is taken cost more
/// than twice the wall time under such load (docs/benchmarks.md, "OpenMP's
/// wait policy"); waiting passively does not.
std::vector<std::string> ChildEnvironment(const char* const* inherited, const std::string& visible_gpu);

/// The running executable ("/proc/self/exe", which a child started with it
/// execs as the very binary the worker runs), for JobProcessOptions::binary;
/// "" where there is no /proc.
std::string CurrentExecutable();

}  // namespace bitsweep::worker
