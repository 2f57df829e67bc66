// The demo's steps for the provisioning paths other than the seed's JITR (cli/demo_steps.hpp):
// each cloud-side step goes through the same IoT and IAM APIs as the aws CLI line it prints.
#include <fmt/format.h>

#include "aws/iam_client.hpp"
#include "cli/demo_steps.hpp"
#include "cli/kit_claim.hpp"
#include "cli/secret_input.hpp"
#include "cli/steps.hpp"
#include "common/file.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "crypto/x509.hpp"
#include "kit/emulated_kit.hpp"
#include "kit/host_link.hpp"
#include "kit/pc_tools.hpp"
#include "pki/ca_directory.hpp"

namespace zt::cli::demo_detail {

namespace {

constexpr const char* kTemplateName = "KitFleet";
constexpr const char* kClaimPolicy = "KitClaimPolicy";
constexpr const char* kDevicePolicy = "KitDevicePolicy";

// A second run finds what the first made: "already exists" is not a failure of the demo.
Status allow_existing(Status status) {
  if (!status && (status.error().code == Errc::already_exists ||
                  status.error().message.find("AlreadyExists") != std::string::npos)) {
    return ok();
  }
  return status;
}

Status ignore_result(Result<json> result) {
  if (!result) return std::move(result).error();
  return ok();
}

// The final identity's policy: connect as the thing the certificate is attached to, its own
// shadow topics only (AWS IoT policy variables).
std::string device_policy_document() {
  const std::string thing = "${iot:Connection.Thing.ThingName}";
  return json{
      {"Version", "2012-10-17"},
      {"Statement",
       json::array(
           {{{"Effect", "Allow"},
             {"Action", "iot:Connect"},
             {"Resource", "arn:aws:iot:*:*:client/" + thing}},
            {{"Effect", "Allow"},
             {"Action", json::array({"iot:Publish", "iot:Receive"})},
             {"Resource", "arn:aws:iot:*:*:topic/$aws/things/" + thing + "/shadow/*"}},
            {{"Effect", "Allow"},
             {"Action", "iot:Subscribe"},
             {"Resource", "arn:aws:iot:*:*:topicfilter/$aws/things/" + thing + "/shadow/*"}}})}}
      .dump();
}

// The claim's policy: the fleet provisioning topics of one template, nothing else.
std::string claim_policy_document() {
  json resources = json::array(), filters = json::array();
  for (std::string topic :
       {std::string("$aws/certificates/create/*"),
        std::string("$aws/certificates/create-from-csr/*"),
        "$aws/provisioning-templates/" + std::string(kTemplateName) + "/provision/*"}) {
    resources.push_back("arn:aws:iot:*:*:topic/" + topic);
    filters.push_back("arn:aws:iot:*:*:topicfilter/" + topic);
  }
  return json{
      {"Version", "2012-10-17"},
      {"Statement",
       json::array({{{"Effect", "Allow"},
                     {"Action", "iot:Connect"},
                     {"Resource", "arn:aws:iot:*:*:client/*"}},
                    {{"Effect", "Allow"},
                     {"Action", json::array({"iot:Publish", "iot:Receive"})},
                     {"Resource", resources}},
                    {{"Effect", "Allow"}, {"Action", "iot:Subscribe"}, {"Resource", filters}}})}}
      .dump();
}

// Resources every template here makes: the certificate ACTIVE, KitDevicePolicy attached.
json certificate_and_policy_resources() {
  return json{
      {"certificate",
       {{"Type", "AWS::IoT::Certificate"},
        {"Properties",
         {{"CertificateId", {{"Ref", "AWS::IoT::Certificate::Id"}}}, {"Status", "ACTIVE"}}}}},
      {"policy", {{"Type", "AWS::IoT::Policy"}, {"Properties", {{"PolicyName", kDevicePolicy}}}}}};
}

}  // namespace

Result<std::string> Demo::create_role(const std::string& name) {
  command(
      fmt::format("{} iam create-role --role-name {} --assume-role-policy-document "
                  "'<trust iot.amazonaws.com>'",
                  aws(), name));
  ZT_TRY_ASSIGN(aws::ClientConfig config,
                aws::load_client_config(
                    {.profile = std::nullopt, .region = std::nullopt, .endpoint_url = http_url_}));
  aws::IamClient iam(std::move(config));
  ZT_TRY_ASSIGN(auto existing, iam.get_role(name));
  if (existing) return existing->arn;
  const std::string trust =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"iot.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
  ZT_TRY_ASSIGN(auto role, with_context(iam.create_role(name, trust), "CreateRole"));
  return role.arn;
}

Status Demo::setup_fleet() {
  step(
      fmt::format("Fleet provisioning in the cloud: claim policy {} (the fleet provisioning topics "
                  "only), device policy {}, role KitProvisioningRole, template {}",
                  kClaimPolicy, kDevicePolicy, kTemplateName));
  for (const auto& [name, document] : {std::pair{kClaimPolicy, claim_policy_document()},
                                       std::pair{kDevicePolicy, device_policy_document()}}) {
    command(fmt::format("{} iot create-policy --policy-name {} --policy-document '{}'", aws(), name,
                        document));
    json body{{"policyDocument", document}};
    ZT_TRY(allow_existing(
        ignore_result(iot_->call("POST", "/policies/" + std::string(name), {}, &body))));
  }
  ZT_TRY_ASSIGN(std::string role_arn, create_role("KitProvisioningRole"));
  json resources = certificate_and_policy_resources();
  resources["thing"] = {
      {"Type", "AWS::IoT::Thing"},
      {"Properties",
       {{"ThingName",
         {{"Fn::Join", json::array({"", json::array({"kit-", {{"Ref", "SerialNumber"}}})})}}},
        {"AttributePayload", {{"serial", {{"Ref", "SerialNumber"}}}}}}}};
  json template_body{{"Parameters",
                      {{"SerialNumber", {{"Type", "String"}}},
                       {"AWS::IoT::Certificate::Id", {{"Type", "String"}}}}},
                     {"Resources", resources}};
  command(
      fmt::format("{} iot create-provisioning-template --template-name {} --enabled "
                  "--provisioning-role-arn {} --template-body '{}'",
                  aws(), kTemplateName, role_arn, template_body.dump()));
  json request{{"templateName", kTemplateName},
               {"templateBody", template_body.dump()},
               {"enabled", true},
               {"provisioningRoleArn", role_arn}};
  return allow_existing(ignore_result(iot_->call("POST", "/provisioning-templates", {}, &request)));
}

Status Demo::provision_claim_kit() {
  step(
      "kit set-wifi and kit provision-claim: a claim certificate for the chip's slot 0 key (CSR "
      "signed in the chip, CreateCertificateFromCsr, the claim policy), stored with the template "
      "name and the endpoint");
  ZT_TRY(with_context(kit::set_wifi(dir_, options_.ssid, options_.wifi_password), "kit set-wifi"));
  fs::path usb = kit_dir_ / kit::kUsbSocket;
  command(
      fmt::format("ztp kit provision-claim --dir {} --kit-socket {} --template-name {} "
                  "--claim-policy {} --endpoint-url {}",
                  dir_.string(), usb.string(), kTemplateName, kClaimPolicy, http_url_));
  mark_console();
  ZT_TRY_ASSIGN(auto link, with_context(kit::connect_kit_socket(usb), "kit provision-claim"));
  kit::KitClient client(std::move(link));
  ZT_TRY_ASSIGN(
      auto report,
      with_context(provision_claim(
                       client, *iot_,
                       {.dir = dir_, .template_name = kTemplateName, .claim_policy = kClaimPolicy}),
                   "kit provision-claim"));
  for (const auto& line : report.lines) print("{}", line);
  return ok();
}

Status Demo::setup_preprovisioned() {
  step(
      "Multi-account registration: the signer CA stays unregistered; the factory gets the "
      "endpoint (DescribeEndpoint) and the kit is provisioned off the network");
  command(aws() + " iot describe-endpoint --endpoint-type iot:Data-ATS");
  ZT_TRY_ASSIGN(std::string endpoint, iot_->describe_endpoint("iot:Data-ATS"));
  print("{}", endpoint);
  ZT_TRY_ASSIGN(json info, kit::read_kit_info(dir_));
  info["endpointAddress"] = endpoint;
  ZT_TRY(write_file_atomic(dir_ / kit::kKitInfoFile, info.dump(4) + "\n", 0600));
  ZT_TRY(with_context(kit::set_wifi(dir_, options_.ssid, options_.wifi_password), "kit set-wifi"));
  factory_floor_ = true;  // start_kit gives the kit no access point until it is registered
  return ok();
}

Status Demo::register_without_ca() {
  step(
      "The part's certificate registered without a CA (RegisterCertificateWithoutCA: SNI_ONLY), "
      "its thing and KitDevicePolicy; then the kit is deployed (its access point in range)");
  fs::path device = dir_ / pki::kDeviceCertFile;
  ZT_TRY_ASSIGN(std::string pem, read_text_file(device, 64 * 1024));
  command(
      fmt::format("{} iot register-certificate-without-ca --certificate-pem file://{} "
                  "--status ACTIVE",
                  aws(), device.string()));
  json request{{"certificatePem", pem}, {"status", "ACTIVE"}};
  auto registered = iot_->call("POST", "/certificate/register-no-ca", {}, &request);
  std::string arn;
  if (registered) {
    arn = registered->value("certificateArn", "");
  } else {
    ZT_TRY(allow_existing(std::move(registered).error()));
    ZT_TRY_ASSIGN(json described, iot_->call("GET", "/certificates/" + certificate_id_));
    arn = described.value("certificateDescription", json::object()).value("certificateArn", "");
  }
  print("{}", json{{"certificateArn", arn}, {"certificateId", certificate_id_}}.dump(1));
  command(fmt::format("{} iot create-thing --thing-name {}", aws(), thing_));
  ZT_TRY(allow_existing(ignore_result(iot_->call("POST", "/things/" + thing_))));
  const std::string document = device_policy_document();
  command(fmt::format("{} iot create-policy --policy-name {} --policy-document '{}'", aws(),
                      kDevicePolicy, document));
  json policy{{"policyDocument", document}};
  ZT_TRY(allow_existing(
      ignore_result(iot_->call("POST", "/policies/" + std::string(kDevicePolicy), {}, &policy))));
  command(
      fmt::format("{} iot attach-policy --policy-name {} --target {}", aws(), kDevicePolicy, arn));
  json target{{"target", arn}};
  ZT_TRY(ignore_result(
      iot_->call("PUT", "/target-policies/" + std::string(kDevicePolicy), {}, &target)));
  command(fmt::format("{} iot attach-thing-principal --thing-name {} --principal {}", aws(), thing_,
                      arn));
  ZT_TRY(ignore_result(iot_->call("PUT", "/things/" + thing_ + "/principals", {}, nullptr,
                                  {{"x-amzn-principal", arn}})));
  // Deployed: the kit restarts with its access point in range; its first connection counts.
  if (kit_) kit_->stop();
  kit_.reset();
  factory_floor_ = false;
  ZT_TRY(start_kit());
  mark_console();
  return ok();
}

Status Demo::setup_jitp() {
  step(
      "Register the signer CA with a JITP registration config (template + role KitJitpRole): no "
      "rule, no Lambda");
  ZT_TRY(run_ca_register());
  ZT_TRY_ASSIGN(json info, kit::read_kit_info(dir_));
  const std::string ca_id =
      info.value("certificateDescription", json::object()).value("certificateId", "");
  ZT_TRY_ASSIGN(std::string role_arn, create_role("KitJitpRole"));
  const std::string document = device_policy_document();
  json policy{{"policyDocument", document}};
  command(fmt::format("{} iot create-policy --policy-name {} --policy-document '{}'", aws(),
                      kDevicePolicy, document));
  ZT_TRY(allow_existing(
      ignore_result(iot_->call("POST", "/policies/" + std::string(kDevicePolicy), {}, &policy))));
  // The thing is named by the certificate id, which the kit computes from its own certificate
  // (kit/firmware.cpp, Flow::jitp).
  json resources = certificate_and_policy_resources();
  resources["thing"] = {{"Type", "AWS::IoT::Thing"},
                        {"Properties", {{"ThingName", {{"Ref", "AWS::IoT::Certificate::Id"}}}}}};
  json template_body{{"Parameters", {{"AWS::IoT::Certificate::Id", {{"Type", "String"}}}}},
                     {"Resources", resources}};
  command(
      fmt::format("{} iot update-ca-certificate --certificate-id {} "
                  "--new-auto-registration-status ENABLE --registration-config "
                  "templateBody='{}',roleArn={}",
                  aws(), ca_id, template_body.dump(), role_arn));
  json update{
      {"registrationConfig", {{"templateBody", template_body.dump()}, {"roleArn", role_arn}}}};
  return ignore_result(
      iot_->call("PUT", "/cacertificate/" + ca_id, "newAutoRegistrationStatus=ENABLE", &update));
}

Status Demo::check_identity() {
  if (kit::uses_fleet_provisioning(options_.flow)) {
    // The identity the kit obtained, from its flash (the emulated MCU's).
    ZT_TRY_ASSIGN(std::string text,
                  read_text_file(kit_dir_ / "flash" / "identity.json", 64 * 1024));
    json identity = json::parse(text, nullptr, false);
    if (!identity.is_object()) return make_error(Errc::parse, "the kit's identity.json");
    thing_ = identity.value("thingName", "");
    certificate_id_ = identity.value("certificateId", "");
  } else if (options_.flow == kit::Flow::jitp) {
    thing_ = certificate_id_;
  }
  command(fmt::format("{} iot describe-certificate --certificate-id {}", aws(), certificate_id_));
  json description;
  ZT_TRY(poll(
      [&]() -> Result<bool> {
        ZT_TRY_ASSIGN(json certificate, iot_->call("GET", "/certificates/" + certificate_id_));
        description = certificate.value("certificateDescription", json::object());
        return description.value("status", "") == "ACTIVE";
      },
      options_.round_trip_limit, "certificate " + certificate_id_ + " ACTIVE"));
  print("{}", json{{"status", description.value("status", "")},
                   {"certificateMode", description.value("certificateMode", "DEFAULT")}}
                  .dump(1));
  command(fmt::format("{} iot list-thing-principals --thing-name {}", aws(), thing_));
  ZT_TRY_ASSIGN(json principals, iot_->call("GET", "/things/" + thing_ + "/principals"));
  print("{}", principals.dump(1));
  const std::string arn = description.value("certificateArn", "");
  for (const auto& principal : principals.value("principals", json::array())) {
    if (principal == arn) return ok();
  }
  return make_error(Errc::not_found,
                    "certificate " + certificate_id_ + " is not attached to " + thing_);
}

}  // namespace zt::cli::demo_detail
