// StoreLock: the operating-system lock that makes one process the only
// writer of a results store on one host.
//
// The lock is an flock() on a file beside the store ("<store>.lock"), held
// for as long as the coordinator runs. The kernel drops it when the process
// dies, however it dies, so a SIGKILLed coordinator leaves no stale lock and
// the next one starts at once. The file says who holds it (host, pid, since
// when) so that a refused coordinator can name the holder.
//
// flock() is reliable on local file systems only. For a store on a shared
// volume the store's owner row (an epoch checked in every write, see Store)
// is what keeps a second coordinator from writing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace bitsweep::coordinator {

class StoreLock {
 public:
  /// Takes the lock of the store at `store_path`, or fails with
  /// FAILED_PRECONDITION naming the process that holds it.
  static Result<std::unique_ptr<StoreLock>> Acquire(const std::string& store_path);
  /// Releases the lock (the file stays: removing it would race with the
  /// next process taking it).
  ~StoreLock();

  /// "<store_path>.lock".
  static std::string LockPath(const std::string& store_path);

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace bitsweep::coordinator
