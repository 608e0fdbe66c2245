#include "coordinator/reader_pool.h"

#include <utility>

namespace bitsweep::coordinator {

ReaderPool::ReaderPool(const std::string& path, int size, int busy_timeout_ms) {
  for (int i = 0; i < size; ++i) {
    idle_.push_back(std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY, busy_timeout_ms));
  }
}

ReaderPool::Lease::~Lease() {
  if (db_) pool_->Release(std::move(db_));
}

ReaderPool::Lease ReaderPool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  released_.wait(lock, [this] { return !idle_.empty(); });
  auto db = std::move(idle_.back());
  idle_.pop_back();
  return Lease(this, std::move(db));
}

void ReaderPool::Release(std::unique_ptr<SQLite::Database> db) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(db));
  }
  released_.notify_one();
}

}  // namespace bitsweep::coordinator
