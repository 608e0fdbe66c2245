#include "coordinator/result_rows.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

namespace bitsweep::coordinator {

void ResultToProto(ResultRecord& r, v1::ResultRow* out) {
  out->set_sweep(std::move(r.sweep));
  out->set_sweep_id(r.sweep_id);
  out->set_job_id(r.job_id);
  out->set_state(std::move(r.state));
  out->set_method_g(std::move(r.method_g));
  out->set_bits_g(r.bits_g);
  out->set_method_d(std::move(r.method_d));
  out->set_bits_d(r.bits_d);
  out->set_loss(std::move(r.loss));
  out->set_dataset(std::move(r.dataset));
  out->set_seed(r.seed);
  out->set_has_fid(r.has_fid);
  out->set_fid(r.fid);
  out->set_has_is(r.has_is);
  out->set_is(r.is);
  out->set_has_kid(r.has_kid);
  out->set_kid(r.kid);
  out->set_model_bytes(r.model_bytes);
  out->set_wall_seconds(r.wall_seconds);
  out->set_params_json(std::move(r.params_json));
  if (r.fid_se) out->set_fid_se(*r.fid_se);
  if (r.is_se) out->set_is_se(*r.is_se);
  if (r.kid_se) out->set_kid_se(*r.kid_se);
  out->set_protocol(std::move(r.protocol));
  out->set_widths_g(std::move(r.widths_g));
  if (r.mean_bits_g) out->set_mean_bits_g(*r.mean_bits_g);
  out->set_widths_d(std::move(r.widths_d));
  if (r.mean_bits_d) out->set_mean_bits_d(*r.mean_bits_d);
}

Status StreamResultRows(Store* store, int64_t sweep_id, int chunk_rows,
                        const std::function<bool(const v1::QueryResultsResponse&)>& write) {
  std::mutex mu;
  std::condition_variable ready;
  std::deque<std::unique_ptr<v1::QueryResultsResponse>> chunks;
  bool read_all = false;
  Status read;
  std::thread reader([&] {
    auto chunk = std::make_unique<v1::QueryResultsResponse>();
    auto hand_over = [&] {
      {
        std::lock_guard<std::mutex> lock(mu);
        chunks.push_back(std::move(chunk));
      }
      ready.notify_one();
      chunk = std::make_unique<v1::QueryResultsResponse>();
    };
    Status status = store->VisitResults(sweep_id, [&](ResultRecord& row) {
      ResultToProto(row, chunk->add_rows());
      if (chunk->rows_size() >= chunk_rows) hand_over();
    });
    if (status.ok() && chunk->rows_size() > 0) hand_over();
    {
      std::lock_guard<std::mutex> lock(mu);
      read = status;
      read_all = true;
    }
    ready.notify_one();
  });
  bool client_reading = true;
  while (true) {
    std::unique_ptr<v1::QueryResultsResponse> next;
    bool failed;
    {
      std::unique_lock<std::mutex> lock(mu);
      ready.wait(lock, [&] { return !chunks.empty() || read_all; });
      if (chunks.empty()) break;
      next = std::move(chunks.front());
      chunks.pop_front();
      // A failed read sends nothing more: the client sees the error, not a
      // shorter table.
      failed = read_all && !read.ok();
    }
    if (client_reading && !failed) client_reading = write(*next);
  }
  reader.join();
  return read;
}

}  // namespace bitsweep::coordinator
