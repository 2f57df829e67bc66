// The local cloud's state directory. First start creates: registry.db (account id, region,
// endpoint prefix, access key pair), `credentials` + `config` (aws configure format, 0600, profile
// "default"), the server CA + endpoint certificate, and the issuer of cloud-made device
// certificates. Later starts reuse all of it and re-create only files that went missing.
//
// Layout of D:
//   registry.db            SQLite registry (0600: holds the secret access key)
//   credentials, config    for AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE
//   server-ca.key/.crt     trust anchor for the cloud's TLS endpoints
//   server.key/.crt        endpoint certificate: the iot:Data-ATS and iot:Data names of each
//                          endpoint domain (endpoint_names.hpp), localhost, 127.0.0.1, ::1;
//                          re-issued (same key, same CA) when a new --endpoint-domain needs names
//                          it lacks
//   endpoint-hosts         /etc/hosts lines for those names (tools/setup.sh --hosts reads it)
//   issuer-ca.key/.crt     signs CreateKeysAndCertificate / CreateCertificateFromCsr certificates
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "cloud/endpoint_names.hpp"
#include "cloud/registry/registry.hpp"
#include "crypto/ossl.hpp"

namespace zt::cloud {

struct CloudState {
  std::filesystem::path dir;
  std::unique_ptr<registry::Registry> registry;
  bool created = false;  // first start: the caller prints the new access key pair
  std::string account_id;
  std::string region;
  std::string endpoint_prefix;
  std::string endpoint_domain{kLocalDomain};  // this run's (not stored): DescribeEndpoint's domain
  std::string access_key_id;
  std::string secret_access_key;
  crypto::X509Ptr server_ca_cert;
  crypto::PkeyPtr server_ca_key;  // signs domain configurations' server certificates
  crypto::X509Ptr server_cert;
  crypto::PkeyPtr server_key;
  crypto::X509Ptr issuer_cert;
  crypto::PkeyPtr issuer_key;

  std::string endpoint_address() const;  // <prefix>-ats.iot.<region>.<endpoint_domain>
  EndpointNames endpoint_names() const;
};

// `region` is used only when the state is created. `endpoint_domain` (validated by the caller)
// adds its names to those the endpoint answers to.
Result<CloudState> open_cloud_state(const std::filesystem::path& dir, const std::string& region,
                                    const std::string& endpoint_domain = std::string(kLocalDomain));

}  // namespace zt::cloud
