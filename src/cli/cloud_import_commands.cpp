// `ztp cloud import-certificates --manifest FILE --root ROOT.pem`: multi-account registration of
// pre-provisioned secure elements (issue 15). A manifest as Microchip delivers one with Trust&GO
// parts (pki/manifest.hpp) lists each part's device certificate and the signer certificate that
// issued it; each entry is verified (the manifest's signature when --manifest-signer is given, the
// chain to --root, the listed key) before its certificate is registered with
// RegisterCertificateWithoutCA (ACTIVE; AWS then admits the device only with SNI). Optionally a
// thing named by the part's serial number is created and attached, and a policy attached, as
// Microchip's Trust&GO guide for AWS IoT does per part. One line per part, then a summary; the exit
// status is non-zero when any part was refused. Talks to the control plane with SigV4 like the
// AWS CLI, so the same command imports into the local cloud (--endpoint-url) or real AWS IoT.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "aws/iot_client.hpp"
#include "cli/commands.hpp"
#include "common/file.hpp"
#include "crypto/x509.hpp"
#include "pki/manifest.hpp"

namespace zt::cli {
namespace {

struct ImportOptions {
  std::string manifest;
  std::vector<std::string> roots;
  std::string manifest_signer;
  std::string policy;
  bool create_things = false;
  std::optional<std::string> endpoint_url;
  std::optional<std::string> region;
  std::optional<std::string> profile;
};

struct Tally {
  int registered = 0, existing = 0, refused = 0;
};

// Registers one verified part; "" or what went wrong.
Result<std::string> register_part(aws::IotClient& iot, const ImportOptions& options,
                                  const pki::ManifestEntry& entry) {
  ZT_TRY_ASSIGN(auto device, crypto::certificate_from_der(entry.chain.front()));
  ZT_TRY_ASSIGN(std::string pem, crypto::certificate_to_pem(device.get()));
  nlohmann::json body = {{"certificatePem", pem}, {"status", "ACTIVE"}};
  ZT_TRY_ASSIGN(nlohmann::json answer, iot.call("POST", "/certificate/register-no-ca", {}, &body));
  std::string arn = answer.value("certificateArn", "");
  std::string id = answer.value("certificateId", "");
  if (options.create_things) {
    nlohmann::json thing = nlohmann::json::object();
    ZT_TRY(iot.call("POST", "/things/" + entry.unique_id, {}, &thing));
    ZT_TRY(iot.call("PUT", "/things/" + entry.unique_id + "/principals", {}, nullptr,
                    {{"x-amzn-principal", arn}}));
  }
  if (!options.policy.empty()) {
    nlohmann::json target = {{"target", arn}};
    ZT_TRY(iot.call("PUT", "/target-policies/" + options.policy, {}, &target));
  }
  return id;
}

Status import_certificates(const ImportOptions& options) {
  ZT_TRY_ASSIGN(std::string text, read_text_file(options.manifest, pki::kMaxManifestBytes));
  ZT_TRY_ASSIGN(auto entries, with_context(pki::parse_manifest(text), options.manifest));
  pki::ManifestTrust trust;
  for (const auto& root : options.roots) {
    ZT_TRY_ASSIGN(std::string pem, read_text_file(root, 1 << 20));
    ZT_TRY_ASSIGN(auto certificates, crypto::certificates_from_pem(pem, root));
    for (auto& certificate : certificates) trust.roots.push_back(std::move(certificate));
  }
  crypto::X509Ptr signer;
  if (!options.manifest_signer.empty()) {
    ZT_TRY_ASSIGN(signer, crypto::load_certificate(options.manifest_signer));
    trust.manifest_signer = signer.get();
  }
  ZT_TRY_ASSIGN(aws::ClientConfig config,
                aws::load_client_config({options.profile, options.region, options.endpoint_url}));
  aws::IotClient iot(config);
  fmt::print("{}: {} part(s); registering without a CA at {}\n", options.manifest, entries.size(),
             iot.endpoint());
  Tally tally;
  for (const auto& entry : entries) {
    std::string name =
        entry.unique_id.empty() ? fmt::format("entry {}", entry.index) : entry.unique_id;
    if (Status verified = pki::verify_manifest_entry(entry, trust); !verified) {
      fmt::print("{}  refused: {}\n", name, verified.error().message);
      ++tally.refused;
      continue;
    }
    auto registered = register_part(iot, options, entry);
    if (registered) {
      fmt::print("{}  registered {}\n", name, *registered);
      ++tally.registered;
    } else if (registered.error().code == Errc::already_exists) {
      fmt::print("{}  already registered\n", name);
      ++tally.existing;
    } else {
      fmt::print("{}  refused: {}\n", name, registered.error().message);
      ++tally.refused;
    }
  }
  fmt::print("{} registered, {} already registered, {} refused\n", tally.registered, tally.existing,
             tally.refused);
  if (tally.refused > 0)
    return make_error(Errc::invalid_argument,
                      fmt::format("{} of {} part(s) refused", tally.refused, entries.size()));
  return ok();
}

}  // namespace

void register_import_certificates_command(CLI::App& cloud) {
  auto options = std::make_shared<ImportOptions>();
  auto* command = cloud.add_subcommand(
      "import-certificates",
      "Register pre-provisioned devices' certificates without a CA (multi-account registration) "
      "from a secure-element manifest, each chain verified first");
  command->add_option("--manifest", options->manifest, "Manifest (Trust&GO JSON)")->required();
  command
      ->add_option("--root", options->roots,
                   "PEM file of the root(s) the signer certificates must chain to")
      ->required();
  command->add_option("--manifest-signer", options->manifest_signer,
                      "Certificate that signed the manifest: check each entry's signature");
  command->add_option("--policy", options->policy, "Attach this IoT policy to each certificate");
  command->add_flag("--create-things", options->create_things,
                    "Create a thing named by each part's serial number (uniqueId) and attach it");
  command->add_option("--endpoint-url", options->endpoint_url, "AWS IoT endpoint (default: AWS)");
  command->add_option("--region", options->region, "Region (default: AWS_REGION / profile)");
  command->add_option("--profile", options->profile, "Profile in ~/.aws/credentials and config");
  command->callback(run_command([options] { return import_certificates(*options); }));
}

}  // namespace zt::cli
