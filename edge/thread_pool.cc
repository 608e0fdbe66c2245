#include "edge/thread_pool.h"

namespace bitsweep::edge {

#if defined(BITSWEEP_EDGE_NO_THREADS)

ThreadPool::ThreadPool(int) : threads_(1) {}
ThreadPool::~ThreadPool() = default;

void ThreadPool::ParallelFor(int tasks, const std::function<void(int, int)>& fn) {
  for (int t = 0; t < tasks; ++t) fn(t, 0);
}

#else

ThreadPool::ThreadPool(int threads) : threads_(threads < 1 ? 1 : threads) {
  for (int t = 1; t < threads_; ++t) workers_.emplace_back([this, t] { WorkerLoop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::RunTasks(int thread) {
  // Tasks are handed out one at a time: they differ in cost (edge rows,
  // partial column blocks), and there are few of them.
  for (int task = next_.fetch_add(1); task < tasks_; task = next_.fetch_add(1)) (*fn_)(task, thread);
}

void ThreadPool::WorkerLoop(int thread) {
  unsigned seen = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    RunTasks(thread);
    std::lock_guard<std::mutex> lock(mu_);
    if (--busy_ == 0) done_.notify_one();
  }
}

void ThreadPool::ParallelFor(int tasks, const std::function<void(int, int)>& fn) {
  if (workers_.empty() || tasks <= 1) {
    for (int t = 0; t < tasks; ++t) fn(t, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    tasks_ = tasks;
    next_ = 0;
    busy_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  RunTasks(0);
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return busy_ == 0; });
}

#endif

}  // namespace bitsweep::edge
