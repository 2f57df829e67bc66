#include "cli/kit_claim.hpp"

#include <fmt/format.h>

#include "common/hex.hpp"
#include "crypto/x509.hpp"
#include "kit/pc_tools.hpp"
#include "kit/provisioning_handler.hpp"

namespace zt::cli {

using nlohmann::json;

Result<ClaimProvisionReport> provision_claim(kit::KitClient& kit, aws::IotClient& iot,
                                             const ClaimProvisionOptions& options) {
  ClaimProvisionReport report;
  auto say = [&report](std::string line) { report.lines.push_back(std::move(line)); };
  ZT_TRY_ASSIGN(kit::WifiCredentials wifi, kit::load_wifi(options.dir));
  say("Initializing kit");
  ZT_TRY_ASSIGN(json identity, kit.call("init", {{"version", kit::kProtocolVersion}}));
  if (!identity.is_object() || !identity.contains("deviceSn") || !identity["deviceSn"].is_string())
    return make_error(Errc::parse, "init: the kit's reply lacks deviceSn");
  report.device_sn = identity["deviceSn"].get<std::string>();
  say("    ATECC508A SN: " + report.device_sn);

  say("Requesting a CSR for the claim key (slot 0, signed inside the ATECC508A)");
  ZT_TRY_ASSIGN(json csr_reply, kit.call("genCsr"));
  if (!csr_reply.is_object() || !csr_reply.contains("csr") || !csr_reply["csr"].is_string())
    return make_error(Errc::parse, "genCsr: the kit's reply lacks csr");
  ZT_TRY_ASSIGN(Bytes csr_der,
                with_context(from_hex(csr_reply["csr"].get<std::string>()), "genCsr: csr"));
  ZT_TRY_ASSIGN(auto csr, crypto::csr_from_der(csr_der, "the kit's CSR"));
  ZT_TRY(with_context(crypto::verify_csr_signature(csr.get(), "the kit's CSR"),
                      "the kit's CSR signature is invalid"));
  ZT_TRY_ASSIGN(std::string csr_pem, crypto::csr_to_pem(csr.get()));

  say("CreateCertificateFromCsr (setAsActive): the claim certificate");
  json request{{"certificateSigningRequest", csr_pem}};
  ZT_TRY_ASSIGN(json created,
                with_context(iot.call("POST", "/certificates", "setAsActive=true", &request),
                             "CreateCertificateFromCsr"));
  const std::string arn = created.value("certificateArn", "");
  report.claim_certificate_id = created.value("certificateId", "");
  ZT_TRY_ASSIGN(auto certificate,
                crypto::certificate_from_pem(created.value("certificatePem", ""),
                                             "CreateCertificateFromCsr's certificatePem"));
  ZT_TRY_ASSIGN(Bytes certificate_der, crypto::certificate_to_der(certificate.get()));
  say("    certificate " + report.claim_certificate_id);

  say(fmt::format("AttachPolicy {} to the claim certificate", options.claim_policy));
  json target{{"target", arn}};
  ZT_TRY(with_context(iot.call("PUT", "/target-policies/" + options.claim_policy, {}, &target),
                      "AttachPolicy " + options.claim_policy));

  ZT_TRY_ASSIGN(std::string endpoint,
                with_context(iot.describe_endpoint("iot:Data-ATS"), "DescribeEndpoint"));
  say(fmt::format("Storing the claim in the kit (template {}, endpoint {})", options.template_name,
                  endpoint));
  ZT_TRY(kit.call("saveClaim", {{"hostName", endpoint},
                                {"claimCert", to_hex_upper(certificate_der)},
                                {"templateName", options.template_name}}));
  say("Sending Wi-Fi credentials for SSID " + wifi.ssid);
  ZT_TRY(kit.call("setWifi", {{"ssid", wifi.ssid}, {"psk", wifi.password}}));
  say("Done: the kit connects with its claim and provisions itself.");
  return report;
}

}  // namespace zt::cli
