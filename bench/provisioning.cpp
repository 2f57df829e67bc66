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
//   - fleet provisioning by claim: printed as skipped until the fleet provisioning MQTT API is in
//     this build.
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
#include "pki/ca_directory.hpp"
#include "pki/device_issuer.hpp"

using namespace zt;
using namespace zt::bench;

namespace {

const auto kRetryInterval = std::chrono::milliseconds(10);

struct Issued {
  std::vector<Device> devices;
  std::vector<std::string> pems;  // device certificates, for registration without a CA
};

Issued issue(const fs::path& pki, const fs::path& server_ca, size_t count,
             const std::string& server_name) {
  auto signer = pki::load_signer_ca(pki);
  if (!signer) die(signer.error().message);
  auto issuer = pki::DeviceCertificateIssuer::create(signer->certificate.get(), signer->key.get());
  if (!issuer) die(issuer.error().message);
  std::string signer_pem = read_all(pki / "signer-ca.crt");
  auto subject = crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  if (!subject) die(subject.error().message);
  Issued out;
  for (size_t i = 0; i < count; ++i) {
    auto key = crypto::generate_p256_key();
    if (!key) die(key.error().message);
    auto csr = crypto::build_csr({.subject = subject->get(), .extensions = {}}, key->get());
    if (!csr) die(csr.error().message);
    auto certificate = issuer->issue(csr->get(), unix_now());
    if (!certificate) die(certificate.error().message);
    auto ski = crypto::subject_key_identifier(certificate->get());
    auto pem = crypto::certificate_to_pem(certificate->get());
    auto key_pem = crypto::private_key_to_pem(key->get());
    if (!ski || !pem || !key_pem) die("device certificate output");
    std::string chain = *pem + signer_pem;
    auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    tls->load_verify_file(server_ca.string());
    tls->use_certificate_chain(asio::buffer(chain));
    tls->use_private_key(asio::buffer(*key_pem), asio::ssl::context::pem);
    tls->set_verify_mode(asio::ssl::verify_peer);
    out.devices.push_back({to_hex(*ski), std::move(tls), server_name});
    out.pems.push_back(*pem);
  }
  return out;
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
  Cloud cloud{.process = {.name = "zerotouch"}};
  std::string level = getenv("BENCH_LOG") ? getenv("BENCH_LOG") : "warn";
  cloud.process.pid =
      spawn({ztp.string(), "--log-level", level, "cloud", "run", "--state-dir",
             (dir / "state").string(), "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0"},
            (dir / "cloud.out").string(), (dir / "cloud.err").string());
  std::string out;
  for (int i = 0; i < 500 && out.find("listening mqtts=") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    out = read_all(dir / "cloud.out");
  }
  auto port_after = [&](const std::string& key) -> uint16_t {
    auto at = out.find(key);
    if (at == std::string::npos) die("ztp cloud run did not start: " + read_all(dir / "cloud.err"));
    auto line = out.substr(at, out.find('\n', at) - at);
    return static_cast<uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
  };
  cloud.http = port_after("listening http=");
  cloud.process.port = port_after("listening mqtts=");
  cloud.env = fmt::format(
      "AWS_SHARED_CREDENTIALS_FILE={0}/credentials AWS_CONFIG_FILE={0}/config AWS_PAGER=",
      (dir / "state").string());
  return cloud;
}

// JITP's registration config on the second CA: the role (trusting iot.amazonaws.com) and the
// template, with the stock AWS CLI.
void configure_jitp(const Cloud& cloud, const fs::path& dir) {
  std::string url = fmt::format("http://127.0.0.1:{}", cloud.http);
  std::string trust =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"iot.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
  run_or_die(fmt::format(
      "{} aws iam create-role --endpoint-url {} --region us-east-1 --role-name JITPRole "
      "--assume-role-policy-document {} --query Role.Arn --output text >{}",
      cloud.env, url, shell_quote(trust), (dir / "role.arn").string()));
  std::string role = read_all(dir / "role.arn");
  role.erase(role.find_last_not_of(" \n") + 1);
  nlohmann::json policy = {
      {"Version", "2012-10-17"},
      {"Statement", {{{"Effect", "Allow"}, {"Action", "iot:*"}, {"Resource", "*"}}}}};
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
  if (auto made = iot.call("POST", "/policies/PreprovisionedAll", {}, &policy_body); !made)
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
  fmt::print("{:<44} {:>9}\n", "fleet provisioning by claim",
             "skipped (its MQTT API is not in this build)");
  row("anchor: mosquitto mTLS connect+CONNACK", anchor, anchor_rate);
  if (log.find("error") != std::string::npos || log.find("failed") != std::string::npos)
    fmt::print("(cloud log has errors: BENCH_KEEP=1 keeps {})\n", dir.string());
  return 0;
}
