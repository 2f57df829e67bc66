#include "kit/firmware.hpp"

#include <fmt/format.h>

#include <boost/asio/ip/address.hpp>

#include <random>
#include <thread>

#include "atcacert/kit_definitions.hpp"
#include "atcacert/slots.hpp"
#include "common/hex.hpp"
#include "common/host_names.hpp"
#include "common/time.hpp"
#include "crypto/digest.hpp"
#include "crypto/x509.hpp"
#include "kit/jobs_agent.hpp"
#include "kit/metadata.hpp"
#include "kit/mqtt_link.hpp"
#include "kit/se_key_provider.hpp"
#include "kit/se_slot_store.hpp"
#include "kit/tls_client.hpp"

namespace zt::kit {

using namespace std::chrono_literals;

namespace {

std::string delta_topic(const std::string& thing) {
  return "$aws/things/" + thing + "/shadow/update/delta";
}
std::string update_topic(const std::string& thing) {
  return "$aws/things/" + thing + "/shadow/update";
}

}  // namespace

Result<AccessPoint> parse_access_point(std::string_view spec) {
  size_t first = spec.find(':');
  if (first == std::string_view::npos || first == 0) {
    return make_error(Errc::invalid_argument,
                      // The spec holds a passphrase: never in a message.
                      "an access point: expected ssid:psk[:wpa2|open|enterprise]");
  }
  AccessPoint ap;
  ap.ssid = std::string(spec.substr(0, first));
  std::string_view rest = spec.substr(first + 1);
  size_t second = rest.rfind(':');
  std::string_view security = "wpa2";
  if (second != std::string_view::npos) {
    std::string_view tail = rest.substr(second + 1);
    if (tail == "wpa2" || tail == "open" || tail == "enterprise") {
      security = tail;
      rest = rest.substr(0, second);
    }
  }
  ap.psk = std::string(rest);
  ap.security = security == "open"         ? AccessPoint::Security::open
                : security == "enterprise" ? AccessPoint::Security::enterprise
                                           : AccessPoint::Security::wpa2;
  if (ap.ssid.size() > kMaxSsidSize) {
    return make_error(Errc::invalid_argument,
                      fmt::format("access point SSID '{}' longer than 32 bytes", ap.ssid));
  }
  return ap;
}

Firmware::Firmware(std::shared_ptr<se::Device> device, std::shared_ptr<Board> board,
                   FirmwareConfig config, Console console)
    : device_(std::move(device)),
      board_(std::move(board)),
      config_(std::move(config)),
      console_(std::move(console)) {}

void Firmware::credentials_changed() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  changed_.notify_all();
}

uint64_t Firmware::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

KitStatus Firmware::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void Firmware::set_status(KitState state, int code, std::string message) {
  std::string ssid;
  {
    std::lock_guard lock(mutex_);
    status_ = KitStatus{state, code, message};
    ssid = oled_ssid_;
  }
  // The OLED's status lines follow the firmware's state (Wi-Fi, then the cloud connection).
  switch (state) {
    case KitState::starting:
      board_->set_oled_status("Zero Touch Kit", "starting");
      break;
    case KitState::waiting_for_provisioning:
      board_->set_oled_status("Zero Touch Kit", "Waiting for USB prov");
      break;
    case KitState::joining_wifi:
      board_->set_oled_status("WiFi: joining", ssid);
      break;
    case KitState::connecting:
      board_->set_oled_status("WiFi: " + ssid, "AWS: connecting");
      break;
    case KitState::connected:
      board_->set_oled_status("WiFi: " + ssid, "AWS: connected");
      break;
    case KitState::error:
      board_->set_oled_status(code == 4 ? "WiFi: " + ssid : "ERROR",
                              code == 4 ? "AWS: retrying" : message);
      break;
  }
}

bool Firmware::wait_for_change(uint64_t generation, const std::atomic<bool>& stop,
                               std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::unique_lock lock(mutex_);
  while (!stop && generation_ == generation && std::chrono::steady_clock::now() < deadline) {
    changed_.wait_for(lock, 100ms);
  }
  return generation_ != generation;
}

Result<Firmware::Session> Firmware::load_credentials() {
  Session session;
  ZT_TRY_ASSIGN(Bytes slot8, with_context(device_->read_slot(kMetadataSlot), "reading slot 8"));
  ZT_TRY_ASSIGN(session.metadata, decode_metadata(slot8));
  if (session.metadata.provision_flag != kAwsProvisioned || !session.metadata.has_wifi() ||
      !session.metadata.has_hostname()) {
    return make_error(Errc::not_found,
                      fmt::format("not provisioned (slot 8 provision_flag 0x{:04X}{}{})",
                                  session.metadata.provision_flag,
                                  session.metadata.has_hostname() ? "" : ", no host name",
                                  session.metadata.has_wifi() ? "" : ", no Wi-Fi credentials"));
  }
  if (uses_fleet_provisioning(config_.flow)) {
    ZT_TRY(load_fleet_credentials(session));
    return session;
  }
  SeSlotStore store(device_);
  const auto& signer_def = atcacert::kit_signer_definition();
  const auto& device_def = atcacert::kit_device_definition();
  ZT_TRY_ASSIGN(auto chain, with_context(atcacert::read_chain(signer_def, device_def, store),
                                         "rebuilding the certificates from slots 10/12"));
  ZT_TRY_ASSIGN(Bytes root_slot, device_->read_slot(atcacert::kRootPublicKeySlot));
  ZT_TRY(with_context(
      atcacert::verify_chain(signer_def, device_def, chain, atcacert::unpad_public_key(root_slot)),
      "the certificates in slots 10/12 do not verify (corrupted slot?)"));
  ZT_TRY_ASSIGN(session.device_cert,
                crypto::certificate_from_der(chain.device, "device certificate"));
  ZT_TRY_ASSIGN(session.signer_cert,
                crypto::certificate_from_der(chain.signer, "signer certificate"));
  ZT_TRY_ASSIGN(Bytes ski, crypto::subject_key_identifier(session.device_cert.get()));
  session.thing_name = to_hex(ski);
  // JITP: the CA's template names the thing; the one value of the certificate both sides know
  // is its id (SHA-256 of the DER, AWS::IoT::Certificate::Id), so the template names it so.
  if (config_.flow == Flow::jitp) session.thing_name = to_hex(crypto::sha256(chain.device));
  ZT_TRY_ASSIGN(session.key, se_private_key(device_, kDeviceKeySlot));
  if (X509_check_private_key(session.device_cert.get(), session.key.get()) != 1) {
    return make_error(Errc::crypto,
                      "the device certificate in slot 10 is not for the key in slot 0");
  }
  return session;
}

Status Firmware::join_wifi(const Session& session) {
  const std::string& ssid = session.metadata.ssid;
  print(fmt::format("WINC1500 WIFI: Connecting to AP {} ...", ssid));
  const AccessPoint* found = nullptr;
  for (const auto& ap : config_.access_points) {
    if (ap.ssid == ssid) found = &ap;
  }
  if (!found)
    return make_error(Errc::not_found, fmt::format("WINC1500 WIFI: AP {} not found", ssid));
  // The seed's guide: "You will not be able to connect to an access point that has open access or
  // enterprise security" — the firmware joins WPA2 personal (M2M_WIFI_SEC_WPA_PSK) only.
  if (found->security == AccessPoint::Security::open) {
    return make_error(Errc::unsupported,
                      fmt::format("WINC1500 WIFI: AP {} is an open network; only WPA2 personal "
                                  "access points are supported",
                                  ssid));
  }
  if (found->security == AccessPoint::Security::enterprise) {
    return make_error(Errc::unsupported,
                      fmt::format("WINC1500 WIFI: AP {} uses enterprise security; only WPA2 "
                                  "personal access points are supported",
                                  ssid));
  }
  if (!constant_time_equal(as_bytes(found->psk), as_bytes(session.metadata.wifi_password))) {
    return make_error(Errc::permission,
                      fmt::format("WINC1500 WIFI: Failed to connect to AP {}: authentication "
                                  "failed (wrong Wi-Fi password?)",
                                  ssid));
  }
  print(fmt::format("WINC1500 WIFI: Connected to AP {}", ssid));
  print("WINC1500 WIFI: Device IP Address: 127.0.0.1");
  print(fmt::format("WINC1500 WIFI: Device Time: {}", format_iso8601(unix_now())));
  return ok();
}

Result<std::string> Firmware::resolve(const std::string& host_name, uint16_t& port) {
  port = config_.endpoint_override_port.value_or(8883);
  if (config_.endpoint_override_host) {
    print(fmt::format("DNS lookup: {} -> {} (override), port {}", host_name,
                      *config_.endpoint_override_host, port));
    return *config_.endpoint_override_host;
  }
  // The local cloud's endpoints are <prefix>-ats.iot.<region>.localhost; RFC 6761 §6.3 lets
  // *.localhost resolve to loopback. Other names (`ztp cloud run --endpoint-domain`) resolve
  // through this machine's /etc/hosts, to a loopback address only: the emulated network sends no
  // DNS query and reaches nothing else.
  if (is_localhost_name(host_name)) {
    print(fmt::format("DNS lookup: {} -> 127.0.0.1, port {}", host_name, port));
    return std::string("127.0.0.1");
  }
  auto address = hosts_file_address(host_name, config_.hosts_file);
  boost::system::error_code ec;
  auto parsed = boost::asio::ip::make_address(address.value_or(""), ec);
  if (!address || ec || !parsed.is_loopback()) {
    return make_error(
        Errc::not_found,
        fmt::format(
            "DNS lookup for {} failed: the emulated network resolves *.localhost, and other "
            "names only to a loopback address listed in {}{}. {} (or run the kit with "
            "--endpoint-override)",
            host_name, config_.hosts_file.string(),
            address ? fmt::format(" ({} gives {})", config_.hosts_file.string(), *address) : "",
            unresolved_name_hint(host_name)));
  }
  print(fmt::format("DNS lookup: {} -> {} ({}), port {}", host_name, *address,
                    config_.hosts_file.string(), port));
  return *address;
}

void Firmware::run(const std::atomic<bool>& stop) {
  print("Zero Touch Secure Provisioning Kit (emulated SAM G55 + ATECC508A + WINC1500)");
  std::mt19937_64 rng(std::random_device{}());
  uint64_t seen = generation();
  while (!stop) {
    // A provisioning session writes slots 10-15 and then slot 8 in separate requests: let it
    // finish (no change for 200 ms) before reading, rather than connecting in between.
    while (!stop && generation() != seen) {
      seen = generation();
      wait_for_change(seen, stop, 200ms);
    }
    uint64_t generation = seen;
    auto session = load_credentials();
    if (!session) {
      bool waiting = session.error().code == Errc::not_found;
      if (waiting) {
        print("Waiting for provisioning over USB: " + session.error().message);
        set_status(KitState::waiting_for_provisioning, 0, session.error().message);
      } else {
        print("ERROR: " + session.error().message);
        set_status(KitState::error, 1, session.error().message);
      }
      wait_for_change(generation, stop);
      continue;
    }
    print(fmt::format("Provisioned: thing name {}, endpoint {}", session->thing_name,
                      session->metadata.hostname));
    board_->set_thing(session->thing_name);
    {
      std::lock_guard lock(mutex_);
      oled_ssid_ = session->metadata.ssid;
    }
    set_status(KitState::joining_wifi, 0, "joining Wi-Fi " + session->metadata.ssid);
    if (Status joined = join_wifi(*session); !joined) {
      print("ERROR: " + joined.error().message);
      set_status(KitState::error, 2, joined.error().message);
      wait_for_change(generation, stop);
      continue;
    }
    uint16_t port = 8883;
    auto address = resolve(session->metadata.hostname, port);
    if (!address) {
      print("ERROR: " + address.error().message);
      set_status(KitState::error, 3, address.error().message);
      wait_for_change(generation, stop);
      continue;
    }
    // Connect until it works; the first attempt after provisioning is refused while JITR
    // registers the certificate (the seed's guide: "at least two attempts").
    int attempt = 0;
    while (!stop && this->generation() == generation) {
      ++attempt;
      set_status(KitState::connecting, 0, fmt::format("MQTT connect attempt {}", attempt));
      print(fmt::format("MQTT: connecting to {} ({}:{}) as {}, attempt {}",
                        session->metadata.hostname, *address, port, session->thing_name, attempt));
      bool subscribed = false;
      Status served = connect_and_serve(*session, *address, port, generation, stop, subscribed);
      if (subscribed) attempt = 0;
      if (served || stop || this->generation() != generation) break;
      auto exponent = std::min(attempt > 0 ? attempt - 1 : 0, 16);
      auto delay = std::min(config_.retry_max, config_.retry_base * (int64_t{1} << exponent));
      auto jitter = std::chrono::milliseconds(
          std::uniform_int_distribution<int64_t>(0, delay.count() / 2)(rng));
      delay = std::min(config_.retry_max, delay + jitter);
      print(fmt::format("ERROR: {}; retrying in {} ms", served.error().message, delay.count()));
      set_status(KitState::error, 4, served.error().message);
      wait_for_change(generation, stop, delay);
    }
  }
  print("Stopped");
}

namespace {

nlohmann::json reported_state(const Board& board) {
  nlohmann::json snapshot = board.snapshot();
  nlohmann::json reported = nlohmann::json::object();
  for (const char* field : {"button1", "button2", "button3", "led1", "led2", "led3"}) {
    reported[field] = snapshot[field];
  }
  return nlohmann::json{{"state", {{"reported", reported}}}};
}

}  // namespace

Status Firmware::connect_and_serve(const Session& session, const std::string& address,
                                   uint16_t port, uint64_t generation,
                                   const std::atomic<bool>& stop, bool& subscribed) {
  TlsClientConfig tls{.server_name = session.metadata.hostname,
                      .address = address,
                      .port = port,
                      .server_ca = config_.server_ca,
                      .device_cert = session.device_cert.get(),
                      .signer_cert = session.signer_cert.get(),
                      .key = session.key.get()};
  auto connected = TlsConnection::connect(tls);
  if (!connected) {
    // The endpoint's trust store holds the registered, ACTIVE CAs only: a device certificate from
    // any other CA fails the handshake with an alert (unknown_ca; some servers say bad/unknown
    // certificate). Say what fixes it, not only what TLS reported.
    const std::string& why = connected.error().message;
    // The endpoint refused the name in the ClientHello: the kit was given a name that is not the
    // cloud's (not a certificate problem, not JITR).
    if (why.find("unrecognized name") != std::string::npos) {
      return make_error(Errc::permission,
                        fmt::format("{}: the endpoint name {} is not the cloud's (it answered the "
                                    "TLS alert unrecognized_name) — provision the kit with the "
                                    "endpointAddress that `aws iot describe-endpoint` returns",
                                    why, session.metadata.hostname));
    }
    for (const char* alert : {"alert unknown ca", "alert bad certificate", "certificate unknown"}) {
      if (why.find(alert) != std::string::npos) {
        return make_error(Errc::permission,
                          fmt::format("{}: the endpoint does not trust the device certificate's "
                                      "CA — its signer CA is not registered (or not ACTIVE); run "
                                      "`ztp ca register`",
                                      why));
      }
    }
    return std::move(connected).error();
  }
  auto connection = std::move(*connected);
  print(fmt::format("TLS: connected ({}), client key in the ATECC508A slot {}",
                    connection->cipher(), session.key_slot));
  PacketReader reader(*connection);

  ZT_TRY(mqtt_connect(*connection, reader, session.thing_name, config_.keep_alive_seconds));
  print("MQTT: connected");
  if (session.claim) return provision_with_claim(session, *connection, reader);

  const std::string delta = delta_topic(session.thing_name);
  mqtt::Subscribe subscribe{.packet_id = 1, .subscriptions = {{delta, 0}}};
  // AWS IoT Jobs (kit/jobs_agent.hpp): its topics in the same SUBSCRIBE, after the delta.
  JobsAgent jobs(session.thing_name, *board_, [this](const std::string& line) { print(line); });
  if (config_.jobs)
    for (auto& filter : jobs.subscriptions()) subscribe.subscriptions.push_back({filter, 0});
  ZT_TRY(with_context(send(*connection, subscribe), "MQTT SUBSCRIBE"));
  ZT_TRY_ASSIGN(auto suback, with_context(reader.next(5s), "MQTT subscribe"));
  if (!suback || !std::holds_alternative<mqtt::Suback>(*suback)) {
    return make_error(Errc::io, "MQTT subscribe: no SUBACK within 5 s");
  }
  const auto& codes = std::get<mqtt::Suback>(*suback).return_codes;
  if (codes.empty() || codes[0] == mqtt::kSubackFailure) {
    return make_error(Errc::permission, "MQTT subscribe to " + delta + " refused");
  }
  subscribed = true;
  print("SUCCESS: Subscribed to the MQTT update topic subscription: " + delta);
  board_->blink_led0(5);
  set_status(KitState::connected, 0, "connected as " + session.thing_name);

  auto publish_reported = [&]() -> Status {
    std::string payload = reported_state(*board_).dump();
    print("Publishing MQTT Shadow Update Message: " + payload);
    mqtt::Publish publish{.topic = update_topic(session.thing_name),
                          .payload = Bytes(payload.begin(), payload.end())};
    return send(*connection, publish);
  };
  ZT_TRY(publish_reported());
  auto send_jobs = [&](const std::vector<JobsMessage>& messages) -> Status {
    for (const auto& m : messages) {
      ZT_TRY(send(
          *connection,
          mqtt::Publish{.topic = m.topic, .payload = Bytes(m.payload.begin(), m.payload.end())}));
      if (m.topic.ends_with("/update")) ZT_TRY(publish_reported());  // a job ran: LEDs may differ
    }
    return ok();
  };
  if (codes.size() > 1 && codes[1] != mqtt::kSubackFailure) ZT_TRY(send_jobs(jobs.on_connected()));

  auto last_sent = std::chrono::steady_clock::now();
  const auto ping_interval = std::chrono::seconds(config_.keep_alive_seconds) / 2;
  while (!stop && this->generation() == generation) {
    if (auto button = board_->take_press()) {
      board_->set_button(*button, !board_->button(*button));
      print(fmt::format("Button {} pressed: {}", *button, board_->button(*button) ? "down" : "up"));
      ZT_TRY(publish_reported());
      last_sent = std::chrono::steady_clock::now();
      continue;
    }
    ZT_TRY_ASSIGN(auto packet,
                  with_context(reader.next(100ms),
                               "MQTT connection lost (the endpoint ends the sessions of a "
                               "certificate that is deactivated or revoked)"));
    if (packet && std::holds_alternative<mqtt::Publish>(*packet)) {
      const auto& message = std::get<mqtt::Publish>(*packet);
      std::string text(message.payload.begin(), message.payload.end());
      if (message.topic != delta) {
        if (auto answer = jobs.on_message(message.topic, text)) ZT_TRY(send_jobs(*answer));
        continue;
      }
      print("Received MQTT Shadow Update Delta Message: " + text);
      auto body = nlohmann::json::parse(text, nullptr, false);
      if (body.is_discarded() || !body.is_object() || !body.contains("state") ||
          !body["state"].is_object()) {
        print("ERROR: shadow delta is not a JSON object with \"state\"");
        continue;
      }
      for (int led = 1; led <= 3; ++led) {
        std::string field = "led" + std::to_string(led);
        const auto& value = body["state"].contains(field) ? body["state"][field] : nlohmann::json();
        if (value == "on" || value == "off") board_->set_led(led, value == "on");
      }
      ZT_TRY(publish_reported());
      last_sent = std::chrono::steady_clock::now();
    }
    if (std::chrono::steady_clock::now() - last_sent > ping_interval) {
      ZT_TRY(send(*connection, mqtt::Pingreq{}));
      last_sent = std::chrono::steady_clock::now();
    }
  }
  (void)send(*connection, mqtt::Disconnect{});
  print("MQTT: disconnected");
  return ok();
}

}  // namespace zt::kit
