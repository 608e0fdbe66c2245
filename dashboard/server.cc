#include "dashboard/server.h"

#include <cstdlib>

#include <httplib.h>

#include "dashboard/routes.h"

namespace bitsweep::dashboard {
namespace {

// Threads serving requests; each open event stream holds one.
constexpr size_t kServerThreads = 64;

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

Result<ListenAddress> ParseListenAddress(const std::string& listen, bool allow_remote) {
  ListenAddress address;
  std::string port_text;
  if (!listen.empty() && listen[0] == '[') {
    const size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return Status::InvalidArgument("--listen: \"" + listen + "\" is not [IPv6]:PORT");
    }
    address.host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return Status::InvalidArgument("--listen: \"" + listen + "\" is not HOST:PORT (e.g. 127.0.0.1:8080)");
    }
    address.host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return Status::InvalidArgument("--listen: port \"" + port_text + "\" is not a number within 0..65535");
  }
  address.port = static_cast<int>(port);
  if (!allow_remote && !IsLoopback(address.host)) {
    return Status::InvalidArgument("--listen: " + address.host +
                                   " is not a loopback address, and the dashboard shows everything the coordinator "
                                   "holds to whoever connects; pass --allow-remote to serve it there anyway");
  }
  return address;
}

DashboardServer::DashboardServer(std::shared_ptr<grpc::Channel> channel, Authorizer authorize)
    : channel_(std::move(channel)),
      stub_(v1::SweepService::NewStub(channel_)),
      authorize_(std::move(authorize)),
      feeds_(std::make_unique<FeedRegistry>(stub_.get(), authorize_)) {}

DashboardServer::~DashboardServer() { Stop(); }

Status DashboardServer::Start(const ListenAddress& address) {
  http_ = std::make_unique<httplib::Server>();
  routes_ = std::make_unique<Routes>(stub_.get(), authorize_, feeds_.get());
  routes_->AddTo(http_.get());
  http_->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  // Every response: no framing by other sites, no guessing of types, and
  // scripts only from the dashboard itself (what the page shows is data).
  http_->set_default_headers({{"X-Content-Type-Options", "nosniff"},
                              {"X-Frame-Options", "DENY"},
                              {"Content-Security-Policy",
                               "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"}});
  host_ = address.host;
  if (address.port == 0) {
    port_ = http_->bind_to_any_port(address.host);
  } else {
    port_ = http_->bind_to_port(address.host, address.port) ? address.port : -1;
  }
  if (port_ <= 0) {
    return Status::Unavailable("cannot listen on " + address.host + ":" + std::to_string(address.port) +
                               " (in use, or not an address of this host)");
  }
  serving_ = std::thread([this] { http_->listen_after_bind(); });
  return Status::Ok();
}

std::string DashboardServer::Url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_) + "/";
}

void DashboardServer::Stop() {
  if (routes_) routes_->Stop();
  if (http_) http_->stop();
  if (serving_.joinable()) serving_.join();
}

}  // namespace bitsweep::dashboard
