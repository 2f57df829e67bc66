// Feeds arbitrary bytes to the MQTT stream decoder in arbitrary chunks, as MQTT 3.1.1 or 5.0 (the
// second byte's low bit picks the level a stream starts at; a version 5 CONNECT switches it too).
// Whatever decodes must re-encode and decode to the same packet at the same level; nothing may
// crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "mqtt/decoder.hpp"
#include "mqtt/topic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zt::mqtt;
  if (size < 2) return 0;
  // The first byte picks the chunk size, so packet boundaries land everywhere.
  size_t chunk = static_cast<size_t>(data[0] % 17) + 1;
  uint8_t start_level = (data[1] & 1) ? kProtocolLevel5 : kProtocolLevel311;
  zt::ByteView input(data + 2, size - 2);
  StreamDecoder decoder(1 << 20, start_level);
  for (size_t offset = 0; offset < input.size(); offset += chunk) {
    decoder.feed(input.subspan(offset, std::min(chunk, input.size() - offset)));
    while (true) {
      uint8_t level = decoder.protocol_level();
      auto next = decoder.next();
      if (!next) {
        uint8_t reason = decoder.failure_reason();
        if (reason != reason::malformed_packet && reason != reason::protocol_error &&
            reason != reason::packet_too_large)
          abort();
        return 0;
      }
      if (!*next) break;
      const Packet& packet = **next;
      auto wire = encode_packet(packet, level);
      if (!wire) abort();
      StreamDecoder again(kMaxRemainingLength, level);
      again.feed(*wire);
      auto round = again.next();
      if (!round || !*round || !(**round == packet)) abort();
      if (const auto* publish = std::get_if<Publish>(&packet)) {
        (void)validate_topic_name(publish->topic);
        (void)properties_size(publish->properties);
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
