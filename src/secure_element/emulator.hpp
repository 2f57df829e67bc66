// Command-level ATECC508A: processes byte-exact command packets against a ChipState and answers
// with byte-exact response packets. Rules follow the public datasheet summary and cryptoauthlib;
// where the datasheet's behaviour is not public the conservative choice is made and commented at
// the rule (emulator_*.cpp).
//
// Thread safety: every public member is safe to call from several threads (one internal mutex).
// A host that needs several commands to run back to back (Nonce then Sign share TempKey) holds
// bus() from wake to idle/sleep, as a real host owns the I2C bus.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "common/result.hpp"
#include "crypto/digest.hpp"
#include "crypto/ossl.hpp"
#include "secure_element/packet.hpp"
#include "secure_element/zones.hpp"

namespace zt::se {

// TempKey register and its flags (datasheet §3.2.1 "TempKey"; flag names as cryptoauthlib's
// atca_temp_key: source_flag 0 = random, 1 = input).
struct TempKey {
  std::array<uint8_t, 32> value{};
  bool valid = false;
  bool source_input = false;  // SourceFlag: true after Nonce pass-through
  bool gen_dig_data = false;  // produced by GenDig over a data slot
  bool gen_key_data = false;  // produced by a GenKey PubKey digest
  unsigned key_id = 0;        // the slot GenDig / GenKey used
  bool no_mac = false;
};

class Emulator {
 public:
  // Called with the new state after every command that changed non-volatile memory; a failure
  // rolls the change back and the command answers execution error (nothing half-written).
  using Persist = std::function<Status(const ChipState&)>;

  explicit Emulator(ChipState state, Persist persist = {});
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Wake pulse: the chip answers 04 11 33 43. Sleep clears volatile state (TempKey, SHA context);
  // idle keeps it (datasheet §6.2).
  Bytes wake();
  void idle();
  void sleep();
  bool awake() const;

  // One command packet (count..crc). Returns the response packet, or an empty vector when the
  // chip is not awake (on I2C it would not acknowledge its address).
  Bytes process(ByteView packet);

  // One I2C write transaction: word address byte + payload (atecc508a.hpp word_address). Returns
  // what the host reads next (a response packet), or nullopt for reset/sleep/idle and for a NACK.
  std::optional<Bytes> i2c_write(ByteView transaction);

  ChipState state() const;
  std::mutex& bus() { return bus_; }

 private:
  struct Reply {
    uint8_t status = status::success;
    Bytes data;  // non-empty: a data response instead of a status byte
  };
  static Reply fail(uint8_t code) { return Reply{code, {}}; }
  static Reply done() { return Reply{}; }
  static Reply output(Bytes data) { return Reply{status::success, std::move(data)}; }

  Reply dispatch(const Command& command);
  // emulator_crypto.cpp
  Reply info(const Command& command);
  Reply random(const Command& command);
  Reply nonce(const Command& command);
  Reply gen_key(const Command& command);
  Reply sign(const Command& command);
  Reply sign_internal(uint8_t mode, unsigned slot);
  void gen_key_digest(uint8_t mode, unsigned slot, ByteView public_key);
  Reply gen_key_stored_digest(const Command& command);
  uint8_t temp_key_flags() const;
  Reply verify(const Command& command);
  Reply verify_validate(const Command& command);
  Reply ecdh(const Command& command);
  Reply sha(const Command& command);
  // emulator_memory.cpp
  Reply read(const Command& command);
  Reply write(const Command& command);
  Reply lock(const Command& command);
  Reply gen_dig(const Command& command);
  Reply priv_write(const Command& command);
  Reply counter(const Command& command);
  Reply update_extra(const Command& command);
  // emulator_mac.cpp
  Reply mac(const Command& command);
  Reply hmac(const Command& command);
  Reply check_mac(const Command& command);
  Reply derive_key(const Command& command);
  bool symmetric_key_usable(unsigned slot, bool for_mac, bool random_temp_key) const;
  bool temp_key_usable(uint8_t mode, bool check_no_mac) const;

  std::array<uint8_t, 32> random32();
  EVP_PKEY* private_key(unsigned slot);  // cached; null when the slot holds no valid scalar
  void clear_volatile();

  mutable std::mutex mutex_;
  std::mutex bus_;
  ChipState state_;
  Persist persist_;
  bool awake_ = false;
  TempKey temp_key_;
  std::unique_ptr<crypto::Sha256> sha_;              // SHA command context
  std::optional<std::array<uint8_t, 32>> hmac_key_;  // set by SHA HMAC start
  std::array<crypto::PkeyPtr, slot_count> key_cache_;
};

}  // namespace zt::se
