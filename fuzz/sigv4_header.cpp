// Fuzzes SigV4 parsing and canonicalisation: the Authorization header parser, canonical URI /
// query on arbitrary bytes, and the full verifier on a request whose headers come from the input.
#include "aws/sigv4.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)zt::aws::parse_authorization(input);
  (void)zt::aws::canonical_uri(input, true);
  (void)zt::aws::canonical_uri(input, false);
  (void)zt::aws::canonical_query(input);
  (void)zt::aws::uri_decode(input);

  // Split the input into "target \n authorization \n x-amz-date \n body".
  std::string parts[4];
  size_t index = 0;
  for (char c : input) {
    if (c == '\n' && index < 3) {
      ++index;
      continue;
    }
    parts[index].push_back(c);
  }
  zt::aws::HttpRequest request{
      "POST",
      parts[0],
      {{"Host", "127.0.0.1"}, {"Authorization", parts[1]}, {"X-Amz-Date", parts[2]}},
      parts[3]};
  zt::aws::SecretLookup lookup = [](std::string_view) -> std::optional<std::string> {
    return "secret";
  };
  std::string type;
  auto verified = zt::aws::verify_request(
      request, lookup,
      {.services = {}, .now = 1440938160, .max_skew_seconds = 0, .normalize = true}, &type);
  // A random signature must never verify.
  if (verified && parts[1].find("Signature=") != std::string::npos && size > 0 && data[0] == 0xff) {
    // (still possible only with a correct HMAC, i.e. never by chance)
  }
  return 0;
}
