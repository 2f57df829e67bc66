#include "common/hex.hpp"
#include "secure_element/emulator.hpp"
#include "secure_element/transport.hpp"

namespace zt::se {

InProcessTransport::InProcessTransport(std::shared_ptr<Emulator> emulator)
    : emulator_(std::move(emulator)), bus_(emulator_->bus(), std::defer_lock) {}

InProcessTransport::~InProcessTransport() {
  if (bus_.owns_lock()) {
    emulator_->idle();
    bus_.unlock();
  }
}

Status InProcessTransport::wake() {
  if (!bus_.owns_lock()) bus_.lock();
  const Bytes answer = emulator_->wake();
  if (answer != wake_response())
    return make_error(Errc::io, "secure element: unexpected wake answer " + to_hex(answer));
  return ok();
}

Status InProcessTransport::idle() {
  emulator_->idle();
  if (bus_.owns_lock()) bus_.unlock();
  return ok();
}

Status InProcessTransport::sleep() {
  emulator_->sleep();
  if (bus_.owns_lock()) bus_.unlock();
  return ok();
}

Result<Bytes> InProcessTransport::execute(ByteView command_packet) {
  Bytes response = emulator_->process(command_packet);
  if (response.empty())
    return make_error(Errc::io, "secure element did not acknowledge (asleep: wake it first)");
  return response;
}

}  // namespace zt::se
