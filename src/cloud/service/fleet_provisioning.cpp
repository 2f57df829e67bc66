#include "cloud/service/fleet_provisioning.hpp"

#include <spdlog/spdlog.h>

#include "cloud/api/certificate_util.hpp"
#include "common/bytes.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"

namespace zt::cloud::service {
namespace {

using fleet::Rejection;
using nlohmann::json;

Rejection internal_failure(std::string_view what) {
  return Rejection{.status_code = 500,
                   .error_code = "InternalFailure",
                   .error_message = "An internal error occurred (" + std::string(what) + ")."};
}

std::string short_id(const std::string& certificate_id) { return certificate_id.substr(0, 12); }

}  // namespace

FleetProvisioning::FleetProvisioning(registry::Registry& registry, Issuer issuer,
                                     FindTemplate find_template, Provision provision,
                                     events::EventRecorder* recorder, SteadyClock clock)
    : registry_(registry),
      issuer_(std::move(issuer)),
      find_template_(std::move(find_template)),
      provision_(std::move(provision)),
      recorder_(recorder),
      tokens_(std::move(clock)) {}

std::optional<Outgoing> FleetProvisioning::handle(std::string_view topic,
                                                  std::span<const uint8_t> payload,
                                                  const std::string& principal,
                                                  const std::string& client_id) {
  auto request = fleet::parse_request_topic(topic);
  if (!request) return std::nullopt;
  delete_abandoned();
  Answer answer = [&]() -> Answer {
    auto decoded = fleet::decode_request(request->format, payload);
    if (auto* rejection = std::get_if<Rejection>(&decoded)) return *rejection;
    const json& body = std::get<json>(decoded);
    switch (request->operation) {
      case fleet::Operation::create_keys_and_certificate:
        return create_keys_and_certificate(principal, client_id);
      case fleet::Operation::create_certificate_from_csr:
        return create_certificate_from_csr(body, principal, client_id);
      case fleet::Operation::register_thing:
        return register_thing(request->template_name, body, principal, client_id);
    }
    return internal_failure("unknown operation");
  }();
  Outgoing out;
  if (auto* accepted = std::get_if<json>(&answer)) {
    out.topic = request->topic + "/accepted";
    out.payload = fleet::encode_response(request->format, *accepted);
    // The accepted body of CreateKeysAndCertificate holds the private key: wipe our copy.
    if (accepted->contains("privateKey")) {
      auto& key = (*accepted)["privateKey"].get_ref<std::string&>();
      secure_zero(key.data(), key.size());
    }
  } else {
    const auto& rejection = std::get<Rejection>(answer);
    spdlog::info("fleet provisioning: {} from {} rejected: {} {}", request->topic, client_id,
                 rejection.error_code, rejection.error_message);
    out.topic = request->topic + "/rejected";
    out.payload = fleet::encode_response(request->format, fleet::rejection_body(rejection));
  }
  return out;
}

FleetProvisioning::Answer FleetProvisioning::store_with_token(const EVP_PKEY* public_key,
                                                              const std::string& principal,
                                                              const std::string& client_id) {
  api::ServiceContext context{.registry = registry_,
                              .account_id = issuer_.account_id,
                              .region = issuer_.region,
                              .endpoint_prefix = {},
                              .issuer_cert = issuer_.certificate,
                              .issuer_key = issuer_.key};
  auto certificate = api::issue_cloud_certificate(context, public_key);
  if (!certificate) {
    spdlog::error("fleet provisioning: issuing a certificate: {}", certificate.error().message);
    return internal_failure("issuing the certificate");
  }
  double now = unix_now_seconds();
  registry::Certificate record{.id = certificate->id,
                               .pem = certificate->pem,
                               .ca_id = std::nullopt,
                               .status = registry::kPendingActivation,
                               .certificate_mode = "DEFAULT",
                               .creation_date = now,
                               .last_modified = now,
                               .customer_version = 1,
                               .generation_id = api::generation_id(),
                               .not_before = certificate->not_before,
                               .not_after = certificate->not_after};
  if (Status stored = registry_.insert_certificate(record); !stored) {
    spdlog::error("fleet provisioning: storing certificate {}: {}", record.id,
                  stored.error().message);
    return internal_failure("storing the certificate");
  }
  auto token = tokens_.issue(record.id, principal);
  if (!token) {
    (void)registry_.delete_certificate(record.id);
    return Rejection{.status_code = 429,
                     .error_code = "Throttling",
                     .error_message = "Too many certificate ownership tokens are outstanding."};
  }
  if (recorder_) {
    recorder_->record(record.id, events::kOwnershipTokenIssued,
                      "certificate created PENDING_ACTIVATION for client " + client_id +
                          " (claim certificate " + short_id(principal) + "…); token valid 1 h",
                      client_id);
  }
  return json{{"certificateId", record.id},
              {"certificatePem", record.pem},
              {"certificateOwnershipToken", std::move(*token)}};
}

FleetProvisioning::Answer FleetProvisioning::create_keys_and_certificate(
    const std::string& principal, const std::string& client_id) {
  // A P-256 key, as the REST CreateKeysAndCertificate here makes (docs/fleet-provisioning.md: AWS
  // makes RSA 2048; the kit's ATECC508A can only hold a P-256 key in a slot).
  auto key = crypto::generate_p256_key();
  if (!key) return internal_failure("generating a key pair");
  auto private_pem = crypto::private_key_to_pem(key->get());
  if (!private_pem) return internal_failure("encoding the key pair");
  Answer answer = store_with_token(key->get(), principal, client_id);
  if (auto* body = std::get_if<json>(&answer)) (*body)["privateKey"] = *private_pem;
  secure_zero(private_pem->data(), private_pem->size());
  return answer;
}

FleetProvisioning::Answer FleetProvisioning::create_certificate_from_csr(
    const json& payload, const std::string& principal, const std::string& client_id) {
  auto request = fleet::read_csr_request(payload);
  if (auto* rejection = std::get_if<Rejection>(&request)) return *rejection;
  const std::string& pem = std::get<fleet::CsrRequest>(request).certificate_signing_request;
  auto csr = crypto::csr_from_pem(pem, "certificateSigningRequest");
  if (!csr || !crypto::verify_csr_signature(csr->get(), "certificateSigningRequest")) {
    return Rejection{.status_code = 400,
                     .error_code = "InvalidPayload",
                     .error_message =
                         "certificateSigningRequest is not a valid, self-signed PEM "
                         "certificate signing request."};
  }
  auto public_key = crypto::csr_public_key(csr->get());
  if (!public_key) {
    return Rejection{.status_code = 400,
                     .error_code = "InvalidPayload",
                     .error_message = "The CSR's public key is not supported."};
  }
  return store_with_token(public_key->get(), principal, client_id);
}

FleetProvisioning::Answer FleetProvisioning::register_thing(const std::string& template_name,
                                                            const json& payload,
                                                            const std::string& principal,
                                                            const std::string& client_id) {
  auto request = fleet::read_register_thing_request(payload);
  if (auto* rejection = std::get_if<Rejection>(&request)) return *rejection;
  auto& call = std::get<fleet::RegisterThingRequest>(request);

  auto found = find_template_(template_name);
  if (!found) {
    spdlog::error("fleet provisioning: reading template {}: {}", template_name,
                  found.error().message);
    return internal_failure("reading the template");
  }
  if (!*found || !(*found)->enabled) {
    // A disabled template provisions nothing (CreateProvisioningTemplate "enabled").
    return Rejection{.status_code = 404,
                     .error_code = "ResourceNotFound",
                     .error_message = *found
                                          ? "The template " + template_name + " is disabled."
                                          : "The template " + template_name + " does not exist."};
  }

  auto consumed = tokens_.consume(call.certificate_ownership_token, principal);
  if (auto* refusal = std::get_if<fleet::OwnershipTokens::Refusal>(&consumed)) {
    Rejection rejection{.status_code = 400,
                        .error_code = "InvalidCertificateOwnershipToken",
                        .error_message = fleet::OwnershipTokens::message(*refusal)};
    if (recorder_) {
      recorder_->record(principal, events::kRegisterThingRejected,
                        rejection.error_code + ": " + rejection.error_message, client_id);
    }
    return rejection;
  }
  const auto& grant = std::get<fleet::OwnershipTokens::Grant>(consumed);
  if (recorder_) {
    recorder_->record(grant.certificate_id, events::kOwnershipTokenConsumed,
                      "RegisterThing with template " + template_name + " by client " + client_id,
                      client_id);
  }

  json parameters = json::object();
  for (const auto& [key, value] : call.parameters) parameters[key] = value;
  provisioning::ProvisionRequest provision{.template_body = (*found)->body,
                                           .template_name = template_name,
                                           .pre_provisioning_hook = (*found)->pre_provisioning_hook,
                                           .parameters = std::move(parameters),
                                           .certificate_id = grant.certificate_id,
                                           .client_id = client_id};
  auto outcome = provision_(provision);
  if (auto* error = std::get_if<provisioning::ProvisioningError>(&outcome)) {
    Rejection rejection{
        .status_code = error->status, .error_code = error->code, .error_message = error->message};
    if (recorder_) {
      recorder_->record(grant.certificate_id, events::kRegisterThingRejected,
                        rejection.error_code + ": " + rejection.error_message, client_id);
    }
    return rejection;
  }
  auto& done = std::get<provisioning::ProvisionOutcome>(outcome);
  if (recorder_) {
    recorder_->record(grant.certificate_id, events::kRegisterThingAccepted,
                      "template " + template_name +
                          (done.thing_name.empty() ? "" : " provisioned thing " + done.thing_name),
                      client_id);
  }
  json body = {{"deviceConfiguration", done.device_configuration.is_object()
                                           ? done.device_configuration
                                           : json::object()}};
  if (!done.thing_name.empty()) body["thingName"] = done.thing_name;
  return body;
}

FleetProvisioning::FindTemplate stored_template_finder(registry::Registry& registry) {
  // Until the templates' registry lands: no stored template.
  (void)registry;
  return [](std::string_view) -> Result<std::optional<StoredTemplate>> { return std::nullopt; };
}

void FleetProvisioning::delete_abandoned() {
  for (const auto& grant : tokens_.take_expired()) {
    std::string arn = "arn:aws:iot:" + issuer_.region + ":" + issuer_.account_id + ":cert/" +
                      grant.certificate_id;
    Status deleted = registry_.transaction([&]() -> Status {
      ZT_TRY_ASSIGN(auto certificate, registry_.find_certificate(grant.certificate_id));
      if (!certificate || certificate->status != registry::kPendingActivation) return ok();
      ZT_TRY_ASSIGN(auto things, registry_.list_principal_things(arn, {.after = {}, .limit = 1}));
      ZT_TRY_ASSIGN(auto policies,
                    registry_.list_attached_policies(arn, {.after = {}, .limit = 1}));
      if (!things.items.empty() || !policies.items.empty()) return ok();
      spdlog::info("fleet provisioning: certificate {} deleted: its ownership token expired unused",
                   grant.certificate_id);
      return registry_.delete_certificate(grant.certificate_id);
    });
    if (!deleted) {
      spdlog::warn("fleet provisioning: deleting abandoned certificate {}: {}",
                   grant.certificate_id, deleted.error().message);
    }
  }
}

}  // namespace zt::cloud::service
