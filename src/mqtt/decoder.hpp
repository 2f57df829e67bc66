// Cuts a byte stream (TCP/TLS reads of any size) into MQTT packets. A body larger than the
// configured maximum is refused as soon as its fixed header is complete, before it is buffered.
// Packets after the first are decoded for the stream's protocol level: 3.1.1 until a CONNECT of
// level 5 passes through (a server's stream), or as set_protocol_level says (a client's).
#pragma once

#include <optional>

#include "mqtt/packet.hpp"

namespace zt::mqtt {

class StreamDecoder {
 public:
  explicit StreamDecoder(size_t max_remaining_length = kMaxRemainingLength,
                         uint8_t level = kProtocolLevel311)
      : max_remaining_length_(max_remaining_length), level_(level) {}

  uint8_t protocol_level() const { return level_; }
  void set_protocol_level(uint8_t level) { level_ = level; }
  // The MQTT 5 maximum packet size counts the whole packet; this bounds the body.
  void set_max_remaining_length(size_t max) { max_remaining_length_ = max; }

  // Appends bytes read from the peer.
  void feed(ByteView bytes);

  // The next complete packet, std::nullopt when more bytes are needed, or an error. Errors are
  // sticky: the stream is unusable afterwards (MQTT closes the connection on a malformed packet).
  Result<std::optional<Packet>> next();

  // After an error: the MQTT 5 reason code a server's DISCONNECT gives for it (Malformed Packet,
  // Protocol Error, Packet Too Large).
  uint8_t failure_reason() const { return failure_reason_; }

  // Bytes received but not yet returned as packets.
  size_t buffered() const { return buffer_.size() - start_; }

  // Gives the buffer's memory back when nothing is pending and it grew beyond `keep` bytes (after a
  // large packet), so an idle connection does not hold its largest packet's worth.
  void release_buffer(size_t keep);

 private:
  size_t max_remaining_length_;
  uint8_t level_;
  uint8_t failure_reason_ = reason::success;
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
