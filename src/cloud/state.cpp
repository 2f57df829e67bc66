#include "cloud/state.hpp"

#include "cloud/local_ca.hpp"
#include "common/file.hpp"
#include "common/time.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "pki/profiles.hpp"

namespace zt::cloud {
namespace {

Status write_aws_files(const CloudState& state) {
  std::string credentials = "[default]\naws_access_key_id = " + state.access_key_id +
                            "\naws_secret_access_key = " + state.secret_access_key + "\n";
  std::string config = "[default]\nregion = " + state.region + "\noutput = json\n";
  ZT_TRY(write_file_atomic(state.dir / "credentials", credentials, 0600));
  return write_file_atomic(state.dir / "config", config, 0600);
}

struct KeyAndCert {
  crypto::PkeyPtr key;
  crypto::X509Ptr cert;
};

// Loads <name>.key/.crt, or creates them with `make` when either is missing.
template <class Make>
Result<KeyAndCert> load_or_create(const std::filesystem::path& dir, const std::string& name,
                                  Make make) {
  auto key_path = dir / (name + ".key");
  auto cert_path = dir / (name + ".crt");
  if (std::filesystem::exists(key_path) && std::filesystem::exists(cert_path)) {
    ZT_TRY_ASSIGN(auto key, crypto::load_private_key(key_path));
    ZT_TRY_ASSIGN(auto cert, crypto::load_certificate(cert_path));
    return KeyAndCert{std::move(key), std::move(cert)};
  }
  ZT_TRY_ASSIGN(auto key, crypto::generate_p256_key());
  ZT_TRY_ASSIGN(auto cert, make(key.get()));
  ZT_TRY(crypto::save_private_key(key_path, key.get()));
  ZT_TRY_ASSIGN(std::string pem, crypto::certificate_to_pem(cert.get()));
  ZT_TRY(write_file_atomic(cert_path, pem, 0644));
  return KeyAndCert{std::move(key), std::move(cert)};
}

}  // namespace

std::string CloudState::endpoint_address() const {
  return endpoint_names().ats_name(endpoint_domain);
}

EndpointNames CloudState::endpoint_names() const {
  return EndpointNames(endpoint_prefix, region, {endpoint_domain});
}

namespace {

// The server certificate answers to every name of `names` (else a client verifying the host name
// fails): re-issued with the same key by the same CA when one is missing.
Result<crypto::X509Ptr> server_certificate_for(const std::filesystem::path& dir,
                                               crypto::X509Ptr current, EVP_PKEY* key,
                                               const std::vector<std::string>& names,
                                               const X509* ca_cert, EVP_PKEY* ca_key, int64_t now) {
  bool complete = true;
  for (const auto& name : names) {
    complete =
        complete && X509_check_host(current.get(), name.c_str(), name.size(), 0, nullptr) == 1;
  }
  if (complete) return current;
  std::vector<std::string> sans = names;
  sans.insert(sans.end(), {"127.0.0.1", "::1"});
  ZT_TRY_ASSIGN(auto cert, pki::issue_server_certificate(key, sans, ca_cert, ca_key, now));
  ZT_TRY_ASSIGN(std::string pem, crypto::certificate_to_pem(cert.get()));
  ZT_TRY(write_file_atomic(dir / "server.crt", pem, 0644));
  return cert;
}

// /etc/hosts lines for the endpoint names (tools/setup.sh --hosts shows them and asks first).
Status write_hosts_lines(const CloudState& state) {
  const EndpointNames names = state.endpoint_names();
  std::string text =
      "# zerotouch local cloud " + state.endpoint_prefix + ": add to /etc/hosts to resolve\n";
  for (const auto& domain : names.domains()) {
    text += "127.0.0.1 " + names.ats_name(domain) + " " + names.legacy_name(domain) + "\n";
  }
  return write_file_atomic(state.dir / "endpoint-hosts", text, 0644);
}

}  // namespace

Result<CloudState> open_cloud_state(const std::filesystem::path& dir, const std::string& region,
                                    const std::string& endpoint_domain) {
  bool fresh_directory = !std::filesystem::exists(dir);
  ZT_TRY(ensure_private_directory(dir));
  if (fresh_directory) {
    // Our own new directory: private (it holds keys and the access key secret).
    std::error_code ignored;
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ignored);
  }
  CloudState state;
  state.dir = dir;
  state.endpoint_domain = endpoint_domain;
  ZT_TRY_ASSIGN(state.registry, registry::Registry::open(dir / "registry.db"));
  registry::Registry& reg = *state.registry;

  // Account identity: created in one transaction, so a crash leaves either all or nothing.
  Status identity = reg.transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto account, reg.get_setting("account_id"));
    if (!account) {
      state.created = true;
      state.account_id = crypto::random_text("0123456789", 12);
      state.region = region;
      state.endpoint_prefix = crypto::random_text("abcdefghijklmnopqrstuvwxyz0123456789", 14);
      // AWS key shapes: AKIA + 16 base32 characters; 40-character secret.
      state.access_key_id = "AKIA" + crypto::random_text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
      state.secret_access_key = crypto::random_text(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
      ZT_TRY(reg.set_setting("account_id", state.account_id));
      ZT_TRY(reg.set_setting("region", state.region));
      ZT_TRY(reg.set_setting("endpoint_prefix", state.endpoint_prefix));
      ZT_TRY(reg.set_setting("access_key_id", state.access_key_id));
      return reg.add_access_key(state.access_key_id, state.secret_access_key);
    }
    state.account_id = *account;
    ZT_TRY_ASSIGN(auto stored_region, reg.get_setting("region"));
    ZT_TRY_ASSIGN(auto prefix, reg.get_setting("endpoint_prefix"));
    ZT_TRY_ASSIGN(auto key_id, reg.get_setting("access_key_id"));
    if (!stored_region || !prefix || !key_id) {
      return make_error(Errc::parse, "registry.db lacks region/endpoint_prefix/access_key_id");
    }
    state.region = *stored_region;
    state.endpoint_prefix = *prefix;
    state.access_key_id = *key_id;
    ZT_TRY_ASSIGN(auto secret, reg.find_secret(*key_id));
    if (!secret) return make_error(Errc::parse, "registry.db lacks the secret of " + *key_id);
    state.secret_access_key = *secret;
    return ok();
  });
  ZT_TRY(with_context(std::move(identity), (dir / "registry.db").string()));
  if (state.created || !std::filesystem::exists(dir / "credentials") ||
      !std::filesystem::exists(dir / "config")) {
    ZT_TRY(write_aws_files(state));
  }

  int64_t now = unix_now();
  ZT_TRY_ASSIGN(auto server_ca, load_or_create(dir, "server-ca", [&](EVP_PKEY* key) {
                  return pki::create_server_ca(key, "zerotouch local cloud CA", now);
                }));
  const std::vector<std::string> names = state.endpoint_names().host_names();
  ZT_TRY_ASSIGN(auto server, load_or_create(dir, "server", [&](EVP_PKEY* key) {
                  std::vector<std::string> sans = names;
                  sans.insert(sans.end(), {"127.0.0.1", "::1"});
                  return pki::issue_server_certificate(key, sans, server_ca.cert.get(),
                                                       server_ca.key.get(), now);
                }));
  ZT_TRY_ASSIGN(server.cert,
                server_certificate_for(dir, std::move(server.cert), server.key.get(), names,
                                       server_ca.cert.get(), server_ca.key.get(), now));
  ZT_TRY(write_hosts_lines(state));
  ZT_TRY_ASSIGN(auto issuer, load_or_create(dir, "issuer-ca", [&](EVP_PKEY* key) {
                  // The subject AWS puts in the issuer of the certificates it creates (reference
                  // §2).
                  return issue_certificate({.subject = {{"C", "US"},
                                                        {"ST", "Washington"},
                                                        {"L", "Seattle"},
                                                        {"O", "Amazon.com Inc."},
                                                        {"OU", "Amazon Web Services"}},
                                            .is_ca = true,
                                            .not_before = now - 3600,
                                            .not_after = 2524607999},
                                           key, nullptr, key);
                }));
  state.server_ca_cert = std::move(server_ca.cert);
  state.server_ca_key = std::move(server_ca.key);
  state.server_cert = std::move(server.cert);
  state.server_key = std::move(server.key);
  state.issuer_cert = std::move(issuer.cert);
  state.issuer_key = std::move(issuer.key);
  return state;
}

}  // namespace zt::cloud
