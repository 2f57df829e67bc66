// `ztp cloud simulate-jitr`: N devices of a registered CA put through what JITR records, without
// N TLS connections — for trying the console's fleet view (and its browser test) with a large
// fleet in seconds. Each device gets a freshly issued certificate of the CA (a real P-256 key,
// discarded: these devices never connect) and the same registry rows the built-in JITR function
// writes — certificate PENDING_ACTIVATION, thing of type microchip-zero-touch-kit named by the SKI,
// policy ZTPolicy_<certificateId>, both attached, certificate ACTIVE — so the registry triggers
// record the same timeline a real JITR device gets, plus a registration-event row saying it was
// simulated. 50 devices per transaction: one commit per batch. Writes the registry directly
// (SQLite WAL: safe while `ztp cloud run` serves the same state directory).
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "broker/trust.hpp"
#include "cli/commands.hpp"
#include "cloud/api/handler_util.hpp"
#include "cloud/events/recorder.hpp"
#include "cloud/jitr/jitr_function.hpp"
#include "cloud/state.hpp"
#include "common/hex.hpp"
#include "common/time.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "pki/device_issuer.hpp"

namespace zt::cli {
namespace {

struct SimulateOptions {
  std::string state_dir;
  std::string ca_cert;
  std::string ca_key;
  int count = 100;
};

// Small batches: each holds SQLite's write lock, which a running cloud's writers wait for (busy
// timeout 5 s).
constexpr int kBatch = 50;

Status simulate_jitr(const SimulateOptions& options) {
  if (options.count < 1 || options.count > 1000000)
    return make_error(Errc::invalid_argument,
                      "--count " + std::to_string(options.count) + " is not in 1..1000000");
  if (!std::filesystem::exists(std::filesystem::path(options.state_dir) / "registry.db")) {
    return make_error(Errc::not_found, "no local cloud in '" + options.state_dir + "'");
  }
  ZT_TRY_ASSIGN(auto state, cloud::open_cloud_state(options.state_dir, "us-east-1"));
  ZT_TRY_ASSIGN(auto ca, crypto::load_certificate(options.ca_cert));
  ZT_TRY_ASSIGN(auto ca_key, crypto::load_private_key(options.ca_key));
  ZT_TRY_ASSIGN(std::string ca_id, cloud::broker::certificate_id(ca.get()));
  auto& registry = *state.registry;
  ZT_TRY_ASSIGN(auto registered, registry.find_ca(ca_id));
  if (!registered) {
    return make_error(Errc::not_found, "CA " + options.ca_cert + " (" + ca_id +
                                           ") is not registered in this cloud (ztp ca register)");
  }
  ZT_TRY_ASSIGN(auto issuer, pki::DeviceCertificateIssuer::create(ca.get(), ca_key.get()));
  ZT_TRY_ASSIGN(auto subject, crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}}));
  ZT_TRY(registry.transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto type, registry.find_thing_type(cloud::jitr::kThingTypeName));
    if (type) return ok();
    return registry.insert_thing_type({.name = cloud::jitr::kThingTypeName,
                                       .id = cloud::api::new_uuid(),
                                       .properties = "{}",
                                       .creation_date = cloud::api::now_seconds()});
  }));
  std::string arn_prefix = "arn:aws:iot:" + state.region + ":" + state.account_id + ":cert/";
  auto started = std::chrono::steady_clock::now();
  for (int done = 0; done < options.count;) {
    int batch = std::min(kBatch, options.count - done);
    ZT_TRY(registry.transaction([&]() -> Status {
      for (int i = 0; i < batch; ++i) {
        ZT_TRY_ASSIGN(auto key, crypto::generate_p256_key());
        ZT_TRY_ASSIGN(auto csr,
                      crypto::build_csr({.subject = subject.get(), .extensions = {}}, key.get()));
        int64_t now = unix_now();
        ZT_TRY_ASSIGN(auto certificate, issuer.issue(csr.get(), now));
        ZT_TRY_ASSIGN(std::string id, cloud::broker::certificate_id(certificate.get()));
        ZT_TRY_ASSIGN(std::string pem, crypto::certificate_to_pem(certificate.get()));
        ZT_TRY_ASSIGN(auto ski, crypto::subject_key_identifier(certificate.get()));
        ZT_TRY_ASSIGN(auto not_before, crypto::certificate_not_before(certificate.get()));
        ZT_TRY_ASSIGN(auto not_after, crypto::certificate_not_after(certificate.get()));
        std::string thing = to_hex(ski);
        std::string policy = cloud::jitr::kPolicyPrefix + id;
        double seconds = cloud::api::now_seconds();
        ZT_TRY(registry.insert_certificate({.id = id,
                                            .pem = pem,
                                            .ca_id = ca_id,
                                            .status = cloud::registry::kPendingActivation,
                                            .certificate_mode = "DEFAULT",
                                            .creation_date = seconds,
                                            .last_modified = seconds,
                                            .customer_version = 1,
                                            .generation_id = cloud::api::new_uuid(),
                                            .not_before = not_before,
                                            .not_after = not_after}));
        ZT_TRY(cloud::events::insert_events(
            registry, {{.time_us = cloud::events::now_us(),
                        .certificate_id = id,
                        .thing_name = {},
                        .kind = cloud::events::kRegistrationEvent,
                        .detail = "simulated by ztp cloud simulate-jitr (no MQTT connection)",
                        .client_id = {}}}));
        ZT_TRY(registry.insert_thing({.name = thing,
                                      .id = cloud::api::new_uuid(),
                                      .type_name = std::string(cloud::jitr::kThingTypeName),
                                      .attributes = "{}",
                                      .version = 1}));
        ZT_TRY(registry.insert_policy(
            policy, cloud::jitr::zero_touch_policy_document(state.region, state.account_id, thing),
            seconds, cloud::api::new_uuid()));
        ZT_TRY(registry.attach_policy(policy, arn_prefix + id));
        ZT_TRY(registry.attach_thing_principal(thing, arn_prefix + id, "NON_EXCLUSIVE_THING"));
        ZT_TRY(registry.update_certificate_status(id, cloud::registry::kActive));
      }
      return ok();
    }));
    done += batch;
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
  fmt::print("simulated JITR of {} devices of CA {} in {:.2f} s\n", options.count, ca_id,
             elapsed.count());
  return ok();
}

}  // namespace

void register_cloud_fleet_commands(CLI::App& cloud) {
  auto options = std::make_shared<SimulateOptions>();
  auto* simulate = cloud.add_subcommand(
      "simulate-jitr",
      "Register N new devices of a registered CA as JITR would, without connecting them (fleet "
      "view load tests)");
  simulate->add_option("--state-dir", options->state_dir, "State directory of the local cloud")
      ->required();
  simulate->add_option("--ca-cert", options->ca_cert, "The registered CA (e.g. signer-ca.crt)")
      ->required();
  simulate->add_option("--ca-key", options->ca_key, "Its private key (e.g. signer-ca.key)")
      ->required();
  simulate->add_option("--count", options->count, "How many devices")->capture_default_str();
  simulate->callback(run_command([options] { return simulate_jitr(*options); }));
}

}  // namespace zt::cli
