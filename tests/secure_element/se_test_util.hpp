// Shared fixtures for the secure-element tests: an emulator with a fixed serial number, a Device
// over the in-process transport, and helpers that send raw command packets.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "host_formulas.hpp"
#include "secure_element/device.hpp"
#include "secure_element/emulator.hpp"
#include "secure_element/kit_config.hpp"
#include "secure_element/packet.hpp"

namespace zt::se::testing {

inline ChipState test_blank_chip() { return blank_chip({0x11, 0x22, 0x33, 0x44, 0x55, 0x66}); }

struct Reply {
  uint8_t status = 0xAA;  // status byte when the response carried one
  Bytes data;             // data when the response carried data
};

class Chip {
 public:
  explicit Chip(ChipState state = test_blank_chip(), Emulator::Persist persist = {})
      : emulator(std::make_shared<Emulator>(std::move(state), std::move(persist))),
        device(std::make_unique<InProcessTransport>(emulator)) {}

  // Sends one command packet to the awake chip and decodes the answer.
  Reply command(Opcode opcode, uint8_t param1, uint16_t param2, ByteView data = {}) {
    return decode(raw(encode_command(opcode, param1, param2, data)));
  }
  Bytes raw(ByteView packet) {
    (void)emulator->wake();
    return emulator->process(packet);
  }
  static Reply decode(const Bytes& response) {
    auto data = decode_response(response);
    EXPECT_TRUE(data.has_value()) << "response is not a valid packet";
    if (!data) return {};
    if (data->size() == 1) return Reply{(*data)[0], {}};
    return Reply{status::success, std::move(*data)};
  }

  // `length` bytes of slot `slot` at `offset`, as the chip stores them now.
  Bytes slot_bytes(unsigned slot, size_t offset, size_t length) const {
    const ChipState state = emulator->state();
    return Bytes(state.slots[slot].begin() + offset, state.slots[slot].begin() + offset + length);
  }

  // Writes the kit configuration and locks the configuration zone.
  void configure() {
    ASSERT_TRUE(device.write_config(kit_config()));
    ASSERT_TRUE(device.lock_config());
  }
  // configure() + data lock + the firmware's key generation (the kit's provision step).
  crypto::PublicKeyRaw provision_kit() {
    auto result = zt::se::provision(device);
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
    return result ? result->device_public_key : crypto::PublicKeyRaw{};
  }

  std::shared_ptr<Emulator> emulator;
  Device device;
};

// Nonce(random, NumIn 20 x 0x07) + GenDig(data, key_id), with the OtherData 15 02 id 00 that
// calib_write_enc / calib_read_enc send when `other_data`; returns the TempKey the host computes.
inline Digest random_gen_dig(Chip& chip, ByteView key, uint16_t key_id, bool other_data = false) {
  const Bytes num_in(20, 0x07);
  const Bytes rand_out = chip.command(Opcode::nonce, 0x00, 0, num_in).data;
  EXPECT_EQ(rand_out.size(), 32u);
  const Bytes header = other_data ? concat({Bytes{0x15, 0x02}, le16(key_id)}) : Bytes{};
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x02, key_id, header).status, status::success);
  return host_gen_dig(key, key_id, chip.emulator->state().serial_number(),
                      host_nonce(rand_out, num_in, 0x00));
}

}  // namespace zt::se::testing
