#include "secure_element/emulator.hpp"

#include "crypto/key.hpp"
#include "secure_element/crc.hpp"

namespace zt::se {

namespace {

// Commands that may change non-volatile memory: the state is snapshotted before them and persisted
// after them when it changed.
bool may_change_state(uint8_t opcode) {
  switch (static_cast<Opcode>(opcode)) {
    case Opcode::write:
    case Opcode::lock:
    case Opcode::gen_key:
    case Opcode::priv_write:
    case Opcode::counter:
    case Opcode::update_extra:
    case Opcode::ecdh:        // may write the master secret into slot N|1
    case Opcode::derive_key:  // writes the derived key
    case Opcode::verify:      // validate / invalidate mark the public key's slot
      return true;
    default:
      return false;
  }
}

}  // namespace

Emulator::Emulator(ChipState state, Persist persist)
    : state_(std::move(state)), persist_(std::move(persist)) {
  for (unsigned slot = 0; slot < slot_count; ++slot) state_.slots[slot].resize(slot_size(slot), 0);
}

Emulator::~Emulator() { secure_zero(temp_key_.value.data(), temp_key_.value.size()); }

Bytes Emulator::wake() {
  std::lock_guard lock(mutex_);
  awake_ = true;
  return wake_response();
}

void Emulator::idle() {
  std::lock_guard lock(mutex_);
  awake_ = false;  // TempKey and the SHA context survive idle
}

void Emulator::sleep() {
  std::lock_guard lock(mutex_);
  awake_ = false;
  clear_volatile();
}

bool Emulator::awake() const {
  std::lock_guard lock(mutex_);
  return awake_;
}

ChipState Emulator::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void Emulator::clear_volatile() {
  secure_zero(temp_key_.value.data(), temp_key_.value.size());
  temp_key_ = TempKey{};
  sha_.reset();
  hmac_key_.reset();
}

Bytes Emulator::process(ByteView packet) {
  std::lock_guard lock(mutex_);
  if (!awake_) return {};
  const DecodedCommand decoded = decode_command(packet);
  if (decoded.fault == PacketFault::crc) return encode_status(status::comm_error);
  if (decoded.fault == PacketFault::framing) return encode_status(status::parse_error);

  std::optional<ChipState> before;
  if (may_change_state(decoded.command.opcode)) before = state_;
  Reply reply = dispatch(decoded.command);
  if (before && !(*before == state_)) {
    for (auto& key : key_cache_) key.reset();
    if (persist_) {
      Status saved = persist_(state_);
      if (!saved) {
        // Non-volatile write failed: keep memory consistent with the file.
        state_ = std::move(*before);
        return encode_status(status::execution_error);
      }
    }
  }
  if (!reply.data.empty()) return encode_response(reply.data);
  return encode_status(reply.status);
}

std::optional<Bytes> Emulator::i2c_write(ByteView transaction) {
  if (transaction.empty()) return std::nullopt;
  switch (transaction[0]) {
    case word_address::reset: {
      // Reset the I/O buffer address counter; nothing to read (datasheet §6.3).
      return std::nullopt;
    }
    case word_address::sleep:
      sleep();
      return std::nullopt;
    case word_address::idle:
      idle();
      return std::nullopt;
    case word_address::command: {
      Bytes response = process(transaction.subspan(1));
      if (response.empty()) return std::nullopt;  // asleep: NACK
      return response;
    }
    default:
      // Word addresses 0x04-0xFF are reserved; the chip NACKs them (conservative choice).
      return std::nullopt;
  }
}

Emulator::Reply Emulator::dispatch(const Command& command) {
  switch (static_cast<Opcode>(command.opcode)) {
    case Opcode::info:
      return info(command);
    case Opcode::random:
      return random(command);
    case Opcode::nonce:
      return nonce(command);
    case Opcode::gen_key:
      return gen_key(command);
    case Opcode::sign:
      return sign(command);
    case Opcode::verify:
      return verify(command);
    case Opcode::ecdh:
      return ecdh(command);
    case Opcode::sha:
      return sha(command);
    case Opcode::read:
      return read(command);
    case Opcode::write:
      return write(command);
    case Opcode::lock:
      return lock(command);
    case Opcode::gen_dig:
      return gen_dig(command);
    case Opcode::priv_write:
      return priv_write(command);
    case Opcode::counter:
      return counter(command);
    case Opcode::update_extra:
      return update_extra(command);
    case Opcode::mac:
      return mac(command);
    case Opcode::hmac:
      return hmac(command);
    case Opcode::check_mac:
      return check_mac(command);
    case Opcode::derive_key:
      return derive_key(command);
    default:
      // Pause (single-wire selector) is not emulated; an unknown opcode is a parse error on the
      // chip, and Pause is one here.
      return fail(status::parse_error);
  }
}

std::array<uint8_t, 32> Emulator::random32() {
  std::array<uint8_t, 32> out{};
  if (!state_.config_locked()) {
    // Datasheet: until the configuration zone is locked the RNG returns FF FF 00 00 repeated.
    for (size_t i = 0; i < out.size(); i += 4) {
      out[i] = 0xFF;
      out[i + 1] = 0xFF;
    }
    return out;
  }
  const Bytes random = crypto::random_bytes(out.size());
  std::copy(random.begin(), random.end(), out.begin());
  return out;
}

EVP_PKEY* Emulator::private_key(unsigned slot) {
  if (!key_cache_[slot]) {
    const Bytes& data = state_.slots[slot];
    auto key = crypto::private_key_from_scalar(ByteView(data).subspan(4, 32));
    if (!key) return nullptr;
    key_cache_[slot] = std::move(*key);
  }
  return key_cache_[slot].get();
}

}  // namespace zt::se
