#include "secure_element/device.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>

#include "secure_element/crc.hpp"

namespace zt::se {

namespace {

const char* opcode_name(uint8_t opcode) {
  switch (static_cast<Opcode>(opcode)) {
    case Opcode::read:
      return "Read";
    case Opcode::write:
      return "Write";
    case Opcode::gen_dig:
      return "GenDig";
    case Opcode::nonce:
      return "Nonce";
    case Opcode::lock:
      return "Lock";
    case Opcode::random:
      return "Random";
    case Opcode::update_extra:
      return "UpdateExtra";
    case Opcode::counter:
      return "Counter";
    case Opcode::info:
      return "Info";
    case Opcode::gen_key:
      return "GenKey";
    case Opcode::sign:
      return "Sign";
    case Opcode::ecdh:
      return "ECDH";
    case Opcode::verify:
      return "Verify";
    case Opcode::priv_write:
      return "PrivWrite";
    case Opcode::sha:
      return "SHA";
    default:
      return "command";
  }
}

Errc errc_for_status(uint8_t value) {
  switch (value) {
    case status::miscompare:
    case status::ecc_fault:
      return Errc::crypto;
    case status::parse_error:
      return Errc::invalid_argument;
    case status::execution_error:
      return Errc::permission;
    case status::watchdog:
      return Errc::timeout;
    default:
      return Errc::io;
  }
}

constexpr std::string_view status_marker = "chip status 0x";

}  // namespace

std::optional<uint8_t> chip_status(const Error& error) {
  const size_t at = error.message.find(status_marker);
  if (at == std::string::npos || at + status_marker.size() + 2 > error.message.size())
    return std::nullopt;
  const char* begin = error.message.data() + at + status_marker.size();
  unsigned value = 0;
  auto [end, ec] = std::from_chars(begin, begin + 2, value, 16);
  if (ec != std::errc() || end != begin + 2) return std::nullopt;
  return static_cast<uint8_t>(value);
}

Device::Device(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}

Status Device::begin() { return transport_->wake(); }

void Device::end() { (void)transport_->idle(); }

Result<Bytes> Device::run(const Command& command) {
  ZT_TRY_ASSIGN(Bytes response, transport_->execute(encode_command(command)));
  ZT_TRY_ASSIGN(Bytes data, decode_response(response));
  if (data.size() == 1) {
    if (data[0] == status::success) return Bytes{};
    return make_error(errc_for_status(data[0]),
                      fmt::format("secure element {}: {}{:02X} ({})", opcode_name(command.opcode),
                                  status_marker, data[0], status_name(data[0])));
  }
  return data;
}

// Runs `body` in one session (wake ... idle) with the mutex held.
#define ZT_SE_SESSION()                 \
  std::lock_guard session_lock(mutex_); \
  ZT_TRY(begin());                      \
  struct SessionEnd {                   \
    Device* device;                     \
    ~SessionEnd() { device->end(); }    \
  } session_end {                       \
    this                                \
  }

Result<Bytes> Device::execute(const Command& command) {
  ZT_SE_SESSION();
  return run(command);
}

Result<std::array<uint8_t, 4>> Device::info() {
  ZT_TRY_ASSIGN(Bytes data, execute(Command{static_cast<uint8_t>(Opcode::info), 0x00, 0x0000, {}}));
  if (data.size() != 4) return make_error(Errc::parse, "secure element Info: expected 4 bytes");
  return std::array<uint8_t, 4>{data[0], data[1], data[2], data[3]};
}

Result<Bytes> Device::random() {
  ZT_TRY_ASSIGN(Bytes data,
                execute(Command{static_cast<uint8_t>(Opcode::random), 0x00, 0x0000, {}}));
  if (data.size() != 32) return make_error(Errc::parse, "secure element Random: expected 32 bytes");
  return data;
}

Result<Bytes> Device::read(Zone zone, unsigned slot, unsigned block, unsigned offset,
                           size_t length) {
  if (length != 4 && length != 32)
    return make_error(Errc::invalid_argument, "read length must be 4 or 32 bytes");
  const uint8_t param1 =
      static_cast<uint8_t>(static_cast<uint8_t>(zone) | (length == 32 ? zone_32_bytes : 0));
  ZT_TRY_ASSIGN(Bytes data, execute(Command{static_cast<uint8_t>(Opcode::read),
                                            param1,
                                            encode_address(zone, slot, block, offset),
                                            {}}));
  if (data.size() != length)
    return make_error(Errc::parse, "secure element Read: unexpected response length");
  return data;
}

Status Device::write(Zone zone, unsigned slot, unsigned block, unsigned offset, ByteView data) {
  if (data.size() != 4 && data.size() != 32)
    return make_error(Errc::invalid_argument, "write length must be 4 or 32 bytes");
  const uint8_t param1 =
      static_cast<uint8_t>(static_cast<uint8_t>(zone) | (data.size() == 32 ? zone_32_bytes : 0));
  ZT_TRY(
      execute(Command{static_cast<uint8_t>(Opcode::write), param1,
                      encode_address(zone, slot, block, offset), Bytes(data.begin(), data.end())}));
  return ok();
}

Result<Bytes> Device::read_config() {
  Bytes config;
  for (unsigned block = 0; block < 4; ++block) {
    ZT_TRY_ASSIGN(Bytes part, read(Zone::config, 0, block, 0, 32));
    config.insert(config.end(), part.begin(), part.end());
  }
  return config;
}

Status Device::write_config(ByteView config) {
  if (config.size() != config_size)
    return make_error(Errc::invalid_argument, "configuration zone must be 128 bytes");
  for (size_t at = 16; at < config_size; at += 4) {
    if (at == 84) continue;  // UserExtra, Selector, LockValue, LockConfig
    ZT_TRY(write(Zone::config, 0, static_cast<unsigned>(at / 32),
                 static_cast<unsigned>((at % 32) / 4), config.subspan(at, 4)));
  }
  return ok();
}

Result<Bytes> Device::read_slot(unsigned slot) {
  if (slot >= slot_count)
    return make_error(Errc::invalid_argument, fmt::format("slot {} does not exist (0-15)", slot));
  Bytes out;
  const size_t size = slot_size(slot);
  for (size_t at = 0; at < size;) {
    const size_t length = size - at >= 32 ? 32 : 4;
    ZT_TRY_ASSIGN(Bytes part, read(Zone::data, slot, static_cast<unsigned>(at / 32),
                                   static_cast<unsigned>((at % 32) / 4), length));
    out.insert(out.end(), part.begin(), part.end());
    at += length;
  }
  return out;
}

Status Device::write_slot(unsigned slot, ByteView data, size_t offset) {
  if (slot >= slot_count)
    return make_error(Errc::invalid_argument, fmt::format("slot {} does not exist (0-15)", slot));
  if (offset % 4 != 0 || data.size() % 4 != 0 || offset + data.size() > slot_size(slot)) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("write of {} bytes at offset {} does not fit slot {} ({} bytes, 4-byte words)",
                    data.size(), offset, slot, slot_size(slot)));
  }
  for (size_t done = 0; done < data.size();) {
    const size_t at = offset + done;
    const size_t length = (at % 32 == 0 && data.size() - done >= 32) ? 32 : 4;
    ZT_TRY(write(Zone::data, slot, static_cast<unsigned>(at / 32),
                 static_cast<unsigned>((at % 32) / 4), data.subspan(done, length)));
    done += length;
  }
  return ok();
}

Result<bool> Device::config_locked() {
  ZT_TRY_ASSIGN(Bytes word, read(Zone::config, 0, 2, 5, 4));  // bytes 84-87
  return word[3] != unlocked;
}

Result<bool> Device::data_locked() {
  ZT_TRY_ASSIGN(Bytes word, read(Zone::config, 0, 2, 5, 4));
  return word[2] != unlocked;
}

Result<std::array<uint8_t, 9>> Device::serial_number() {
  ZT_TRY_ASSIGN(Bytes block, read(Zone::config, 0, 0, 0, 32));
  std::array<uint8_t, 9> sn{};
  std::copy_n(block.begin(), 4, sn.begin());
  std::copy_n(block.begin() + 8, 5, sn.begin() + 4);
  return sn;
}

namespace {
Result<crypto::PublicKeyRaw> to_public_key(const Bytes& data) {
  if (data.size() != 64)
    return make_error(Errc::parse, "secure element GenKey: expected a 64-byte public key");
  crypto::PublicKeyRaw key{};
  std::copy(data.begin(), data.end(), key.begin());
  return key;
}
}  // namespace

Result<crypto::PublicKeyRaw> Device::genkey(unsigned slot) {
  ZT_TRY_ASSIGN(Bytes data,
                execute(Command{
                    static_cast<uint8_t>(Opcode::gen_key), 0x04, static_cast<uint16_t>(slot), {}}));
  return to_public_key(data);
}

Result<crypto::PublicKeyRaw> Device::public_key(unsigned slot) {
  ZT_TRY_ASSIGN(Bytes data,
                execute(Command{
                    static_cast<uint8_t>(Opcode::gen_key), 0x00, static_cast<uint16_t>(slot), {}}));
  return to_public_key(data);
}

Result<crypto::RawSignature> Device::sign_digest(unsigned slot, ByteView digest) {
  if (digest.size() != 32)
    return make_error(Errc::invalid_argument, "sign_digest needs a 32-byte digest");
  ZT_SE_SESSION();
  ZT_TRY(run(Command{static_cast<uint8_t>(Opcode::nonce), 0x03, 0x0000,
                     Bytes(digest.begin(), digest.end())}));
  ZT_TRY_ASSIGN(
      Bytes data,
      run(Command{static_cast<uint8_t>(Opcode::sign), 0x80, static_cast<uint16_t>(slot), {}}));
  if (data.size() != 64)
    return make_error(Errc::parse, "secure element Sign: expected a 64-byte signature");
  crypto::RawSignature signature{};
  std::copy(data.begin(), data.end(), signature.begin());
  return signature;
}

Status Device::priv_write_encrypted(unsigned slot, ByteView scalar, unsigned write_key_slot,
                                    ByteView write_key) {
  if (scalar.size() != 32 || write_key.size() != 32 || slot >= slot_count ||
      write_key_slot >= slot_count) {
    return make_error(Errc::invalid_argument,
                      "priv_write_encrypted needs a 32-byte scalar, a 32-byte write key and slots "
                      "0-15");
  }
  ZT_SE_SESSION();
  // SN[0:1] are config bytes 0-1 (word 0), SN[8] is config byte 12 (word 3): 4-byte reads in
  // this session, so the mutex stays held from Nonce to PrivWrite.
  ZT_TRY_ASSIGN(Bytes word0, run(Command{static_cast<uint8_t>(Opcode::read), 0x00, 0x0000, {}}));
  ZT_TRY_ASSIGN(Bytes word3, run(Command{static_cast<uint8_t>(Opcode::read), 0x00, 0x0003, {}}));
  if (word0.size() != 4 || word3.size() != 4)
    return make_error(Errc::parse, "secure element Read: expected 4 bytes of the serial number");
  const uint8_t sn0 = word0[0], sn1 = word0[1], sn8 = word3[0];
  // Nonce random (mode 0, 20-byte NumIn): TempKey = SHA-256(RandOut, NumIn, 16 00 00)
  // (atcah_nonce).
  Bytes num_in(20);
  if (RAND_bytes(num_in.data(), static_cast<int>(num_in.size())) != 1)
    return make_error(Errc::crypto, "RAND_bytes failed");
  ZT_TRY_ASSIGN(Bytes rand_out,
                run(Command{static_cast<uint8_t>(Opcode::nonce), 0x00, 0x0000, num_in}));
  if (rand_out.size() != 32)
    return make_error(Errc::parse, "secure element Nonce: expected 32 bytes");
  crypto::Sha256 nonce;
  nonce.update(rand_out);
  nonce.update(num_in);
  const uint8_t nonce_tail[3] = {static_cast<uint8_t>(Opcode::nonce), 0x00, 0x00};
  nonce.update(nonce_tail);
  auto temp_key = nonce.finish();
  // GenDig data zone over the WriteKey: TempKey = SHA-256(key, 15 02 id(LE), SN8 SN0 SN1,
  // 25 zeros, TempKey) (atcah_gen_dig); cryptoauthlib sends the 4 bytes "15 02 id" as OtherData
  // so a NoMac WriteKey behaves the same.
  const Bytes other_data{static_cast<uint8_t>(Opcode::gen_dig), 0x02,
                         static_cast<uint8_t>(write_key_slot), 0x00};
  ZT_TRY(run(Command{static_cast<uint8_t>(Opcode::gen_dig), 0x02,
                     static_cast<uint16_t>(write_key_slot), other_data}));
  crypto::Sha256 dig;
  dig.update(write_key);
  dig.update(other_data);
  const uint8_t serial_bytes[3] = {sn8, sn0, sn1};
  dig.update(serial_bytes);
  dig.update(Bytes(25, 0));
  dig.update(temp_key);
  temp_key = dig.finish();
  // The value: 4 zero pad bytes, then the scalar; encrypted with TempKey and SHA-256(TempKey);
  // MAC = SHA-256(TempKey, 46 40 slot(LE) SN8 SN0 SN1, 21 zeros, plain value)
  // (atcah_privwrite_auth_mac).
  Bytes value(4, 0);
  value.insert(value.end(), scalar.begin(), scalar.end());
  const auto second_key = crypto::sha256(temp_key);
  Bytes data(36);
  for (size_t i = 0; i < 32; ++i) data[i] = value[i] ^ temp_key[i];
  for (size_t i = 32; i < 36; ++i) data[i] = value[i] ^ second_key[i - 32];
  crypto::Sha256 mac;
  mac.update(temp_key);
  const uint8_t header[4] = {static_cast<uint8_t>(Opcode::priv_write), 0x40,
                             static_cast<uint8_t>(slot), 0x00};
  mac.update(header);
  mac.update(serial_bytes);
  mac.update(Bytes(21, 0));
  mac.update(value);
  const auto digest = mac.finish();
  data.insert(data.end(), digest.begin(), digest.end());
  OPENSSL_cleanse(value.data(), value.size());
  OPENSSL_cleanse(temp_key.data(), temp_key.size());
  ZT_TRY(run(Command{static_cast<uint8_t>(Opcode::priv_write), 0x40, static_cast<uint16_t>(slot),
                     std::move(data)}));
  return ok();
}

namespace {
// Miscompare (0x01) is an answer, not a failure, for Verify.
Result<bool> verify_result(Result<Bytes> result) {
  if (result) return true;
  if (chip_status(result.error()) == status::miscompare) return false;
  return std::move(result).error();
}
}  // namespace

Result<bool> Device::verify_extern(ByteView digest, ByteView signature, ByteView public_key) {
  if (digest.size() != 32 || signature.size() != 64 || public_key.size() != 64) {
    return make_error(Errc::invalid_argument,
                      "verify_extern needs a 32-byte digest, 64-byte R||S and 64-byte X||Y");
  }
  ZT_SE_SESSION();
  ZT_TRY(run(Command{static_cast<uint8_t>(Opcode::nonce), 0x03, 0x0000,
                     Bytes(digest.begin(), digest.end())}));
  Bytes data(signature.begin(), signature.end());
  data.insert(data.end(), public_key.begin(), public_key.end());
  return verify_result(
      run(Command{static_cast<uint8_t>(Opcode::verify), 0x02, key_type_p256, std::move(data)}));
}

Result<bool> Device::verify_stored(unsigned slot, ByteView digest, ByteView signature) {
  if (digest.size() != 32 || signature.size() != 64) {
    return make_error(Errc::invalid_argument,
                      "verify_stored needs a 32-byte digest and 64-byte R||S");
  }
  ZT_SE_SESSION();
  ZT_TRY(run(Command{static_cast<uint8_t>(Opcode::nonce), 0x03, 0x0000,
                     Bytes(digest.begin(), digest.end())}));
  return verify_result(
      run(Command{static_cast<uint8_t>(Opcode::verify), 0x00, static_cast<uint16_t>(slot),
                  Bytes(signature.begin(), signature.end())}));
}

Result<Bytes> Device::ecdh(unsigned slot, ByteView peer_public_key) {
  if (peer_public_key.size() != 64)
    return make_error(Errc::invalid_argument, "ECDH needs a 64-byte X||Y public key");
  return execute(Command{static_cast<uint8_t>(Opcode::ecdh), 0x00, static_cast<uint16_t>(slot),
                         Bytes(peer_public_key.begin(), peer_public_key.end())});
}

Result<crypto::Sha256Digest> Device::sha256(ByteView message) {
  ZT_SE_SESSION();
  ZT_TRY(run(Command{static_cast<uint8_t>(Opcode::sha), 0x00, 0x0000, {}}));
  size_t at = 0;
  for (; message.size() - at >= 64; at += 64) {
    ZT_TRY(run(Command{static_cast<uint8_t>(Opcode::sha), 0x01, 0x0000,
                       Bytes(message.begin() + at, message.begin() + at + 64)}));
  }
  ZT_TRY_ASSIGN(Bytes digest, run(Command{static_cast<uint8_t>(Opcode::sha), 0x02,
                                          static_cast<uint16_t>(message.size() - at),
                                          Bytes(message.begin() + at, message.end())}));
  if (digest.size() != 32)
    return make_error(Errc::parse, "secure element SHA: expected a 32-byte digest");
  crypto::Sha256Digest out{};
  std::copy(digest.begin(), digest.end(), out.begin());
  return out;
}

Result<uint32_t> Device::counter(unsigned id, bool increment) {
  ZT_TRY_ASSIGN(Bytes data, execute(Command{static_cast<uint8_t>(Opcode::counter),
                                            static_cast<uint8_t>(increment ? 1 : 0),
                                            static_cast<uint16_t>(id),
                                            {}}));
  if (data.size() != 4) return make_error(Errc::parse, "secure element Counter: expected 4 bytes");
  return static_cast<uint32_t>(data[0] | (data[1] << 8) | (data[2] << 16) |
                               (static_cast<uint32_t>(data[3]) << 24));
}

Status Device::update_extra(bool selector, uint8_t value) {
  ZT_TRY(execute(Command{static_cast<uint8_t>(Opcode::update_extra),
                         static_cast<uint8_t>(selector ? 1 : 0),
                         value,
                         {}}));
  return ok();
}

Status Device::lock_config(bool check_crc, std::optional<uint16_t> crc) {
  uint16_t summary = 0;
  if (check_crc) {
    if (crc) {
      summary = *crc;
    } else {
      ZT_TRY_ASSIGN(Bytes config, read_config());
      summary = crc16(config);
    }
  }
  ZT_TRY(execute(Command{static_cast<uint8_t>(Opcode::lock),
                         static_cast<uint8_t>(check_crc ? 0x00 : 0x80),
                         summary,
                         {}}));
  return ok();
}

Status Device::lock_data(std::optional<uint16_t> crc) {
  ZT_TRY(execute(Command{static_cast<uint8_t>(Opcode::lock),
                         static_cast<uint8_t>(crc ? 0x01 : 0x81),
                         crc.value_or(0),
                         {}}));
  return ok();
}

Status Device::lock_slot(unsigned slot) {
  if (slot >= slot_count)
    return make_error(Errc::invalid_argument, fmt::format("slot {} does not exist (0-15)", slot));
  ZT_TRY(execute(Command{
      static_cast<uint8_t>(Opcode::lock), static_cast<uint8_t>(0x82 | (slot << 2)), 0x0000, {}}));
  return ok();
}

Status Device::sleep() {
  std::lock_guard session_lock(mutex_);
  return transport_->sleep();
}

}  // namespace zt::se
