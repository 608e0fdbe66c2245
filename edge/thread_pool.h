// A fixed set of worker threads for the layers' parallel loops. Threads are
// optional: with one thread (or in a build without threads, such as the
// WebAssembly one) everything runs on the calling thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bitsweep::edge {

class ThreadPool {
 public:
  /// `threads` counts the calling thread: 1 starts no workers.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }

  /// Runs fn(task, thread) for every task in [0, tasks), spread over the
  /// threads (thread is 0 .. threads() - 1, a stable index for per-thread
  /// scratch), and returns when all are done. Not reentrant.
  void ParallelFor(int tasks, const std::function<void(int task, int thread)>& fn);

 private:
  void WorkerLoop(int thread);
  void RunTasks(int thread);

  int threads_ = 1;
#if !defined(BITSWEEP_EDGE_NO_THREADS)
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  bool stopping_ = false;
  // Bumped for every ParallelFor: workers run each generation once.
  unsigned generation_ = 0;
  int busy_ = 0;
#endif
  const std::function<void(int, int)>* fn_ = nullptr;
  int tasks_ = 0;
  std::atomic<int> next_{0};
};

}  // namespace bitsweep::edge
