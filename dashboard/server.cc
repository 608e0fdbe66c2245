#include "dashboard/server.h"

#include <malloc.h>
#include <sys/socket.h>

#include <chrono>
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
  // 'wasm-unsafe-eval' lets the page compile WebAssembly (the edge runtime
  // it serves itself, edge.wasm); JavaScript's eval stays forbidden.
  http_->set_default_headers({{"X-Content-Type-Options", "nosniff"},
                              {"X-Frame-Options", "DENY"},
                              {"Content-Security-Policy",
                               "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; frame-ancestors 'none'"}});
  // Debian's cpp-httplib compresses with Brotli at its slowest setting,
  // which is slower than sending the bytes (a 3 MB CSV took seconds of CPU).
  // Taking "br" out of what the browser accepts makes it use gzip instead.
  http_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    auto& headers = const_cast<httplib::Request&>(req).headers;  // httplib's own, not const
    auto it = headers.find("Accept-Encoding");
    if (it != headers.end()) {
      if (it->second.find("gzip") != std::string::npos) {
        it->second = "gzip";
      } else {
        headers.erase(it);
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // httplib's default shares the port with any other process that asks
  // (SO_REUSEPORT), so a second dashboard would silently take half the
  // requests; only reuse after a restart (SO_REUSEADDR) is wanted.
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
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
  trimming_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(trim_mu_);
    while (!trim_stop_.wait_for(lock, std::chrono::seconds(5), [this] { return stopping_; })) {
      if (routes_->TakeTrimWanted()) malloc_trim(0);
    }
  });
  return Status::Ok();
}

std::string DashboardServer::Url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_) + "/";
}

void DashboardServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(trim_mu_);
    stopping_ = true;
  }
  trim_stop_.notify_all();
  if (trimming_.joinable()) trimming_.join();
  if (routes_) routes_->Stop();
  if (http_) http_->stop();
  if (serving_.joinable()) serving_.join();
}

}  // namespace bitsweep::dashboard
