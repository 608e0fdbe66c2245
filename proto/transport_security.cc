#include "proto/transport_security.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include <grpcpp/security/server_credentials.h>

namespace bitsweep {

Result<std::string> ReadSecretFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(what + ": cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  std::string contents = text.str();
  while (!contents.empty() && std::isspace(static_cast<unsigned char>(contents.back()))) contents.pop_back();
  if (contents.empty()) return Status::InvalidArgument(what + ": " + path + " is empty");
  return contents;
}

Result<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const ClientTlsFiles& files) {
  if (files.ca.empty()) {
    if (!files.cert.empty() || !files.key.empty()) {
      return Status::InvalidArgument("--tls-cert/--tls-key need --tls-ca (the CA that signed the coordinator)");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (files.cert.empty() != files.key.empty()) {
    return Status::InvalidArgument("--tls-cert and --tls-key go together");
  }
  grpc::SslCredentialsOptions options;
  BITSWEEP_ASSIGN_OR_RETURN(options.pem_root_certs, ReadSecretFile(files.ca, "--tls-ca"));
  if (!files.cert.empty()) {
    BITSWEEP_ASSIGN_OR_RETURN(options.pem_cert_chain, ReadSecretFile(files.cert, "--tls-cert"));
    BITSWEEP_ASSIGN_OR_RETURN(options.pem_private_key, ReadSecretFile(files.key, "--tls-key"));
  }
  return grpc::SslCredentials(options);
}

Result<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const ServerTlsFiles& files) {
  if (files.cert.empty() && files.key.empty()) {
    if (!files.client_ca.empty()) return Status::InvalidArgument("--tls-client-ca needs --tls-cert and --tls-key");
    return grpc::InsecureServerCredentials();
  }
  if (files.cert.empty() || files.key.empty()) return Status::InvalidArgument("--tls-cert and --tls-key go together");
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  BITSWEEP_ASSIGN_OR_RETURN(pair.cert_chain, ReadSecretFile(files.cert, "--tls-cert"));
  BITSWEEP_ASSIGN_OR_RETURN(pair.private_key, ReadSecretFile(files.key, "--tls-key"));
  // Users connect without certificates; workers present one. So a
  // certificate is requested and verified when sent, and the worker service
  // itself refuses unauthenticated peers (coordinator/access_control.h).
  grpc::SslServerCredentialsOptions options(files.client_ca.empty()
                                                ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                                : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!files.client_ca.empty()) {
    BITSWEEP_ASSIGN_OR_RETURN(options.pem_root_certs, ReadSecretFile(files.client_ca, "--tls-client-ca"));
  }
  options.pem_key_cert_pairs.push_back(std::move(pair));
  return grpc::SslServerCredentials(options);
}

}  // namespace bitsweep
