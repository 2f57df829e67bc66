#include "kit/provisioning_handler.hpp"

#include <fmt/format.h>

#include "atcacert/kit_definitions.hpp"
#include "atcacert/slots.hpp"
#include "common/hex.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "kit/metadata.hpp"
#include "kit/se_key_provider.hpp"
#include "kit/se_slot_store.hpp"
#include "pki/profiles.hpp"

namespace zt::kit {
namespace {

// The Errc of a failed step decides the error_code the host sees.
int kit_error_code(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
    case Errc::parse:
      return kBadParameters;
    case Errc::conflict:
    case Errc::not_found:
      return kBadState;
    case Errc::crypto:
      return kCertificateError;
    case Errc::io:
    case Errc::permission:
    case Errc::timeout:
      return kSecureElementError;
    default:
      return kUnknownError;
  }
}

// A chip call's error, tagged as a secure-element failure whatever the transport said.
template <typename T>
Result<T> chip(Result<T> result, std::string_view what) {
  if (result) return result;
  if (result.error().code == Errc::crypto || result.error().code == Errc::invalid_argument)
    return with_context(std::move(result), what);
  return make_error(Errc::io, fmt::format("secure element: {}: {}", what, result.error().message));
}

Result<std::string> string_param(const json& params, const char* name, size_t max_size,
                                 bool allow_empty = false) {
  if (!params.contains(name) || !params[name].is_string()) {
    return make_error(Errc::invalid_argument, fmt::format("missing string parameter \"{}\"", name));
  }
  std::string value = params[name].get<std::string>();
  if (!allow_empty && value.empty())
    return make_error(Errc::invalid_argument, fmt::format("parameter \"{}\" is empty", name));
  if (value.size() > max_size) {
    return make_error(Errc::invalid_argument,
                      fmt::format("parameter \"{}\" is longer than {} bytes", name, max_size));
  }
  return value;
}

Result<Bytes> hex_param(const json& params, const char* name) {
  ZT_TRY_ASSIGN(std::string text, string_param(params, name, 8192));
  auto bytes = from_hex(text);
  if (!bytes)
    return make_error(Errc::invalid_argument, fmt::format("parameter \"{}\" is not hex", name));
  return bytes;
}

Result<KitMetadata> read_metadata(se::Device& device) {
  ZT_TRY_ASSIGN(Bytes slot, chip(device.read_slot(kMetadataSlot), "read slot 8"));
  auto metadata = decode_metadata(slot);
  // A corrupted slot 8 is rewritten from scratch rather than refusing to provision.
  return metadata ? std::move(*metadata) : KitMetadata{};
}

Status write_metadata(se::Device& device, KitMetadata metadata) {
  metadata.provision_flag = metadata.expected_flag();
  ZT_TRY_ASSIGN(Bytes encoded, encode_metadata(metadata));
  return chip(device.write_slot(kMetadataSlot, encoded), "write slot 8");
}

}  // namespace

ProvisioningHandler::ProvisioningHandler(std::shared_ptr<se::Device> device, HandlerHooks hooks,
                                         std::filesystem::path flash_dir)
    : device_(std::move(device)), hooks_(std::move(hooks)), flash_dir_(std::move(flash_dir)) {}

void ProvisioningHandler::changed() {
  if (hooks_.credentials_changed) hooks_.credentials_changed();
}

Reply ProvisioningHandler::handle(const Request& request) {
  std::lock_guard lock(mutex_);
  Result<json> result = make_error(Errc::internal, "unreachable");
  const std::string& method = request.method;
  if (method == "init") {
    result = init(request.params);
  } else if (method == "genCsr") {
    result = gen_csr();
  } else if (method == "saveCredentials") {
    result = save_credentials(request.params);
  } else if (method == "setWifi") {
    result = set_wifi(request.params);
  } else if (method == "getStatus") {
    result = get_status();
  } else if (method == "resetKit") {
    result = reset_kit();
  } else if (method == "genKey") {
    result = gen_key();
  } else if (method == "saveClaim" && !flash_dir_.empty()) {
    result = save_claim(request.params);
  } else {
    return Reply{.status = 0,
                 .id = request.id,
                 .result = nullptr,
                 .error = KitError{kUnknownCommand, "Unknown command"}};
  }
  if (!result) {
    const Error& error = result.error();
    return Reply{.status = 0,
                 .id = request.id,
                 .result = nullptr,
                 .error = KitError{kit_error_code(error.code), method + ": " + error.message}};
  }
  return Reply{.status = 0, .id = request.id, .result = std::move(*result), .error = {}};
}

std::string ProvisioningHandler::handle_line(std::string_view line) {
  auto command = parse_command(line);
  if (!command) {
    return encode_reply(Reply{.status = 0,
                              .id = 0,
                              .result = nullptr,
                              .error = KitError{kBadParameters, command.error().message}});
  }
  if (!command->request) return unknown_target_reply();
  return encode_reply(handle(*command->request));
}

Result<json> ProvisioningHandler::identity() {
  ZT_TRY_ASSIGN(auto serial, chip(device_->serial_number(), "read serial number"));
  ZT_TRY_ASSIGN(auto public_key, chip(device_->public_key(kDeviceKeySlot), "public key of slot 0"));
  return json{{"deviceSn", to_hex_upper(serial)}, {"devicePublicKey", to_hex_upper(public_key)}};
}

Result<json> ProvisioningHandler::init(const json& params) {
  ZT_TRY_ASSIGN(std::string version, string_param(params, "version", 32));
  if (version != kProtocolVersion) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("unsupported version \"{}\" (the kit speaks {})", version, kProtocolVersion));
  }
  ZT_TRY_ASSIGN(bool locked, chip(device_->data_locked(), "read lock state"));
  if (!locked) return make_error(Errc::conflict, "the secure element is not configured");
  return identity();
}

Result<json> ProvisioningHandler::gen_csr() {
  // The CSR definition of the seed (template id 3): O=Example Inc, CN=Example Device, the public
  // key of slot 0, signed by slot 0. OpenSSL builds the DER; the signature is made by the chip.
  ZT_TRY_ASSIGN(auto key, chip(se_private_key(device_, kDeviceKeySlot), "slot 0 key"));
  ZT_TRY_ASSIGN(auto subject, crypto::make_name({{"O", std::string(pki::kOrganization)},
                                                 {"CN", std::string(pki::kDeviceCommonName)}}));
  crypto::CsrFields fields{.subject = subject.get(), .extensions = {}};
  ZT_TRY_ASSIGN(auto csr, chip(crypto::build_csr(fields, key.get()), "sign the CSR"));
  ZT_TRY_ASSIGN(Bytes der, crypto::csr_to_der(csr.get()));
  return json{{"csr", to_hex_upper(der)}};
}

Result<json> ProvisioningHandler::save_credentials(const json& params) {
  ZT_TRY_ASSIGN(std::string host_name, string_param(params, "hostName", kMaxHostnameSize));
  ZT_TRY_ASSIGN(Bytes device_der, hex_param(params, "deviceCert"));
  ZT_TRY_ASSIGN(Bytes signer_der, hex_param(params, "signerCert"));
  ZT_TRY_ASSIGN(Bytes root_key_bytes, hex_param(params, "signerCaPublicKey"));
  if (root_key_bytes.size() != 64) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("signerCaPublicKey must be 64 bytes (X||Y), got {}", root_key_bytes.size()));
  }
  crypto::PublicKeyRaw root_key{};
  std::copy(root_key_bytes.begin(), root_key_bytes.end(), root_key.begin());
  ZT_TRY(with_context(crypto::public_key_from_raw(root_key), "signerCaPublicKey"));

  // Check everything before the first write: both certificates parse, chain to the root key, the
  // device certificate is for slot 0's key, and both survive compression byte for byte.
  const auto& signer_def = atcacert::kit_signer_definition();
  const auto& device_def = atcacert::kit_device_definition();
  ZT_TRY_ASSIGN(auto device_cert, crypto::certificate_from_der(device_der, "deviceCert"));
  atcacert::CertChain chain{.signer = signer_der, .device = device_der};
  ZT_TRY(with_context(atcacert::verify_chain(signer_def, device_def, chain, root_key),
                      "certificate chain"));
  ZT_TRY_ASSIGN(auto cert_key, crypto::certificate_public_key(device_cert.get()));
  ZT_TRY_ASSIGN(auto cert_key_raw, crypto::public_key_raw(cert_key.get()));
  ZT_TRY_ASSIGN(auto slot_key, chip(device_->public_key(kDeviceKeySlot), "public key of slot 0"));
  if (cert_key_raw != slot_key) {
    return make_error(Errc::crypto, "deviceCert is not for this kit's key (slot 0)");
  }
  ZT_TRY_ASSIGN(auto signer_cert, crypto::certificate_from_der(signer_der, "signerCert"));
  ZT_TRY_ASSIGN(auto signer_key, crypto::certificate_public_key(signer_cert.get()));
  ZT_TRY_ASSIGN(auto signer_key_raw, crypto::public_key_raw(signer_key.get()));
  ZT_TRY(
      with_context(atcacert::compress(device_def, device_der,
                                      atcacert::CompressOptions{.issuer_public_key = signer_key_raw,
                                                                .device_sn = std::nullopt}),
                   "deviceCert does not fit the device certificate definition"));
  ZT_TRY(with_context(atcacert::compress(signer_def, signer_der,
                                         atcacert::CompressOptions{.issuer_public_key = root_key,
                                                                   .device_sn = std::nullopt}),
                      "signerCert does not fit the signer certificate definition"));

  SeSlotStore store(device_);
  ZT_TRY(
      chip(atcacert::write_chain(signer_def, device_def, store, signer_der, device_der, root_key),
           "write certificates"));
  // Read back: what the firmware will rebuild for TLS must be what the host sent.
  ZT_TRY_ASSIGN(auto rebuilt, chip(atcacert::read_chain(signer_def, device_def, store),
                                   "read back certificates"));
  if (rebuilt.device != device_der || rebuilt.signer != signer_der) {
    return make_error(Errc::crypto, "certificates rebuilt from slots 10/12 differ from those sent");
  }
  ZT_TRY_ASSIGN(KitMetadata metadata, read_metadata(*device_));
  metadata.hostname = host_name;
  ZT_TRY(write_metadata(*device_, metadata));
  changed();
  return json::object();
}

Result<json> ProvisioningHandler::set_wifi(const json& params) {
  ZT_TRY_ASSIGN(std::string ssid, string_param(params, "ssid", kMaxSsidSize));
  // No passphrase (Microchip's kit_set_wifi.py sends "psk": null without --password) means an
  // open access point, which the firmware cannot join (WPA2 personal only). Say so now, in the
  // seed guide's words, rather than as a parameter error or a join failure later.
  const bool no_passphrase =
      !params.contains("psk") || params["psk"].is_null() ||
      (params["psk"].is_string() && params["psk"].get_ref<const std::string&>().empty());
  if (no_passphrase) {
    return make_error(Errc::invalid_argument,
                      "You will not be able to connect to an access point that has open access or "
                      "enterprise security. Give the WPA2 personal passphrase of " +
                          ssid + " (psk).");
  }
  ZT_TRY_ASSIGN(std::string psk, string_param(params, "psk", kMaxWifiPasswordSize));
  ZT_TRY_ASSIGN(KitMetadata metadata, read_metadata(*device_));
  metadata.ssid = ssid;
  metadata.wifi_password = psk;
  Status written = write_metadata(*device_, metadata);
  secure_zero(metadata.wifi_password.data(), metadata.wifi_password.size());
  ZT_TRY(written);
  changed();
  return json::object();
}

Result<json> ProvisioningHandler::get_status() {
  KitStatus status;
  if (hooks_.status) {
    status = hooks_.status();
  } else {
    ZT_TRY_ASSIGN(KitMetadata metadata, read_metadata(*device_));
    bool provisioned = metadata.provision_flag == kAwsProvisioned;
    status = KitStatus{provisioned ? KitState::connecting : KitState::waiting_for_provisioning, 0,
                       provisioned ? "provisioned" : "not provisioned"};
  }
  return json{{"state_id", static_cast<int>(status.state)},
              {"status_code", status.status_code},
              {"status_msg", status.status_msg}};
}

Result<json> ProvisioningHandler::reset_kit() {
  // Clears what provisioning wrote; the device key in slot 0 stays (it is the kit's identity).
  ZT_TRY(write_metadata(*device_, KitMetadata{}));
  if (!flash_dir_.empty()) ZT_TRY(KitFlash(flash_dir_).clear());
  Bytes zeros(atcacert::kCompressedCertSize, 0);
  for (unsigned slot : {kDeviceCertSlot, kSignerCertSlot}) {
    ZT_TRY(chip(device_->write_slot(slot, zeros), fmt::format("clear slot {}", slot)));
  }
  changed();
  return json::object();
}

Result<json> ProvisioningHandler::gen_key() {
  ZT_TRY(chip(device_->genkey(kDeviceKeySlot), "GenKey slot 0"));
  // The old device certificate no longer matches the key.
  Bytes zeros(atcacert::kCompressedCertSize, 0);
  ZT_TRY(chip(device_->write_slot(kDeviceCertSlot, zeros), "clear slot 10"));
  changed();
  return identity();
}

Result<json> ProvisioningHandler::save_claim(const json& params) {
  ZT_TRY_ASSIGN(std::string host_name, string_param(params, "hostName", kMaxHostnameSize));
  ZT_TRY_ASSIGN(Bytes claim_der, hex_param(params, "claimCert"));
  // AWS's provisioning template name: 1-36 characters of [0-9A-Za-z_-] (CreateProvisioningTemplate
  // templateName); it becomes a topic level, so nothing else may pass.
  ZT_TRY_ASSIGN(std::string template_name, string_param(params, "templateName", 36));
  if (template_name.empty() ||
      template_name.find_first_not_of(
          "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-") !=
          std::string::npos) {
    return make_error(Errc::invalid_argument,
                      "templateName must be 1-36 characters of [0-9A-Za-z_-]");
  }
  ZT_TRY_ASSIGN(auto claim_cert, crypto::certificate_from_der(claim_der, "claimCert"));
  ZT_TRY_ASSIGN(auto cert_key, crypto::certificate_public_key(claim_cert.get()));
  ZT_TRY_ASSIGN(auto cert_key_raw, crypto::public_key_raw(cert_key.get()));
  ZT_TRY_ASSIGN(auto slot_key, chip(device_->public_key(kDeviceKeySlot), "public key of slot 0"));
  if (cert_key_raw != slot_key) {
    return make_error(Errc::crypto, "claimCert is not for this kit's key (slot 0)");
  }
  ZT_TRY_ASSIGN(std::string pem, crypto::certificate_to_pem(claim_cert.get()));
  KitFlash flash(flash_dir_);
  // A new claim starts fleet provisioning afresh: the identity from an earlier claim goes.
  ZT_TRY(flash.clear());
  ZT_TRY(flash.save_claim(ClaimRecord{.certificate_pem = pem, .template_name = template_name}));
  ZT_TRY_ASSIGN(KitMetadata metadata, read_metadata(*device_));
  metadata.hostname = host_name;
  ZT_TRY(write_metadata(*device_, metadata));
  changed();
  return json::object();
}

}  // namespace zt::kit
