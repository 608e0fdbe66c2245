#include "cli/sweep_watch.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "cli/progress_line.h"
#include "proto/grpc_status.h"

namespace bitsweep::cli {
namespace {

std::string Bar(double fraction, int width) {
  int filled = static_cast<int>(fraction * width + 0.5);
  filled = std::max(0, std::min(width, filled));
  return "[" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '.') + "]";
}

// Draws the sweep in place on a terminal: a header and one bar per running job.
class Display {
 public:
  explicit Display(bool quiet) : tty_(isatty(STDERR_FILENO) != 0), quiet_(quiet) {}

  void Update(const v1::SweepEvent& event) {
    sweep_ = event.sweep();
    for (const auto& job : event.jobs()) {
      auto it = jobs_.find(job.id());
      const bool state_changed = it == jobs_.end() || it->second.state() != job.state();
      jobs_[job.id()] = job;
      if (!tty_ && !quiet_ && state_changed && event.kind() != v1::EVENT_SNAPSHOT) LogLine(job);
    }
    if (tty_ && !quiet_) Redraw();
  }

  void Finish() {
    if (tty_ && !quiet_) Redraw();
  }

 private:
  void LogLine(const v1::Job& job) {
    std::string line = "job " + std::to_string(job.id()) + " " + JobStateText(job.state()) + " (" +
                       DescribeParams(job.params_json()) + ", attempt " + std::to_string(job.attempts()) + ")";
    if (job.state() == v1::JOB_FAILED || (job.state() == v1::JOB_QUEUED && !job.last_error().empty())) {
      line += ": " + job.last_error();
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }

  void Redraw() {
    std::string out;
    if (lines_drawn_ > 0) out += "\033[" + std::to_string(lines_drawn_) + "A\033[J";
    int lines = 0;
    double done = 0.0;
    for (const auto& [id, job] : jobs_) {
      if (job.state() == v1::JOB_SUCCEEDED || job.state() == v1::JOB_FAILED || job.state() == v1::JOB_CANCELLED) {
        done += 1.0;
      } else if (job.state() == v1::JOB_RUNNING && job.total() > 0) {
        done += static_cast<double>(job.step()) / static_cast<double>(job.total());
      }
    }
    const double total = std::max(1, sweep_.jobs_total());
    const double fraction = done / total;
    const double elapsed =
        std::max(0.0, static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count() -
                                          sweep_.created_unix_ms()) /
                          1000.0);
    std::string eta = fraction > 0.0 && fraction < 1.0 ? "  ETA " + FormatDuration(elapsed * (1 - fraction) / fraction) : "";
    out += SweepSummary(sweep_) + "\n";
    out += "  " + Bar(fraction, 40) + " " + std::to_string(static_cast<int>(fraction * 100)) + "%  elapsed " +
           FormatDuration(elapsed) + eta + "\n";
    lines += 2;
    for (const auto& [id, job] : jobs_) {
      if (job.state() != v1::JOB_RUNNING) continue;
      const double f = job.total() > 0 ? static_cast<double>(job.step()) / static_cast<double>(job.total()) : 0.0;
      out += "  job " + std::to_string(id) + " " + Bar(f, 20) + " " + std::to_string(job.step()) + "/" +
             std::to_string(job.total()) + "  " + DescribeParams(job.params_json()) + " on " + job.worker_id() + "\n";
      ++lines;
    }
    std::fputs(out.c_str(), stderr);
    std::fflush(stderr);
    lines_drawn_ = lines;
  }

  const bool tty_;
  const bool quiet_;
  int lines_drawn_ = 0;
  v1::Sweep sweep_;
  std::map<int64_t, v1::Job> jobs_;
};

}  // namespace

std::string DescribeParams(const std::string& params_json) {
  auto params = nlohmann::json::parse(params_json, nullptr, false);
  if (params.is_discarded() || !params.is_object()) return params_json;
  std::string s;
  for (const auto& [path, value] : params.items()) {
    std::string key = path;
    for (const char* prefix : {"quant.", "train.", "model.", "dataset."}) {
      if (key.rfind(prefix, 0) == 0) key = key.substr(std::string(prefix).size());
    }
    s += (s.empty() ? "" : " ") + key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return s;
}

Result<v1::Sweep> FollowSweep(v1::SweepService::Stub* stub, int64_t sweep_id, const std::atomic<bool>* stop,
                              bool quiet) {
  grpc::ClientContext ctx;  // no deadline: a watch lasts as long as the sweep
  Authorize(&ctx);
  v1::WatchSweepRequest request;
  request.set_sweep_id(sweep_id);
  auto reader = stub->WatchSweep(&ctx, request);
  std::atomic<bool> finished{false};
  std::thread canceller([&] {
    while (!finished) {
      if (stop != nullptr && stop->load()) {
        ctx.TryCancel();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  Display display(quiet);
  v1::SweepEvent event;
  v1::Sweep last;
  bool seen_any = false;
  while (reader->Read(&event)) {
    last = event.sweep();
    seen_any = true;
    if (event.kind() == v1::EVENT_END) break;
    display.Update(event);
  }
  display.Finish();
  grpc::Status status = reader->Finish();
  finished = true;
  canceller.join();
  if (stop != nullptr && stop->load()) return Status::Cancelled("interrupted");
  if (!status.ok()) return FromGrpcStatus(status, "WatchSweep");
  if (!seen_any) return Status::Unavailable("the watch ended before any event");
  return last;
}

}  // namespace bitsweep::cli
