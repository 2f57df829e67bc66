// Fuzzes IAM's query protocol: the form parser (src/cloud/iam/form.cpp) on raw bytes, with a
// round-trip invariant, and the same bytes as the body of a POST / signed for iam, through the IAM
// router, its actions and one registry transaction (ApiServer::dispatch, SigV4 bypassed). The
// registry lives in /dev/shm so commits stay cheap.
#include <unistd.h>

#include "aws/sigv4.hpp"
#include "cloud/iam/form.hpp"
#include "fuzz_support.hpp"

namespace {

struct Harness : zt::fuzz::FuzzCloud {
  Harness() : FuzzCloud("iam") {
    server = std::make_unique<zt::cloud::api::ApiServer>(
        io, *context,
        zt::cloud::api::ServiceRouters{.iot = zt::cloud::api::make_control_plane_router(),
                                       .iam = zt::cloud::api::make_iam_router()},
        zt::cloud::api::ServerOptions{});
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness harness;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  // A form that parses re-encodes to one that parses to the same fields.
  if (auto fields = zt::cloud::iam::parse_form(body)) {
    std::string again;
    for (const auto& [name, value] : *fields) {
      if (!zt::cloud::iam::valid_utf8(name) || !zt::cloud::iam::valid_utf8(value)) __builtin_trap();
      again += zt::aws::uri_encode(name, false) + "=" + zt::aws::uri_encode(value, false) + "&";
    }
    auto reparsed = zt::cloud::iam::parse_form(again, {.max_bytes = again.size() + 1});
    if (!reparsed || *reparsed != *fields) __builtin_trap();
  }
  zt::aws::HttpRequest request{
      "POST",
      "/",
      {{"Host", "127.0.0.1"}, {"Content-Type", "application/x-www-form-urlencoded"}},
      std::string(body)};
  zt::cloud::api::Reply reply = harness.server->dispatch(
      request,
      zt::cloud::api::Caller{.access_key_id = "AKIDFUZZ", .region = "us-east-1", .service = "iam"});
  // Client mistakes never become 5xx, and every answer is IAM's XML.
  if (reply.status >= 500 || reply.body.rfind("<", 0) != 0) __builtin_trap();
  return 0;
}
