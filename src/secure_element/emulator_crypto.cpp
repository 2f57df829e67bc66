// Info, Random, Nonce, GenKey, Sign, Verify, ECDH and SHA. Parameter encodings and response sizes
// confirmed against cryptoauthlib calib_command.h (INFO_MODE_*, NONCE_MODE_*, GENKEY_MODE_*,
// SIGN_MODE_*, VERIFY_MODE_*, ECDH_*, SHA_MODE_*); the Nonce TempKey formula against
// atca_host.c atcah_nonce.
#include <algorithm>

#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"
#include "secure_element/emulator.hpp"

namespace zt::se {

namespace {

bool is_slot(uint16_t id) { return id < slot_count; }

// A public key stored in a 72-byte slot in the padded format: 4 zero bytes, X, 4 zero bytes, Y.
Bytes unpad_public_key(const Bytes& slot) {
  Bytes raw(64);
  std::copy_n(slot.begin() + 4, 32, raw.begin());
  std::copy_n(slot.begin() + 40, 32, raw.begin() + 32);
  return raw;
}

}  // namespace

Emulator::Reply Emulator::info(const Command& command) {
  if (!command.data.empty()) return fail(status::parse_error);
  switch (command.param1) {
    case 0x00:  // Revision: RevNum from the configuration zone
      if (command.param2 != 0) return fail(status::parse_error);
      return output(Bytes(state_.config.begin() + config_offset::revision,
                          state_.config.begin() + config_offset::revision + 4));
    case 0x01: {  // KeyValid: 1 when an ECC private-key slot holds a valid key
      if (!is_slot(command.param2)) return fail(status::parse_error);
      const unsigned slot = command.param2;
      const KeyConfig key = state_.key_config(slot);
      const bool valid = key.is_private() && key.is_p256() && private_key(slot) != nullptr;
      return output(Bytes{static_cast<uint8_t>(valid ? 1 : 0), 0, 0, 0});
    }
    case 0x02:
      // State. Byte 0 uses the TempKeyFlags layout of the internal-sign message
      // (atcah_sign_internal_msg: b0-3 KeyID, b4 SourceFlag, b5 GenDigData, b6 GenKeyData, b7
      // NoMacFlag); byte 1 bit 7 = TempKey valid. The chip's exact State layout is not public.
      return output(
          Bytes{temp_key_flags(), static_cast<uint8_t>(temp_key_.valid ? 0x80 : 0x00), 0, 0});
    case 0x03:  // GPIO: no GPIO pin on the emulated part; reads as 0
      return output(Bytes{0, 0, 0, 0});
    default:
      return fail(status::parse_error);
  }
}

Emulator::Reply Emulator::random(const Command& command) {
  if (command.param1 > 0x01 || command.param2 != 0 || !command.data.empty())
    return fail(status::parse_error);
  const auto value = random32();
  return output(Bytes(value.begin(), value.end()));
}

Emulator::Reply Emulator::nonce(const Command& command) {
  // ATECC508A: modes 0/1 (random, 20-byte NumIn) and 3 (32-byte pass-through); the 64-byte and
  // target bits are ATECC608 features and are a parse error here.
  const uint8_t mode = command.param1;
  if (command.param2 != 0) return fail(status::parse_error);
  if (mode == 0x00 || mode == 0x01) {
    if (command.data.size() != 20) return fail(status::parse_error);
    const auto rand_out = random32();
    crypto::Sha256 h;
    h.update(rand_out);
    h.update(command.data);
    const uint8_t tail[3] = {static_cast<uint8_t>(Opcode::nonce), mode, 0x00};
    h.update(tail);
    temp_key_ = TempKey{};
    temp_key_.value = h.finish();
    temp_key_.valid = true;
    temp_key_.source_input = false;
    return output(Bytes(rand_out.begin(), rand_out.end()));
  }
  if (mode == 0x03) {
    if (command.data.size() != 32) return fail(status::parse_error);
    temp_key_ = TempKey{};
    std::copy(command.data.begin(), command.data.end(), temp_key_.value.begin());
    temp_key_.valid = true;
    temp_key_.source_input = true;
    return done();
  }
  return fail(status::parse_error);
}

Emulator::Reply Emulator::gen_key(const Command& command) {
  const uint8_t mode = command.param1;
  if ((mode & ~0x1C) != 0 || !is_slot(command.param2)) return fail(status::parse_error);
  if (!command.data.empty() && command.data.size() != 3) return fail(status::parse_error);
  if (mode & 0x10) return gen_key_stored_digest(command);
  const bool digest = mode & 0x08;
  if (digest && command.data.size() != 3) return fail(status::parse_error);
  const unsigned slot = command.param2;
  // Key rules read KeyConfig, which is trusted only once the configuration zone is locked
  // (conservative: GenKey before the config lock is refused).
  if (!state_.config_locked()) return fail(status::execution_error);
  const KeyConfig key = state_.key_config(slot);
  if (!key.is_private() || !key.is_p256()) return fail(status::execution_error);
  if (digest && !temp_key_.valid) return fail(status::execution_error);

  if (mode & 0x04) {
    if (state_.slot_locked(slot)) return fail(status::execution_error);
    // After the data lock GenKey may replace a key only when SlotConfig.WriteConfig allows it.
    if (state_.data_locked() && !state_.slot_config(slot).genkey_allowed())
      return fail(status::execution_error);
    auto generated = crypto::generate_p256_key();
    if (!generated) return fail(status::execution_error);
    auto scalar = crypto::private_key_scalar(generated->get());
    auto public_key = crypto::public_key_raw(generated->get());
    if (!scalar || !public_key) return fail(status::execution_error);
    Bytes& data = state_.slots[slot];
    std::fill(data.begin(), data.end(), 0);
    std::copy(scalar->begin(), scalar->end(), data.begin() + 4);
    secure_zero(scalar->data(), scalar->size());
    key_cache_[slot] = std::move(*generated);
    if (digest) gen_key_digest(mode, slot, *public_key);
    return output(Bytes(public_key->begin(), public_key->end()));
  }
  // Public-key computation: only where KeyConfig.PubInfo allows it (conservative reading).
  if (!key.pub_info()) return fail(status::execution_error);
  EVP_PKEY* private_key_handle = private_key(slot);
  if (private_key_handle == nullptr) return fail(status::execution_error);
  auto public_key = crypto::public_key_raw(private_key_handle);
  if (!public_key) return fail(status::execution_error);
  if (digest) gen_key_digest(mode, slot, *public_key);
  return output(Bytes(public_key->begin(), public_key->end()));
}

// GenKey digest mode (atca_host.c atcah_gen_key_msg): TempKey = SHA-256 of a 128-byte message:
// TempKey, 0x40, mode, KeyID (LE), SN[8], SN[0:1], zeros, the 64-byte public key in the last 64
// bytes.
void Emulator::gen_key_digest(uint8_t mode, unsigned slot, ByteView public_key) {
  std::array<uint8_t, 128> message{};
  std::copy(temp_key_.value.begin(), temp_key_.value.end(), message.begin());
  const auto sn = state_.serial_number();
  message[32] = static_cast<uint8_t>(Opcode::gen_key);
  message[33] = mode;
  message[34] = static_cast<uint8_t>(slot);
  message[35] = 0;
  message[36] = sn[8];
  message[37] = sn[0];
  message[38] = sn[1];
  std::copy(public_key.begin(), public_key.end(), message.end() - public_key.size());
  temp_key_.value = crypto::sha256(message);
  temp_key_.gen_dig_data = false;
  temp_key_.gen_key_data = true;
  temp_key_.key_id = slot;
}

uint8_t Emulator::temp_key_flags() const {
  uint8_t flags = static_cast<uint8_t>(temp_key_.key_id & 0x0F);
  if (temp_key_.source_input) flags |= 0x10;
  if (temp_key_.gen_dig_data) flags |= 0x20;
  if (temp_key_.gen_key_data) flags |= 0x40;
  if (temp_key_.no_mac) flags |= 0x80;
  return flags;
}

Emulator::Reply Emulator::sign(const Command& command) {
  const uint8_t mode = command.param1;
  if ((mode & ~0xC1) != 0 || !is_slot(command.param2) || !command.data.empty())
    return fail(status::parse_error);
  const unsigned slot = command.param2;
  // Keys are usable once both zones are locked (conservative: the datasheet summary does not say
  // whether an unlocked data zone allows signing).
  if (!state_.config_locked() || !state_.data_locked()) return fail(status::execution_error);
  const KeyConfig key = state_.key_config(slot);
  if (!key.is_private() || !key.is_p256()) return fail(status::execution_error);
  if (!(mode & 0x80)) return sign_internal(mode, slot);
  if (mode & 0x41)
    return fail(status::parse_error);  // include-SN / invalidate apply to internal only
  if (!state_.slot_config(slot).external_sign_allowed()) return fail(status::execution_error);
  // Datasheet §Sign: an external message must be in TempKey, loaded by Nonce pass-through.
  if (!temp_key_.valid || !temp_key_.source_input) return fail(status::execution_error);
  EVP_PKEY* private_key_handle = private_key(slot);
  if (private_key_handle == nullptr) return fail(status::execution_error);
  auto signature = crypto::ecdsa_sign_digest_raw(private_key_handle, temp_key_.value);
  temp_key_.valid = false;  // conservative: one Nonce per signature
  if (!signature) return fail(status::ecc_fault);
  return output(Bytes(signature->begin(), signature->end()));
}

// Internal Sign: the signed message describes TempKey's origin (atca_host.c
// atcah_sign_internal_msg, ATECC508A layout): TempKey(32) 0x41 mode KeyID(LE) SlotConfig[k]
// KeyConfig[k] TempKeyFlags 00 00 SN[8] SN[4:7]|0 SN[0:1] SN[2:3]|0 SlotLocked[k]?00:01 00 00,
// where k = TempKey.KeyID. TempKey must come from GenDig or GenKey. The invalidate mode (bit 0) is
// not emulated.
Emulator::Reply Emulator::sign_internal(uint8_t mode, unsigned slot) {
  if (mode & 0x01) return fail(status::parse_error);
  if (!state_.slot_config(slot).internal_sign_allowed()) return fail(status::execution_error);
  if (!temp_key_.valid || !(temp_key_.gen_dig_data || temp_key_.gen_key_data)) {
    return fail(status::execution_error);
  }
  const unsigned k = temp_key_.key_id & 0x0F;
  const auto sn = state_.serial_number();
  std::array<uint8_t, 55> message{};
  std::copy(temp_key_.value.begin(), temp_key_.value.end(), message.begin());
  message[32] = static_cast<uint8_t>(Opcode::sign);
  message[33] = mode;
  message[34] = static_cast<uint8_t>(slot);
  message[35] = 0;
  const uint16_t slot_config = state_.slot_config(k).raw;
  const uint16_t key_config = state_.key_config(k).raw;
  message[36] = static_cast<uint8_t>(slot_config);
  message[37] = static_cast<uint8_t>(slot_config >> 8);
  message[38] = static_cast<uint8_t>(key_config);
  message[39] = static_cast<uint8_t>(key_config >> 8);
  message[40] = temp_key_flags();
  message[43] = sn[8];
  message[48] = sn[0];
  message[49] = sn[1];
  if (mode & 0x40) {
    std::copy(sn.begin() + 4, sn.begin() + 8, message.begin() + 44);
    message[50] = sn[2];
    message[51] = sn[3];
  }
  message[52] = state_.slot_locked(k) ? 0x00 : 0x01;
  EVP_PKEY* private_key_handle = private_key(slot);
  if (private_key_handle == nullptr) return fail(status::execution_error);
  auto signature = crypto::ecdsa_sign_digest_raw(private_key_handle, crypto::sha256(message));
  temp_key_.valid = false;
  if (!signature) return fail(status::ecc_fault);
  return output(Bytes(signature->begin(), signature->end()));
}

Emulator::Reply Emulator::verify(const Command& command) {
  const uint8_t mode = command.param1;
  Bytes public_key;
  if (mode == 0x02) {  // external: param2 = key type (P-256 = 4), data = R||S then X||Y
    if (command.param2 != key_type_p256 || command.data.size() != 128)
      return fail(status::parse_error);
    public_key.assign(command.data.begin() + 64, command.data.end());
  } else if (mode == 0x00) {  // stored: param2 = slot with a public key, data = R||S
    if (!is_slot(command.param2) || command.data.size() != 64) return fail(status::parse_error);
    const unsigned slot = command.param2;
    const KeyConfig key = state_.key_config(slot);
    if (!state_.config_locked() || key.is_private() || !key.is_p256() ||
        state_.slots[slot].size() < 72) {
      return fail(status::execution_error);
    }
    // A PubInfo key is usable only once validated (Verify validate).
    if (key.pub_info() && !state_.public_key_validated(slot)) return fail(status::execution_error);
    public_key = unpad_public_key(state_.slots[slot]);
  } else if (mode == 0x03 || mode == 0x07) {
    return verify_validate(command);
  } else {
    return fail(status::parse_error);  // mode 1 (ValidateExternal) is not emulated
  }
  if (!temp_key_.valid || !temp_key_.source_input) return fail(status::execution_error);
  auto key = crypto::public_key_from_raw(public_key);
  // A public key that is not a point on P-256 cannot enter the ECC computation: ECC fault.
  if (!key) return fail(status::ecc_fault);
  const bool good = crypto::ecdsa_verify_digest_raw(key->get(), temp_key_.value,
                                                    ByteView(command.data).first(64));
  temp_key_.valid = false;
  return good ? done() : fail(status::miscompare);
}

Emulator::Reply Emulator::ecdh(const Command& command) {
  // ATECC508A: mode 0 only (the source/output/copy bits are ATECC608 features).
  if (command.param1 != 0x00 || !is_slot(command.param2) || command.data.size() != 64) {
    return fail(status::parse_error);
  }
  const unsigned slot = command.param2;
  if (!state_.config_locked() || !state_.data_locked()) return fail(status::execution_error);
  const KeyConfig key = state_.key_config(slot);
  const SlotConfig slot_config = state_.slot_config(slot);
  if (!key.is_private() || !key.is_p256() || !slot_config.ecdh_allowed())
    return fail(status::execution_error);
  // The master secret goes to slot N|1 when ReadKey bit 3 says so; an odd slot would overwrite
  // its own key, which we refuse (conservative).
  if (slot_config.ecdh_to_slot() && (slot & 1)) return fail(status::execution_error);
  EVP_PKEY* private_key_handle = private_key(slot);
  if (private_key_handle == nullptr) return fail(status::execution_error);
  auto peer = crypto::public_key_from_raw(command.data);
  if (!peer) return fail(status::ecc_fault);
  auto secret = crypto::ecdh_shared_secret(private_key_handle, peer->get());
  if (!secret) return fail(status::ecc_fault);
  if (slot_config.ecdh_to_slot()) {
    Bytes& target = state_.slots[slot | 1];
    std::copy(secret->begin(), secret->end(), target.begin());
    secure_zero(secret->data(), secret->size());
    return done();
  }
  return output(std::move(*secret));
}

Emulator::Reply Emulator::sha(const Command& command) {
  const uint8_t mode = command.param1;
  switch (mode) {
    case 0x00:  // start
      if (!command.data.empty()) return fail(status::parse_error);
      sha_ = std::make_unique<crypto::Sha256>();
      hmac_key_.reset();
      // The ATECC508A keeps the SHA context in TempKey (conservative: TempKey is lost).
      temp_key_.valid = false;
      return done();
    case 0x04: {  // HMAC start with the key in slot param2
      if (!command.data.empty() || !is_slot(command.param2)) return fail(status::parse_error);
      const unsigned slot = command.param2;
      if (!state_.config_locked() || !state_.data_locked()) return fail(status::execution_error);
      if (state_.key_config(slot).is_private()) return fail(status::execution_error);
      std::array<uint8_t, 32> hmac_key{};
      std::copy_n(state_.slots[slot].begin(), 32, hmac_key.begin());
      std::array<uint8_t, 64> pad{};
      for (size_t i = 0; i < pad.size(); ++i)
        pad[i] = static_cast<uint8_t>((i < 32 ? hmac_key[i] : 0) ^ 0x36);
      sha_ = std::make_unique<crypto::Sha256>();
      sha_->update(pad);
      hmac_key_ = hmac_key;
      temp_key_.valid = false;
      return done();
    }
    case 0x01:  // update: exactly one 64-byte block
      if (command.data.size() != 64) return fail(status::parse_error);
      if (!sha_) return fail(status::execution_error);
      sha_->update(command.data);
      return done();
    case 0x02:    // end: param2 = length of the final 0-63 bytes
    case 0x05: {  // HMAC end
      if (command.param2 > 63 || command.data.size() != command.param2)
        return fail(status::parse_error);
      if (!sha_ || (mode == 0x05) != hmac_key_.has_value()) return fail(status::execution_error);
      sha_->update(command.data);
      auto digest = sha_->finish();
      sha_.reset();
      if (hmac_key_) {
        std::array<uint8_t, 64> pad{};
        for (size_t i = 0; i < pad.size(); ++i)
          pad[i] = static_cast<uint8_t>((i < 32 ? (*hmac_key_)[i] : 0) ^ 0x5C);
        crypto::Sha256 outer;
        outer.update(pad);
        outer.update(digest);
        digest = outer.finish();
        secure_zero(hmac_key_->data(), hmac_key_->size());
        hmac_key_.reset();
      }
      return output(Bytes(digest.begin(), digest.end()));
    }
    case 0x03: {  // public: add the 64-byte public key stored in slot param2 to the context
      // calib_command.h SHA_MODE_SHA256_PUBLIC "Add 64 byte ECC public key in the slot to the SHA
      // context". The slot must hold a P-256 public key (X||Y without the pad bytes is hashed).
      if (!command.data.empty() || !is_slot(command.param2)) return fail(status::parse_error);
      const unsigned slot = command.param2;
      const KeyConfig key = state_.key_config(slot);
      if (!sha_ || hmac_key_ || !state_.config_locked() || key.is_private() || !key.is_p256() ||
          state_.slots[slot].size() < 72) {
        return fail(status::execution_error);
      }
      sha_->update(unpad_public_key(state_.slots[slot]));
      return done();
    }
    default:
      return fail(status::parse_error);  // the ATECC608 context modes
  }
}

// GenKey mode 0x10 (atcah_gen_key_msg; Microchip's public-key-rotation example
// calc_genkey_pubkey_digest): TempKey = SHA-256(TempKey, 40, OtherData(3), SN8 SN0 SN1, 25 zeros,
// X||Y of the public key stored in slot KeyID). OtherData replaces mode and KeyID in the message.
// Answers a status byte: the key is stored, not generated. TempKey then carries GenKeyData and
// KeyID = the slot, the input of Verify validate/invalidate.
Emulator::Reply Emulator::gen_key_stored_digest(const Command& command) {
  if ((command.param1 & 0x04) || command.data.size() != 3) return fail(status::parse_error);
  const unsigned slot = command.param2;
  const KeyConfig key = state_.key_config(slot);
  if (!state_.config_locked() || key.is_private() || !key.is_p256() ||
      state_.slots[slot].size() < 72 || !temp_key_.valid) {
    return fail(status::execution_error);
  }
  const auto sn = state_.serial_number();
  std::array<uint8_t, 128> message{};
  std::copy(temp_key_.value.begin(), temp_key_.value.end(), message.begin());
  message[32] = static_cast<uint8_t>(Opcode::gen_key);
  std::copy(command.data.begin(), command.data.end(), message.begin() + 33);
  message[36] = sn[8];
  message[37] = sn[0];
  message[38] = sn[1];
  const Bytes public_key = unpad_public_key(state_.slots[slot]);
  std::copy(public_key.begin(), public_key.end(), message.end() - public_key.size());
  temp_key_.value = crypto::sha256(message);
  temp_key_.gen_dig_data = false;
  temp_key_.gen_key_data = true;
  temp_key_.key_id = slot;
  return done();
}

// Verify validate (0x03) / invalidate (0x07) of the PubInfo public key in slot KeyID, signed by
// the public key in SlotConfig[KeyID].ReadKey. Data = signature R||S (64) + OtherData (19); TempKey
// must be GenKey's stored-key digest of KeyID. The signed message is the Sign internal message
// rebuilt from OtherData (atcah_verify_mac): SHA-256(TempKey, 41, OtherData[0:10], SN8,
// OtherData[10:14], SN0 SN1, OtherData[14:19]). Success marks the slot validated/invalidated
// (ChipState::set_public_key_validated); a bad signature answers miscompare 0x01.
Emulator::Reply Emulator::verify_validate(const Command& command) {
  if (!is_slot(command.param2) || command.data.size() != 64 + 19) return fail(status::parse_error);
  const unsigned slot = command.param2;
  const bool validate = command.param1 == 0x03;
  const KeyConfig key = state_.key_config(slot);
  const unsigned parent = state_.slot_config(slot).read_key();
  const KeyConfig parent_key = state_.key_config(parent);
  if (!state_.config_locked() || !state_.data_locked() || key.is_private() || !key.is_p256() ||
      !key.pub_info() || parent_key.is_private() || !parent_key.is_p256() ||
      state_.slots[parent].size() < 72) {
    return fail(status::execution_error);
  }
  if (!temp_key_.valid || !temp_key_.gen_key_data || temp_key_.key_id != slot)
    return fail(status::execution_error);
  const auto sn = state_.serial_number();
  const ByteView other_data = ByteView(command.data).subspan(64);
  Bytes message(temp_key_.value.begin(), temp_key_.value.end());
  message.push_back(static_cast<uint8_t>(Opcode::sign));
  message.insert(message.end(), other_data.begin(), other_data.begin() + 10);
  message.push_back(sn[8]);
  message.insert(message.end(), other_data.begin() + 10, other_data.begin() + 14);
  message.push_back(sn[0]);
  message.push_back(sn[1]);
  message.insert(message.end(), other_data.begin() + 14, other_data.end());
  temp_key_.valid = false;
  auto public_key = crypto::public_key_from_raw(unpad_public_key(state_.slots[parent]));
  if (!public_key) return fail(status::ecc_fault);
  if (!crypto::ecdsa_verify_digest_raw(public_key->get(), crypto::sha256(message),
                                       ByteView(command.data).first(64))) {
    return fail(status::miscompare);
  }
  state_.set_public_key_validated(slot, validate);
  return done();
}

}  // namespace zt::se
