// Fuzzes every control-plane operation with type-mutated JSON bodies (issue 12): the first byte
// picks an operation of the route table below (one entry per route of make_control_plane_router),
// each following byte replaces one member of that operation's valid body with another JSON type
// (string, number, boolean, null, object, array, a nesting deeper than the parse limit, …) or
// removes it; with the first byte's high bit set the rest of the input is the raw body instead.
// Requests go through the router and the API call's transaction (ApiServer::dispatch, SigV4
// bypassed) on a registry in /dev/shm.
// Invariant, after every request: a following registry write commits — a second SQLite connection
// sees it. A handler that threw inside its transaction used to leave it open forever, so every
// later write was lost at the next restart.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cloud/api/server.hpp"
#include "cloud/local_ca.hpp"
#include "cloud/registry/registry.hpp"
#include "cloud/registry/sqlite.hpp"
#include "common/hex.hpp"
#include "common/time.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"

namespace {

using nlohmann::json;
namespace api = zt::cloud::api;
namespace registry = zt::cloud::registry;

struct Cert {
  zt::crypto::PkeyPtr key;
  zt::crypto::X509Ptr x509;
  std::string pem;
  std::string id;
};

Cert make_cert(const std::string& cn, bool is_ca, const Cert* issuer) {
  Cert out;
  out.key = *zt::crypto::generate_p256_key();
  int64_t now = zt::unix_now();
  out.x509 = *zt::cloud::issue_certificate(
      {.subject = {{"CN", cn}}, .is_ca = is_ca, .not_before = now - 60, .not_after = now + 86400},
      out.key.get(), issuer ? issuer->x509.get() : nullptr,
      issuer ? issuer->key.get() : out.key.get());
  out.pem = *zt::crypto::certificate_to_pem(out.x509.get());
  out.id = zt::to_hex(zt::crypto::sha256(*zt::crypto::certificate_to_der(out.x509.get())));
  return out;
}

struct Operation {
  const char* method;
  std::string target;
  json body;  // valid; null = no body
  std::vector<std::pair<std::string, std::string>> headers{};
};

struct Harness {
  std::filesystem::path dir;
  std::unique_ptr<registry::Registry> registry;
  std::unique_ptr<api::ServiceContext> context;
  boost::asio::io_context io;
  std::unique_ptr<api::ApiServer> server;
  Cert issuer, ca, device, other_device;
  std::vector<Operation> operations;
  json rule;
  std::string policy;
  int64_t canary = 0;

  Harness() {
    dir = std::filesystem::path("/dev/shm") / ("zt-fuzz-control-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    registry = std::move(*registry::Registry::open(dir / "registry.db"));
    issuer = make_cert("issuer", true, nullptr);
    context =
        std::make_unique<api::ServiceContext>(api::ServiceContext{.registry = *registry,
                                                                  .account_id = "123456789012",
                                                                  .region = "us-east-1",
                                                                  .endpoint_prefix = "fuzz",
                                                                  .issuer_cert = issuer.x509.get(),
                                                                  .issuer_key = issuer.key.get()});
    server = std::make_unique<api::ApiServer>(io, *context, api::make_control_plane_router(),
                                              api::ServerOptions{});
    std::string code = *registry->registration_code();
    ca = make_cert("Fuzz CA", true, nullptr);
    Cert verification = make_cert(code, false, &ca);
    device = make_cert("device", false, &ca);
    other_device = make_cert("other device", false, &ca);
    const std::string device_arn = context->arn("cert/" + device.id);
    rule = {{"sql", "SELECT a, topic(2) AS t FROM 'x/+' WHERE b > 1"},
            {"ruleDisabled", false},
            {"awsIotSqlVersion", "2016-03-23"},
            {"description", "d"},
            {"actions",
             {{{"republish", {{"topic", "y/${topic(2)}"}, {"qos", 1}, {"roleArn", "arn:r"}}}},
              {{"lambda", {{"functionArn", "arn:aws:lambda:us-east-1:123456789012:function:f"}}}}}},
            {"errorAction", {{"republish", {{"topic", "err"}}}}}};
    policy =
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect"],"Resource":"*"}]})";
    operations = {
        {"POST",
         "/thing-types/fuzztype2",
         {{"thingTypeProperties",
           {{"thingTypeDescription", "d"}, {"searchableAttributes", {"a", "b"}}}}}},
        {"GET", "/thing-types/fuzztype", nullptr},
        {"POST",
         "/things/fuzznew",
         {{"thingTypeName", "fuzztype"},
          {"attributePayload", {{"attributes", {{"a", "1"}}}, {"merge", false}}}}},
        {"GET", "/things/fuzzthing", nullptr},
        {"PATCH",
         "/things/fuzzthing",
         {{"thingTypeName", "fuzztype"},
          {"removeThingType", false},
          {"expectedVersion", 1},
          {"attributePayload", {{"attributes", {{"a", "2"}, {"b", ""}}}, {"merge", true}}}}},
        {"DELETE", "/things/fuzznew", nullptr},
        {"GET", "/things?maxResults=5&attributeName=a&attributeValue=1", nullptr},
        {"PUT", "/things/fuzzthing/principals", nullptr, {{"x-amzn-principal", device_arn}}},
        {"DELETE", "/things/fuzzthing/principals", nullptr, {{"x-amzn-principal", device_arn}}},
        {"GET", "/things/fuzzthing/principals", nullptr},
        {"GET", "/principals/things", nullptr, {{"x-amzn-principal", device_arn}}},
        {"GET", "/registrationcode", nullptr},
        {"POST",
         "/cacertificate?setAsActive=true&allowAutoRegistration=true",
         {{"caCertificate", ca.pem},
          {"verificationCertificate", verification.pem},
          {"certificateMode", "DEFAULT"}}},
        // A JITP registration config naming no role: refused (the role must exist), the CA with it.
        {"POST",
         "/cacertificate?setAsActive=true&allowAutoRegistration=true",
         {{"caCertificate", ca.pem},
          {"verificationCertificate", verification.pem},
          {"registrationConfig", {{"templateBody", "{}"}, {"roleArn", "arn:r"}}}}},
        {"GET", "/cacertificate/" + ca.id, nullptr},
        {"PUT",
         "/cacertificate/" + ca.id + "?newAutoRegistrationStatus=ENABLE",
         {{"registrationConfig", {{"templateBody", "{}"}, {"templateName", "t"}}},
          {"removeAutoRegistration", false}}},
        {"DELETE", "/cacertificate/" + std::string(64, 'b'), nullptr},
        {"GET", "/cacertificates?pageSize=3", nullptr},
        {"POST",
         "/certificate/register?setAsActive=true",
         {{"certificatePem", device.pem}, {"caCertificatePem", ca.pem}, {"status", "ACTIVE"}}},
        {"POST",
         "/certificate/register-no-ca",
         {{"certificatePem", other_device.pem}, {"status", "INACTIVE"}}},
        {"GET", "/certificates/" + device.id, nullptr},
        {"PUT", "/certificates/" + device.id + "?newStatus=ACTIVE", nullptr},
        {"DELETE", "/certificates/" + other_device.id + "?forceDelete=true", nullptr},
        {"GET", "/certificates?pageSize=2", nullptr},
        {"POST", "/certificates?setAsActive=false", {{"certificateSigningRequest", "not a csr"}}},
        {"GET", "/certificates-by-ca/" + ca.id, nullptr},
        {"POST", "/keys-and-certificate?setAsActive=false", nullptr},
        {"GET", "/endpoint?endpointType=iot:Data-ATS", nullptr},
        {"POST", "/policies/fuzzpolicy2", {{"policyDocument", policy}}},
        {"GET", "/policies/fuzzpolicy", nullptr},
        {"DELETE", "/policies/fuzzpolicy2", nullptr},
        {"GET", "/policies", nullptr},
        {"PUT", "/target-policies/fuzzpolicy", {{"target", device_arn}}},
        {"POST", "/target-policies/fuzzpolicy", {{"target", device_arn}}},
        {"PUT", "/principal-policies/fuzzpolicy", nullptr, {{"x-amzn-iot-principal", device_arn}}},
        {"DELETE",
         "/principal-policies/fuzzpolicy",
         nullptr,
         {{"x-amzn-iot-principal", device_arn}}},
        {"GET", "/principal-policies", nullptr, {{"x-amzn-iot-principal", device_arn}}},
        {"POST", "/attached-policies/" + zt::aws::uri_encode(device_arn, true), nullptr},
        {"POST", "/policy-targets/fuzzpolicy", nullptr},
        {"POST", "/rules/fuzzrule2", rule},
        {"GET", "/rules/fuzzrule", nullptr},
        {"PATCH", "/rules/fuzzrule", rule},
        {"DELETE", "/rules/fuzzrule2", nullptr},
        {"GET", "/rules?topic=x/%2B", nullptr},
    };
    // Fixtures the operations refer to: the CA (so device certificates register), a thing type,
    // a thing, a policy, a rule.
    for (const auto& operation : operations) {
      if (operation.target.starts_with("/cacertificate?") ||
          operation.target.starts_with("/certificate/register?"))
        (void)run(operation, operation.body.dump());
    }
    (void)run({"POST", "/thing-types/fuzztype", nullptr}, "");
    ensure_fixtures();
    // The fixtures must be there, or the operations would stop at "not found" and fuzz nothing.
    auto found_ca = registry->find_ca(ca.id);
    auto found_device = registry->find_certificate(device.id);
    auto found_thing = registry->find_thing("fuzzthing");
    if (!found_ca || !*found_ca || !found_device || !*found_device || !found_thing || !*found_thing)
      __builtin_trap();
  }

  // Static: destroyed at exit, so the registry in /dev/shm does not outlive the run.
  ~Harness() {
    server.reset();
    registry.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  api::Reply run(const Operation& operation, const std::string& body) {
    zt::aws::HttpRequest request{operation.method, operation.target, {{"Host", "fuzz"}}, body};
    for (const auto& header : operation.headers) request.headers.push_back(header);
    return server->dispatch(request, "us-east-1");
  }

  // Deletions among the operations remove what later ones need: put it back (cheap lookups).
  void ensure_fixtures() {
    auto missing = [](const auto& found) { return !found || !*found; };
    if (missing(registry->find_thing("fuzzthing")))
      (void)run({"POST", "/things/fuzzthing", nullptr}, "");
    if (missing(registry->find_policy("fuzzpolicy")))
      (void)run({"POST", "/policies/fuzzpolicy", nullptr}, json{{"policyDocument", policy}}.dump());
    if (missing(registry->find_topic_rule("fuzzrule")))
      (void)run({"POST", "/rules/fuzzrule", nullptr}, rule.dump());
  }

  // The invariant: a write after the request is committed, as a second connection sees.
  void check_a_later_write_commits() {
    std::string value = std::to_string(++canary);
    if (!registry->set_setting("fuzz.canary", value)) __builtin_trap();
    auto db = registry::Database::open(dir / "registry.db");
    if (!db) __builtin_trap();
    auto select = db->prepare("SELECT value FROM settings WHERE key = 'fuzz.canary'");
    if (!select) __builtin_trap();
    auto row = select->step();
    if (!row || !*row || select->text(0) != value) __builtin_trap();
  }
};

// One member of another type, chosen by `choice`; nullopt = remove the member.
std::optional<json> mutated(uint8_t choice) {
  switch (choice % 14) {
    case 0:
      return json("yes");
    case 1:
      return json("1");
    case 2:
      return json(1);
    case 3:
      return json(-1);
    case 4:
      return json(1.5);
    case 5:
      return json(true);
    case 6:
      return json(nullptr);
    case 7:
      return json::object();
    case 8:
      return json::array();
    case 9:
      return json(UINT64_MAX);
    case 10:
      return json::array({json::object({{"a", 1}})});
    case 11: {
      json deep = 1;  // built level by level: nlohmann's value has no recursion limit
      for (int i = 0; i < 80; ++i) deep = json::array({std::move(deep)});
      return deep;
    }
    case 12:
      return json(std::string(300, 'x'));
    default:
      return std::nullopt;
  }
}

// Mutates the members of `value` depth first, one input byte per member (0 = keep).
void mutate(json& value, const uint8_t*& data, const uint8_t* end) {
  if (!value.is_object()) return;
  for (auto it = value.begin(); it != value.end() && data < end;) {
    uint8_t choice = *data++;
    if (choice == 0) {
      mutate(it.value(), data, end);
      ++it;
      continue;
    }
    auto replacement = mutated(choice - 1);
    if (!replacement) {
      it = value.erase(it);
      continue;
    }
    it.value() = std::move(*replacement);
    ++it;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness harness;
  if (size == 0) return 0;
  const Operation& operation = harness.operations[(data[0] & 0x7f) % harness.operations.size()];
  const uint8_t* cursor = data + 1;
  const uint8_t* end = data + size;
  std::string body;
  if (data[0] & 0x80) {
    body.assign(reinterpret_cast<const char*>(cursor), static_cast<size_t>(end - cursor));
  } else {
    json mutated_body = operation.body.is_null() ? json::object() : operation.body;
    mutate(mutated_body, cursor, end);
    body = operation.body.is_null() && mutated_body.empty() ? "" : mutated_body.dump();
  }
  (void)harness.run(operation, body);
  harness.check_a_later_write_commits();
  harness.ensure_fixtures();
  return 0;
}
