#include "coordinator/store_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/host.h"

namespace bitsweep::coordinator {
namespace {

std::string ReadAll(int fd) {
  std::string content;
  char buffer[512];
  ssize_t n = 0;
  while ((n = pread(fd, buffer, sizeof buffer, static_cast<off_t>(content.size()))) > 0) {
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > 4096) break;
  }
  return content;
}

// "pid 123 on host h since 2026-... UTC" from the lock file's JSON.
std::string DescribeHolder(const std::string& content) {
  auto holder = nlohmann::json::parse(content, nullptr, false);
  if (holder.is_discarded() || !holder.is_object()) return "another process (it has not written its name yet)";
  std::string text = holder.value("command", std::string("bitsweep"));
  text += " (pid " + std::to_string(holder.value("pid", int64_t{0})) + " on host " +
          holder.value("host", std::string("?")) + ", since " + FormatUtc(holder.value("since_ms", int64_t{0})) + ")";
  return text;
}

}  // namespace

std::string StoreLock::LockPath(const std::string& store_path) { return store_path + ".lock"; }

Result<std::unique_ptr<StoreLock>> StoreLock::Acquire(const std::string& store_path) {
  const std::string path = LockPath(store_path);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(path + ": cannot open the store's lock file: " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    std::string holder = ReadAll(fd);
    close(fd);
    if (error == EWOULDBLOCK) {
      return Status::FailedPrecondition(store_path + ": the results store is in use by " + DescribeHolder(holder) +
                                        "; one coordinator at a time may own a store (stop that one, or use "
                                        "another --db)");
    }
    return Status::IoError(path + ": cannot lock the store: " + std::strerror(error));
  }
  const nlohmann::json holder = {
      {"command", "a bitsweep coordinator"}, {"host", HostName()}, {"pid", static_cast<int64_t>(getpid())},
      {"since_ms", UnixNowMs()}};
  const std::string text = holder.dump() + "\n";
  // Who holds it is information for the refused, not part of the lock:
  // a failed write here does not matter.
  if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, text.data(), text.size(), 0);
  return std::unique_ptr<StoreLock>(new StoreLock(fd));
}

StoreLock::~StoreLock() { close(fd_); }

}  // namespace bitsweep::coordinator
