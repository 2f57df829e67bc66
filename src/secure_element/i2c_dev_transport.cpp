#include "secure_element/i2c_dev_transport.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "common/hex.hpp"
#include "secure_element/atecc508a.hpp"
#include "secure_element/packet.hpp"

namespace zt::se {

namespace {
// Longest ATECC508A execution time is GenKey (~115 ms max); poll for up to 250 ms in 2 ms steps.
constexpr auto poll_step = std::chrono::milliseconds(2);
constexpr int poll_attempts = 125;
constexpr auto wake_delay = std::chrono::microseconds(1500);  // tWHI
}  // namespace

std::vector<I2cMessage> i2c_messages_wake() { return {I2cMessage{0x00, false, Bytes{0x00}}}; }

std::vector<I2cMessage> i2c_messages_word(uint16_t address, uint8_t word_address) {
  return {I2cMessage{address, false, Bytes{word_address}}};
}

std::vector<I2cMessage> i2c_messages_command(uint16_t address, ByteView command_packet) {
  Bytes data;
  data.reserve(command_packet.size() + 1);
  data.push_back(word_address::command);
  data.insert(data.end(), command_packet.begin(), command_packet.end());
  return {I2cMessage{address, false, std::move(data)}};
}

Result<std::unique_ptr<I2cDevTransport>> I2cDevTransport::open(const std::filesystem::path& device,
                                                               uint8_t address_8bit) {
  const int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return make_error(Errc::io,
                      fmt::format("{}: cannot open: {}", device.string(), std::strerror(errno)));
  return std::unique_ptr<I2cDevTransport>(new I2cDevTransport(fd, i2c_address_7bit(address_8bit)));
}

I2cDevTransport::~I2cDevTransport() = default;

bool I2cDevTransport::transfer(std::vector<I2cMessage>& messages) {
  std::vector<i2c_msg> raw(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    raw[i].addr = messages[i].address;
    raw[i].flags = messages[i].read ? I2C_M_RD : 0;
    raw[i].len = static_cast<uint16_t>(messages[i].data.size());
    raw[i].buf = messages[i].data.data();
  }
  i2c_rdwr_ioctl_data request{raw.data(), static_cast<uint32_t>(raw.size())};
  return ::ioctl(fd_.get(), I2C_RDWR, &request) >= 0;
}

Status I2cDevTransport::wake() {
  auto wake = i2c_messages_wake();
  (void)transfer(wake);  // nobody acknowledges the general call: the NACK is expected
  std::this_thread::sleep_for(wake_delay);
  std::vector<I2cMessage> answer{I2cMessage{address_, true, Bytes(4)}};
  if (!transfer(answer)) return make_error(Errc::io, "i2c: no wake answer from the secure element");
  if (answer[0].data != wake_response()) {
    return make_error(Errc::io, "i2c: unexpected wake answer " + to_hex(answer[0].data));
  }
  return ok();
}

Status I2cDevTransport::idle() {
  auto messages = i2c_messages_word(address_, word_address::idle);
  if (!transfer(messages))
    return make_error(Errc::io, fmt::format("i2c: idle: {}", std::strerror(errno)));
  return ok();
}

Status I2cDevTransport::sleep() {
  auto messages = i2c_messages_word(address_, word_address::sleep);
  if (!transfer(messages))
    return make_error(Errc::io, fmt::format("i2c: sleep: {}", std::strerror(errno)));
  return ok();
}

Result<Bytes> I2cDevTransport::read_response() {
  for (int attempt = 0; attempt < poll_attempts; ++attempt) {
    std::this_thread::sleep_for(poll_step);
    std::vector<I2cMessage> count{I2cMessage{address_, true, Bytes(1)}};
    if (!transfer(count)) continue;  // still executing: NACK
    const uint8_t length = count[0].data[0];
    if (length < 4 || length > response_size_max) {
      return make_error(Errc::io, fmt::format("i2c: bad response count byte {}", length));
    }
    std::vector<I2cMessage> rest{I2cMessage{address_, true, Bytes(length - 1u)}};
    if (!transfer(rest))
      return make_error(Errc::io, fmt::format("i2c: reading response: {}", std::strerror(errno)));
    Bytes response{length};
    response.insert(response.end(), rest[0].data.begin(), rest[0].data.end());
    return response;
  }
  return make_error(Errc::timeout, "i2c: secure element did not answer within 250 ms");
}

Result<Bytes> I2cDevTransport::execute(ByteView command_packet) {
  auto messages = i2c_messages_command(address_, command_packet);
  if (!transfer(messages))
    return make_error(Errc::io, fmt::format("i2c: sending command: {}", std::strerror(errno)));
  return read_response();
}

}  // namespace zt::se
