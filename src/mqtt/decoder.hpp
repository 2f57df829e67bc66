// Cuts a byte stream (TCP/TLS reads of any size) into MQTT packets. A body larger than the
// configured maximum is refused as soon as its fixed header is complete, before it is buffered.
#pragma once

#include <optional>

#include "mqtt/packet.hpp"

namespace zt::mqtt {

class StreamDecoder {
 public:
  explicit StreamDecoder(size_t max_remaining_length = kMaxRemainingLength)
      : max_remaining_length_(max_remaining_length) {}

  // Appends bytes read from the peer.
  void feed(ByteView bytes);

  // The next complete packet, std::nullopt when more bytes are needed, or an error. Errors are
  // sticky: the stream is unusable afterwards (MQTT closes the connection on a malformed packet).
  Result<std::optional<Packet>> next();

  // Bytes received but not yet returned as packets.
  size_t buffered() const { return buffer_.size() - start_; }

  // Gives the buffer's memory back when nothing is pending and it grew beyond `keep` bytes (after a
  // large packet), so an idle connection does not hold its largest packet's worth.
  void release_buffer(size_t keep);

 private:
  size_t max_remaining_length_;
  Bytes buffer_;
  size_t start_ = 0;
  std::optional<Error> failure_;
};

// The fixed header at the front of `bytes`: first byte, remaining length and header size, nullopt
// if incomplete, or an error for a varint longer than four bytes (§2.2.3).
struct FixedHeader {
  uint8_t first_byte = 0;
  size_t remaining_length = 0;
  size_t header_size = 0;
};
Result<std::optional<FixedHeader>> parse_fixed_header(ByteView bytes);

}  // namespace zt::mqtt
