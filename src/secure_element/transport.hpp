// How a host reaches a chip: the same command packets over any link. wake() must see the chip's
// wake answer 04 11 33 43; execute() sends one command packet (count..crc) and returns the
// response packet; idle() and sleep() end a session (TempKey survives idle, not sleep).
#pragma once

#include <memory>
#include <mutex>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::se {

class Emulator;

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Status wake() = 0;
  virtual Status idle() = 0;
  virtual Status sleep() = 0;
  virtual Result<Bytes> execute(ByteView command_packet) = 0;
};

// Calls an Emulator in the same process. From wake to idle/sleep the transport holds the
// emulator's bus lock, so several hosts sharing one emulator never interleave their sessions.
class InProcessTransport final : public Transport {
 public:
  explicit InProcessTransport(std::shared_ptr<Emulator> emulator);
  ~InProcessTransport() override;
  Status wake() override;
  Status idle() override;
  Status sleep() override;
  Result<Bytes> execute(ByteView command_packet) override;

 private:
  std::shared_ptr<Emulator> emulator_;
  std::unique_lock<std::mutex> bus_;
};

}  // namespace zt::se
