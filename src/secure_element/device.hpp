// zt::se::Device: the host's view of an ATECC508A, over any Transport (in-process emulator, Unix
// socket to `ztp se serve`, /dev/i2c-N to a real part). Each call is one session: wake, the
// command(s), idle, as cryptoauthlib's atcab_* calls do.
//
// Thread safety: a Device is safe to share between threads (the kit's OpenSSL provider signs from
// TLS threads): every call holds the Device's mutex for its whole session, so sign_digest's
// Nonce + Sign pair is never interleaved with another call on the same Device. Separate Devices on
// one chip are serialised by the transport (bus ownership from wake to idle).
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <optional>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/digest.hpp"
#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"
#include "secure_element/atecc508a.hpp"
#include "secure_element/packet.hpp"
#include "secure_element/transport.hpp"

namespace zt::se {

// The chip status byte carried by an Error from Device (nullopt for transport errors).
std::optional<uint8_t> chip_status(const Error& error);

class Device {
 public:
  explicit Device(std::unique_ptr<Transport> transport);

  // One raw command in its own session. A 1-byte status other than success becomes an Error whose
  // message names the command and the status ("Read: chip status 0x0F (execution error)").
  Result<Bytes> execute(const Command& command);

  Result<std::array<uint8_t, 4>> info();  // RevNum
  Result<Bytes> random();                 // 32 bytes
  Result<std::array<uint8_t, 9>> serial_number();
  Result<Bytes> read(Zone zone, unsigned slot, unsigned block, unsigned offset, size_t length);
  Status write(Zone zone, unsigned slot, unsigned block, unsigned offset, ByteView data);
  Result<Bytes> read_config();  // all 128 bytes
  // Writes bytes 16-83 and 88-127 of `config` (128 bytes), as cryptoauthlib's write_config_zone:
  // the serial number, revision, UserExtra/Selector and lock bytes are not writable with Write.
  Status write_config(ByteView config);
  Result<Bytes> read_slot(unsigned slot);
  // Writes `data` at `offset` into a data slot (both multiples of 4) with 32-byte and 4-byte
  // writes.
  Status write_slot(unsigned slot, ByteView data, size_t offset = 0);
  Result<bool> config_locked();
  Result<bool> data_locked();

  Result<crypto::PublicKeyRaw> genkey(unsigned slot);
  Result<crypto::PublicKeyRaw> public_key(unsigned slot);
  // Nonce pass-through of the 32-byte digest, then Sign external: R || S.
  Result<crypto::RawSignature> sign_digest(unsigned slot, ByteView digest);
  // Encrypted PrivWrite (cryptoauthlib calib_priv_write): Nonce random → GenDig over the slot's
  // WriteKey (`write_key_slot`, whose 32-byte value the host holds as `write_key`) → the 36-byte
  // value (4 zero bytes + the P-256 scalar) XOR TempKey / SHA-256(TempKey)[0:4], with the input
  // MAC. The slot must be a private P-256 key slot whose SlotConfig.WriteConfig allows PrivWrite
  // (datasheet: after the data lock only the encrypted form is accepted).
  Status priv_write_encrypted(unsigned slot, ByteView scalar, unsigned write_key_slot,
                              ByteView write_key);
  // Verify external: true for a valid signature, false for a miscompare.
  Result<bool> verify_extern(ByteView digest, ByteView signature, ByteView public_key);
  Result<bool> verify_stored(unsigned slot, ByteView digest, ByteView signature);
  // ECDH with the key in `slot`: the 32-byte shared secret, or empty when the slot's configuration
  // sends the secret to slot N|1 instead of the host.
  Result<Bytes> ecdh(unsigned slot, ByteView peer_public_key);
  Result<crypto::Sha256Digest> sha256(ByteView message);
  Result<uint32_t> counter(unsigned id, bool increment);
  Status update_extra(bool selector, uint8_t value);

  // Lock config with the CRC summary of the zone as read back (or `crc` when given), or with the
  // summary check disabled when `check_crc` is false.
  Status lock_config(bool check_crc = true, std::optional<uint16_t> crc = std::nullopt);
  // Lock data + OTP. The host cannot read the data zone before it is locked, so the summary is
  // checked only when the caller supplies it (the CRC of what it wrote: slots 0-15, then OTP).
  Status lock_data(std::optional<uint16_t> crc = std::nullopt);
  Status lock_slot(unsigned slot);

  Status sleep();

 private:
  Result<Bytes> run(const Command& command);  // inside a session, mutex held
  Status begin();
  void end();
  std::mutex mutex_;
  std::unique_ptr<Transport> transport_;
};

}  // namespace zt::se
