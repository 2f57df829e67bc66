// A real ATECC508A/608A on Linux through /dev/i2c-N (I2C_RDWR ioctl), speaking the same packets as
// the emulator. Thin: wake = a zero byte to the general-call address 0x00 (at 100 kHz this holds
// SDA low longer than the 60 us tWLO), then the 4-byte wake answer after tWHI (1.5 ms); a command
// is one write of word address 0x03 + packet, then polled reads (the chip NACKs while it executes)
// of the count byte and the rest of the response. Cannot be tested here without hardware: the unit
// tests cover the message building (i2c_messages_*), not a bus.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "common/unique_fd.hpp"
#include "secure_element/transport.hpp"

namespace zt::se {

// One i2c_msg of an I2C_RDWR transfer, before it is turned into the kernel struct.
struct I2cMessage {
  uint16_t address = 0;  // 7-bit
  bool read = false;
  Bytes data;  // bytes to write, or a buffer of the length to read
};

// The chip's 8-bit address as datasheets give it (0xC0 default, 0xB0 for the kit) -> 7-bit (0x60).
constexpr uint16_t i2c_address_7bit(uint8_t address_8bit) { return address_8bit >> 1; }

std::vector<I2cMessage> i2c_messages_wake();
std::vector<I2cMessage> i2c_messages_word(uint16_t address,
                                          uint8_t word_address);  // idle/sleep/reset
std::vector<I2cMessage> i2c_messages_command(uint16_t address, ByteView command_packet);

class I2cDevTransport final : public Transport {
 public:
  // `device` e.g. /dev/i2c-1; `address_8bit` as in the datasheet (0xC0).
  static Result<std::unique_ptr<I2cDevTransport>> open(const std::filesystem::path& device,
                                                       uint8_t address_8bit);
  ~I2cDevTransport() override;
  Status wake() override;
  Status idle() override;
  Status sleep() override;
  Result<Bytes> execute(ByteView command_packet) override;

 private:
  I2cDevTransport(int fd, uint16_t address) : fd_(fd), address_(address) {}
  bool transfer(std::vector<I2cMessage>& messages);
  Result<Bytes> read_response();
  UniqueFd fd_;
  uint16_t address_ = 0;
};

}  // namespace zt::se
