// Fleet provisioning by claim and by trusted user (AWS IoT developer guide, "Provisioning devices
// that don't have device certificates using fleet provisioning" and "Device provisioning MQTT
// API"): a device connected with a claim certificate asks for its own certificate
// (CreateKeysAndCertificate or CreateCertificateFromCsr), gets it with a certificateOwnershipToken,
// and calls RegisterThing with that token; the stored template (its default version, with its
// pre-provisioning hook) provisions the thing and activates the certificate. The device then
// reconnects with its new certificate.
//
// The wire format is fleet_provisioning_payload.hpp; the tokens fleet_provisioning_tokens.hpp; the
// template engine cloud/provisioning (the Provisioner). Answers go back on the connection that
// asked, only (AWS: "IoT Core Fleet Provisioning returns the device provisioning MQTT API results
// through the same MQTT connection used to publish the API request"), and never to the rules
// engine or the console's message taps: they carry a private key or a token.
//
// Certificates made here are PENDING_ACTIVATION until RegisterThing's template activates them
// (AWS: "The new certificate has a PENDING_ACTIVATION status. When you call RegisterThing to
// provision a thing with this certificate, the certificate status changes to ACTIVE or INACTIVE as
// described in the template."). One whose token expired unused, still pending and attached to
// nothing, is deleted, as AWS documents.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "cloud/events/recorder.hpp"
#include "cloud/provisioning/provisioner.hpp"
#include "cloud/registry/registry.hpp"
#include "cloud/service/fleet_provisioning_payload.hpp"
#include "cloud/service/fleet_provisioning_tokens.hpp"
#include "cloud/service/shadows.hpp"
#include "crypto/ossl.hpp"

namespace zt::cloud::service {

// What RegisterThing needs of a stored provisioning template.
struct StoredTemplate {
  std::string body;                   // the default version's template body
  std::string pre_provisioning_hook;  // Lambda ARN or ""
  bool enabled = true;
};

class FleetProvisioning {
 public:
  using FindTemplate =
      std::function<Result<std::optional<StoredTemplate>>(std::string_view template_name)>;
  using Provision =
      std::function<std::variant<provisioning::ProvisionOutcome, provisioning::ProvisioningError>(
          const provisioning::ProvisionRequest& request)>;

  struct Issuer {
    std::string account_id;
    std::string region;
    const X509* certificate = nullptr;  // the cloud's issuer (CreateKeysAndCertificate's)
    EVP_PKEY* key = nullptr;
  };

  FleetProvisioning(registry::Registry& registry, Issuer issuer, FindTemplate find_template,
                    Provision provision, events::EventRecorder* recorder,
                    SteadyClock clock = steady_now);

  // A client's PUBLISH: nullopt when `topic` is not one of this API's request topics; else the one
  // answer (…/accepted or …/rejected, in the request's payload format) for the connection that
  // published it, authenticated as certificate `principal`.
  std::optional<Outgoing> handle(std::string_view topic, std::span<const uint8_t> payload,
                                 const std::string& principal, const std::string& client_id);

  fleet::OwnershipTokens& tokens() { return tokens_; }

 private:
  using Answer = std::variant<nlohmann::json, fleet::Rejection>;
  Answer create_keys_and_certificate(const std::string& principal, const std::string& client_id);
  Answer create_certificate_from_csr(const nlohmann::json& payload, const std::string& principal,
                                     const std::string& client_id);
  Answer register_thing(const std::string& template_name, const nlohmann::json& payload,
                        const std::string& principal, const std::string& client_id);
  // Stores `pem`'s certificate PENDING_ACTIVATION and hands out its token: the accepted body
  // without privateKey.
  Answer store_with_token(const EVP_PKEY* public_key, const std::string& principal,
                          const std::string& client_id);
  // Deletes the certificates whose tokens expired unused (still pending, attached to nothing).
  void delete_abandoned();

  registry::Registry& registry_;
  Issuer issuer_;
  FindTemplate find_template_;
  Provision provision_;
  events::EventRecorder* recorder_;
  fleet::OwnershipTokens tokens_;
};

// The provisioning templates the registry stores (CreateProvisioningTemplate): a template's
// default version and its pre-provisioning hook.
FleetProvisioning::FindTemplate stored_template_finder(registry::Registry& registry);

}  // namespace zt::cloud::service
