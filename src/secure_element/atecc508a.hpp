// ATECC508A constants: opcodes, status bytes, sizes, configuration-zone offsets, SlotConfig and
// KeyConfig fields. Each group says where it was confirmed (public sources read with the search
// tool on 2026-11-25): "calib" = MicrochipTech/cryptoauthlib lib/calib/calib_command.h, "types" =
// cryptoauthlib atecc508a_config_t (atca_devtypes), "basic" = lib/calib/calib_basic.c, "host" =
// lib/host/atca_host.c, "kit" = MicrochipTech/aws-iot-zero-touch-secure-provisioning-kit
// firmware/.../ecc_configure.c. "recalled" marks datasheet facts not re-verified from public text.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zt::se {

// --- Opcodes (confirmed: calib ATCA_* opcode defines, all values match reference/atecc508a.md) ---
enum class Opcode : uint8_t {
  pause = 0x01,
  read = 0x02,
  mac = 0x08,
  hmac = 0x11,
  write = 0x12,
  gen_dig = 0x15,
  nonce = 0x16,
  lock = 0x17,
  random = 0x1B,
  derive_key = 0x1C,
  update_extra = 0x20,
  counter = 0x24,
  check_mac = 0x28,
  info = 0x30,
  gen_key = 0x40,
  sign = 0x41,
  ecdh = 0x43,
  verify = 0x45,
  priv_write = 0x46,
  sha = 0x47,
};

// --- Status bytes of a 4-byte response (confirmed: calib CMD_STATUS_*, 0x01 =
// CHECKMAC_CMD_MISMATCH; 0xEE watchdog is recalled from the datasheet, cryptoauthlib maps it to
// ATCA_WATCHDOG_ABOUT_TO_EXPIRE).
namespace status {
inline constexpr uint8_t success = 0x00;
inline constexpr uint8_t miscompare = 0x01;  // CheckMac / Verify mismatch
inline constexpr uint8_t parse_error = 0x03;
inline constexpr uint8_t ecc_fault = 0x05;
inline constexpr uint8_t execution_error = 0x0F;
inline constexpr uint8_t after_wake = 0x11;
inline constexpr uint8_t watchdog = 0xEE;    // never produced: the emulator has no watchdog timer
inline constexpr uint8_t comm_error = 0xFF;  // CRC or framing error on the received command
}  // namespace status

const char* status_name(uint8_t status);

// --- I2C word-address byte (confirmed: zephyr atecc driver ATECCX08_WA_*, calib_sleep 0x01,
// calib_idle 0x02) and the wake answer 04 11 33 43 (count 4, status 0x11, CRC 33 43).
namespace word_address {
inline constexpr uint8_t reset = 0x00;
inline constexpr uint8_t sleep = 0x01;
inline constexpr uint8_t idle = 0x02;
inline constexpr uint8_t command = 0x03;
}  // namespace word_address

// --- Sizes (confirmed: calib ATCA_CMD_SIZE_MIN 7, ATCA_CMD_SIZE_MAX 4*36+7, ATCA_ECC_CONFIG_SIZE,
// ATCA_OTP_SIZE, ATCA_RSP_SIZE_*; slot sizes from basic calib_get_zone_size) ---
inline constexpr size_t command_size_min = 7;
inline constexpr size_t command_size_max = 4 * 36 + 7;  // 151: Verify external on 283-bit curves
inline constexpr size_t response_size_max = 75;
inline constexpr size_t config_size = 128;
inline constexpr size_t otp_size = 64;
inline constexpr size_t slot_count = 16;
inline constexpr size_t block_size = 32;
inline constexpr size_t word_size = 4;
constexpr size_t slot_size(unsigned slot) { return slot < 8 ? 36 : slot == 8 ? 416 : 72; }

// --- Zones in Read/Write/GenDig param1 bits 0-1; bit 7 = 32-byte access; bit 6 = encrypted write
// (confirmed: calib ATCA_ZONE_MASK 0x03, ATCA_ZONE_READWRITE_32 0x80, ATCA_ZONE_ENCRYPTED 0x40) ---
enum class Zone : uint8_t { config = 0, otp = 1, data = 2 };
inline constexpr uint8_t zone_mask = 0x03;
inline constexpr uint8_t zone_32_bytes = 0x80;
inline constexpr uint8_t zone_encrypted = 0x40;

// Address (param2): config/OTP `block << 3 | offset`, data `slot << 3 | offset | block << 8`,
// offset in 4-byte words 0-7 (confirmed: basic calib_get_addr).
uint16_t encode_address(Zone zone, unsigned slot, unsigned block, unsigned offset);

// --- Configuration zone offsets (confirmed: types atecc508a_config_t) ---
namespace config_offset {
inline constexpr size_t serial_0_3 = 0;  // SN[0:3], SN[0:1] = 01 23
inline constexpr size_t revision = 4;    // RevNum, ATECC508A 00 00 50 00
inline constexpr size_t serial_4_7 = 8;  // SN[4:7]
inline constexpr size_t serial_8 = 12;   // SN[8] = EE
inline constexpr size_t i2c_enable = 14;
inline constexpr size_t i2c_address = 16;
inline constexpr size_t otp_mode = 18;
inline constexpr size_t chip_mode = 19;
inline constexpr size_t slot_config = 20;   // 16 x uint16 LE
inline constexpr size_t counter0 = 52;      // 8 bytes
inline constexpr size_t counter1 = 60;      // 8 bytes
inline constexpr size_t last_key_use = 68;  // 16 bytes
inline constexpr size_t user_extra = 84;
inline constexpr size_t selector = 85;
inline constexpr size_t lock_value = 86;  // data + OTP lock
inline constexpr size_t lock_config = 87;
inline constexpr size_t slot_locked = 88;  // uint16 LE, bit n = 0 when slot n is locked
inline constexpr size_t x509_format = 92;
inline constexpr size_t key_config = 96;  // 16 x uint16 LE
}  // namespace config_offset

// Lock bytes (confirmed: calib ATCA_UNLOCKED 0x55, ATCA_LOCKED 0x00).
inline constexpr uint8_t unlocked = 0x55;
inline constexpr uint8_t locked = 0x00;

// OTPmode values (recalled: 0xAA read-only, 0x55 consumption, 0x00 legacy; kit config uses 0xAA).
inline constexpr uint8_t otp_mode_read_only = 0xAA;
inline constexpr uint8_t otp_mode_consumption = 0x55;

// SlotConfig (16 bits LE) fields (recalled from the datasheet §2.2.5; consistent with the kit's
// aws_config where slot 0 = 0x208F: ReadKey F, IsSecret, WriteConfig 2 = "GenKey allowed").
struct SlotConfig {
  uint16_t raw = 0;
  unsigned read_key() const { return raw & 0x0F; }
  bool no_mac() const { return raw & 0x0010; }
  bool limited_use() const { return raw & 0x0020; }
  bool encrypt_read() const { return raw & 0x0040; }
  bool is_secret() const { return raw & 0x0080; }
  unsigned write_key() const { return (raw >> 8) & 0x0F; }
  unsigned write_config() const { return (raw >> 12) & 0x0F; }
  // For ECC private-key slots ReadKey bits mean (recalled, datasheet Table "ReadKey for ECC"):
  // bit 0 external signatures, bit 1 internal signatures, bit 2 ECDH allowed, bit 3 ECDH master
  // secret written to slot N|1 instead of output in the clear.
  bool external_sign_allowed() const { return raw & 0x1; }
  bool internal_sign_allowed() const { return raw & 0x2; }
  bool ecdh_allowed() const { return raw & 0x4; }
  bool ecdh_to_slot() const { return raw & 0x8; }
  // WriteConfig for Write (recalled): 0000 always, 0001 PubInvalid, 001x / 10xx never, x1xx
  // encrypt.
  bool write_always() const { return write_config() == 0x0; }
  // 0001 PubInvalid: a public key slot with KeyConfig.PubInfo takes clear writes while its key is
  // invalidated (Verify invalidate), so a validated key can be rotated.
  bool write_pub_invalid() const { return write_config() == 0x1; }
  bool write_encrypted() const { return write_config() & 0x4; }
  // WriteConfig for GenKey/PrivWrite (recalled): bit 1 = GenKey may rewrite the key after data
  // lock, bit 2 = PrivWrite (encrypted) allowed after data lock.
  bool genkey_allowed() const { return write_config() & 0x2; }
  bool privwrite_allowed() const { return write_config() & 0x4; }
};

// KeyConfig (16 bits LE) fields (recalled; consistent with the kit's aws_config: slot 0 = 0x0033 =
// Private, PubInfo, KeyType 4 = P-256, Lockable; slot 11 = 0x0030 = public P-256 key, Lockable;
// KeyType values confirmed: calib ATCA_P256_KEY_TYPE 4, ATCA_SHA_KEY_TYPE 7).
struct KeyConfig {
  uint16_t raw = 0;
  bool is_private() const { return raw & 0x0001; }
  bool pub_info() const { return raw & 0x0002; }
  unsigned key_type() const { return (raw >> 2) & 0x07; }
  bool lockable() const { return raw & 0x0020; }
  bool req_random() const { return raw & 0x0040; }
  bool req_auth() const { return raw & 0x0080; }
  unsigned auth_key() const { return (raw >> 8) & 0x0F; }
  bool is_p256() const { return key_type() == 4; }
};
inline constexpr unsigned key_type_p256 = 4;

}  // namespace zt::se
