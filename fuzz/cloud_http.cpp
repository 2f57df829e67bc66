// Fuzzes the control plane's request path: HTTP/1.1 parsing (Beast, same limits as the server),
// raw-path routing with percent-decoding, query parsing and every handler's JSON body handling.
// SigV4 is bypassed (dispatch) so inputs reach the handlers; sigv4_header.cpp covers the
// verifier. The registry lives in /dev/shm so commits stay cheap.
#include <unistd.h>

#include "fuzz_support.hpp"

namespace {

struct Harness : zt::fuzz::FuzzCloud {
  Harness() : FuzzCloud("cloud") {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness harness;
  auto parsed = zt::fuzz::parse_http_request(data, size, 1 << 20, 64 * 1024);
  if (!parsed) return 0;
  zt::aws::HttpRequest& request = *parsed;
  (void)harness.server->handle(request);  // refused: no signature
  zt::cloud::api::Reply reply = harness.server->dispatch(request, "us-east-1");
  // Client mistakes never become 5xx.
  if (reply.status >= 500) __builtin_trap();
  return 0;
}
