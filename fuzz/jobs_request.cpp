// Fuzz target: the device side of AWS IoT Jobs as a client's PUBLISH reaches it — the topic
// ($aws/things/<thing>/jobs/…) and the request payload (JSON, every member's type and range). The
// first byte picks the operation, the rest is split at the first newline into topic suffix and
// payload. Invariant: a parsed request's members are within the documented bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "cloud/jobs/device_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zt::cloud::jobs;
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t newline = rest.find('\n');
  std::string_view suffix = rest.substr(0, newline);
  std::string_view payload = newline == std::string_view::npos ? "" : rest.substr(newline + 1);
  (void)parse_jobs_topic("$aws/things/" + std::string(suffix));
  constexpr Operation kOperations[] = {Operation::get_pending, Operation::start_next,
                                       Operation::describe, Operation::update};
  std::string token;
  auto parsed = parse_device_request(kOperations[data[0] % 4], payload, &token);
  if (token.size() > 64) __builtin_trap();
  if (auto* request = std::get_if<DeviceRequest>(&parsed)) {
    if (request->update.status_details && check_status_details(*request->update.status_details))
      __builtin_trap();
    if (request->update.step_timeout_minutes && (*request->update.step_timeout_minutes < -1 ||
                                                 *request->update.step_timeout_minutes > 10080))
      __builtin_trap();
  }
  return 0;
}
