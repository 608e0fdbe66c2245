#include "dashboard/sweep_feed.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "proto/state_names.h"

namespace bitsweep::dashboard {
namespace {

// Job changes kept for browsers that are behind; beyond this they reload.
constexpr size_t kMostRecentChanges = 20000;
// How long a broken stream waits before following the sweep again (the
// coordinator restarting, say).
constexpr auto kReconnectDelay = std::chrono::seconds(1);

double Progress(const v1::Job& job) {
  if (job.state() == v1::JOB_SUCCEEDED) return 1.0;
  return job.total() > 0 ? static_cast<double>(job.step()) / static_cast<double>(job.total()) : 0.0;
}

// Orders two jobs by one column; ties fall back to the id so pages are stable.
using JobLess = bool (*)(const v1::Job*, const v1::Job*);
template <typename Key>
bool ByKey(const v1::Job* a, const v1::Job* b, Key key) {
  auto ka = key(*a), kb = key(*b);
  if (ka != kb) return ka < kb;
  return a->id() < b->id();
}

bool SortColumn(const std::string& column, JobLess* less) {
  if (column == "id") {
    *less = [](const v1::Job* a, const v1::Job* b) { return a->id() < b->id(); };
  } else if (column == "state") {
    *less = [](const v1::Job* a, const v1::Job* b) {
      return ByKey(a, b, [](const v1::Job& j) { return static_cast<int>(j.state()); });
    };
  } else if (column == "attempts") {
    *less = [](const v1::Job* a, const v1::Job* b) { return ByKey(a, b, [](const v1::Job& j) { return j.attempts(); }); };
  } else if (column == "worker") {
    *less = [](const v1::Job* a, const v1::Job* b) { return ByKey(a, b, [](const v1::Job& j) { return j.worker_id(); }); };
  } else if (column == "progress") {
    *less = [](const v1::Job* a, const v1::Job* b) { return ByKey(a, b, Progress); };
  } else if (column == "wall") {
    *less = [](const v1::Job* a, const v1::Job* b) {
      return ByKey(a, b, [](const v1::Job& j) { return j.wall_seconds(); });
    };
  } else {
    return false;
  }
  return true;
}

}  // namespace

SweepFeed::SweepFeed(int64_t sweep_id, v1::SweepService::Stub* stub, Authorizer authorize)
    : sweep_id_(sweep_id), stub_(stub), authorize_(std::move(authorize)) {
  follower_ = std::thread([this] { Follow(); });
}

SweepFeed::~SweepFeed() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (context_) context_->TryCancel();
  }
  changed_.notify_all();
  follower_.join();
}

void SweepFeed::Follow() {
  v1::WatchSweepRequest request;
  request.set_sweep_id(sweep_id_);
  while (true) {
    grpc::ClientContext* ctx;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      context_ = std::make_unique<grpc::ClientContext>();
      authorize_(context_.get());
      ctx = context_.get();
    }
    auto reader = stub_->WatchSweep(ctx, request);
    v1::SweepEvent event;
    while (reader->Read(&event)) Apply(&event);
    grpc::Status status = reader->Finish();
    std::unique_lock<std::mutex> lock(mu_);
    if (ended_ || stopping_) return;
    stream_status_ = status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "the sweep's stream ended early")
                                 : status;
    changed_.notify_all();
    // An unknown sweep or a refused token will not change by retrying.
    const auto code = status.error_code();
    if (!have_snapshot_ && (code == grpc::StatusCode::NOT_FOUND || code == grpc::StatusCode::UNAUTHENTICATED ||
                            code == grpc::StatusCode::PERMISSION_DENIED || code == grpc::StatusCode::INVALID_ARGUMENT)) {
      return;
    }
    changed_.wait_for(lock, kReconnectDelay, [this] { return stopping_; });
  }
}

void SweepFeed::Apply(v1::SweepEvent* read) {
  const v1::SweepEvent& event = *read;
  std::lock_guard<std::mutex> lock(mu_);
  ++version_;
  if (event.kind() == v1::EVENT_SNAPSHOT) {
    // A (re)connection: browsers that were following reload their page.
    jobs_.clear();
    recent_.clear();
    have_snapshot_ = true;
    stream_status_ = grpc::Status::OK;
  }
  if (event.has_sweep()) sweep_ = event.sweep();
  // Swapped in, not copied: a snapshot holds every job of the sweep.
  for (auto& job : *read->mutable_jobs()) {
    const int64_t id = job.id();
    jobs_[id].Swap(&job);
    if (event.kind() != v1::EVENT_SNAPSHOT) recent_.emplace_back(version_, id);
  }
  if (event.kind() == v1::EVENT_SNAPSHOT) replay_from_ = version_;
  // A browser that has not seen a dropped change's version cannot replay.
  while (recent_.size() > kMostRecentChanges) {
    replay_from_ = std::max(replay_from_, recent_.front().first);
    recent_.pop_front();
  }
  if (event.kind() == v1::EVENT_END) ended_ = true;
  changed_.notify_all();
}

grpc::Status SweepFeed::WaitForSnapshot(double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, std::chrono::duration<double>(seconds),
                    [this] { return have_snapshot_ || !stream_status_.ok(); });
  if (have_snapshot_) return grpc::Status::OK;
  if (!stream_status_.ok()) return stream_status_;
  return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the coordinator sent no snapshot of the sweep in time");
}

v1::Sweep SweepFeed::Sweep() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sweep_;
}

bool SweepFeed::Ended() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_;
}

bool SweepFeed::HasSnapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return have_snapshot_;
}

grpc::Status CheckJobPageRequest(const JobPageRequest& request) {
  const bool descending = !request.sort.empty() && request.sort[0] == '-';
  const std::string column = descending ? request.sort.substr(1) : request.sort;
  JobLess less = nullptr;
  if (!SortColumn(column.empty() ? "id" : column, &less)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "sort: \"" + request.sort + "\" is not one of id, state, attempts, worker, progress, wall");
  }
  if (!request.state.empty() && request.state != "QUEUED" && request.state != "RUNNING" &&
      request.state != "SUCCEEDED" && request.state != "FAILED" && request.state != "CANCELLED") {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "state: \"" + request.state + "\" is not one of QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED");
  }
  if (request.offset < 0 || request.limit < 1 || request.limit > 1000) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "offset must be >= 0 and limit within 1..1000");
  }
  return grpc::Status::OK;
}

// A sweep's jobs get ids in the order of its points, so id order is the
// order ListJobs returns them in.
bool InSweepOrder(const JobPageRequest& request) {
  return request.state.empty() && (request.sort.empty() || request.sort == "id");
}

grpc::Status SweepFeed::Page(const JobPageRequest& request, JobPage* page) const {
  if (grpc::Status invalid = CheckJobPageRequest(request); !invalid.ok()) return invalid;
  const bool descending = !request.sort.empty() && request.sort[0] == '-';
  const std::string column = descending ? request.sort.substr(1) : request.sort;
  JobLess less = nullptr;
  SortColumn(column.empty() ? "id" : column, &less);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const v1::Job*> rows;
  rows.reserve(jobs_.size());
  for (const auto& [id, job] : jobs_) {
    if (request.state.empty() || request.state == JobStateName(job.state())) rows.push_back(&job);
  }
  if (column != "id" && !column.empty()) std::stable_sort(rows.begin(), rows.end(), less);
  if (descending) std::reverse(rows.begin(), rows.end());
  page->matching = static_cast<int64_t>(rows.size());
  page->version = version_;
  page->jobs.clear();
  for (int64_t i = request.offset; i < page->matching && i < request.offset + request.limit; ++i) {
    page->jobs.push_back(*rows[static_cast<size_t>(i)]);
  }
  return grpc::Status::OK;
}

FeedChanges SweepFeed::WaitForChanges(uint64_t since, double seconds) const {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, std::chrono::duration<double>(seconds),
                    [&] { return version_ > since || ended_ || stopping_; });
  FeedChanges changes;
  changes.version = version_;
  changes.ended = ended_;
  changes.sweep = sweep_;
  if (version_ <= since) return changes;
  if (since < replay_from_) {
    changes.reload = true;
    return changes;
  }
  std::set<int64_t> ids;
  for (auto it = recent_.rbegin(); it != recent_.rend() && it->first > since; ++it) ids.insert(it->second);
  for (int64_t id : ids) changes.jobs.push_back(jobs_.at(id));
  return changes;
}

FeedRegistry::FeedRegistry(v1::SweepService::Stub* stub, Authorizer authorize, size_t max_finished)
    : stub_(stub), authorize_(std::move(authorize)), max_finished_(max_finished) {}

std::shared_ptr<SweepFeed> FeedRegistry::FindReady(int64_t sweep_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = feeds_.find(sweep_id);
  if (it == feeds_.end() || !it->second.first->HasSnapshot()) return nullptr;
  it->second.second = ++clock_;
  return it->second.first;
}

void FeedRegistry::Follow(int64_t sweep_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& entry = feeds_[sweep_id];
  if (!entry.first) entry.first = std::make_shared<SweepFeed>(sweep_id, stub_, authorize_);
  entry.second = ++clock_;
}

grpc::Status FeedRegistry::Get(int64_t sweep_id, std::shared_ptr<SweepFeed>* feed) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& entry = feeds_[sweep_id];
    if (!entry.first) entry.first = std::make_shared<SweepFeed>(sweep_id, stub_, authorize_);
    entry.second = ++clock_;
    *feed = entry.first;
  }
  grpc::Status status = (*feed)->WaitForSnapshot(30.0);
  std::lock_guard<std::mutex> lock(mu_);
  if (!status.ok()) {
    auto it = feeds_.find(sweep_id);
    if (it != feeds_.end() && it->second.first == *feed) feeds_.erase(it);
    return status;
  }
  // Drop the least recently used finished feeds past the limit; a running
  // sweep's feed stays while the dashboard runs (it is one stream).
  while (true) {
    size_t finished = 0;
    auto oldest = feeds_.end();
    for (auto it = feeds_.begin(); it != feeds_.end(); ++it) {
      if (!it->second.first->Ended()) continue;
      ++finished;
      if (oldest == feeds_.end() || it->second.second < oldest->second.second) oldest = it;
    }
    if (finished <= max_finished_ || oldest == feeds_.end()) break;
    feeds_.erase(oldest);  // browsers still holding it keep their copy
  }
  return grpc::Status::OK;
}

}  // namespace bitsweep::dashboard
