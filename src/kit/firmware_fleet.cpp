// The firmware's fleet provisioning (kit/flow.hpp fleet-csr, fleet-claim), over the claim
// connection: AWS IoT's device provisioning MQTT API (developer guide "Device provisioning MQTT
// API": CreateCertificateFromCsr, CreateKeysAndCertificate, RegisterThing — subscribe to the
// /accepted and /rejected topics before publishing the request), then the identity in flash.
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "common/hex.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "kit/firmware.hpp"
#include "kit/mqtt_link.hpp"
#include "kit/se_key_provider.hpp"
#include "pki/profiles.hpp"

namespace zt::kit {

using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr auto kApiWait = 10s;

// The body of an /accepted answer, or the /rejected one as an error with AWS's errorCode and
// errorMessage (fleet provisioning's error payload: statusCode, errorCode, errorMessage).
Result<json> accepted_body(const ApiAnswer& answer, const std::string& api) {
  json body = json::parse(answer.payload, nullptr, false);
  if (!body.is_object()) {
    return make_error(Errc::parse, fmt::format("{}: the answer is not a JSON object", api));
  }
  if (!answer.accepted) {
    auto text = [&](const char* name) {
      return body.contains(name) && body[name].is_string() ? body[name].get<std::string>()
                                                           : std::string("?");
    };
    return make_error(Errc::permission, fmt::format("{} rejected: {} {}", api, text("errorCode"),
                                                    text("errorMessage")));
  }
  return body;
}

Result<std::string> string_field(const json& body, const char* name, const std::string& api) {
  if (!body.contains(name) || !body[name].is_string() ||
      body[name].get_ref<const std::string&>().empty()) {
    return make_error(Errc::parse, fmt::format("{}: the answer has no \"{}\"", api, name));
  }
  return body[name].get<std::string>();
}

// The certificate the cloud issued must be for the key the kit holds in `slot`.
Status check_certificate_key(const X509* certificate, se::Device& device, unsigned slot) {
  ZT_TRY_ASSIGN(auto certificate_key, crypto::certificate_public_key(certificate));
  ZT_TRY_ASSIGN(auto certificate_raw, crypto::public_key_raw(certificate_key.get()));
  ZT_TRY_ASSIGN(auto slot_key, device.public_key(slot));
  if (certificate_raw != slot_key) {
    return make_error(Errc::crypto,
                      fmt::format("the issued certificate is not for the key in slot {}", slot));
  }
  return ok();
}

}  // namespace

Status Firmware::load_fleet_credentials(Session& session) {
  KitFlash flash(config_.flash_dir);
  ZT_TRY_ASSIGN(auto identity, flash.identity());
  std::string pem;
  if (identity) {
    pem = identity->certificate_pem;
    session.key_slot = identity->key_slot;
    session.thing_name = identity->thing_name;
  } else {
    ZT_TRY_ASSIGN(auto claim, flash.claim());
    if (!claim) {
      return make_error(Errc::not_found,
                        "no claim certificate in the kit's flash (the factory stores one over USB: "
                        "`ztp kit provision-claim`)");
    }
    pem = claim->certificate_pem;
    session.key_slot = kDeviceKeySlot;
    // The claim connection's client id: the chip's serial number, unique per kit (the claim
    // certificate may be shared; AWS IoT drops an older connection with the same client id).
    ZT_TRY_ASSIGN(auto serial, device_->serial_number());
    session.thing_name = to_hex_upper(serial);
    session.claim = std::move(*claim);
  }
  ZT_TRY_ASSIGN(session.device_cert, crypto::certificate_from_pem(pem, "the certificate in flash"));
  ZT_TRY_ASSIGN(session.key, se_private_key(device_, session.key_slot));
  if (X509_check_private_key(session.device_cert.get(), session.key.get()) != 1) {
    return make_error(Errc::crypto, fmt::format("the {} certificate in flash is not for the key in "
                                                "slot {}",
                                                identity ? "device" : "claim", session.key_slot));
  }
  return ok();
}

Status Firmware::provision_with_claim(const Session& session, TlsConnection& connection,
                                      PacketReader& reader) {
  const std::string& serial = session.thing_name;
  KitFlash flash(config_.flash_dir);
  IdentityRecord identity;
  identity.flow = std::string(flow_name(config_.flow));
  std::string token;
  json body;
  if (config_.flow == Flow::fleet_csr) {
    const std::string api = "CreateCertificateFromCsr";
    print(fmt::format("FLEET: GenKey in the ATECC508A slot {} (the new device key)",
                      kFleetCsrKeySlot));
    ZT_TRY(with_context(device_->genkey(kFleetCsrKeySlot), "GenKey"));
    ZT_TRY_ASSIGN(auto key, se_private_key(device_, kFleetCsrKeySlot));
    ZT_TRY_ASSIGN(auto subject,
                  crypto::make_name({{"O", std::string(pki::kOrganization)}, {"CN", serial}}));
    ZT_TRY_ASSIGN(auto csr,
                  crypto::build_csr({.subject = subject.get(), .extensions = {}}, key.get()));
    ZT_TRY_ASSIGN(std::string csr_pem, crypto::csr_to_pem(csr.get()));
    print(
        fmt::format("FLEET: CSR for slot {} signed by the ATECC508A; publishing "
                    "$aws/certificates/create-from-csr/json",
                    kFleetCsrKeySlot));
    ZT_TRY_ASSIGN(auto answer,
                  mqtt_request(connection, reader, "$aws/certificates/create-from-csr/json",
                               json{{"certificateSigningRequest", csr_pem}}.dump(), 2, kApiWait));
    ZT_TRY_ASSIGN(body, accepted_body(answer, api));
    identity.key_slot = kFleetCsrKeySlot;
  } else {
    const std::string api = "CreateKeysAndCertificate";
    print("FLEET: publishing $aws/certificates/create/json (CreateKeysAndCertificate)");
    ZT_TRY_ASSIGN(auto answer, mqtt_request(connection, reader, "$aws/certificates/create/json",
                                            "{}", 2, kApiWait));
    ZT_TRY_ASSIGN(body, accepted_body(answer, api));
    ZT_TRY_ASSIGN(std::string key_pem, string_field(body, "privateKey", api));
    body.erase("privateKey");
    auto key = crypto::private_key_from_pem(key_pem, "the returned private key");
    OPENSSL_cleanse(key_pem.data(), key_pem.size());
    if (!key) return std::move(key).error();
    // PrivWrite takes a P-256 scalar: the ATECC508A stores no other private key (AWS documents
    // CreateKeysAndCertificate's keys as 2048-bit RSA; such a key cannot enter this chip).
    ZT_TRY(with_context(crypto::require_p256(key->get(), "the returned private key"),
                        "the ATECC508A holds P-256 private keys only (PrivWrite): use --flow "
                        "fleet-csr"));
    ZT_TRY_ASSIGN(Bytes scalar, crypto::private_key_scalar(key->get()));
    auto io_key = flash.io_protection_key(*device_);
    if (!io_key) {
      OPENSSL_cleanse(scalar.data(), scalar.size());
      return std::move(io_key).error();
    }
    Status written =
        device_->priv_write_encrypted(kFleetClaimKeySlot, scalar, kIoProtectionKeySlot, *io_key);
    OPENSSL_cleanse(scalar.data(), scalar.size());
    OPENSSL_cleanse(io_key->data(), io_key->size());
    if (!written) {
      return make_error(
          written.error().code,
          fmt::format("PrivWrite into slot {}: {} (the slot's SlotConfig must allow "
                      "an encrypted PrivWrite with WriteKey {}: a kit first started "
                      "with --flow fleet-claim configures its blank chip so)",
                      kFleetClaimKeySlot, written.error().message, kIoProtectionKeySlot));
    }
    print(
        fmt::format("FLEET: the returned P-256 key written to the ATECC508A slot {} with an "
                    "encrypted PrivWrite (GenDig over the I/O protection key in slot {})",
                    kFleetClaimKeySlot, kIoProtectionKeySlot));
    identity.key_slot = kFleetClaimKeySlot;
  }
  const std::string issuing_api =
      config_.flow == Flow::fleet_csr ? "CreateCertificateFromCsr" : "CreateKeysAndCertificate";
  ZT_TRY_ASSIGN(identity.certificate_pem, string_field(body, "certificatePem", issuing_api));
  ZT_TRY_ASSIGN(identity.certificate_id, string_field(body, "certificateId", issuing_api));
  ZT_TRY_ASSIGN(token, string_field(body, "certificateOwnershipToken", issuing_api));
  ZT_TRY_ASSIGN(auto certificate,
                crypto::certificate_from_pem(identity.certificate_pem, "certificatePem"));
  ZT_TRY(check_certificate_key(certificate.get(), *device_, identity.key_slot));
  print(fmt::format("FLEET: certificate {} issued (ownership token received)",
                    identity.certificate_id));

  const std::string api = "RegisterThing";
  const std::string topic =
      "$aws/provisioning-templates/" + session.claim->template_name + "/provision/json";
  json request{{"certificateOwnershipToken", token}, {"parameters", {{"SerialNumber", serial}}}};
  OPENSSL_cleanse(token.data(), token.size());
  print(fmt::format("FLEET: publishing {} (RegisterThing, parameters {{\"SerialNumber\": \"{}\"}})",
                    topic, serial));
  ZT_TRY_ASSIGN(auto answer, mqtt_request(connection, reader, topic, request.dump(), 3, kApiWait));
  ZT_TRY_ASSIGN(json registered, accepted_body(answer, api));
  ZT_TRY_ASSIGN(identity.thing_name, string_field(registered, "thingName", api));
  print(fmt::format("FLEET: RegisterThing accepted: thing {}, deviceConfiguration {}",
                    identity.thing_name,
                    registered.value("deviceConfiguration", json::object()).dump()));
  ZT_TRY(with_context(flash.save_identity(identity), "saving the identity in flash"));
  (void)send(connection, mqtt::Disconnect{});
  print(
      fmt::format("FLEET: identity saved (certificate in flash, key in slot {}); reconnecting as "
                  "{}",
                  identity.key_slot, identity.thing_name));
  return ok();
}

}  // namespace zt::kit
