// Fuzz target: the kit protocol intake on both sides (report reassembly, command and reply
// parsing).
#include <cstddef>
#include <cstdint>

#include "kit/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zt::kit;
  LineAssembler assembler(kHostPadding);
  auto lines = assembler.feed({data, size});
  std::string_view whole(reinterpret_cast<const char*>(data), size);
  (void)parse_command(whole);
  (void)parse_reply(whole);
  if (lines) {
    for (const auto& line : *lines) {
      if (auto command = parse_command(line); command && command->request) {
        auto again = parse_command(encode_request(*command->request));
        if (!again || !again->request || again->request->method != command->request->method)
          __builtin_trap();
      }
      (void)parse_reply(line);
    }
  }
  return 0;
}
