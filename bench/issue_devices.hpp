// Device certificates issued in-process by a signer (pki::DeviceCertificateIssuer), each with a
// fresh P-256 key, as TLS clients sending device + signer: for bench/jitr and bench/provisioning.
#pragma once

#include "common/hex.hpp"
#include "common/time.hpp"
#include "connect_samples.hpp"
#include "crypto/key.hpp"
#include "crypto/tls_library_context.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "pki/ca_directory.hpp"
#include "pki/device_issuer.hpp"

namespace zt::bench {

// A root and a signer made by `ztp ca` in <dir>/pki, the signer loaded as an in-process issuer.
struct BenchSigner {
  pki::SignerCa ca;
  pki::DeviceCertificateIssuer issuer;
};
inline BenchSigner make_signer(const fs::path& ztp, const fs::path& dir) {
  fs::create_directories(dir / "pki");
  for (const char* step : {"create-root", "create-signer-csr", "create-signer"})
    run_or_die(
        fmt::format("{} ca {} --dir {} >/dev/null", ztp.string(), step, (dir / "pki").string()));
  auto signer = pki::load_signer_ca(dir / "pki");
  if (!signer) die(signer.error().message);
  auto issuer = pki::DeviceCertificateIssuer::create(signer->certificate.get(), signer->key.get());
  if (!issuer) die(issuer.error().message);
  return {std::move(*signer), std::move(*issuer)};
}

struct Issued {
  std::vector<Device> devices;
  std::vector<std::string> pems;  // the device certificates (registration without a CA)
};

// `count` devices: client id = hex SKI, chain = certificate + `signer_pem`, SNI `server_name`.
inline Issued issue_devices(const pki::DeviceCertificateIssuer& issuer,
                            const std::string& signer_pem, const fs::path& server_ca, size_t count,
                            const std::string& server_name = {}) {
  auto subject = crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  if (!subject) die(subject.error().message);
  Issued out;
  for (size_t i = 0; i < count; ++i) {
    auto key = crypto::generate_p256_key();
    if (!key) die(key.error().message);
    auto csr = crypto::build_csr({.subject = subject->get(), .extensions = {}}, key->get());
    if (!csr) die(csr.error().message);
    auto certificate = issuer.issue(csr->get(), unix_now());
    if (!certificate) die(certificate.error().message);
    auto ski = crypto::subject_key_identifier(certificate->get());
    auto pem = crypto::certificate_to_pem(certificate->get());
    if (!ski || !pem) die("device certificate output");
    std::string chain = *pem + signer_pem;
    // In crypto::tls_library_context(), as the broker's contexts: OpenSSL 3.0 decodes the
    // server's certificates at each connect, at a third of the cost there. The load generator
    // shares the two cores with the server under test; the same contexts connect to Mosquitto.
    // The key is the EVP_PKEY made above (that context decodes certificates only).
    SSL_CTX* native = SSL_CTX_new_ex(crypto::tls_library_context(), nullptr, TLS_client_method());
    if (native == nullptr) die("SSL_CTX_new_ex failed");
    auto tls = std::make_unique<asio::ssl::context>(native);
    tls->load_verify_file(server_ca.string());
    tls->use_certificate_chain(asio::buffer(chain));
    if (SSL_CTX_use_PrivateKey(native, key->get()) != 1) die("the device key does not load");
    tls->set_verify_mode(asio::ssl::verify_peer);
    out.devices.push_back({to_hex(*ski), std::move(tls), server_name});
    out.pems.push_back(*pem);
  }
  return out;
}

}  // namespace zt::bench
