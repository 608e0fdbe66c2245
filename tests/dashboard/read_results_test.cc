// Reading result rows from a coordinator that predates StreamResults: a
// real gRPC server over loopback that implements QueryResults only (gRPC
// answers UNIMPLEMENTED for the rest), and one that implements both.
#include "proto/read_results.h"

#include <memory>

#include <google/protobuf/arena.h>
#include <gtest/gtest.h>

namespace bitsweep {
namespace {

v1::QueryResultsResponse Rows(int n) {
  v1::QueryResultsResponse rows;
  for (int i = 1; i <= n; ++i) {
    auto* row = rows.add_rows();
    row->set_job_id(i);
    row->set_sweep("s");
    row->set_params_json("{\"i\":" + std::to_string(i) + "}");
  }
  return rows;
}

class OldCoordinator : public v1::SweepService::Service {
 public:
  grpc::Status QueryResults(grpc::ServerContext*, const v1::QueryResultsRequest* request,
                            v1::QueryResultsResponse* response) override {
    *response = Rows(5);
    response->mutable_rows(0)->set_sweep_id(request->sweep_id());
    return grpc::Status::OK;
  }
};

class NewCoordinator : public OldCoordinator {
 public:
  grpc::Status StreamResults(grpc::ServerContext*, const v1::QueryResultsRequest*,
                             grpc::ServerWriter<v1::QueryResultsResponse>* writer) override {
    const auto all = Rows(5);
    for (int begin = 0; begin < all.rows_size(); begin += 2) {
      v1::QueryResultsResponse chunk;
      for (int i = begin; i < begin + 2 && i < all.rows_size(); ++i) *chunk.add_rows() = all.rows(i);
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }
};

std::vector<int64_t> JobIds(const v1::QueryResultsResponse& rows) {
  std::vector<int64_t> ids;
  for (const auto& row : rows.rows()) ids.push_back(row.job_id());
  return ids;
}

template <typename Service>
void ReadFrom(v1::QueryResultsResponse* rows, grpc::Status* status) {
  Service service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = v1::SweepService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  *status = ReadResultRows(stub.get(), 7, [] { return std::make_unique<grpc::ClientContext>(); }, rows);
  server->Shutdown();
}

TEST(ReadResultRowsTest, FallsBackToQueryResultsOnACoordinatorWithoutStreamResults) {
  v1::QueryResultsResponse rows;
  grpc::Status status;
  ReadFrom<OldCoordinator>(&rows, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(JobIds(rows), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(rows.rows(0).sweep_id(), 7) << "the request reached the coordinator";
}

TEST(ReadResultRowsTest, JoinsTheChunksInOrderOnTheHeapAndOnAnArena) {
  v1::QueryResultsResponse rows;
  grpc::Status status;
  ReadFrom<NewCoordinator>(&rows, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(JobIds(rows), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(rows.SerializeAsString(), Rows(5).SerializeAsString());

  google::protobuf::Arena arena;
  auto* on_arena = google::protobuf::Arena::CreateMessage<v1::QueryResultsResponse>(&arena);
  ReadFrom<NewCoordinator>(on_arena, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(on_arena->SerializeAsString(), Rows(5).SerializeAsString());
}

}  // namespace
}  // namespace bitsweep
