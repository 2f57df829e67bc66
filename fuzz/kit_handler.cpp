// Fuzz target: the kit firmware's provisioning handler behind the protocol. The input is the JSON
// body of a board:app request (hex-wrapped as the host would send it) or, when it starts with
// 'R', a raw line. Invariants: every line gets exactly one well-formed reply; a reply to a
// board:app request echoes its id; an error always carries a code and a message.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/hex.hpp"
#include "kit/provisioning_handler.hpp"
#include "secure_element/emulator.hpp"
#include "secure_element/kit_config.hpp"
#include "secure_element/transport.hpp"
#include "secure_element/zones.hpp"

namespace {

zt::kit::ProvisioningHandler& handler() {
  static auto emulator = std::make_shared<zt::se::Emulator>(zt::se::blank_chip());
  static auto device =
      std::make_shared<zt::se::Device>(std::make_unique<zt::se::InProcessTransport>(emulator));
  static bool configured = static_cast<bool>(zt::se::provision(*device));
  static zt::kit::ProvisioningHandler instance(device);
  if (!configured) __builtin_trap();
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zt::kit;
  std::string line;
  bool raw = size > 0 && data[0] == 'R';
  if (raw) {
    line.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  } else {
    line = "board:app(" + zt::to_hex({data, size}) + ")\n";
  }
  std::string reply_line = handler().handle_line(line);
  if (reply_line.empty() || reply_line.back() != '\n') __builtin_trap();
  if (reply_line == unknown_target_reply()) return 0;
  auto reply = parse_reply(reply_line);
  if (!reply) __builtin_trap();
  if (reply->error && reply->error->message.empty()) __builtin_trap();
  if (!reply->error && reply->result.is_null()) __builtin_trap();
  if (!raw) {
    auto command = parse_command(line);
    if (command && command->request && reply->id != command->request->id) __builtin_trap();
  }
  return 0;
}
