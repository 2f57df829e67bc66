// The seed kit's USB protocol (reference/kit.md): 64-byte HID reports carrying ASCII lines.
//   host -> kit: `board:app(<hex of JSON request>)\n`, reports padded with 0x04 (EOT)
//   kit -> host: `XX(<hex of JSON reply>)\n`, XX = kit status in hex, reports padded with 0x00
// JSON request {"method": M, "params": {...}, "id": N}; reply {"id": N, "result": … | null,
// "error": null | {"error_code": int, "error_msg": str}}.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::kit {

using nlohmann::json;

inline constexpr size_t kReportSize = 64;
inline constexpr uint8_t kHostPadding = 0x04;  // EOT
inline constexpr uint8_t kKitPadding = 0x00;
inline constexpr size_t kMaxLineBytes =
    16 * 1024;  // a line longer than this is refused, not buffered
inline constexpr uint16_t kUsbVendorId = 0x04D8;  // Microchip
inline constexpr uint16_t kUsbProductId = 0x0F32;

using Report = std::array<uint8_t, kReportSize>;

// Splits one line (ending in '\n') into reports padded with `padding`.
std::vector<Report> frame_line(std::string_view line, uint8_t padding);

// Reassembles lines from reports; padding bytes are dropped. Bounded: an over-long line is an
// error.
class LineAssembler {
 public:
  explicit LineAssembler(uint8_t padding) : padding_(padding) {}
  // Feeds one report (or any chunk); returns complete lines, in order.
  Result<std::vector<std::string>> feed(ByteView chunk);

 private:
  uint8_t padding_;
  std::string pending_;
};

struct Request {
  std::string method;
  json params = json::object();
  int64_t id = 0;
};

struct KitError {
  int code = 0;
  std::string message;
};

struct Reply {
  uint8_t status = 0;  // the XX prefix: 00 = ok
  int64_t id = 0;
  json result;  // null on error
  std::optional<KitError> error;
};

// Error codes the firmware answers with (error_code).
enum KitErrorCode : int {
  kUnknownError = 1,
  kUnknownCommand = 2,  // the seed: "Unknown command"
  kBadParameters = 3,
  kBadState = 4,
  kSecureElementError = 5,
  kCertificateError = 6,
};

std::string encode_request(const Request& request);
// The kit's view of a host line: the target ("board:app") and the request, or an error to answer.
struct Command {
  std::string target;
  std::optional<Request> request;  // set for board:app
};
Result<Command> parse_command(std::string_view line);

std::string encode_reply(const Reply& reply);
// The line other targets get (unknown target).
std::string unknown_target_reply();
Result<Reply> parse_reply(std::string_view line);

}  // namespace zt::kit
