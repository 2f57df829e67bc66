#include "kit/pc_tools.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <optional>

#include "common/file.hpp"
#include "common/hex.hpp"
#include "common/time.hpp"
#include "crypto/aead.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/p256_csr.hpp"
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
                      "the Wi-Fi password must be 8 to 64 characters (a WPA2 personal passphrase)");
  }
  ZT_TRY(ensure_directory(dir, 0700));
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

namespace {

// Microchip's kit_set_wifi.py stores {"wifi_ssid": S, "wifi_password": P} in clear, P null when run
// without --password. Read as it is: the user's file is never rewritten here.
Result<WifiCredentials> load_clear_wifi(const json& info) {
  WifiCredentials wifi;
  wifi.ssid = info["wifi_ssid"].get<std::string>();
  const json& password = info["wifi_password"];
  if (password.is_null()) {
    // The seed's guide: "You will not be able to connect to an access point that has open access
    // or enterprise security."
    return make_error(Errc::unsupported,
                      fmt::format("kit-info.json has no Wi-Fi password for SSID {} (wifi_password "
                                  "is null, as kit_set_wifi.py stores it without --password). You "
                                  "will not be able to connect to an access point that has open "
                                  "access or enterprise security: give the WPA2 personal "
                                  "passphrase with `ztp kit set-wifi --ssid {} --password …`",
                                  wifi.ssid, wifi.ssid));
  }
  if (!password.is_string()) {
    return make_error(Errc::parse, "kit-info.json: wifi_password must be a string");
  }
  wifi.password = password.get<std::string>();
  wifi.stored_in_clear = true;
  return wifi;
}

}  // namespace

std::string clear_password_note(const std::string& ssid) {
  return fmt::format(
      "NOTE: kit-info.json stores the Wi-Fi password in clear (wifi_password, as kit_set_wifi.py "
      "writes it); it was used as it is and the file left unchanged. To keep it encrypted "
      "instead, run `ztp kit set-wifi --ssid {} --password …`: the password is then sealed with "
      "the key in {} and wifi_password is removed.",
      ssid, kWifiKeyFile);
}

Result<WifiCredentials> load_wifi(const fs::path& dir) {
  ZT_TRY_ASSIGN(json info, read_kit_info(dir));
  const bool has_ssid = info.contains("wifi_ssid") && info["wifi_ssid"].is_string();
  const bool has_sealed =
      info.contains("wifi_password_encrypted") && info["wifi_password_encrypted"].is_object();
  if (has_ssid && !has_sealed && info.contains("wifi_password")) return load_clear_wifi(info);
  if (!has_ssid || !has_sealed) {
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

struct Provisioner::State {
  fs::path dir;
  crypto::PublicKeyRaw root_public_key{};
  Bytes signer_der;
  std::optional<pki::DeviceCertificateIssuer> issuer;
  std::string endpoint;
  WifiCredentials wifi;
  json kit_info;
};

Provisioner::Provisioner(std::unique_ptr<State> state) : state_(std::move(state)) {}
Provisioner::Provisioner(Provisioner&&) noexcept = default;
Provisioner& Provisioner::operator=(Provisioner&&) noexcept = default;
Provisioner::~Provisioner() = default;

namespace {

using Lines = std::vector<std::string>;

// RFC 7468 textual encoding of DER: base64 in 64-character lines between the label's markers.
std::string pem_block(std::string_view label, ByteView der) {
  std::string body = base64_encode(der);
  std::string pem = fmt::format("-----BEGIN {}-----\n", label);
  for (size_t i = 0; i < body.size(); i += 64) pem += body.substr(i, 64) + "\n";
  return pem + fmt::format("-----END {}-----\n", label);
}

// init: the kit's serial number and slot 0 public key.
Result<crypto::PublicKeyRaw> init_kit(KitClient& kit, ProvisionReport& report) {
  report.lines.push_back("Initializing kit");
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
  crypto::PublicKeyRaw raw{};
  if (device_public_key.size() != raw.size()) {
    return make_error(Errc::parse, "init: devicePublicKey is not a 64-byte P-256 point");
  }
  std::copy(device_public_key.begin(), device_public_key.end(), raw.begin());
  report.lines.push_back("    ATECC508A SN: " + report.device_sn);
  report.lines.push_back("    ATECC508A Public Key: " + to_hex_upper(device_public_key));
  return raw;
}

Result<std::unique_ptr<Provisioner::State>> load_state(const fs::path& dir, Lines& lines) {
  auto state = std::make_unique<Provisioner::State>();
  state->dir = dir;
  lines.push_back("Loading root CA certificate");
  ZT_TRY_ASSIGN(auto root_cert,
                with_context(crypto::load_certificate(dir / pki::kRootCertFile),
                             "root CA certificate — run `ztp ca create-root` first"));
  ZT_TRY_ASSIGN(auto root_key, crypto::certificate_public_key(root_cert.get()));
  ZT_TRY_ASSIGN(state->root_public_key, crypto::public_key_raw(root_key.get()));
  lines.push_back("Loading signer CA key and certificate");
  ZT_TRY_ASSIGN(pki::SignerCa signer, with_context(pki::load_signer_ca(dir),
                                                   "signer CA — run `ztp ca create-signer` first"));
  ZT_TRY_ASSIGN(state->signer_der, crypto::certificate_to_der(signer.certificate.get()));
  ZT_TRY_ASSIGN(auto issuer,
                pki::DeviceCertificateIssuer::create(signer.certificate.get(), signer.key.get()));
  state->issuer.emplace(std::move(issuer));

  ZT_TRY_ASSIGN(state->kit_info, read_kit_info(dir));
  const json& info = state->kit_info;
  if (!info.contains("endpointAddress") || !info["endpointAddress"].is_string() ||
      info["endpointAddress"].get<std::string>().empty()) {
    return make_error(Errc::not_found,
                      "endpointAddress not found in kit-info.json — run `ztp ca register` first");
  }
  state->endpoint = info["endpointAddress"].get<std::string>();
  if (state->endpoint.size() > kMaxHostnameSize) {
    return make_error(Errc::invalid_argument, "endpointAddress is longer than 128 bytes");
  }
  ZT_TRY_ASSIGN(WifiCredentials wifi, load_wifi(dir));
  state->wifi.ssid = wifi.ssid;
  state->wifi.password = wifi.password;
  if (wifi.stored_in_clear) lines.push_back(clear_password_note(wifi.ssid));
  return state;
}

// Files written while the kit works: write_file_atomic fsyncs each file and its directory, which
// on this class of disk costs far more than the kit's side of a request; in parallel threads the
// syncs overlap each other and the USB exchange (bench/provision). Waiting on the futures (also
// in their destructors, on an early return) means no write outlives provision().
using PendingWrite = std::future<Status>;
PendingWrite write_later(fs::path path, std::string content, unsigned mode) {
  return std::async(std::launch::async, [path = std::move(path), content = std::move(content),
                                         mode] { return write_file_atomic(path, content, mode); });
}

// genCsr → certificate → device.csr/device.crt → saveCredentials → setWifi → kit-info.json.
Result<ProvisionReport> finish(const Provisioner::State& state, KitClient& kit,
                               const crypto::PublicKeyRaw& device_public_key, int64_t now,
                               ProvisionReport report) {
  if (now == 0) now = unix_now();
  auto say = [&report](std::string line) { report.lines.push_back(std::move(line)); };
  say("Requesting device CSR");
  ZT_TRY_ASSIGN(json csr_reply, kit.call("genCsr"));
  if (!csr_reply.is_object() || !csr_reply.contains("csr") || !csr_reply["csr"].is_string()) {
    return make_error(Errc::parse, "genCsr: the kit's reply lacks csr");
  }
  ZT_TRY_ASSIGN(Bytes csr_der,
                with_context(from_hex(csr_reply["csr"].get<std::string>()), "genCsr: csr"));
  // The kit's CSRs have the canonical P-256 shape, read without OpenSSL's key decoders; anything
  // else goes through OpenSSL, which names what is wrong.
  crypto::PublicKeyRaw csr_key{};
  if (auto parsed = crypto::P256Csr::parse(csr_der)) {
    ZT_TRY(
        with_context(parsed->verify_signature("device CSR"), "the kit's CSR signature is invalid"));
    csr_key = parsed->public_key();
  } else {
    ZT_TRY_ASSIGN(auto csr, crypto::csr_from_der(csr_der, "device CSR"));
    ZT_TRY(with_context(crypto::verify_csr_signature(csr.get(), "device CSR"),
                        "the kit's CSR signature is invalid"));
    ZT_TRY_ASSIGN(auto key, crypto::csr_public_key(csr.get()));
    ZT_TRY_ASSIGN(csr_key, crypto::public_key_raw(key.get()));
  }
  if (csr_key != device_public_key) {
    return make_error(Errc::crypto, "the kit's CSR is not for the public key init reported");
  }

  say("Generating device certificate from CSR");
  std::vector<std::string> dropped;
  ZT_TRY_ASSIGN(Bytes device_der, state.issuer->issue_der(csr_der, now, "the kit's CSR", &dropped));
  for (const auto& name : dropped) say("    Dropped CSR extension: " + name);
  // The thing name is the certificate's SubjectKeyIdentifier, which the issuer derives by RFC 5280
  // §4.2.1.2 (1): SHA-1 of 04 || X || Y.
  uint8_t point[65];
  point[0] = 0x04;
  std::copy(device_public_key.begin(), device_public_key.end(), point + 1);
  report.thing_name = to_hex(crypto::sha1(point));
  PendingWrite csr_file =
      write_later(state.dir / pki::kDeviceCsrFile, pem_block("CERTIFICATE REQUEST", csr_der), 0644);
  PendingWrite cert_file =
      write_later(state.dir / pki::kDeviceCertFile, pem_block("CERTIFICATE", device_der), 0644);
  // The report is only returned when every write succeeded: these lines stand where the seed
  // prints them.
  say("    Saved to " + (state.dir / pki::kDeviceCsrFile).string());
  say("    Saved to " + (state.dir / pki::kDeviceCertFile).string());

  say("Provisioning device with AWS IoT credentials");
  ZT_TRY(kit.call("saveCredentials", {{"hostName", state.endpoint},
                                      {"deviceCert", to_hex_upper(device_der)},
                                      {"signerCert", to_hex_upper(state.signer_der)},
                                      {"signerCaPublicKey", to_hex_upper(state.root_public_key)}}));
  // The kit holds the certificate now: kit-info.json may name it while Wi-Fi is being sent, and
  // while device.csr/device.crt are still being synced.
  json info = state.kit_info;
  info["device_sn"] = report.device_sn;
  info["thing_name"] = report.thing_name;
  PendingWrite info_file = write_later(state.dir / kKitInfoFile, info.dump(4) + "\n", 0600);
  say("Sending Wi-Fi credentials for SSID " + state.wifi.ssid);
  auto wifi = kit.call("setWifi", {{"ssid", state.wifi.ssid}, {"psk", state.wifi.password}});
  ZT_TRY(csr_file.get());
  ZT_TRY(cert_file.get());
  ZT_TRY(info_file.get());
  if (!wifi) return std::move(wifi).error();
  say("    Thing name (client id): " + report.thing_name);
  say("Done.");
  return report;
}

}  // namespace

Result<Provisioner> Provisioner::load(const fs::path& dir) {
  Lines ignored;
  ZT_TRY_ASSIGN(auto state, load_state(dir, ignored));
  return Provisioner(std::move(state));
}

Result<ProvisionReport> Provisioner::provision(KitClient& kit, int64_t now) const {
  ProvisionReport report;
  ZT_TRY_ASSIGN(auto device_public_key, init_kit(kit, report));
  return finish(*state_, kit, device_public_key, now, std::move(report));
}

Result<ProvisionReport> provision(KitClient& kit, const fs::path& dir, int64_t now) {
  ProvisionReport report;
  ZT_TRY_ASSIGN(auto device_public_key, init_kit(kit, report));
  ZT_TRY_ASSIGN(auto state, load_state(dir, report.lines));
  return finish(*state, kit, device_public_key, now, std::move(report));
}

}  // namespace zt::kit
