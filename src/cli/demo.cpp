#include "cli/demo.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "aws/iot_client.hpp"
#include "cli/child_process.hpp"
#include "cli/demo_steps.hpp"
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

using namespace std::chrono_literals;

Status Demo::poll(const std::function<Result<bool>()>& done, std::chrono::milliseconds limit,
                  const std::string& what) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::string last_error;
  for (;;) {
    auto result = done();
    if (result && *result) return ok();
    if (!result) last_error = result.error().message;
    ZT_TRY(interrupted());
    for (ChildProcess* child : {cloud_ ? &*cloud_ : nullptr, kit_ ? &*kit_ : nullptr}) {
      if (child && !child->running()) {
        return make_error(Errc::io, fmt::format("{} {} while waiting for {}", child->name(),
                                                child->exit_description(), what));
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string message =
          fmt::format("{} did not happen within {} s", what, limit.count() / 1000);
      if (!last_error.empty()) message += " (last error: " + last_error + ")";
      return make_error(Errc::timeout, message);
    }
    std::this_thread::sleep_for(200ms);
  }
}

Result<json> Demo::board() {
  ZT_TRY_ASSIGN(std::string reply, kit::control_request(kit_dir_ / kit::kControlSocket, "leds"));
  auto state = json::parse(reply, nullptr, false);
  if (!state.is_object())
    return make_error(Errc::parse, "the kit's board state is not JSON: " + reply);
  return state;
}

Status Demo::factory_pki() {
  step("Factory PKI: root CA, signer CA key + CSR, signer CA certificate (ztp ca)");
  // Each file is made once: a second run keeps the CA, whose registration in the cloud stays
  // valid (delete the directory to start over).
  pki::CaOptions ca{.dir = dir_, .key = {}, .force = false, .now = 0};
  auto run_ca = [&](const char* file, const char* name,
                    const std::function<Result<pki::CaReport>()>& make) -> Status {
    if (fs::exists(dir_ / file)) {
      print("reusing {}", (dir_ / file).string());
      return ok();
    }
    command(fmt::format("ztp ca {} --dir {}", name, dir_.string()));
    ZT_TRY_ASSIGN(auto report, with_context(make(), std::string("ca ") + name));
    for (const auto& line : report.lines) print("{}", line);
    return ok();
  };
  ZT_TRY(run_ca(pki::kRootCertFile, "create-root", [&] { return pki::ca_create_root(ca); }));
  ZT_TRY(run_ca(pki::kSignerCsrFile, "create-signer-csr",
                [&] { return pki::ca_create_signer_csr(ca); }));
  return run_ca(pki::kSignerCertFile, "create-signer", [&] { return pki::ca_create_signer(ca); });
}

Status Demo::start_cloud() {
  step("The local AWS-IoT-compatible cloud: control plane (SigV4) + MQTT over mutual TLS");
  std::vector<std::string> argv{ztp_.string(),       "cloud",  "run",         "--state-dir",
                                cloud_dir_.string(), "--http", "127.0.0.1:0", "--mqtt",
                                "127.0.0.1:0"};
  command(fmt::format("ztp cloud run --state-dir {} --http 127.0.0.1:0 --mqtt 127.0.0.1:0 &",
                      cloud_dir_.string()));
  fs::path out = dir_ / "cloud.out", err = dir_ / "cloud.err";
  ZT_TRY_ASSIGN(auto child, ChildProcess::start(argv, out, err));
  cloud_.emplace(std::move(child));
  // The cloud prints its bound ports ("listening http=…", then "listening mqtts=…").
  ZT_TRY_ASSIGN(mqtt_address_, wait_for_line(*cloud_, out, "listening mqtts=", 30s, err, &stop_));
  ZT_TRY_ASSIGN(std::string http, wait_for_line(*cloud_, out, "listening http=", 1s, err, &stop_));
  http_url_ = "http://" + http;
  print("control plane {}, MQTT mqtts://{} (state in {}, pid {})", http_url_, mqtt_address_,
        cloud_dir_.string(), cloud_->pid());
  ZT_TRY_ASSIGN(aws::ClientConfig config,
                aws::load_client_config(
                    {.profile = std::nullopt, .region = std::nullopt, .endpoint_url = http_url_}));
  iot_ = std::make_unique<aws::IotClient>(std::move(config));
  return ok();
}

Status Demo::run_ca_register() {
  command(fmt::format("ztp ca register --dir {} --endpoint-url {}", dir_.string(), http_url_));
  ZT_TRY(with_context(ca_register({.dir = dir_.string(),
                                   .endpoint_url = http_url_,
                                   .region = std::nullopt,
                                   .profile = std::nullopt,
                                   .key = {}}),
                      "ca register"));
  return ok();
}

void Demo::mark_console() {
  std::error_code ec;
  auto size = fs::file_size(kit_dir_ / kit::kConsoleLog, ec);
  console_offset_ = ec ? 0 : size;
}

Status Demo::register_ca() {
  step(
      "Register the signer CA with the cloud: verification certificate, active, "
      "auto-registration (ztp ca register)");
  ZT_TRY(run_ca_register());
  ZT_TRY(interrupted());

  step(
      "The seed's AWS side through the AWS APIs: role ZTLambdaJITRRole, function ZTLambdaJITR "
      "(Python), its permission, rule ZeroTouchJustInTimeRegistration (ztp aws deploy-jitr)");
  command("ztp aws deploy-jitr --endpoint-url " + http_url_);
  AwsJitrOptions jitr;
  jitr.endpoint_url = http_url_;
  return with_context(deploy_jitr(jitr, [this](std::string_view line) { print("{}", line); }),
                      "aws deploy-jitr");
}

Status Demo::start_kit() {
  step(
      fmt::format("Start the emulated kit: ATECC508A (configured on first start), Wi-Fi AP "
                  "'{}', debug console",
                  options_.ssid));
  std::string retry = std::to_string(options_.kit_retry_max.count());
  std::string server_ca = (cloud_dir_ / "server-ca.crt").string();
  std::vector<std::string> argv{ztp_.string(),
                                "kit",
                                "run",
                                "--dir",
                                kit_dir_.string(),
                                "--wifi-ap",
                                factory_floor_ ? "factory-floor" : options_.ssid,
                                "--server-ca",
                                server_ca,
                                "--endpoint-override",
                                mqtt_address_,
                                "--retry-max-ms",
                                retry,
                                "--flow",
                                std::string(kit::flow_name(options_.flow))};
  command(fmt::format(
      "ZTP_WIFI_PASSWORD=… ztp kit run --dir {} --wifi-ap {} --server-ca {} "
      "--endpoint-override {} --flow {} &",
      kit_dir_.string(), options_.ssid, server_ca, mqtt_address_, kit::flow_name(options_.flow)));
  fs::path out = dir_ / "kit.out", err = dir_ / "kit.err";
  // The passphrase goes in the child's environment, never its argv (/proc/<pid>/cmdline).
  ZT_TRY_ASSIGN(auto child, ChildProcess::start(
                                argv, out, err,
                                {std::string(kWifiPasswordEnv) + "=" + options_.wifi_password}));
  kit_.emplace(std::move(child));
  ZT_TRY_ASSIGN(std::string line, wait_for_line(*kit_, out, "kit dir=", 20s, err, &stop_));
  print("kit dir={} (pid {})", line, kit_->pid());
  return ok();
}

Status Demo::provision_kit() {
  step(
      "kit set-wifi and kit provision: CSR signed inside the secure element, device "
      "certificate, compressed certs");
  command(fmt::format("ZTP_WIFI_PASSWORD=… ztp kit set-wifi --dir {} --ssid {}", dir_.string(),
                      options_.ssid));
  ZT_TRY(with_context(kit::set_wifi(dir_, options_.ssid, options_.wifi_password), "kit set-wifi"));
  print("Wi-Fi SSID {} saved to {} (password encrypted with {})", options_.ssid,
        (dir_ / kit::kKitInfoFile).string(), kit::kWifiKeyFile);
  fs::path usb = kit_dir_ / kit::kUsbSocket;
  command(fmt::format("ztp kit provision --dir {} --kit-socket {}", dir_.string(), usb.string()));
  ZT_TRY_ASSIGN(auto link, with_context(kit::connect_kit_socket(usb), "kit provision"));
  kit::KitClient client(std::move(link));
  ZT_TRY_ASSIGN(auto report, with_context(kit::provision(client, dir_), "kit provision"));
  for (const auto& line : report.lines) print("{}", line);
  // What the kit prints from here on is about these credentials: on a second run it was connected
  // with the previous certificate until now. The new one's first connection is refused (JITR) and
  // retried after at least 500 ms, so its subscription lands after this point.
  mark_console();
  thing_ = report.thing_name;
  ZT_TRY_ASSIGN(auto certificate, crypto::load_certificate(dir_ / pki::kDeviceCertFile));
  ZT_TRY_ASSIGN(Bytes der, crypto::certificate_to_der(certificate.get()));
  certificate_id_ = to_hex(crypto::sha256(der));
  return ok();
}

Status Demo::wait_for_subscription() {
  switch (options_.flow) {
    case kit::Flow::jitr:
      step(
          "The device connects: first attempt refused (JITR), registered by the function, then "
          "subscribed");
      break;
    case kit::Flow::jitp:
      step(
          "The device connects: first attempt closed while the CA's template provisions it "
          "(JITP), then subscribed");
      break;
    case kit::Flow::preprovisioned:
      step(
          "The device connects: its certificate is registered (without a CA), the first attempt "
          "is accepted (SNI), subscribed");
      break;
    case kit::Flow::fleet_csr:
    case kit::Flow::fleet_claim:
      step(
          "The device connects with its claim, gets its own certificate, RegisterThing, then "
          "reconnects with the new identity and subscribes");
      break;
  }
  fs::path console = kit_dir_ / kit::kConsoleLog;
  std::string since;
  auto subscribed = [&]() -> Result<bool> {
    ZT_TRY_ASSIGN(std::string text, read_text_file(console, 16 << 20));
    since = text.size() > console_offset_ ? text.substr(console_offset_) : std::string();
    return since.find("SUCCESS: Subscribed to the MQTT update topic subscription") !=
           std::string::npos;
  };
  Status waited = poll(subscribed, options_.subscribe_limit,
                       "the kit's subscription (see " + console.string() + " and " +
                           (dir_ / "cloud.err").string() + ")");
  // The console lines of this connection, as the seed's guide shows them on the EDBG port.
  std::istringstream lines(since);
  std::vector<std::string> shown;
  for (std::string line; std::getline(lines, line);) {
    for (const char* word : {"WIFI: Connected", "DNS", "MQTT", "TLS", "SUCCESS", "ERROR"}) {
      if (line.find(word) != std::string::npos) {
        shown.push_back(line);
        break;
      }
    }
  }
  size_t first = shown.size() > 12 ? shown.size() - 12 : 0;
  for (size_t i = first; i < shown.size(); ++i) print("{}", shown[i]);
  return waited;
}

Status Demo::check_registry() {
  // What the JITR function did, read back through the control plane.
  command(fmt::format("{} iot describe-certificate --certificate-id {}", aws(), certificate_id_));
  json description;
  // The subscription proves the cloud accepted the certificate; the read is polled only so that
  // a slow registry write cannot fail the demo.
  ZT_TRY(poll(
      [&]() -> Result<bool> {
        ZT_TRY_ASSIGN(json certificate,
                      with_context(iot_->call("GET", "/certificates/" + certificate_id_),
                                   "DescribeCertificate"));
        description = certificate.value("certificateDescription", json::object());
        return description.value("status", "") == "ACTIVE";
      },
      options_.round_trip_limit, "certificate " + certificate_id_ + " ACTIVE"));
  print("{}", json{{"status", description.value("status", "")},
                   {"caCertificateId", description.value("caCertificateId", "")}}
                  .dump(1));
  command(fmt::format("{} iot describe-thing --thing-name {}", aws(), thing_));
  ZT_TRY_ASSIGN(json thing, with_context(iot_->call("GET", "/things/" + thing_), "DescribeThing"));
  print("{}",
        json{{"thingName", thing.value("thingName", "")}, {"thingArn", thing.value("thingArn", "")}}
            .dump(1));
  std::string arn = description.value("certificateArn", "");
  command(fmt::format("{} iot list-principal-policies --principal {}", aws(), arn));
  ZT_TRY_ASSIGN(json policies, with_context(iot_->call("GET", "/principal-policies", {}, nullptr,
                                                       {{"x-amzn-iot-principal", arn}}),
                                            "ListPrincipalPolicies"));
  bool attached = false;
  for (const auto& policy : policies.value("policies", json::array())) {
    std::string name = policy.value("policyName", "");
    print("{}", name);
    attached = attached || name == "ZTPolicy_" + certificate_id_;
  }
  if (!attached) {
    return make_error(Errc::not_found, "policy ZTPolicy_" + certificate_id_ + " is not attached");
  }
  return ok();
}

Status Demo::toggle_led() {
  step("Toggle LED1 through the shadow (desired.led1 = on) and see it lit on the board");
  auto set_led1 = [&](const char* value) -> Status {
    json update{{"state", {{"desired", {{"led1", value}}}}}};
    command(
        fmt::format("{} iot-data update-thing-shadow --thing-name {} "
                    "--cli-binary-format raw-in-base64-out --payload '{}' /dev/stdout",
                    aws(), thing_, update.dump()));
    ZT_TRY_ASSIGN(json accepted,
                  with_context(iot_->call("POST", "/things/" + thing_ + "/shadow", {}, &update),
                               "UpdateThingShadow"));
    print("{}", json{{"state", accepted.value("state", json::object())},
                     {"version", accepted.value("version", 0)}}
                    .dump());
    return poll(
        [&]() -> Result<bool> {
          ZT_TRY_ASSIGN(json leds, board());
          return leds.value("led1", "") == value;
        },
        options_.round_trip_limit, fmt::format("LED1 {}", value));
  };
  ZT_TRY_ASSIGN(json before, board());
  if (before.value("led1", "") == "on") {
    print("LED1 is already on (the shadow kept it from the last run): switching it off first");
    ZT_TRY(set_led1("off"));
  }
  ZT_TRY(set_led1("on"));
  command("ztp kit leds --kit-dir " + kit_dir_.string());
  ZT_TRY_ASSIGN(json leds, board());
  print("{}", leds.dump());
  return ok();
}

Status Demo::press_button() {
  step("Press button 1 on the board and see it reported in the shadow");
  auto shadow = [&]() -> Result<json> {
    return with_context(iot_->call("GET", "/things/" + thing_ + "/shadow"), "GetThingShadow");
  };
  ZT_TRY_ASSIGN(json before, shadow());
  int64_t version = before.value("version", int64_t{0});
  ZT_TRY_ASSIGN(json leds, board());
  std::string expected = leds.value("button1", "up") == "up" ? "down" : "up";
  command("ztp kit press 1 --kit-dir " + kit_dir_.string());
  ZT_TRY(kit::control_request(kit_dir_ / kit::kControlSocket, "press 1"));
  print("button 1 pressed");
  json latest;
  // A newer version whose reported button1 is the pressed state: the press itself, not a state
  // left in the shadow by an earlier run.
  ZT_TRY(poll(
      [&]() -> Result<bool> {
        ZT_TRY_ASSIGN(latest, shadow());
        const json& state = latest.value("state", json::object());
        return latest.value("version", int64_t{0}) > version &&
               state.value("reported", json::object()).value("button1", "") == expected;
      },
      options_.round_trip_limit, "button 1 " + expected + " in the reported state"));
  command(fmt::format("{} iot-data get-thing-shadow --thing-name {} /dev/stdout", aws(), thing_));
  print("{}", json{{"reported", latest["state"].value("reported", json::object())},
                   {"version", latest.value("version", 0)}}
                  .dump(1));
  return ok();
}

Status Demo::open_console() {
  step("The web console: the device page (LEDs, buttons, message log, virtual board)");
  command(fmt::format("ztp interact --dir {} --kit-dir {} --endpoint-url {}", dir_.string(),
                      kit_dir_.string(), http_url_));
  ZT_TRY_ASSIGN(console_url_,
                with_context(console_device_link(*iot_, thing_, kit_dir_.string()), "interact"));
  print("device page of {} (one-time link, valid 120 s):\n{}", thing_, console_url_);
  return ok();
}

Status Demo::keep_running() {
  print(
      "Cloud control plane: {} (aws CLI: AWS_SHARED_CREDENTIALS_FILE={}/credentials "
      "AWS_CONFIG_FILE={}/config)",
      http_url_, cloud_dir_.string(), cloud_dir_.string());
  print(
      "Web console: {}/console/ (the device page's link is above; another: ztp interact --dir {} "
      "--kit-dir {} --endpoint-url {})",
      http_url_, dir_.string(), kit_dir_.string(), http_url_);
  print("Kit: debug console {}; board: ztp kit leds|press N --kit-dir {}",
        (kit_dir_ / kit::kConsoleLog).string(), kit_dir_.string());
  print("Running until Ctrl-C.");
  while (!stop_) {
    for (ChildProcess* child : {&*cloud_, &*kit_}) {
      if (!child->running()) {
        return make_error(Errc::io, fmt::format("{} {}", child->name(), child->exit_description()));
      }
    }
    std::this_thread::sleep_for(100ms);
  }
  return ok();
}

void Demo::stop_children() {
  // The kit first: its MQTT DISCONNECT reaches a cloud that is still there.
  for (auto* child : {&kit_, &cloud_}) {
    if (*child && (*child)->running()) {
      print("stopping {} (pid {})", (*child)->name(), (*child)->pid());
      (*child)->stop();
    }
  }
}

Status Demo::run() {
  ZT_TRY_ASSIGN(ztp_, self_executable());
  dir_ = fs::absolute(options_.dir).lexically_normal();
  ZT_TRY(ensure_directory(dir_, 0700));
  cloud_dir_ = dir_ / "cloud";
  // One chip per flow: fleet-claim configures its blank chip differently (kit/flow.hpp).
  kit_dir_ = options_.flow == kit::Flow::jitr
                 ? dir_ / "kit"
                 : dir_ / ("kit-" + std::string(kit::flow_name(options_.flow)));
  print("zerotouch demo in {} (keys, cloud state and chip are reused between runs)", dir_.string());

  using Stage = Status (Demo::*)();
  std::vector<Stage> stages;
  const std::vector<Stage> shadow = {&Demo::toggle_led, &Demo::press_button, &Demo::open_console};
  switch (options_.flow) {
    case kit::Flow::jitr:
      stages = {&Demo::factory_pki,   &Demo::start_cloud,   &Demo::register_ca,
                &Demo::start_kit,     &Demo::provision_kit, &Demo::wait_for_subscription,
                &Demo::check_registry};
      break;
    case kit::Flow::jitp:
      stages = {&Demo::factory_pki,   &Demo::start_cloud,   &Demo::setup_jitp,
                &Demo::start_kit,     &Demo::provision_kit, &Demo::wait_for_subscription,
                &Demo::check_identity};
      break;
    case kit::Flow::preprovisioned:
      stages = {&Demo::factory_pki,           &Demo::start_cloud,
                &Demo::setup_preprovisioned,  &Demo::start_kit,
                &Demo::provision_kit,         &Demo::register_without_ca,
                &Demo::wait_for_subscription, &Demo::check_identity};
      break;
    case kit::Flow::fleet_csr:
    case kit::Flow::fleet_claim:
      stages = {&Demo::start_cloud,         &Demo::setup_fleet,           &Demo::start_kit,
                &Demo::provision_claim_kit, &Demo::wait_for_subscription, &Demo::check_identity};
      break;
  }
  stages.insert(stages.end(), shadow.begin(), shadow.end());
  for (Stage stage : stages) {
    ZT_TRY(interrupted());
    ZT_TRY((this->*stage)());
  }
  print("\n{}Done: the kit was provisioned, {}, and talks to its shadow.{}", bold_,
        options_.flow == kit::Flow::jitr   ? "registered just in time"
        : options_.flow == kit::Flow::jitp ? "provisioned just in time by its CA's template"
        : options_.flow == kit::Flow::preprovisioned ? "registered without a CA"
                                                     : "provisioned by claim (RegisterThing)",
        plain_);
  if (!options_.once) ZT_TRY(keep_running());
  stop_children();
  return ok();
}

}  // namespace zt::cli::demo_detail

namespace zt::cli {

Status run_demo(const DemoOptions& options, const std::atomic<bool>& stop) {
  // The aws CLI's files of the demo's cloud, for ca_register and our own calls, and for any aws
  // command the user copies from the output (the children do not need them).
  std::filesystem::path cloud = std::filesystem::absolute(options.dir) / "cloud";
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (cloud / "credentials").c_str(), 1);
  ::setenv("AWS_CONFIG_FILE", (cloud / "config").c_str(), 1);
  for (const char* name :
       {"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"}) {
    ::unsetenv(name);
  }
  demo_detail::Demo demo(options, stop);
  return demo.run();
}

}  // namespace zt::cli
