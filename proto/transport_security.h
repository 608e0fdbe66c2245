// TLS for every connection: the coordinator's server credentials (with
// client-certificate checking for mutual TLS), the credentials workers and
// users connect with, and the shared user token. Plain text when nothing is
// configured, so a laptop sweep needs no certificates.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "common/status.h"

namespace bitsweep {

/// PEM files a client (worker or user command) connects with.
struct ClientTlsFiles {
  /// CA that signed the coordinator's certificate. Setting it turns TLS on.
  std::string ca;
  /// This client's own certificate and key (mutual TLS; workers).
  std::string cert;
  std::string key;
};

/// PEM files the coordinator serves with.
struct ServerTlsFiles {
  /// The coordinator's certificate and key. Setting them turns TLS on.
  std::string cert;
  std::string key;
  /// CA that signs worker certificates. When set, clients that present a
  /// certificate must present one it signed, and the worker service refuses
  /// clients that present none (users may still connect without one).
  std::string client_ca;
};

/// Insecure credentials when `files.ca` is empty; an error naming the file or
/// the flag when a file cannot be read or a certificate comes without its key.
Result<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const ClientTlsFiles& files);

/// Insecure credentials when no certificate is set.
Result<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const ServerTlsFiles& files);

/// The contents of a PEM or token file ("what" names it in errors, e.g.
/// "--tls-cert"). Trailing whitespace is dropped.
Result<std::string> ReadSecretFile(const std::string& path, const std::string& what);

}  // namespace bitsweep
