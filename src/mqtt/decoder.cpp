#include "mqtt/decoder.hpp"

#include <fmt/format.h>

namespace zt::mqtt {

Result<std::optional<FixedHeader>> parse_fixed_header(ByteView bytes) {
  if (bytes.empty()) return std::optional<FixedHeader>{};
  FixedHeader header{.first_byte = bytes[0]};
  size_t multiplier = 1;
  for (size_t i = 1;; ++i) {
    if (i > 4) {
      return make_error(Errc::parse, "remaining length: more than four bytes (§2.2.3)");
    }
    if (i >= bytes.size()) return std::optional<FixedHeader>{};
    uint8_t digit = bytes[i];
    header.remaining_length += (digit & 0x7f) * multiplier;
    multiplier *= 128;
    if ((digit & 0x80) == 0) {
      header.header_size = i + 1;
      return std::optional<FixedHeader>{header};
    }
  }
}

void StreamDecoder::feed(ByteView bytes) {
  // Drop consumed bytes before growing, so the buffer stays about one packet long.
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 4096 && start_ * 2 > buffer_.size()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

void StreamDecoder::release_buffer(size_t keep) {
  if (start_ != buffer_.size()) return;
  start_ = 0;
  if (buffer_.capacity() > keep) {
    Bytes().swap(buffer_);
  } else {
    buffer_.clear();
  }
}

Result<std::optional<Packet>> StreamDecoder::next() {
  if (failure_) return *failure_;
  ByteView pending = ByteView(buffer_).subspan(start_);
  auto header = parse_fixed_header(pending);
  if (!header) {
    failure_ = header.error();
    failure_reason_ = reason::malformed_packet;
    return *failure_;
  }
  if (!*header) return std::optional<Packet>{};
  if ((*header)->remaining_length > max_remaining_length_) {
    failure_ =
        make_error(Errc::parse, fmt::format("packet of {} bytes exceeds the maximum of {} bytes",
                                            (*header)->remaining_length, max_remaining_length_));
    failure_reason_ = reason::packet_too_large;
    return *failure_;
  }
  size_t total = (*header)->header_size + (*header)->remaining_length;
  if (pending.size() < total) return std::optional<Packet>{};
  auto packet =
      decode_packet((*header)->first_byte,
                    pending.subspan((*header)->header_size, (*header)->remaining_length), level_);
  if (!packet) {
    failure_ = packet.error();
    failure_reason_ = reason_code_of(*failure_);
    return *failure_;
  }
  if (const auto* connect = std::get_if<Connect>(&*packet);
      connect && connect->protocol_level == kProtocolLevel5)
    level_ = kProtocolLevel5;
  start_ += total;
  return std::optional<Packet>{std::move(*packet)};
}

}  // namespace zt::mqtt
