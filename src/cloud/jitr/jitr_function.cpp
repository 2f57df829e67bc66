#include "cloud/jitr/jitr_function.hpp"

#include "common/hex.hpp"
#include "crypto/x509.hpp"

namespace zt::cloud::jitr {

namespace {

using nlohmann::json;

Status tolerate_existing(Status status) {
  if (!status && status.error().code == Errc::already_exists) return ok();
  return status;
}

bool is_certificate_id(const std::string& id) {
  return id.size() == 64 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string zero_touch_policy_document(const std::string& region, const std::string& account_id,
                                       const std::string& thing_name) {
  std::string arn = "arn:aws:iot:" + region + ":" + account_id + ":";
  json policy{
      {"Version", "2012-10-17"},
      {"Statement",
       json::array({
           {{"Effect", "Allow"},
            {"Action", json::array({"iot:Connect"})},
            {"Resource", json::array({arn + "client/" + thing_name})}},
           {{"Effect", "Allow"},
            {"Action", json::array({"iot:Publish", "iot:Receive"})},
            {"Resource", json::array({arn + "topic/${iot:ClientId}/*",
                                      arn + "topic/$aws/things/${iot:ClientId}/shadow/*",
                                      arn + "topic/$aws/things/${iot:ClientId}/jobs/*"})}},
           {{"Effect", "Allow"},
            {"Action", json::array({"iot:Subscribe"})},
            {"Resource", json::array({arn + "topicfilter/${iot:ClientId}/#",
                                      arn + "topicfilter/$aws/things/${iot:ClientId}/shadow/*",
                                      arn + "topicfilter/$aws/things/${iot:ClientId}/jobs/*"})}},
           {{"Effect", "Allow"},
            {"Action", json::array({"iot:UpdateThingShadow", "iot:GetThingShadow"})},
            {"Resource", json::array({arn + "thing/${iot:ClientId}"})}},
       })}};
  return policy.dump();
}

void RecentKeyIds::note(const std::string& certificate_id, std::string key_id_hex) {
  std::lock_guard lock(mutex_);
  if (!by_id_.insert_or_assign(certificate_id, std::move(key_id_hex)).second) return;
  order_.push_back(certificate_id);
  if (order_.size() > kMaxEntries) {
    by_id_.erase(order_.front());
    order_.pop_front();
  }
}

std::optional<std::string> RecentKeyIds::find(const std::string& certificate_id) const {
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(certificate_id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

Result<Registration> register_device(const json& event, const std::string& region,
                                     ControlPlane& plane, const RecentKeyIds* recent) {
  if (!event.is_object())
    return make_error(Errc::invalid_argument, "JITR event is not a JSON object");
  auto field = [&](const char* name) -> std::string {
    return event.contains(name) && event[name].is_string() ? event[name].get<std::string>()
                                                           : std::string();
  };
  std::string certificate_id = field("certificateId");
  std::string account_id = field("awsAccountId");
  if (!is_certificate_id(certificate_id)) {
    return make_error(Errc::invalid_argument,
                      "JITR event has no valid certificateId (64 lowercase hex characters)");
  }
  if (account_id.empty())
    return make_error(Errc::invalid_argument, "JITR event has no awsAccountId");

  ZT_TRY_ASSIGN(auto description,
                with_context(plane.describe_certificate(certificate_id), "DescribeCertificate"));
  if (description.status != kPendingActivation) {
    return make_error(Errc::conflict, "certificate " + certificate_id + " is " +
                                          description.status +
                                          ", not PENDING_ACTIVATION: nothing to register");
  }
  std::optional<std::string> thing_name = recent ? recent->find(certificate_id) : std::nullopt;
  if (!thing_name) {
    ZT_TRY_ASSIGN(crypto::X509Ptr certificate,
                  crypto::certificate_from_pem(description.pem, "certificate " + certificate_id));
    auto ski = crypto::subject_key_identifier(certificate.get());
    if (!ski) {
      return make_error(Errc::invalid_argument,
                        "certificate " + certificate_id +
                            " has no SubjectKeyIdentifier; the thing name is derived from it");
    }
    thing_name = to_hex(*ski);
  }
  Registration registration{certificate_id, *thing_name, kPolicyPrefix + certificate_id};
  std::string principal = "arn:aws:iot:" + region + ":" + account_id + ":cert/" + certificate_id;

  ZT_TRY(
      with_context(tolerate_existing(plane.create_thing_type(kThingTypeName)), "CreateThingType"));
  ZT_TRY(
      with_context(tolerate_existing(plane.create_thing(registration.thing_name, kThingTypeName)),
                   "CreateThing"));
  ZT_TRY(with_context(tolerate_existing(plane.create_policy(
                          registration.policy_name,
                          zero_touch_policy_document(region, account_id, registration.thing_name))),
                      "CreatePolicy"));
  ZT_TRY(with_context(plane.attach_principal_policy(registration.policy_name, principal),
                      "AttachPrincipalPolicy"));
  ZT_TRY(with_context(plane.attach_thing_principal(registration.thing_name, principal),
                      "AttachThingPrincipal"));
  ZT_TRY(with_context(plane.activate_certificate(certificate_id), "UpdateCertificate"));
  return registration;
}

}  // namespace zt::cloud::jitr
