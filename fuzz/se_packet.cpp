// Fuzzes the ATECC508A packet parser and command processor: the input is a sequence of I2C write
// transactions (length byte + bytes), replayed against an emulator that starts either blank or
// provisioned (first input byte). Transactions whose word address is 0x03 are re-framed with a
// valid count and CRC half of the time so the fuzzer reaches the command handlers, not only the
// CRC check. Invariants checked: every response is a well-formed packet with a valid CRC, a
// response never exceeds 75 bytes, and slot 0's private key is never returned by any command.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "secure_element/crc.hpp"
#include "secure_element/device.hpp"
#include "secure_element/emulator.hpp"
#include "secure_element/kit_config.hpp"
#include "secure_element/packet.hpp"

namespace {

using namespace zt::se;

const ChipState& provisioned_state() {
  static const ChipState state = [] {
    auto emulator = std::make_shared<Emulator>(blank_chip({1, 2, 3, 4, 5, 6}));
    Device device(std::make_unique<InProcessTransport>(emulator));
    if (!provision(device)) std::abort();
    return emulator->state();
  }();
  return state;
}

bool contains(zt::ByteView haystack, zt::ByteView needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (std::equal(needle.begin(), needle.end(), haystack.begin() + i)) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool provisioned = data[0] & 1;
  const ChipState initial = provisioned ? provisioned_state() : blank_chip({1, 2, 3, 4, 5, 6});
  const zt::Bytes private_scalar(initial.slots[0].begin() + 4, initial.slots[0].end());
  Emulator emulator(initial);
  (void)emulator.wake();
  size_t at = 1;
  while (at < size) {
    const size_t length = std::min<size_t>(data[at], size - at - 1);
    const bool reframe = data[at] & 0x80;
    zt::Bytes transaction(data + at + 1, data + at + 1 + length);
    at += 1 + length;
    if (reframe && transaction.size() >= 6 && transaction[0] == word_address::command) {
      // Make count and CRC right: the body (opcode, params, data) is fuzzer-chosen.
      zt::Bytes body(transaction.begin() + 2, transaction.end());
      if (body.size() > command_size_max - 3) body.resize(command_size_max - 3);
      zt::Bytes packet{static_cast<uint8_t>(body.size() + 3)};
      packet.insert(packet.end(), body.begin(), body.end());
      const auto crc = crc16_le(packet);
      packet.insert(packet.end(), crc.begin(), crc.end());
      transaction.assign(1, word_address::command);
      transaction.insert(transaction.end(), packet.begin(), packet.end());
    }
    if (!transaction.empty() && transaction[0] == 0xFF) {
      (void)emulator.wake();
      continue;
    }
    auto response = emulator.i2c_write(transaction);
    if (!response) continue;
    if (response->size() > response_size_max || !decode_response(*response)) std::abort();
    if (provisioned && contains(*response, private_scalar)) std::abort();
  }
  return 0;
}
