// The emulated chip over a Unix socket, so other processes (the kit, an OpenSSL provider, test
// scripts) drive the same chip. The socket is SOCK_SEQPACKET: one message = one I2C transaction,
// framed exactly as on the bus:
//   host -> chip  word address + payload: 0x03 + command packet, 0x02 idle, 0x01 sleep, 0x00 reset;
//                 plus 0xFF = the wake pulse (SDA held low has no byte form on I2C).
//   chip -> host  a reply only where an I2C host would read: the response packet for 0x03, the
//                 wake answer 04 11 33 43 for 0xFF. A one-byte reply 00 means "not acknowledged"
//                 (the chip is asleep), which a real bus signals with a NACK.
// From wake to idle/sleep/disconnect a connection owns the chip (the bus), so two clients never
// interleave Nonce and Sign. A client that holds the bus and stops talking blocks the others: the
// chip's watchdog (which would put it to sleep after ~1.3 s) is not emulated.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>

#include "common/unique_fd.hpp"
#include "secure_element/transport.hpp"

namespace zt::se {

inline constexpr uint8_t socket_wake = 0xFF;
inline constexpr uint8_t socket_nack = 0x00;

class UnixSocketTransport final : public Transport {
 public:
  static Result<std::unique_ptr<UnixSocketTransport>> connect(const std::filesystem::path& path);
  ~UnixSocketTransport() override;
  Status wake() override;
  Status idle() override;
  Status sleep() override;
  Result<Bytes> execute(ByteView command_packet) override;

 private:
  explicit UnixSocketTransport(int fd) : fd_(fd) {}
  Status send(ByteView message);
  Result<Bytes> receive();
  UniqueFd fd_;
};

// Serves one Emulator on `path` (created mode 0600; a stale socket file is replaced).
class SocketServer {
 public:
  static Result<std::unique_ptr<SocketServer>> listen(std::shared_ptr<Emulator> emulator,
                                                      const std::filesystem::path& path);
  ~SocketServer();
  // Accepts and serves clients (one thread each) until `stop` becomes true; polls it every 100 ms.
  Status run(const std::atomic<bool>& stop);

 private:
  SocketServer(std::shared_ptr<Emulator> emulator, std::filesystem::path path, int fd)
      : emulator_(std::move(emulator)), path_(std::move(path)), fd_(fd) {}
  void serve_client(int client, const std::atomic<bool>& stop);
  std::shared_ptr<Emulator> emulator_;
  std::filesystem::path path_;
  UniqueFd fd_;
};

}  // namespace zt::se
