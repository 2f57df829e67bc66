#include "kit/pc_tools.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/file.hpp"
#include "common/hex.hpp"
#include "common/time.hpp"
#include "crypto/aead.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "kit/metadata.hpp"
#include "kit/provisioning_handler.hpp"
#include "pki/ca_directory.hpp"
#include "pki/device_issuer.hpp"

namespace zt::kit {
namespace fs = std::filesystem;

WifiCredentials::~WifiCredentials() { secure_zero(password.data(), password.size()); }

Result<json> read_kit_info(const fs::path& dir) {
  fs::path path = dir / kKitInfoFile;
  if (!fs::exists(path)) return json::object();
  ZT_TRY_ASSIGN(std::string text, read_text_file(path, 1 << 20));
  auto info = json::parse(text, nullptr, false);
  if (info.is_discarded() || !info.is_object()) {
    return make_error(Errc::parse, path.string() + " is not a JSON object");
  }
  return info;
}

namespace {

Status write_kit_info(const fs::path& dir, const json& info) {
  return write_file_atomic(dir / kKitInfoFile, info.dump(4) + "\n", 0600);
}

Result<Bytes> load_or_create_wifi_key(const fs::path& dir, bool create) {
  fs::path path = dir / kWifiKeyFile;
  if (fs::exists(path)) {
    ZT_TRY_ASSIGN(Bytes key, read_file(path, 64));
    if (key.size() != crypto::kAeadKeySize) {
      return make_error(Errc::parse, path.string() + " must hold 32 bytes");
    }
    return key;
  }
  if (!create) return make_error(Errc::not_found, path.string() + " is missing");
  Bytes key = crypto::random_bytes(crypto::kAeadKeySize);
  ZT_TRY(write_file_atomic(path, ByteView(key), 0600));
  return key;
}

}  // namespace

Status set_wifi(const fs::path& dir, const std::string& ssid, const std::string& password) {
  if (ssid.empty() || ssid.size() > kMaxSsidSize) {
    return make_error(Errc::invalid_argument, "--ssid must be 1 to 32 bytes");
  }
  // WPA2-PSK passphrases are 8..63 characters, or 64 hex digits (IEEE 802.11i).
  if (password.size() < 8 || password.size() > kMaxWifiPasswordSize) {
    return make_error(Errc::invalid_argument,
                      "--password must be 8 to 64 characters (a WPA2 personal passphrase)");
  }
  ZT_TRY(ensure_directory(dir));
  ZT_TRY_ASSIGN(json info, read_kit_info(dir));
  ZT_TRY_ASSIGN(Bytes key, load_or_create_wifi_key(dir, true));
  auto sealed = crypto::aes_256_gcm_seal(key, as_bytes(password), as_bytes(ssid));
  secure_zero(key.data(), key.size());
  ZT_TRY(sealed);
  info["wifi_ssid"] = ssid;
  info.erase("wifi_password");  // a clear password left by the seed's script
  info["wifi_password_encrypted"] = {{"algorithm", "AES-256-GCM"},
                                     {"key_file", kWifiKeyFile},
                                     {"nonce", base64_encode(sealed->nonce)},
                                     {"ciphertext", base64_encode(sealed->ciphertext)}};
  return write_kit_info(dir, info);
}

Result<WifiCredentials> load_wifi(const fs::path& dir) {
  ZT_TRY_ASSIGN(json info, read_kit_info(dir));
  if (!info.contains("wifi_ssid") || !info["wifi_ssid"].is_string() ||
      !info.contains("wifi_password_encrypted") || !info["wifi_password_encrypted"].is_object()) {
    return make_error(
        Errc::not_found,
        "Wi-Fi credentials not found in kit-info.json — run `ztp kit set-wifi` first");
  }
  WifiCredentials wifi;
  wifi.ssid = info["wifi_ssid"].get<std::string>();
  const json& sealed_json = info["wifi_password_encrypted"];
  crypto::Sealed sealed;
  if (!sealed_json.contains("nonce") || !sealed_json["nonce"].is_string() ||
      !sealed_json.contains("ciphertext") || !sealed_json["ciphertext"].is_string()) {
    return make_error(Errc::parse,
                      "kit-info.json: wifi_password_encrypted needs nonce and ciphertext");
  }
  ZT_TRY_ASSIGN(sealed.nonce, with_context(base64_decode(sealed_json["nonce"].get<std::string>()),
                                           "kit-info.json wifi_password_encrypted.nonce"));
  ZT_TRY_ASSIGN(sealed.ciphertext,
                with_context(base64_decode(sealed_json["ciphertext"].get<std::string>()),
                             "kit-info.json wifi_password_encrypted.ciphertext"));
  ZT_TRY_ASSIGN(Bytes key, with_context(load_or_create_wifi_key(dir, false),
                                        "the Wi-Fi password key — run `ztp kit set-wifi` again"));
  auto password = crypto::aes_256_gcm_open(key, sealed, as_bytes(wifi.ssid));
  secure_zero(key.data(), key.size());
  if (!password) {
    return make_error(password.error().code,
                      "decrypting the Wi-Fi password in kit-info.json (does kit-wifi.key belong "
                      "to it?): " +
                          password.error().message);
  }
  wifi.password.assign(password->begin(), password->end());
  secure_zero(password->data(), password->size());
  return wifi;
}

Result<ProvisionReport> provision(KitClient& kit, const fs::path& dir, int64_t now) {
  if (now == 0) now = unix_now();
  ProvisionReport report;
  auto say = [&report](std::string line) { report.lines.push_back(std::move(line)); };

  say("Initializing kit");
  ZT_TRY_ASSIGN(json identity, kit.call("init", {{"version", std::string(kProtocolVersion)}}));
  if (!identity.is_object() || !identity.contains("deviceSn") ||
      !identity["deviceSn"].is_string() || !identity.contains("devicePublicKey") ||
      !identity["devicePublicKey"].is_string()) {
    return make_error(Errc::parse, "init: the kit's reply lacks deviceSn/devicePublicKey");
  }
  report.device_sn = identity["deviceSn"].get<std::string>();
  ZT_TRY_ASSIGN(Bytes device_public_key,
                with_context(from_hex(identity["devicePublicKey"].get<std::string>()),
                             "init: devicePublicKey"));
  say("    ATECC508A SN: " + report.device_sn);
  say("    ATECC508A Public Key: " + to_hex_upper(device_public_key));

  say("Loading root CA certificate");
  ZT_TRY_ASSIGN(auto root_cert,
                with_context(crypto::load_certificate(dir / pki::kRootCertFile),
                             "root CA certificate — run `ztp ca create-root` first"));
  ZT_TRY_ASSIGN(auto root_key, crypto::certificate_public_key(root_cert.get()));
  ZT_TRY_ASSIGN(auto root_raw, crypto::public_key_raw(root_key.get()));
  say("Loading signer CA key and certificate");
  ZT_TRY_ASSIGN(pki::SignerCa signer, with_context(pki::load_signer_ca(dir),
                                                   "signer CA — run `ztp ca create-signer` first"));

  ZT_TRY_ASSIGN(json info, read_kit_info(dir));
  if (!info.contains("endpointAddress") || !info["endpointAddress"].is_string() ||
      info["endpointAddress"].get<std::string>().empty()) {
    return make_error(Errc::not_found,
                      "endpointAddress not found in kit-info.json — run `ztp ca register` first");
  }
  std::string endpoint = info["endpointAddress"].get<std::string>();
  if (endpoint.size() > kMaxHostnameSize) {
    return make_error(Errc::invalid_argument, "endpointAddress is longer than 128 bytes");
  }
  ZT_TRY_ASSIGN(WifiCredentials wifi, load_wifi(dir));

  say("Requesting device CSR");
  ZT_TRY_ASSIGN(json csr_reply, kit.call("genCsr"));
  if (!csr_reply.is_object() || !csr_reply.contains("csr") || !csr_reply["csr"].is_string()) {
    return make_error(Errc::parse, "genCsr: the kit's reply lacks csr");
  }
  ZT_TRY_ASSIGN(Bytes csr_der,
                with_context(from_hex(csr_reply["csr"].get<std::string>()), "genCsr: csr"));
  ZT_TRY_ASSIGN(auto csr, crypto::csr_from_der(csr_der, "device CSR"));
  ZT_TRY(with_context(crypto::verify_csr_signature(csr.get(), "device CSR"),
                      "the kit's CSR signature is invalid"));
  ZT_TRY_ASSIGN(auto csr_key, crypto::csr_public_key(csr.get()));
  ZT_TRY_ASSIGN(auto csr_raw, crypto::public_key_raw(csr_key.get()));
  if (!std::equal(csr_raw.begin(), csr_raw.end(), device_public_key.begin(),
                  device_public_key.end())) {
    return make_error(Errc::crypto, "the kit's CSR is not for the public key init reported");
  }

  say("Generating device certificate from CSR");
  ZT_TRY_ASSIGN(auto issuer,
                pki::DeviceCertificateIssuer::create(signer.certificate.get(), signer.key.get()));
  ZT_TRY_ASSIGN(auto device_cert, issuer.issue(csr.get(), now));
  ZT_TRY_ASSIGN(Bytes device_der, crypto::certificate_to_der(device_cert.get()));
  ZT_TRY_ASSIGN(Bytes signer_der, crypto::certificate_to_der(signer.certificate.get()));
  ZT_TRY_ASSIGN(Bytes ski, crypto::subject_key_identifier(device_cert.get()));
  report.thing_name = to_hex(ski);
  ZT_TRY_ASSIGN(std::string csr_pem, crypto::csr_to_pem(csr.get()));
  ZT_TRY_ASSIGN(std::string cert_pem, crypto::certificate_to_pem(device_cert.get()));
  ZT_TRY(write_file_atomic(dir / pki::kDeviceCsrFile, csr_pem, 0644));
  say("    Saved to " + (dir / pki::kDeviceCsrFile).string());
  ZT_TRY(write_file_atomic(dir / pki::kDeviceCertFile, cert_pem, 0644));
  say("    Saved to " + (dir / pki::kDeviceCertFile).string());

  say("Provisioning device with AWS IoT credentials");
  ZT_TRY(kit.call("saveCredentials", {{"hostName", endpoint},
                                      {"deviceCert", to_hex_upper(device_der)},
                                      {"signerCert", to_hex_upper(signer_der)},
                                      {"signerCaPublicKey", to_hex_upper(root_raw)}}));
  say("Sending Wi-Fi credentials for SSID " + wifi.ssid);
  ZT_TRY(kit.call("setWifi", {{"ssid", wifi.ssid}, {"psk", wifi.password}}));

  info["device_sn"] = report.device_sn;
  info["thing_name"] = report.thing_name;
  ZT_TRY(write_kit_info(dir, info));
  say("    Thing name (client id): " + report.thing_name);
  say("Done.");
  return report;
}

}  // namespace zt::kit
