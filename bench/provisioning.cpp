// bench/provisioning: devices/s and first-connect latency per AWS IoT provisioning path, against a
// real `ztp cloud run` started here on 127.0.0.1 (ephemeral ports, temp state directory), with
// Mosquitto's mutual-TLS connect as the anchor in the same run.
//
// Latency of one device = from its first TCP connect to its first CONNACK accepted with its final
// identity (the certificate it keeps), reconnecting 10 ms after each refusal; devices/s = the same
// for many devices, 8 at a time. Paths:
//   - JITR: a signer CA registered by `ztp ca register`, the rule of `ztp cloud setup-jitr` → the
//     built-in ZTLambdaJITR (first connect closed, the function activates, the retry is accepted);
//   - JITP: another signer CA whose registration config (aws iot update-ca-certificate
//     --registration-config, role made with aws iam create-role) carries a template: thing named
//     by the certificate id, inline policy, certificate ACTIVE — provisioned within the first
//     connect, accepted at the retry;
//   - pre-provisioned: certificates of a CA nobody registered, registered beforehand with
//     RegisterCertificateWithoutCA (as `ztp cloud import-certificates` does); the device sends SNI
//     and is accepted at its first connect;
//   - fleet provisioning by claim: a FLEET_PROVISIONING template "Fleet" (aws iot
//     create-provisioning-template: thing named from SerialNumber, certificate ACTIVE, inline
//     policy) and one claim certificate (aws iot create-keys-and-certificate, policy allowing
//     iot:Connect/Publish/Subscribe/Receive); per device: connect with the claim (client id
//     claim-<i>), SUBSCRIBE to both answer topics, CreateCertificateFromCsr with a local P-256 key,
//     RegisterThing with the ownership token, disconnect, connect with the new certificate (client
//     id dev-<i>) until accepted — all of it inside the latency; devices/s 8 at a time as well.
//     Its "attempts" are TCP/TLS connects: the claim's one plus the final identity's.
// Anchor: Mosquitto 2.0 (Debian) with the same server certificate, the same client chains and the
// same load generator, its configuration printed (set_tcp_nodelay true, as our broker).
#include <fmt/format.h>

#include <cstdlib>

#include "aws/iot_client.hpp"
#include "common/hex.hpp"
#include "common/time.hpp"
#include "connect_samples.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "issue_devices.hpp"
#include "pki/ca_directory.hpp"
#include "pki/device_issuer.hpp"

using namespace zt;
using namespace zt::bench;

namespace {

Issued issue(const fs::path& pki, const fs::path& server_ca, size_t count,
             const std::string& server_name) {
  auto signer = pki::load_signer_ca(pki);
  if (!signer) die(signer.error().message);
  auto issuer = pki::DeviceCertificateIssuer::create(signer->certificate.get(), signer->key.get());
  if (!issuer) die(issuer.error().message);
  return issue_devices(*issuer, read_all(pki / "signer-ca.crt"), server_ca, count, server_name);
}

void make_pki(const fs::path& ztp, const fs::path& dir) {
  fs::create_directories(dir);
  for (const char* step : {"create-root", "create-signer-csr", "create-signer"})
    run_or_die(fmt::format("{} ca {} --dir {} >/dev/null", ztp.string(), step, dir.string()));
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Cloud {
  ChildProcess process;
  uint16_t http = 0;
  std::string env;  // the AWS CLI's files for this cloud
};

Cloud start_cloud(const fs::path& ztp, const fs::path& dir) {
  LocalCloud local = start_local_cloud(ztp, dir);
  Cloud cloud{.process = local.process, .http = local.http, .env = {}};
  cloud.env = fmt::format(
      "AWS_SHARED_CREDENTIALS_FILE={0}/credentials AWS_CONFIG_FILE={0}/config AWS_PAGER=",
      (dir / "state").string());
  return cloud;
}

// A provisioning role trusting iot.amazonaws.com (as AWS requires of a template's role), made with
// the stock AWS CLI; its ARN.
std::string create_provisioning_role(const Cloud& cloud, const fs::path& dir,
                                     const std::string& name) {
  std::string trust =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"iot.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
  fs::path arn_file = dir / (name + ".arn");
  run_or_die(fmt::format(
      "{} aws iam create-role --endpoint-url http://127.0.0.1:{} --region us-east-1 --role-name {} "
      "--assume-role-policy-document {} --query Role.Arn --output text >{}",
      cloud.env, cloud.http, name, shell_quote(trust), arn_file.string()));
  std::string role = read_all(arn_file);
  role.erase(role.find_last_not_of(" \n") + 1);
  return role;
}

// The templates' inline policy: every IoT action (the benchmark measures provisioning, not policy
// evaluation).
nlohmann::json allow_all_policy() {
  return {{"Version", "2012-10-17"},
          {"Statement", {{{"Effect", "Allow"}, {"Action", "iot:*"}, {"Resource", "*"}}}}};
}

// JITP's registration config on the second CA: the role (trusting iot.amazonaws.com) and the
// template, with the stock AWS CLI.
void configure_jitp(const Cloud& cloud, const fs::path& dir) {
  std::string url = fmt::format("http://127.0.0.1:{}", cloud.http);
  std::string role = create_provisioning_role(cloud, dir, "JITPRole");
  nlohmann::json policy = allow_all_policy();
  nlohmann::json body = {
      {"Parameters", {{"AWS::IoT::Certificate::Id", {{"Type", "String"}}}}},
      {"Resources",
       {{"thing",
         {{"Type", "AWS::IoT::Thing"},
          {"Properties", {{"ThingName", {{"Ref", "AWS::IoT::Certificate::Id"}}}}}}},
        {"certificate",
         {{"Type", "AWS::IoT::Certificate"},
          {"Properties",
           {{"CertificateId", {{"Ref", "AWS::IoT::Certificate::Id"}}}, {"Status", "ACTIVE"}}}}},
        {"policy",
         {{"Type", "AWS::IoT::Policy"}, {"Properties", {{"PolicyDocument", policy.dump()}}}}}}}};
  nlohmann::json config = {{"templateBody", body.dump()}, {"roleArn", role}};
  auto ca = crypto::load_certificate(dir / "pki-jitp/signer-ca.crt");
  if (!ca) die(ca.error().message);
  auto der = crypto::certificate_to_der(ca->get());
  if (!der) die(der.error().message);
  run_or_die(fmt::format(
      "{} aws iot update-ca-certificate --endpoint-url {} --region us-east-1 --certificate-id {} "
      "--new-auto-registration-status ENABLE --registration-config {}",
      cloud.env, url, to_hex(crypto::sha256(*der)), shell_quote(config.dump())));
}

void register_without_ca(const Cloud& cloud, const fs::path& dir, const Issued& issued) {
  setenv("AWS_SHARED_CREDENTIALS_FILE", (dir / "state/credentials").c_str(), 1);
  setenv("AWS_CONFIG_FILE", (dir / "state/config").c_str(), 1);
  auto config = aws::load_client_config(
      {std::nullopt, std::string("us-east-1"), fmt::format("http://127.0.0.1:{}", cloud.http)});
  if (!config) die(config.error().message);
  aws::IotClient iot(*config);
  nlohmann::json policy_body = {
      {"policyDocument",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]})"}};
  if (auto made = iot.call("POST", "/policies/PreprovisionedAll", {}, &policy_body);
      !made && made.error().code != Errc::already_exists)
    die(made.error().message);
  for (const auto& pem : issued.pems) {
    nlohmann::json body = {{"certificatePem", pem}, {"status", "ACTIVE"}};
    auto answer = iot.call("POST", "/certificate/register-no-ca", {}, &body);
    if (!answer) die(answer.error().message);
    nlohmann::json target = {{"target", answer->value("certificateArn", "")}};
    if (auto attached = iot.call("PUT", "/target-policies/PreprovisionedAll", {}, &target);
        !attached)
      die(attached.error().message);
  }
}

// Fleet provisioning by claim: the role, the template "Fleet" and one claim certificate with its
// policy, with the stock AWS CLI. Returns the claim's TLS context.
std::unique_ptr<asio::ssl::context> configure_fleet(const Cloud& cloud, const fs::path& dir,
                                                    const fs::path& server_ca) {
  std::string url = fmt::format("http://127.0.0.1:{}", cloud.http);
  std::string aws = fmt::format("{} aws --endpoint-url {} --region us-east-1", cloud.env, url);
  std::string role = create_provisioning_role(cloud, dir, "FleetRole");
  nlohmann::json policy = allow_all_policy();
  nlohmann::json body = {
      {"Parameters",
       {{"SerialNumber", {{"Type", "String"}}},
        {"AWS::IoT::Certificate::Id", {{"Type", "String"}}}}},
      {"Resources",
       {{"thing",
         {{"Type", "AWS::IoT::Thing"}, {"Properties", {{"ThingName", {{"Ref", "SerialNumber"}}}}}}},
        {"certificate",
         {{"Type", "AWS::IoT::Certificate"},
          {"Properties",
           {{"CertificateId", {{"Ref", "AWS::IoT::Certificate::Id"}}}, {"Status", "ACTIVE"}}}}},
        {"policy",
         {{"Type", "AWS::IoT::Policy"}, {"Properties", {{"PolicyDocument", policy.dump()}}}}}}}};
  run_or_die(fmt::format(
      "{} iot create-provisioning-template --template-name Fleet --provisioning-role-arn {} "
      "--enabled --template-body {} >/dev/null",
      aws, shell_quote(role), shell_quote(body.dump())));
  nlohmann::json claim_policy = {
      {"Version", "2012-10-17"},
      {"Statement",
       {{{"Effect", "Allow"},
         {"Action", {"iot:Connect", "iot:Publish", "iot:Subscribe", "iot:Receive"}},
         {"Resource", "*"}}}}};
  run_or_die(
      fmt::format("{} iot create-policy --policy-name FleetClaim --policy-document {} "
                  ">/dev/null",
                  aws, shell_quote(claim_policy.dump())));
  fs::path crt = dir / "claim.crt", key = dir / "claim.key";
  run_or_die(
      fmt::format("{} iot create-keys-and-certificate --set-as-active --certificate-pem-outfile {} "
                  "--private-key-outfile {} --query certificateArn --output text >{}",
                  aws, crt.string(), key.string(), (dir / "claim.arn").string()));
  std::string arn = read_all(dir / "claim.arn");
  arn.erase(arn.find_last_not_of(" \n") + 1);
  run_or_die(fmt::format("{} iot attach-policy --policy-name FleetClaim --target {}", aws,
                         shell_quote(arn)));
  auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  tls->load_verify_file(server_ca.string());
  tls->use_certificate_chain_file(crt.string());
  tls->use_private_key_file(key.string(), asio::ssl::context::pem);
  tls->set_verify_mode(asio::ssl::verify_peer);
  return tls;
}

// Publishes `payload` to `topic` (QoS 0) and returns the answer's JSON from `topic`/accepted;
// throws on /rejected.
asio::awaitable<nlohmann::json> fleet_request(LoadClient& client, const std::string& topic,
                                              const std::string& payload) {
  Bytes wire;
  (void)mqtt::encode_publish(
      topic, ByteView(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()), 0, false,
      false, 0, wire);
  co_await client.send_bytes(wire);
  while (true) {
    auto packet = co_await client.read_packet();
    auto* publish = std::get_if<mqtt::Publish>(&packet);
    if (!publish) continue;
    std::string text(publish->payload.begin(), publish->payload.end());
    if (publish->topic == topic + "/accepted") co_return nlohmann::json::parse(text);
    if (publish->topic == topic + "/rejected") throw std::runtime_error(text);
  }
}

// A device's P-256 key (PEM) and its CSR's request to CreateCertificateFromCsr (JSON); outside
// the coroutine (GCC 12 miscompiles braced temporaries in coroutines).
std::pair<std::string, std::string> fleet_key_and_request(const std::string& serial) {
  auto key = crypto::generate_p256_key();
  if (!key) throw std::runtime_error(key.error().message);
  auto subject = crypto::make_name({{"CN", serial}});
  if (!subject) throw std::runtime_error(subject.error().message);
  auto csr = crypto::build_csr({.subject = subject->get(), .extensions = {}}, key->get());
  if (!csr) throw std::runtime_error(csr.error().message);
  auto csr_pem = crypto::csr_to_pem(csr->get());
  auto key_pem = crypto::private_key_to_pem(key->get());
  if (!csr_pem || !key_pem) throw std::runtime_error("CSR output");
  nlohmann::json request = {{"certificateSigningRequest", *csr_pem}};
  return {*key_pem, request.dump()};
}

std::string fleet_register_request(const nlohmann::json& created, const std::string& serial) {
  nlohmann::json request = {{"certificateOwnershipToken", created.at("certificateOwnershipToken")},
                            {"parameters", {{"SerialNumber", serial}}}};
  return request.dump();
}

Device fleet_final_device(const nlohmann::json& created, const std::string& key_pem,
                          const fs::path& server_ca, const std::string& client_id) {
  std::string pem = created.at("certificatePem").get<std::string>();
  auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  tls->load_verify_file(server_ca.string());
  tls->use_certificate_chain(asio::buffer(pem));
  tls->use_private_key(asio::buffer(key_pem), asio::ssl::context::pem);
  tls->set_verify_mode(asio::ssl::verify_peer);
  return Device{client_id, std::move(tls), ""};
}

// One device through fleet provisioning by claim: from the claim's first TCP connect to the
// CONNACK accepting its own certificate.
asio::awaitable<Sample> fleet_device(asio::io_context& context, asio::ssl::context& claim_tls,
                                     const fs::path& server_ca, uint16_t port, std::string serial,
                                     std::string claim_id) {
  Sample sample;
  auto start = Clock::now();
  try {
    auto [key_pem, csr_request] = fleet_key_and_request(serial);
    nlohmann::json created;
    LoadClient claim(context, claim_tls);
    ++sample.attempts;
    co_await claim.connect(port, claim_id);
    co_await claim.subscribe("$aws/certificates/create-from-csr/json/+", 1);
    co_await claim.subscribe("$aws/provisioning-templates/Fleet/provision/json/+", 1);
    created = co_await fleet_request(claim, "$aws/certificates/create-from-csr/json", csr_request);
    std::string register_request = fleet_register_request(created, serial);
    co_await fleet_request(claim, "$aws/provisioning-templates/Fleet/provision/json",
                           register_request);
    co_await claim.send(mqtt::Disconnect{});
    claim.close();
    Device device = fleet_final_device(created, key_pem, server_ca, serial);
    Sample final_sample = co_await until_connected(context, device, port, kRetryInterval);
    sample.attempts += final_sample.attempts;
    sample.done = final_sample.done;
  } catch (const std::exception& e) {
    if (getenv("BENCH_LOG")) fmt::print(stderr, "fleet {}: {}\n", serial, e.what());
  }
  sample.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  co_return sample;
}

Summary fleet(asio::ssl::context& claim_tls, const fs::path& server_ca, uint16_t port, size_t count,
              size_t workers, const std::string& prefix) {
  auto [samples, seconds] = run_devices(count, workers, [&](asio::io_context& context, size_t i) {
    return fleet_device(context, claim_tls, server_ca, port, fmt::format("{}dev-{}", prefix, i),
                        fmt::format("{}claim-{}", prefix, i));
  });
  return summarize(samples, seconds);
}

}  // namespace

int main(int argc, char** argv) {
  bench_name = "bench_provisioning";
  const size_t n = argc > 1 ? std::stoul(argv[1]) : 100;  // devices per latency figure
  signal(SIGPIPE, SIG_IGN);
  fs::path self = fs::canonical("/proc/self/exe");
  fs::path ztp = getenv("ZTP") ? fs::path(getenv("ZTP")) : self.parent_path() / "ztp";
  fs::path dir = fs::temp_directory_path() / fmt::format("zt-bench-provisioning-{}", getpid());
  for (const char* pki : {"pki-jitr", "pki-jitp", "pki-vendor"}) make_pki(ztp, dir / pki);

  Cloud cloud = start_cloud(ztp, dir);
  std::string url = fmt::format("http://127.0.0.1:{}", cloud.http);
  for (const char* pki : {"pki-jitr", "pki-jitp"})
    run_or_die(fmt::format("{} {} ca register --dir {} --endpoint-url {} >/dev/null", cloud.env,
                           ztp.string(), (dir / pki).string(), url));
  run_or_die(fmt::format("{} cloud setup-jitr --state-dir {} >/dev/null", ztp.string(),
                         (dir / "state").string()));
  configure_jitp(cloud, dir);

  fs::path server_ca = dir / "state/server-ca.crt";
  Issued jitr = issue(dir / "pki-jitr", server_ca, n, "");
  Issued jitr_rate = issue(dir / "pki-jitr", server_ca, 2 * n, "");
  Issued jitp = issue(dir / "pki-jitp", server_ca, n, "");
  Issued jitp_rate = issue(dir / "pki-jitp", server_ca, 2 * n, "");
  Issued vendor = issue(dir / "pki-vendor", server_ca, n, "localhost");
  Issued vendor_rate = issue(dir / "pki-vendor", server_ca, 2 * n, "localhost");
  register_without_ca(cloud, dir, vendor);
  register_without_ca(cloud, dir, vendor_rate);

  uint16_t port = cloud.process.port;
  Summary jitr_latency = latency(jitr.devices, port, kRetryInterval);
  Summary jitr_devices = rate(jitr_rate.devices, port);
  Summary jitp_latency = latency(jitp.devices, port, kRetryInterval);
  Summary jitp_devices = rate(jitp_rate.devices, port);
  Summary vendor_latency = latency(vendor.devices, port, kRetryInterval);
  Summary vendor_devices = rate(vendor_rate.devices, port);
  auto claim_tls = configure_fleet(cloud, dir, server_ca);
  Summary fleet_latency = fleet(*claim_tls, server_ca, port, n, 1, "");
  Summary fleet_devices = fleet(*claim_tls, server_ca, port, 2 * n, kConcurrentDevices, "rate-");
  stop(cloud.process);

  std::string anchors;
  for (const char* pki : {"pki-jitr", "pki-jitp", "pki-vendor"})
    anchors += read_all(dir / pki / "root-ca.crt") + read_all(dir / pki / "signer-ca.crt");
  ChildProcess mosquitto = start_mosquitto(dir, anchors);
  std::string mosquitto_conf = mosquitto_config(dir, mosquitto.port);
  Summary anchor = latency(jitr.devices, mosquitto.port, kRetryInterval);
  Summary anchor_rate = rate(jitr_rate.devices, mosquitto.port);
  stop(mosquitto);

  std::string log = read_all(dir / "cloud.err");
  if (!getenv("BENCH_KEEP")) fs::remove_all(dir);

  note_failures("JITR", jitr_latency);
  note_failures("JITP", jitp_latency);
  note_failures("pre-provisioned", vendor_latency);
  note_failures("fleet provisioning", fleet_latency);
  note_failures("fleet provisioning (8 at a time)", fleet_devices);
  note_failures("mosquitto", anchor);
  fmt::print(
      "bench_provisioning: ztp cloud run on 127.0.0.1, mutual TLS (device + signer chain), {} "
      "devices per latency figure (one at a time, retry after {} ms), {} concurrent for devices/s, "
      "{} cores\n",
      n, kRetryInterval.count(), kConcurrentDevices, std::thread::hardware_concurrency());
  fmt::print("anchor: mosquitto -c mosquitto.conf with\n");
  for (size_t at = 0; at < mosquitto_conf.size();) {
    size_t end = mosquitto_conf.find('\n', at);
    fmt::print("  | {}\n", mosquitto_conf.substr(at, end - at));
    at = end == std::string::npos ? mosquitto_conf.size() : end + 1;
  }
  fmt::print("{:<44} {:>9} {:>9} {:>9} {:>10} {:>8}\n", "path: first connect -> CONNACK", "p50 ms",
             "p99 ms", "attempts", "devices/s", "vs mosq");
  auto row = [&](const std::string& name, const Summary& s, const Summary& r) {
    if (s.p50 == 0) {
      fmt::print("{:<44} {:>9}\n", name, "failed (see the notes above)");
      return;
    }
    fmt::print("{:<44} {:>9.2f} {:>9.2f} {:>9.2f} {:>10.0f} {:>7.2f}x\n", name, s.p50, s.p99,
               s.mean_attempts, r.per_second, r.per_second / anchor_rate.per_second);
  };
  row("JITR (rule + ZTLambdaJITR)", jitr_latency, jitr_devices);
  row("JITP (CA registration config template)", jitp_latency, jitp_devices);
  row("pre-provisioned (registered without CA, SNI)", vendor_latency, vendor_devices);
  row("fleet provisioning by claim (CSR + Register)", fleet_latency, fleet_devices);
  row("anchor: mosquitto mTLS connect+CONNACK", anchor, anchor_rate);
  if (log.find("error") != std::string::npos || log.find("failed") != std::string::npos)
    fmt::print("(cloud log has errors: BENCH_KEEP=1 keeps {})\n", dir.string());
  return 0;
}
