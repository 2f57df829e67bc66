#include "secure_element/kit_config.hpp"

namespace zt::se {

namespace {

// SlotConfig / KeyConfig per slot. Values are those of the seed firmware's aws_config
// (MicrochipTech/aws-iot-zero-touch-secure-provisioning-kit, firmware/.../ecc_configure.c):
//   slot 0  8F 20 / 33 00  private P-256, ReadKey F (ext+int sign, ECDH -> slot 1), GenKey allowed,
//   lockable slot 1  C4 44 / 1C 00  secret, encrypted read/write with key 4 (receives slot 0's ECDH
//   secret) slot 2,3 87 20 / 13 00 private P-256, ext+int sign, ECDH in clear (TLS ephemeral keys),
//   GenKey allowed slot 4  8F 0F / 7C 00  secret, never readable, write always before lock (I/O
//   key) slot 5  C4 36 / 1C 00  secret, encrypted with key 4 slot 6  9F 0F / 3C 00  secret, NoMac
//   slot 7  82 20 / 33 00  private P-256, int sign only
//   slot 8-15 0F 0F        clear read, write always; 11 and 15 are P-256 public keys (30 00),
//   others data (3C 00)
constexpr std::array<uint16_t, slot_count> slot_configs = {
    0x208F, 0x44C4, 0x2087, 0x2087, 0x0F8F, 0x36C4, 0x0F9F, 0x2082,
    0x0F0F, 0x44C4, 0x0F0F, 0x0F0F, 0x0F0F, 0x0F0F, 0x0F0F, 0x0F0F};
constexpr std::array<uint16_t, slot_count> key_configs = {
    0x0033, 0x001C, 0x0013, 0x0013, 0x007C, 0x001C, 0x003C, 0x0033,
    0x003C, 0x003C, 0x003C, 0x0030, 0x003C, 0x003C, 0x003C, 0x0030};

std::array<uint8_t, config_size> build_kit_config() {
  std::array<uint8_t, config_size> c{};
  for (size_t i = 0; i < 16; ++i) c[i] = 0xFF;  // device-specific, never written
  c[config_offset::i2c_address] = kit_i2c_address;
  c[config_offset::otp_mode] = otp_mode_read_only;
  c[config_offset::chip_mode] = 0x00;
  for (unsigned slot = 0; slot < slot_count; ++slot) {
    c[config_offset::slot_config + 2 * slot] = static_cast<uint8_t>(slot_configs[slot] & 0xFF);
    c[config_offset::slot_config + 2 * slot + 1] = static_cast<uint8_t>(slot_configs[slot] >> 8);
    c[config_offset::key_config + 2 * slot] = static_cast<uint8_t>(key_configs[slot] & 0xFF);
    c[config_offset::key_config + 2 * slot + 1] = static_cast<uint8_t>(key_configs[slot] >> 8);
  }
  for (size_t i = 0; i < 4; ++i) {
    c[config_offset::counter0 + i] = 0xFF;
    c[config_offset::counter1 + i] = 0xFF;
  }
  c[config_offset::slot_locked] = 0xFF;
  c[config_offset::slot_locked + 1] = 0xFF;
  return c;
}

}  // namespace

const std::array<uint8_t, config_size>& kit_config() {
  static const std::array<uint8_t, config_size> config = build_kit_config();
  return config;
}

Result<ProvisionResult> provision(Device& device, const std::array<uint8_t, config_size>& config) {
  ZT_TRY_ASSIGN(bool config_is_locked, device.config_locked());
  if (config_is_locked) {
    return make_error(
        Errc::conflict,
        "secure element: configuration zone is already locked (chip already provisioned)");
  }
  ZT_TRY(with_context(device.write_config(config), "writing the kit configuration"));
  ZT_TRY(with_context(device.lock_config(), "locking the configuration zone"));
  ZT_TRY(with_context(device.lock_data(), "locking the data zone"));
  ProvisionResult result;
  for (unsigned slot : {0u, 2u, 3u, 7u}) {
    ZT_TRY_ASSIGN(auto public_key, with_context(device.genkey(slot), "generating the key in slot " +
                                                                         std::to_string(slot)));
    if (slot == 0) result.device_public_key = public_key;
  }
  return result;
}

}  // namespace zt::se
