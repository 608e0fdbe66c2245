#include "proto/read_results.h"

#include <vector>

namespace bitsweep {
namespace {

// Moves every row of `from` to the end of `to`.
void MoveRows(v1::QueryResultsResponse* from, v1::QueryResultsResponse* to) {
  auto* source = from->mutable_rows();
  auto* target = to->mutable_rows();
  std::vector<v1::ResultRow*> taken(static_cast<size_t>(source->size()));
  target->Reserve(target->size() + source->size());
  if (from->GetArena() != nullptr && from->GetArena() == to->GetArena()) {
    source->UnsafeArenaExtractSubrange(0, source->size(), taken.data());
    for (auto* row : taken) target->UnsafeArenaAddAllocated(row);
  } else {
    source->ExtractSubrange(0, source->size(), taken.data());
    for (auto* row : taken) target->AddAllocated(row);
  }
}

}  // namespace

grpc::Status ReadResultRows(v1::SweepService::StubInterface* stub, int64_t sweep_id,
                            const std::function<std::unique_ptr<grpc::ClientContext>()>& make_context,
                            v1::QueryResultsResponse* rows) {
  v1::QueryResultsRequest request;
  request.set_sweep_id(sweep_id);
  rows->Clear();
  google::protobuf::Arena* arena = rows->GetArena();
  std::unique_ptr<v1::QueryResultsResponse> owned;
  v1::QueryResultsResponse* chunk;
  if (arena != nullptr) {
    chunk = google::protobuf::Arena::CreateMessage<v1::QueryResultsResponse>(arena);
  } else {
    owned = std::make_unique<v1::QueryResultsResponse>();
    chunk = owned.get();
  }
  auto context = make_context();
  auto reader = stub->StreamResults(context.get(), request);
  while (reader->Read(chunk)) MoveRows(chunk, rows);
  grpc::Status status = reader->Finish();
  if (status.error_code() != grpc::StatusCode::UNIMPLEMENTED) return status;
  rows->Clear();  // a coordinator from before StreamResults
  return stub->QueryResults(make_context().get(), request, rows);
}

}  // namespace bitsweep
