#include "kit/provisioning_handler.hpp"

#include <gtest/gtest.h>

#include "atcacert/kit_definitions.hpp"
#include "atcacert/slots.hpp"
#include "common/hex.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "kit/metadata.hpp"
#include "kit/se_slot_store.hpp"
#include "kit_fixtures.hpp"

namespace zt::kit {
namespace {

using fixtures::kNow;

struct Kit : fixtures::Chip {
  int changes = 0;
  ProvisioningHandler handler{
      device, HandlerHooks{.credentials_changed = [this] { ++changes; }, .status = {}}};
  int64_t next_id = 1;

  explicit Kit(bool configure = true) : Chip(configure) {}
  // Through the whole text path: encode the request, handle the line, parse the reply.
  Reply call(const std::string& method, json params = json::object()) {
    Request request{.method = method, .params = std::move(params), .id = next_id++};
    auto reply = parse_reply(handler.handle_line(encode_request(request)));
    EXPECT_TRUE(reply) << reply.error().message;
    EXPECT_EQ(reply->id, request.id);
    return *reply;
  }
};

struct Pki : fixtures::CaPair {
  json credentials(const std::string& csr_hex, const std::string& host = "abc-ats.iot.localhost") {
    auto csr = crypto::csr_from_der(*from_hex(csr_hex));
    auto device = pki::issue_device_certificate(csr->get(), signer.get(), signer_key.get(), kNow);
    auto root_raw = crypto::public_key_raw(root_key.get());
    return json{{"hostName", host},
                {"deviceCert", to_hex(*crypto::certificate_to_der(device->get()))},
                {"signerCert", to_hex(*crypto::certificate_to_der(signer.get()))},
                {"signerCaPublicKey", to_hex(*root_raw)}};
  }
};

KitMetadata metadata_of(se::Device& device) {
  auto slot = device.read_slot(kMetadataSlot);
  EXPECT_TRUE(slot);
  auto metadata = decode_metadata(*slot);
  EXPECT_TRUE(metadata) << metadata.error().message;
  return *metadata;
}

TEST(KitMetadata, RoundTripsAndRefusesOversizedFields) {
  KitMetadata in{.provision_flag = kAwsProvisioned,
                 .ssid = "lab",
                 .wifi_password = "secret",
                 .hostname = "x-ats.iot.us-east-1.localhost"};
  auto bytes = encode_metadata(in);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->size(), kMetadataSize);
  EXPECT_EQ((*bytes)[0], 0x09);  // little-endian 0xF309
  EXPECT_EQ((*bytes)[1], 0xF3);
  auto out = decode_metadata(*bytes);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->ssid, "lab");
  EXPECT_EQ(out->wifi_password, "secret");
  EXPECT_EQ(out->hostname, in.hostname);
  KitMetadata oversized;
  oversized.ssid = std::string(33, 'a');
  EXPECT_FALSE(encode_metadata(oversized));
  Bytes corrupt = *bytes;
  corrupt[4] = 40;  // ssid_size 40 > 32
  auto bad = decode_metadata(corrupt);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("ssid_size"), std::string::npos);
  auto erased = decode_metadata(Bytes(416, 0xFF));
  ASSERT_TRUE(erased);
  EXPECT_FALSE(erased->has_wifi());
}

TEST(ProvisioningHandler, InitChecksVersionAndReturnsIdentity) {
  Kit kit;
  Reply ok = kit.call("init", {{"version", "2.0.0"}});
  ASSERT_FALSE(ok.error) << ok.error->message;
  auto serial = kit.device->serial_number();
  EXPECT_EQ(ok.result["deviceSn"], to_hex_upper(*serial));
  auto public_key = kit.device->public_key(0);
  EXPECT_EQ(ok.result["devicePublicKey"], to_hex_upper(*public_key));

  Reply wrong = kit.call("init", {{"version", "1.0.0"}});
  ASSERT_TRUE(wrong.error);
  EXPECT_EQ(wrong.error->code, kBadParameters);
  EXPECT_NE(wrong.error->message.find("1.0.0"), std::string::npos);
  Reply missing = kit.call("init");
  ASSERT_TRUE(missing.error);
  EXPECT_NE(missing.error->message.find("version"), std::string::npos);
}

TEST(ProvisioningHandler, InitOnAnUnconfiguredChipIsABadState) {
  Kit kit(false);
  Reply reply = kit.call("init", {{"version", "2.0.0"}});
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(reply.error->code, kBadState);
}

TEST(ProvisioningHandler, UnknownMethodAndUnknownTarget) {
  Kit kit;
  Reply reply = kit.call("selfDestruct");
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(reply.error->code, kUnknownCommand);
  EXPECT_EQ(reply.error->message, "Unknown command");
  EXPECT_EQ(kit.handler.handle_line("board:led(00)\n"), "C0()\n");
  auto garbage = parse_reply(kit.handler.handle_line("board:app(zz)\n"));
  ASSERT_TRUE(garbage);
  ASSERT_TRUE(garbage->error);
  EXPECT_EQ(garbage->error->code, kBadParameters);
  // An error quoting input that is not UTF-8 still encodes (fuzz/kit_handler found the throw).
  auto binary = parse_reply(kit.handler.handle_line("\x8d\x96 is not a call\n"));
  ASSERT_TRUE(binary);
  ASSERT_TRUE(binary->error);
}

TEST(ProvisioningHandler, GenCsrIsSignedBySlotZero) {
  Kit kit;
  Reply reply = kit.call("genCsr");
  ASSERT_FALSE(reply.error) << reply.error->message;
  auto csr = crypto::csr_from_der(*from_hex(reply.result["csr"].get<std::string>()));
  ASSERT_TRUE(csr);
  EXPECT_TRUE(crypto::verify_csr_signature(csr->get()));
  auto key = crypto::csr_public_key(csr->get());
  EXPECT_EQ(*crypto::public_key_raw(key->get()), *kit.device->public_key(0));
  EXPECT_EQ(crypto::name_entry(X509_REQ_get_subject_name(csr->get()), "CN"), "Example Device");
}

TEST(ProvisioningHandler, SaveCredentialsWritesTheCompressedChainAndHostName) {
  Kit kit;
  Pki pki;
  Reply csr = kit.call("genCsr");
  json credentials = pki.credentials(csr.result["csr"]);
  Reply saved = kit.call("saveCredentials", credentials);
  ASSERT_FALSE(saved.error) << saved.error->message;
  EXPECT_EQ(kit.changes, 1);

  SeSlotStore store(kit.device);
  auto chain = atcacert::read_chain(atcacert::kit_signer_definition(),
                                    atcacert::kit_device_definition(), store);
  ASSERT_TRUE(chain) << chain.error().message;
  EXPECT_EQ(to_hex(chain->device), credentials["deviceCert"]);
  EXPECT_EQ(to_hex(chain->signer), credentials["signerCert"]);
  auto slot15 = kit.device->read_slot(15);
  EXPECT_EQ(to_hex(atcacert::unpad_public_key(*slot15)), credentials["signerCaPublicKey"]);
  KitMetadata metadata = metadata_of(*kit.device);
  EXPECT_EQ(metadata.hostname, "abc-ats.iot.localhost");
  EXPECT_EQ(metadata.provision_flag, 0u);  // no Wi-Fi yet

  Reply wifi = kit.call("setWifi", {{"ssid", "lab"}, {"psk", "correct horse"}});
  ASSERT_FALSE(wifi.error) << wifi.error->message;
  metadata = metadata_of(*kit.device);
  EXPECT_EQ(metadata.provision_flag, kAwsProvisioned);
  EXPECT_EQ(metadata.ssid, "lab");
  EXPECT_EQ(metadata.wifi_password, "correct horse");
  EXPECT_EQ(metadata.hostname, "abc-ats.iot.localhost");
}

TEST(ProvisioningHandler, SaveCredentialsRefusesBadCertificatesWithoutWriting) {
  Kit kit;
  Pki pki;
  Pki other;
  json good = pki.credentials(kit.call("genCsr").result["csr"]);
  auto slot10_before = kit.device->read_slot(10);

  json wrong_root = good;
  wrong_root["signerCaPublicKey"] = to_hex(*crypto::public_key_raw(other.root_key.get()));
  Reply reply = kit.call("saveCredentials", wrong_root);
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(reply.error->code, kCertificateError);

  // A certificate for another key (another kit's CSR).
  Kit stranger;
  json foreign = pki.credentials(stranger.call("genCsr").result["csr"]);
  reply = kit.call("saveCredentials", foreign);
  ASSERT_TRUE(reply.error);
  EXPECT_NE(reply.error->message.find("slot 0"), std::string::npos) << reply.error->message;

  json truncated = good;
  truncated["deviceCert"] = good["deviceCert"].get<std::string>().substr(0, 100);
  reply = kit.call("saveCredentials", truncated);
  ASSERT_TRUE(reply.error);
  EXPECT_NE(reply.error->message.find("deviceCert"), std::string::npos) << reply.error->message;

  json not_hex = good;
  not_hex["signerCert"] = "xyz";
  reply = kit.call("saveCredentials", not_hex);
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(reply.error->code, kBadParameters);

  json no_host = good;
  no_host.erase("hostName");
  reply = kit.call("saveCredentials", no_host);
  ASSERT_TRUE(reply.error);
  EXPECT_NE(reply.error->message.find("hostName"), std::string::npos);

  EXPECT_EQ(*kit.device->read_slot(10), *slot10_before);
  EXPECT_EQ(kit.changes, 0);
}

TEST(ProvisioningHandler, SetWifiValidatesParameters) {
  Kit kit;
  Reply reply = kit.call("setWifi", {{"ssid", std::string(33, 's')}, {"psk", "x"}});
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(reply.error->code, kBadParameters);
  reply = kit.call("setWifi", {{"psk", "x"}});
  ASSERT_TRUE(reply.error);
  EXPECT_NE(reply.error->message.find("ssid"), std::string::npos);
  // No passphrase — null (kit_set_wifi.py without --password), missing or empty — is an open
  // access point: refused at once with the seed guide's sentence, nothing stored.
  const std::string guide =
      "You will not be able to connect to an access point that has open access or enterprise "
      "security.";
  for (const json& params : {json{{"ssid", "open-net"}, {"psk", nullptr}},
                             json{{"ssid", "open-net"}}, json{{"ssid", "open-net"}, {"psk", ""}}}) {
    reply = kit.call("setWifi", params);
    ASSERT_TRUE(reply.error) << params.dump();
    EXPECT_EQ(reply.error->code, kBadParameters);
    EXPECT_NE(reply.error->message.find(guide), std::string::npos) << reply.error->message;
  }
  EXPECT_NE(metadata_of(*kit.device).provision_flag, kWifiProvisioned);
  EXPECT_EQ(kit.changes, 0);
  reply = kit.call("setWifi", {{"ssid", "lab"}, {"psk", 5}});  // wrong type: a parameter error
  ASSERT_TRUE(reply.error);
  EXPECT_NE(reply.error->message.find("psk"), std::string::npos);
  reply = kit.call("setWifi", {{"ssid", "lab"}, {"psk", "correct horse"}});
  EXPECT_FALSE(reply.error);
  EXPECT_EQ(metadata_of(*kit.device).provision_flag, kWifiProvisioned);
}

TEST(ProvisioningHandler, GetStatusFromHookOrChip) {
  Kit kit;
  Reply reply = kit.call("getStatus");
  ASSERT_FALSE(reply.error);
  EXPECT_EQ(reply.result["state_id"], static_cast<int>(KitState::waiting_for_provisioning));
  ProvisioningHandler hooked(kit.device,
                             HandlerHooks{.credentials_changed = {}, .status = [] {
                                            return KitStatus{KitState::connected, 0, "connected"};
                                          }});
  auto line = hooked.handle_line(
      encode_request(Request{.method = "getStatus", .params = json::object(), .id = 0}));
  auto parsed = parse_reply(line);
  EXPECT_EQ(parsed->result["state_id"], static_cast<int>(KitState::connected));
  EXPECT_EQ(parsed->result["status_msg"], "connected");
}

TEST(ProvisioningHandler, ResetKitClearsCredentialsButKeepsTheKey) {
  Kit kit;
  Pki pki;
  auto key_before = *kit.device->public_key(0);
  ASSERT_FALSE(
      kit.call("saveCredentials", pki.credentials(kit.call("genCsr").result["csr"])).error);
  ASSERT_FALSE(kit.call("setWifi", {{"ssid", "lab"}, {"psk", "pw"}}).error);
  Reply reset = kit.call("resetKit");
  ASSERT_FALSE(reset.error) << reset.error->message;
  KitMetadata metadata = metadata_of(*kit.device);
  EXPECT_FALSE(metadata.has_wifi());
  EXPECT_FALSE(metadata.has_hostname());
  EXPECT_EQ(metadata.provision_flag, 0u);
  EXPECT_EQ(*kit.device->read_slot(10), Bytes(72, 0));
  EXPECT_EQ(*kit.device->public_key(0), key_before);
}

TEST(ProvisioningHandler, GenKeyReplacesTheDeviceKey) {
  Kit kit;
  auto before = kit.call("init", {{"version", "2.0.0"}}).result["devicePublicKey"];
  Reply reply = kit.call("genKey");
  ASSERT_FALSE(reply.error) << reply.error->message;
  EXPECT_NE(reply.result["devicePublicKey"], before);
  EXPECT_EQ(reply.result["devicePublicKey"], to_hex_upper(*kit.device->public_key(0)));
}

}  // namespace
}  // namespace zt::kit
