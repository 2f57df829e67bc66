// Feeds arbitrary bytes to the MQTT stream decoder in arbitrary chunks. Whatever decodes must
// re-encode and decode to the same packet; nothing may crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "mqtt/decoder.hpp"
#include "mqtt/topic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zt::mqtt;
  if (size < 1) return 0;
  // The first byte picks the chunk size, so packet boundaries land everywhere.
  size_t chunk = static_cast<size_t>(data[0] % 17) + 1;
  zt::ByteView input(data + 1, size - 1);
  StreamDecoder decoder(1 << 20);
  for (size_t offset = 0; offset < input.size(); offset += chunk) {
    decoder.feed(input.subspan(offset, std::min(chunk, input.size() - offset)));
    while (true) {
      auto next = decoder.next();
      if (!next) return 0;
      if (!*next) break;
      const Packet& packet = **next;
      auto wire = encode_packet(packet);
      if (!wire) abort();
      StreamDecoder again;
      again.feed(*wire);
      auto round = again.next();
      if (!round || !*round || !(**round == packet)) abort();
      if (const auto* publish = std::get_if<Publish>(&packet)) {
        (void)validate_topic_name(publish->topic);
      }
      if (const auto* subscribe = std::get_if<Subscribe>(&packet)) {
        for (const auto& s : subscribe->subscriptions) {
          if (validate_topic_filter(s.filter)) (void)topic_matches(s.filter, "a/b/$c");
        }
      }
    }
  }
  return 0;
}
