// `ztp ca register`: the seed's aws_register_signer. GetRegistrationCode → verification
// certificate (CN = code, the signer CA's own key, signed by it) → RegisterCACertificate
// (setAsActive, allowAutoRegistration) → DescribeCACertificate → DescribeEndpoint(iot:Data-ATS)
// → kit-info.json. Signs with SigV4 itself; credentials/region/endpoint like the AWS CLI, so the
// same command works against the local cloud (--endpoint-url) and real AWS IoT.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "aws/iot_client.hpp"
#include "cli/commands.hpp"
#include "cli/steps.hpp"
#include "common/file.hpp"
#include "common/hex.hpp"
#include "common/host_names.hpp"
#include "common/time.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "pki/ca_directory.hpp"

namespace zt::cli {
namespace {

Result<nlohmann::json> read_kit_info(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) return nlohmann::json::object();
  ZT_TRY_ASSIGN(std::string text, read_text_file(path, 1 << 20));
  auto info = nlohmann::json::parse(text, nullptr, false);
  if (info.is_discarded() || !info.is_object()) {
    return make_error(Errc::parse, path.string() + " is not a JSON object");
  }
  return info;
}

}  // namespace

Status ca_register(const CaRegisterOptions& options) {
  std::filesystem::path dir = options.dir;
  ZT_TRY_ASSIGN(pki::SignerCa signer, pki::load_signer_ca(dir, options.key));
  ZT_TRY_ASSIGN(aws::ClientConfig config,
                aws::load_client_config({options.profile, options.region, options.endpoint_url}));
  aws::IotClient iot(config);
  fmt::print("AWS IoT endpoint {} (region {}, profile {})\n", iot.endpoint(), config.region,
             config.profile);

  ZT_TRY_ASSIGN(std::string code, with_context(iot.get_registration_code(), "GetRegistrationCode"));
  fmt::print("registration code {}\n", code);
  // The seed's form (kit.md): CN = code, the signer's own public key, signed by the signer key;
  // written to signer-ca-verification.crt.
  ZT_TRY_ASSIGN(pki::CaReport verification,
                pki::ca_create_verification({.dir = dir, .key = options.key, .force = true}, code));
  ZT_TRY_ASSIGN(std::string verification_pem,
                crypto::certificate_to_pem(verification.certificate.get()));
  ZT_TRY_ASSIGN(std::string signer_pem, crypto::certificate_to_pem(signer.certificate.get()));

  std::string ca_id;
  auto registered = iot.register_ca_certificate(signer_pem, verification_pem, true, true);
  if (registered) {
    ca_id = registered->certificate_id;
    fmt::print("registered signer CA {}\n", ca_id);
  } else if (registered.error().code == Errc::already_exists) {
    // Already registered (a re-run): make sure it is ACTIVE with auto-registration.
    ZT_TRY_ASSIGN(Bytes der, crypto::certificate_to_der(signer.certificate.get()));
    ca_id = to_hex(crypto::sha256(der));
    ZT_TRY(with_context(iot.call("PUT", "/cacertificate/" + ca_id,
                                 "newAutoRegistrationStatus=ENABLE&newStatus=ACTIVE"),
                        "UpdateCACertificate"));
    fmt::print("signer CA {} was already registered; set ACTIVE with auto-registration\n", ca_id);
  } else {
    return with_context(std::move(registered), "RegisterCACertificate").error();
  }
  ZT_TRY_ASSIGN(auto description,
                with_context(iot.describe_ca_certificate(ca_id), "DescribeCACertificate"));
  ZT_TRY_ASSIGN(std::string endpoint,
                with_context(iot.describe_endpoint("iot:Data-ATS"), "DescribeEndpoint"));
  fmt::print("endpoint address {}\n", endpoint);
  // The kit maps *.localhost itself; other clients (mosquitto, AWS's device SDKs) need this
  // machine's resolver to answer the name. Checked in local files only (no DNS query).
  if (is_localhost_name(endpoint) && !resolves_locally(endpoint)) {
    fmt::print("note: {}\n", unresolved_name_hint(endpoint));
  }

  ZT_TRY_ASSIGN(auto kit_info, read_kit_info(dir / "kit-info.json"));
  kit_info["endpointAddress"] = endpoint;
  kit_info["certificateDescription"] =
      description.value("certificateDescription", nlohmann::json::object());
  ZT_TRY(write_file_atomic(dir / "kit-info.json", kit_info.dump(4) + "\n", 0600));
  fmt::print("wrote {}\n", (dir / "kit-info.json").string());
  return ok();
}

void register_ca_register_command(CLI::App& app) {
  CLI::App* ca = nullptr;
  try {
    ca = app.get_subcommand("ca");
  } catch (const CLI::OptionNotFound&) {
    ca = app.add_subcommand("ca", "Factory PKI: root and signer CAs, registration with AWS IoT");
    ca->require_subcommand(1);
  }
  auto options = std::make_shared<CaRegisterOptions>();
  auto* reg = ca->add_subcommand("register",
                                 "Register the signer CA with AWS IoT (active, auto-registration) "
                                 "and write kit-info.json");
  reg->add_option("--dir", options->dir, "Working directory with signer-ca.crt/.key")
      ->capture_default_str();
  reg->add_option("--endpoint-url", options->endpoint_url, "AWS IoT endpoint (default: real AWS)");
  reg->add_option("--region", options->region, "Region (default: AWS_REGION / profile)");
  reg->add_option("--profile", options->profile, "Profile in ~/.aws/credentials and config");
  reg->add_option("--key", options->key,
                  "Signer CA key: PEM file or pkcs11: URI (default <dir>/signer-ca.key)");
  reg->callback(run_command([options] { return ca_register(*options); }));
}

}  // namespace zt::cli
