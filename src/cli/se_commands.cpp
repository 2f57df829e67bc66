// `ztp se ...`: the ATECC508A emulator and client from the command line. Every subcommand talks to
// a chip either through a state file (`--state chip.json`: an in-process emulator whose
// non-volatile memory is that file; a missing file becomes a new blank chip) or through a running
// `ztp se serve` (`--socket PATH`).
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "common/file.hpp"
#include "common/hex.hpp"
#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"
#include "secure_element/device.hpp"
#include "secure_element/emulator.hpp"
#include "secure_element/kit_config.hpp"
#include "secure_element/state_file.hpp"
#include "secure_element/unix_socket.hpp"

namespace zt::cli {

namespace {

using namespace zt::se;

struct ChipOptions {
  std::string state;
  std::string socket;
};

void add_chip_options(CLI::App* command, ChipOptions& options) {
  auto* state =
      command->add_option("--state", options.state, "chip state file (created blank if missing)");
  auto* socket =
      command->add_option("--socket", options.socket, "socket of a running `ztp se serve`");
  state->excludes(socket);
}

Result<std::unique_ptr<Device>> open_device(const ChipOptions& options) {
  if (!options.socket.empty()) {
    ZT_TRY_ASSIGN(auto transport, UnixSocketTransport::connect(options.socket));
    return std::make_unique<Device>(std::move(transport));
  }
  if (options.state.empty())
    return make_error(Errc::invalid_argument, "give --state FILE or --socket PATH");
  ZT_TRY_ASSIGN(ChipState chip, load_or_create_state(options.state));
  const std::string path = options.state;
  auto emulator = std::make_shared<Emulator>(
      std::move(chip), [path](const ChipState& s) { return save_state(path, s); });
  return std::make_unique<Device>(std::make_unique<InProcessTransport>(std::move(emulator)));
}

Result<unsigned> parse_slot(int slot) {
  if (slot < 0 || slot >= static_cast<int>(slot_count)) {
    return make_error(Errc::invalid_argument, fmt::format("--slot {} does not exist (0-15)", slot));
  }
  return static_cast<unsigned>(slot);
}

Result<Zone> parse_zone(const std::string& zone) {
  if (zone == "config") return Zone::config;
  if (zone == "otp") return Zone::otp;
  if (zone == "data") return Zone::data;
  return make_error(Errc::invalid_argument,
                    fmt::format("--zone must be config, otp or data (got \"{}\")", zone));
}

std::string describe_slot(const Bytes& config, unsigned slot) {
  const SlotConfig sc{static_cast<uint16_t>(config[20 + 2 * slot] | (config[21 + 2 * slot] << 8))};
  const KeyConfig kc{static_cast<uint16_t>(config[96 + 2 * slot] | (config[97 + 2 * slot] << 8))};
  std::string what;
  if (kc.is_private() && kc.is_p256()) {
    what = "P-256 private key";
    if (sc.external_sign_allowed()) what += ", ext-sign";
    if (sc.internal_sign_allowed()) what += ", int-sign";
    if (sc.ecdh_allowed()) what += sc.ecdh_to_slot() ? ", ECDH->slot" : ", ECDH";
    if (sc.genkey_allowed()) what += ", GenKey";
  } else if (kc.is_p256()) {
    what = "P-256 public key";
  } else {
    what = sc.is_secret() ? (sc.encrypt_read() ? "secret (encrypted read)" : "secret")
                          : "data (clear read)";
  }
  if (sc.write_encrypted()) what += fmt::format(", encrypted write (key {})", sc.write_key());
  if (kc.lockable()) what += ", lockable";
  const bool locked = (((config[88] | (config[89] << 8)) >> slot) & 1) == 0;
  if (locked) what += ", LOCKED";
  return fmt::format("  slot {:2}  {:3} bytes  SlotConfig {:04X}  KeyConfig {:04X}  {}", slot,
                     slot_size(slot), sc.raw, kc.raw, what);
}

Status print_info(Device& device) {
  ZT_TRY_ASSIGN(auto revision, device.info());
  ZT_TRY_ASSIGN(Bytes config, device.read_config());
  ZT_TRY_ASSIGN(auto serial, device.serial_number());
  fmt::print("serial number  {}\n", to_hex_upper(serial));
  fmt::print("revision       {}{}\n", to_hex_upper(revision),
             revision == std::array<uint8_t, 4>{0, 0, 0x50, 0} ? " (ATECC508A)" : "");
  fmt::print("i2c address    0x{:02X}\n", config[config_offset::i2c_address]);
  fmt::print("config zone    {}\n",
             config[config_offset::lock_config] == unlocked ? "unlocked" : "locked");
  fmt::print("data zone      {}\n",
             config[config_offset::lock_value] == unlocked ? "unlocked" : "locked");
  return ok();
}

std::atomic<bool> serve_stop{false};
extern "C" void on_stop_signal(int) { serve_stop.store(true); }

}  // namespace

void register_se_commands(CLI::App& app) {
  auto* se =
      app.add_subcommand("se", "ATECC508A secure element: emulator, client and kit provisioning");
  se->require_subcommand(1);

  static ChipOptions options;

  auto* info = se->add_subcommand("info", "serial number, revision, I2C address and lock state");
  add_chip_options(info, options);
  info->callback(run_command([]() -> Status {
    ZT_TRY_ASSIGN(auto device, open_device(options));
    return print_info(*device);
  }));

  auto* config = se->add_subcommand("config", "the configuration zone: hex dump and slot table");
  add_chip_options(config, options);
  config->callback(run_command([]() -> Status {
    ZT_TRY_ASSIGN(auto device, open_device(options));
    ZT_TRY_ASSIGN(Bytes zone, device->read_config());
    for (size_t row = 0; row < config_size; row += 16) {
      fmt::print("{:3}: {}\n", row, to_hex_upper(ByteView(zone).subspan(row, 16)));
    }
    for (unsigned slot = 0; slot < slot_count; ++slot)
      fmt::print("{}\n", describe_slot(zone, slot));
    return ok();
  }));

  static int slot = -1;
  static std::string zone_name = "data";
  static unsigned block = 0, word = 0, length = 0;
  auto* read = se->add_subcommand(
      "read", "read a data slot (whole, by default) or a config/OTP block, in hex");
  add_chip_options(read, options);
  read->add_option("--slot", slot, "data slot 0-15");
  read->add_option("--zone", zone_name, "data, config or otp")->capture_default_str();
  read->add_option("--block", block, "32-byte block");
  read->add_option("--offset", word, "4-byte word within the block (with --length 4)");
  read->add_option("--length", length, "4 or 32 (default: the whole slot or zone)");
  read->callback(run_command([]() -> Status {
    ZT_TRY_ASSIGN(Zone zone, parse_zone(zone_name));
    ZT_TRY_ASSIGN(auto device, open_device(options));
    unsigned chosen = 0;
    if (zone == Zone::data) {
      ZT_TRY_ASSIGN(chosen, parse_slot(slot));
    }
    Bytes out;
    if (length == 0 && zone == Zone::data) {
      ZT_TRY_ASSIGN(
          out, with_context(device->read_slot(chosen), fmt::format("reading slot {}", chosen)));
    } else if (length == 0) {
      const unsigned blocks = zone == Zone::config ? 4 : 2;
      for (unsigned b = 0; b < blocks; ++b) {
        ZT_TRY_ASSIGN(Bytes part, device->read(zone, 0, b, 0, 32));
        out.insert(out.end(), part.begin(), part.end());
      }
    } else {
      ZT_TRY_ASSIGN(out, device->read(zone, chosen, block, word, length));
    }
    fmt::print("{}\n", to_hex(out));
    return ok();
  }));

  static std::string hex_data;
  static size_t byte_offset = 0;
  auto* write = se->add_subcommand(
      "write", "write hex data into a data slot (4-byte words) or a config/OTP word/block");
  add_chip_options(write, options);
  write->add_option("--slot", slot, "data slot 0-15");
  write->add_option("--zone", zone_name, "data, config or otp")->capture_default_str();
  write->add_option("--hex", hex_data, "the bytes to write, in hex")->required();
  write->add_option("--offset", byte_offset, "byte offset (multiple of 4)");
  write->callback(run_command([]() -> Status {
    ZT_TRY_ASSIGN(Zone zone, parse_zone(zone_name));
    ZT_TRY_ASSIGN(Bytes data, with_context(from_hex(hex_data), "--hex"));
    ZT_TRY_ASSIGN(auto device, open_device(options));
    if (zone == Zone::data) {
      ZT_TRY_ASSIGN(unsigned chosen, parse_slot(slot));
      return with_context(device->write_slot(chosen, data, byte_offset),
                          fmt::format("writing slot {}", chosen));
    }
    const size_t zone_length = zone == Zone::config ? config_size : otp_size;
    if (byte_offset % 4 != 0 || data.size() % 4 != 0 || byte_offset + data.size() > zone_length) {
      return make_error(Errc::invalid_argument,
                        "config/OTP writes are whole 4-byte words inside the zone");
    }
    for (size_t done = 0; done < data.size();) {
      const size_t at = byte_offset + done;
      const size_t n = (at % 32 == 0 && data.size() - done >= 32) ? 32 : 4;
      ZT_TRY(device->write(zone, 0, static_cast<unsigned>(at / 32),
                           static_cast<unsigned>((at % 32) / 4), ByteView(data).subspan(done, n)));
      done += n;
    }
    return ok();
  }));

  static bool pem = false;
  auto* genkey = se->add_subcommand(
      "genkey", "generate a P-256 key in a slot (GenKey); prints the public key");
  add_chip_options(genkey, options);
  genkey->add_option("--slot", slot, "private-key slot")->required();
  genkey->add_flag("--pem", pem, "print the public key as PEM instead of hex X||Y");
  auto* pubkey =
      se->add_subcommand("pubkey", "the public key of a private-key slot (GenKey public mode)");
  add_chip_options(pubkey, options);
  pubkey->add_option("--slot", slot, "private-key slot")->required();
  pubkey->add_flag("--pem", pem, "print as PEM instead of hex X||Y");
  auto print_key = [](bool create) {
    return run_command([create]() -> Status {
      ZT_TRY_ASSIGN(unsigned chosen, parse_slot(slot));
      ZT_TRY_ASSIGN(auto device, open_device(options));
      ZT_TRY_ASSIGN(auto raw,
                    with_context(create ? device->genkey(chosen) : device->public_key(chosen),
                                 fmt::format("slot {}", chosen)));
      if (!pem) {
        fmt::print("{}\n", to_hex(raw));
        return ok();
      }
      ZT_TRY_ASSIGN(auto key, crypto::public_key_from_raw(raw));
      ZT_TRY_ASSIGN(std::string text, crypto::public_key_to_pem(key.get()));
      fmt::print("{}", text);
      return ok();
    });
  };
  genkey->callback(print_key(true));
  pubkey->callback(print_key(false));

  static std::string digest_hex;
  auto* sign = se->add_subcommand(
      "sign", "sign a 32-byte digest with a slot's key (Nonce + Sign external); prints R||S");
  add_chip_options(sign, options);
  sign->add_option("--slot", slot, "private-key slot")->required();
  sign->add_option("--digest", digest_hex, "SHA-256 digest in hex")->required();
  static std::string der_path;
  sign->add_option("--der", der_path, "also write the signature as DER (for openssl dgst -verify)");
  sign->callback(run_command([]() -> Status {
    ZT_TRY_ASSIGN(unsigned chosen, parse_slot(slot));
    ZT_TRY_ASSIGN(Bytes digest, with_context(from_hex(digest_hex), "--digest"));
    if (digest.size() != 32)
      return make_error(Errc::invalid_argument, "--digest must be 32 bytes (64 hex digits)");
    ZT_TRY_ASSIGN(auto device, open_device(options));
    ZT_TRY_ASSIGN(auto signature, with_context(device->sign_digest(chosen, digest),
                                               fmt::format("signing with slot {}", chosen)));
    fmt::print("{}\n", to_hex(signature));
    if (!der_path.empty()) {
      ZT_TRY_ASSIGN(Bytes der, crypto::signature_raw_to_der(signature));
      ZT_TRY(write_file_atomic(der_path, der, 0644));
    }
    return ok();
  }));

  static std::string lock_what;
  static bool no_crc = false;
  auto* lock =
      se->add_subcommand("lock", "lock the config zone, the data zone, or one slot (irreversible)");
  add_chip_options(lock, options);
  lock->add_option("what", lock_what, "config, data or slot")
      ->required()
      ->check(CLI::IsMember({"config", "data", "slot"}));
  lock->add_option("--slot", slot, "slot to lock (with `slot`)");
  lock->add_flag("--no-crc", no_crc, "config: skip the CRC summary check");
  lock->callback(run_command([]() -> Status {
    ZT_TRY_ASSIGN(auto device, open_device(options));
    if (lock_what == "config") return device->lock_config(!no_crc);
    if (lock_what == "data") return device->lock_data();
    ZT_TRY_ASSIGN(unsigned chosen, parse_slot(slot));
    return device->lock_slot(chosen);
  }));

  auto* provision_command =
      se->add_subcommand("provision",
                         "the kit firmware's configure step: write the kit config, lock config and "
                         "data, GenKey slots 0/2/3/7");
  add_chip_options(provision_command, options);
  provision_command->callback(run_command([]() -> Status {
    ZT_TRY_ASSIGN(auto device, open_device(options));
    ZT_TRY_ASSIGN(auto result, provision(*device));
    ZT_TRY_ASSIGN(auto serial, device->serial_number());
    fmt::print("provisioned chip {}\ndevice public key (slot 0) {}\n", to_hex_upper(serial),
               to_hex(result.device_public_key));
    return ok();
  }));

  static std::string serve_state, serve_socket;
  auto* serve =
      se->add_subcommand("serve", "serve an emulated chip on a Unix socket until SIGINT/SIGTERM");
  serve->add_option("--state", serve_state, "chip state file (created blank if missing)")
      ->required();
  serve->add_option("--socket", serve_socket, "socket path to listen on (mode 0600)")->required();
  serve->callback(run_command([]() -> Status {
    ZT_TRY_ASSIGN(ChipState chip, load_or_create_state(serve_state));
    const auto serial = chip.serial_number();
    const std::string path = serve_state;
    auto emulator = std::make_shared<Emulator>(
        std::move(chip), [path](const ChipState& s) { return save_state(path, s); });
    ZT_TRY_ASSIGN(auto server, SocketServer::listen(emulator, serve_socket));
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    fmt::print("serving chip {} on {}\n", to_hex_upper(serial), serve_socket);
    std::fflush(stdout);
    return server->run(serve_stop);
  }));
}

}  // namespace zt::cli
