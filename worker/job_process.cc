#include "worker/job_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace bitsweep::worker {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The file descriptors the child finds its pipes on.
constexpr int kChildEventsFd = 3;
constexpr int kChildRepliesFd = 4;
// A successful job's log comes back whole up to this size, else its end.
constexpr size_t kMaxLogArtifactBytes = size_t{1} << 20;

Status StatusFromCode(int code, const std::string& message) {
  switch (static_cast<StatusCode>(code)) {
    case StatusCode::kInvalidArgument: return Status::InvalidArgument(message);
    case StatusCode::kNotFound: return Status::NotFound(message);
    case StatusCode::kAlreadyExists: return Status::AlreadyExists(message);
    case StatusCode::kFailedPrecondition: return Status::FailedPrecondition(message);
    case StatusCode::kCancelled: return Status::Cancelled(message);
    case StatusCode::kIoError: return Status::IoError(message);
    case StatusCode::kCorruption: return Status::Corruption(message);
    case StatusCode::kUnavailable: return Status::Unavailable(message);
    case StatusCode::kResourceExhausted: return Status::ResourceExhausted(message);
    case StatusCode::kDeadlineExceeded: return Status::DeadlineExceeded(message);
    case StatusCode::kUnauthenticated: return Status::Unauthenticated(message);
    case StatusCode::kPermissionDenied: return Status::PermissionDenied(message);
    case StatusCode::kDataLoss: return Status::DataLoss(message);
    default: return Status::Internal(message);
  }
}

std::string ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Status WriteWholeFile(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!(out << content) || !out.flush()) return Status::IoError(tmp.string() + ": cannot write");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::IoError(path.string() + ": cannot rename: " + ec.message());
  return Status::Ok();
}

// Writes all of `line` and a newline to `fd`; false when the reader is gone.
bool WriteLine(int fd, const std::string& line) {
  const std::string data = line + "\n";
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads one line from `fd` (blocking); false at end of file.
bool ReadLine(int fd, std::string* line) {
  line->clear();
  char c = 0;
  while (true) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    line->push_back(c);
  }
}

// The last `lines` lines of a log, at most 4 KB of them.
std::string Tail(const std::string& log, int lines) {
  size_t begin = log.size();
  int seen = 0;
  while (begin > 0 && log.size() - begin < 4096) {
    if (log[begin - 1] == '\n' && begin != log.size() && ++seen >= lines) break;
    --begin;
  }
  std::string tail = log.substr(begin);
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  return tail;
}

std::string SignalName(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  const char* text = strsignal(signal);
  return std::string("SIG") + (abbrev != nullptr ? abbrev : "?") + ", " + (text != nullptr ? text : "unknown");
}

// Resident memory of a process in MiB (0 when it cannot be read).
int64_t ResidentMiB(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE)) / (1024 * 1024);
}

// Serves the child's event pipe: progress goes to the slot, artifact
// requests are fetched and answered. Runs until the child closes the pipe.
void ServeEvents(int events_fd, int replies_fd, const fs::path& dir, const TaskContext& context) {
  std::string line;
  while (ReadLine(events_fd, &line)) {
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (!event.is_object()) continue;
    if (event.contains("progress")) {
      const auto& p = event["progress"];
      TaskProgress progress;
      progress.step = p.value("step", int64_t{0});
      progress.total = p.value("total", int64_t{0});
      progress.images_per_second = p.value("images_per_second", 0.0);
      for (const auto& m : p.value("metrics", nlohmann::json::array())) progress.metrics.push_back(MetricValue::FromJson(m));
      if (context.on_progress) context.on_progress(progress);
    } else if (event.contains("fetch")) {
      const int64_t job = event["fetch"].value("job", int64_t{0});
      const std::string name = event["fetch"].value("name", "");
      nlohmann::json reply;
      if (!context.fetch_artifact) {
        reply = {{"code", static_cast<int>(StatusCode::kFailedPrecondition)},
                 {"message", "no coordinator to fetch artifacts from"}};
      } else if (auto content = context.fetch_artifact(job, name); !content.ok()) {
        reply = {{"code", static_cast<int>(content.status().code())}, {"message", content.status().message()}};
      } else {
        const fs::path file = dir / ("fetched-" + std::to_string(job) + "-" + fs::path(name).filename().string());
        Status written = WriteWholeFile(file, content.value());
        reply = written.ok() ? nlohmann::json{{"path", file.string()}}
                             : nlohmann::json{{"code", static_cast<int>(written.code())}, {"message", written.message()}};
      }
      if (!WriteLine(replies_fd, reply.dump())) return;
    }
  }
}

// Reads what the child left in outcome.json.
Result<TaskOutcome> ReadOutcome(const fs::path& dir) {
  auto json = nlohmann::json::parse(ReadWholeFile(dir / "outcome.json"), nullptr, false);
  if (!json.is_object()) return Status::Internal("job process left no readable outcome.json");
  if (json.contains("error")) {
    return StatusFromCode(json["error"].value("code", static_cast<int>(StatusCode::kInternal)),
                          json["error"].value("message", ""));
  }
  TaskOutcome outcome;
  outcome.result_json = json.value("result_json", "");
  outcome.wall_seconds = json.value("wall_seconds", 0.0);
  outcome.model_bytes = json.value("model_bytes", int64_t{0});
  for (const auto& m : json.value("metrics", nlohmann::json::array())) outcome.metrics.push_back(MetricValue::FromJson(m));
  for (const auto& a : json.value("artifacts", nlohmann::json::array())) {
    const fs::path file = dir / a.value("file", "");
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return Status::Internal("job process lost its artifact " + file.string());
    outcome.artifacts.push_back({a.value("name", ""), ReadWholeFile(file)});
  }
  return outcome;
}

Result<TaskOutcome> RunJobProcess(const JobProcessOptions& options, const JobSpec& spec, const TaskContext& context) {
  const fs::path work = context.work_dir.empty() ? fs::temp_directory_path() / ("bitsweep-job-" + std::to_string(context.job_id))
                                                 : fs::path(context.work_dir);
  const fs::path dir = work / ("attempt-" + std::to_string(context.attempt));
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError(dir.string() + ": cannot create the job's folder: " + ec.message());

  const SlotGpu gpu = NarrowToSlotGpu(context.device, std::getenv("CUDA_VISIBLE_DEVICES"));
  const std::string& visible_gpu = gpu.visible_devices;
  const std::string& child_device = gpu.device;
  nlohmann::json job = {{"spec", spec.ToJson()},       {"job_id", context.job_id},   {"attempt", context.attempt},
                        {"work_dir", work.string()},   {"device", child_device},     {"threads", context.threads},
                        {"cache_dir", context.cache_dir}};
  BITSWEEP_RETURN_IF_ERROR(WriteWholeFile(dir / "job.json", job.dump()));

  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls (this process has many threads).
  const std::string log_path = (dir / "log.txt").string();
  std::vector<std::string> args = {options.binary, "job-child", "--dir", dir.string(),
                                   "--events-fd", std::to_string(kChildEventsFd),
                                   "--replies-fd", std::to_string(kChildRepliesFd)};
  std::vector<std::string> env = ChildEnvironment(environ, visible_gpu);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int events[2], replies[2];
  if (::pipe2(events, O_CLOEXEC) != 0) return Status::Internal("pipe: " + std::string(std::strerror(errno)));
  if (::pipe2(replies, O_CLOEXEC) != 0) {
    ::close(events[0]);
    ::close(events[1]);
    return Status::Internal("pipe: " + std::string(std::strerror(errno)));
  }
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t parent = ::getpid();
  const pid_t pid = log_fd < 0 ? -1 : ::fork();
  if (pid == 0) {
    // The child: its output to the log, its pipes to fds 3 and 4 (dup2
    // clears close-on-exec), and it dies with the worker.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    // Through spare numbers first, in case a pipe already sits on 3 or 4.
    const int ev = ::fcntl(events[1], F_DUPFD_CLOEXEC, 10), rep = ::fcntl(replies[0], F_DUPFD_CLOEXEC, 10);
    ::dup2(ev, kChildEventsFd);
    ::dup2(rep, kChildRepliesFd);
    ::execve(argv[0], argv.data(), envp.data());
    static const char kExecFailed[] = "job process: cannot execute the bitsweep binary\n";
    (void)!::write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
    ::_exit(127);
  }
  ::close(events[1]);
  ::close(replies[0]);
  if (log_fd >= 0) ::close(log_fd);
  if (pid < 0) {
    ::close(events[0]);
    ::close(replies[1]);
    return Status::Internal(log_fd < 0 ? log_path + ": cannot create" : "fork: " + std::string(std::strerror(errno)));
  }

  std::thread events_thread([&] { ServeEvents(events[0], replies[1], dir, context); });

  // Supervise: exit, cancel (SIGTERM, then SIGKILL after the grace period),
  // wall-time and memory limits (SIGKILL).
  const auto start = Clock::now();
  std::optional<Clock::time_point> terminated_at;
  std::string limit_error;
  int wait_status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &wait_status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) break;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (limit_error.empty() && spec.runtime.max_wall_seconds > 0.0 && elapsed > spec.runtime.max_wall_seconds) {
      limit_error = "exceeded its wall-time limit (runtime.max_wall_seconds " +
                    nlohmann::json(spec.runtime.max_wall_seconds).dump() + ")";
      ::kill(pid, SIGKILL);
    }
    if (limit_error.empty() && spec.runtime.max_memory_mb > 0) {
      const int64_t resident = ResidentMiB(pid);
      if (resident > spec.runtime.max_memory_mb) {
        limit_error = "exceeded its memory limit: " + std::to_string(resident) + " MiB resident > " +
                      "runtime.max_memory_mb " + std::to_string(spec.runtime.max_memory_mb);
        ::kill(pid, SIGKILL);
      }
    }
    if (context.cancel != nullptr && context.cancel->load()) {
      if (!terminated_at) {
        ::kill(pid, SIGTERM);
        terminated_at = Clock::now();
      } else if (std::chrono::duration<double>(Clock::now() - *terminated_at).count() > options.grace_seconds) {
        ::kill(pid, SIGKILL);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(options.poll_ms));
  }
  // The child is gone; its pipe's end closes with it.
  events_thread.join();
  ::close(events[0]);
  ::close(replies[1]);

  const std::string log = ReadWholeFile(log_path);
  auto with_tail = [&](const std::string& what) {
    const std::string tail = Tail(log, options.tail_lines);
    return "job process " + what + (tail.empty() ? " (no output)" : "; last lines of its output:\n" + tail);
  };
  if (!limit_error.empty()) return Status::ResourceExhausted(with_tail(limit_error));
  std::error_code exists_ec;
  if (fs::exists(dir / "outcome.json", exists_ec)) {
    auto outcome = ReadOutcome(dir);
    if (outcome.ok()) {
      // The log of a job that succeeded comes back with its result.
      outcome->artifacts.push_back(
          {"log.txt", log.size() > kMaxLogArtifactBytes ? log.substr(log.size() - kMaxLogArtifactBytes) : log});
      return outcome;
    }
    return outcome.status();
  }
  if (WIFSIGNALED(wait_status)) {
    const int signal = WTERMSIG(wait_status);
    if (terminated_at) return Status::Cancelled(with_tail("stopped by " + SignalName(signal) + " when cancelled"));
    return Status::Internal(with_tail("killed by signal " + std::to_string(signal) + " (" + SignalName(signal) + ")"));
  }
  return Status::Internal(with_tail("exited with code " + std::to_string(WEXITSTATUS(wait_status)) +
                                    " without a result"));
}

// ---- the child

std::atomic<bool> g_child_cancel{false};

void OnTerminate(int) { g_child_cancel = true; }

}  // namespace

std::vector<std::string> ChildEnvironment(const char* const* inherited, const std::string& visible_gpu) {
  std::vector<std::string> env;
  bool wait_policy_set = false;
  for (const char* const* e = inherited; e != nullptr && *e != nullptr; ++e) {
    if (!visible_gpu.empty() && std::strncmp(*e, "CUDA_VISIBLE_DEVICES=", 21) == 0) continue;
    wait_policy_set = wait_policy_set || std::strncmp(*e, "OMP_WAIT_POLICY=", 16) == 0;
    env.emplace_back(*e);
  }
  if (!visible_gpu.empty()) env.push_back("CUDA_VISIBLE_DEVICES=" + visible_gpu);
  if (!wait_policy_set) env.push_back("OMP_WAIT_POLICY=PASSIVE");
  return env;
}

SlotGpu NarrowToSlotGpu(const std::string& device, const char* inherited) {
  if (device.rfind("cuda", 0) != 0) return {"", device};
  const int index = device.size() > 5 ? std::stoi(device.substr(5)) : 0;
  std::string physical = std::to_string(index);
  if (inherited != nullptr && *inherited != '\0') {
    std::vector<std::string> ids;
    std::stringstream in(inherited);
    for (std::string id; std::getline(in, id, ',');) ids.push_back(id);
    if (index < static_cast<int>(ids.size())) physical = ids[static_cast<size_t>(index)];
  }
  return {physical, "cuda:0"};
}

TaskRunner RunInOwnProcess(JobProcessOptions options) {
  return [options](const JobSpec& spec, const TaskContext& context) { return RunJobProcess(options, spec, context); };
}

int RunJobChild(const std::string& attempt_dir, int events_fd, int replies_fd,
                const std::map<std::string, TaskRunner>& runners) {
  // SIGTERM (cancel) and SIGINT (Ctrl-C in a terminal that also reaches the
  // worker) ask the task to checkpoint and stop, as in the worker itself.
  struct sigaction action {};
  action.sa_handler = OnTerminate;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  // A parent that is gone must not kill the child with SIGPIPE mid-write.
  ::signal(SIGPIPE, SIG_IGN);

  const fs::path dir(attempt_dir);
  auto write_outcome = [&](const Result<TaskOutcome>& outcome) {
    nlohmann::json json;
    if (!outcome.ok()) {
      json["error"] = {{"code", static_cast<int>(outcome.status().code())}, {"message", outcome.status().message()}};
    } else {
      json["result_json"] = outcome->result_json;
      json["wall_seconds"] = outcome->wall_seconds;
      json["model_bytes"] = outcome->model_bytes;
      json["metrics"] = nlohmann::json::array();
      for (const auto& m : outcome->metrics) json["metrics"].push_back(m.ToJson());
      json["artifacts"] = nlohmann::json::array();
      for (size_t i = 0; i < outcome->artifacts.size(); ++i) {
        const std::string file = "artifact-" + std::to_string(i);
        Status s = WriteWholeFile(dir / file, outcome->artifacts[i].content);
        if (!s.ok()) {
          json = {{"error", {{"code", static_cast<int>(s.code())}, {"message", s.message()}}}};
          break;
        }
        json["artifacts"].push_back({{"name", outcome->artifacts[i].name}, {"file", file}});
      }
    }
    Status s = WriteWholeFile(dir / "outcome.json", json.dump());
    if (!s.ok()) std::fprintf(stderr, "job process: %s\n", s.ToString().c_str());
    return s.ok() ? 0 : 1;
  };

  auto job = nlohmann::json::parse(ReadWholeFile(dir / "job.json"), nullptr, false);
  if (!job.is_object() || !job.contains("spec")) {
    return write_outcome(Status::Internal(attempt_dir + "/job.json: missing or not a job"));
  }
  auto spec = JobSpec::FromJson(job["spec"]);
  if (!spec.ok()) return write_outcome(spec.status().WithContext("job spec"));
  auto runner = runners.find(spec->task);
  if (runner == runners.end()) {
    return write_outcome(Status::FailedPrecondition("this worker cannot run task \"" + spec->task + "\""));
  }

  std::mutex pipe_mu;
  TaskContext context;
  context.job_id = job.value("job_id", int64_t{0});
  context.attempt = job.value("attempt", 1);
  context.work_dir = job.value("work_dir", "");
  context.device = job.value("device", "");
  context.threads = job.value("threads", 0);
  context.cache_dir = job.value("cache_dir", "");
  context.cancel = &g_child_cancel;
  std::fprintf(stderr, "job %lld attempt %d: task %s on %s, %d thread(s)\n", static_cast<long long>(context.job_id),
               context.attempt, spec->task.c_str(), context.device.empty() ? "the spec's device" : context.device.c_str(),
               context.threads);
  int64_t logged_tenth = -1;
  context.on_progress = [&](const TaskProgress& p) {
    nlohmann::json metrics = nlohmann::json::array();
    for (const auto& m : p.metrics) metrics.push_back(m.ToJson());
    // The log gets a line per tenth of the job and per measurement.
    const int64_t tenth = p.total > 0 ? p.step * 10 / p.total : 0;
    if (tenth != logged_tenth || !p.metrics.empty()) {
      logged_tenth = tenth;
      std::string line = "step " + std::to_string(p.step) + "/" + std::to_string(p.total);
      if (p.images_per_second > 0) line += ", " + std::to_string(static_cast<int64_t>(p.images_per_second)) + " img/s";
      for (const auto& m : p.metrics) line += ", " + m.metric + " " + std::to_string(m.value);
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::lock_guard<std::mutex> lock(pipe_mu);
    WriteLine(events_fd, nlohmann::json{{"progress",
                                         {{"step", p.step},
                                          {"total", p.total},
                                          {"images_per_second", p.images_per_second},
                                          {"metrics", metrics}}}}
                             .dump());
  };
  context.fetch_artifact = [&](int64_t job_id, const std::string& name) -> Result<std::string> {
    std::lock_guard<std::mutex> lock(pipe_mu);
    std::string line;
    if (!WriteLine(events_fd, nlohmann::json{{"fetch", {{"job", job_id}, {"name", name}}}}.dump()) ||
        !ReadLine(replies_fd, &line)) {
      return Status::Unavailable("the worker stopped answering");
    }
    auto reply = nlohmann::json::parse(line, nullptr, false);
    if (!reply.is_object()) return Status::Internal("unreadable reply from the worker: " + line);
    if (!reply.contains("path")) {
      return StatusFromCode(reply.value("code", static_cast<int>(StatusCode::kInternal)), reply.value("message", ""));
    }
    const fs::path file = reply["path"].get<std::string>();
    std::string content = ReadWholeFile(file);
    std::error_code ec;
    fs::remove(file, ec);
    return content;
  };
  auto outcome = runner->second(spec.value(), context);
  if (outcome.ok()) {
    std::fprintf(stderr, "succeeded in %.1f s\n", outcome->wall_seconds);
  } else {
    std::fprintf(stderr, "failed: %s\n", outcome.status().ToString().c_str());
  }
  std::fflush(stderr);
  return write_outcome(outcome);
}

std::string CurrentExecutable() {
  // The running binary itself, even after its file was replaced (an
  // upgrade while jobs run): every job runs the worker's own version.
  std::error_code ec;
  return fs::exists("/proc/self/exe", ec) ? "/proc/self/exe" : std::string();
}

}  // namespace bitsweep::worker
