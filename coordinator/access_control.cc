#include "coordinator/access_control.h"

#include <grpcpp/security/auth_context.h>

namespace bitsweep::coordinator {
namespace {

// Compares in time independent of where the first difference is, so that a
// caller cannot find the token byte by byte from response times. (Its length
// is no secret.)
bool SameSecret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

Status AccessControl::CheckToken(const grpc::ServerContextBase& context, const char* who) const {
  if (options_.token.empty()) return Status::Ok();
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return Status::Unauthenticated(std::string("this coordinator needs the shared token from ") + who +
                                   ": pass --token-file or set BITSWEEP_TOKEN_FILE");
  }
  const std::string sent(it->second.data(), it->second.size());
  if (!SameSecret(sent, "Bearer " + options_.token)) return Status::Unauthenticated("wrong token");
  return Status::Ok();
}

Status AccessControl::CheckUser(const grpc::ServerContextBase& context) const { return CheckToken(context, "users"); }

Status AccessControl::CheckWorker(const grpc::ServerContextBase& context) const {
  if (!options_.require_worker_certificate) return CheckToken(context, "workers");
  auto auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return Status::Unauthenticated(
        "workers need a client certificate signed by the coordinator's --tls-client-ca (--tls-cert, --tls-key)");
  }
  return Status::Ok();
}

}  // namespace bitsweep::coordinator
