// AWS Signature Version 4 (header form) for both directions: the client signs requests to AWS IoT
// (real or local) and the local cloud verifies them. Canonicalisation follows botocore for non-S3
// services (reference/aws-iot.md §1.2): the canonical URI is the percent-encoding of the raw wire
// path, so an already-encoded path is encoded twice.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::aws {

// One HTTP request as seen on the wire. `target` is the raw request-target (path[?query]),
// still percent-encoded; header names keep their case, repeated headers appear repeatedly.
struct HttpRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // First value of a header (case-insensitive name), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  void set_header(std::string name, std::string value);  // replaces all values of `name`
};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
};

// RFC 3986 unreserved bytes stay, everything else becomes %XX (uppercase); '/' kept if asked.
std::string uri_encode(std::string_view text, bool keep_slash);
// Decodes %XX escapes; malformed escapes are kept literally (as botocore's unquote does).
std::string uri_decode(std::string_view text);

// Dot-segment removal and empty-segment collapse (botocore remove_dot_segments); trailing '/' kept.
std::string normalize_path(std::string_view path);

std::string canonical_uri(std::string_view raw_path, bool normalize);
std::string canonical_query(std::string_view raw_query);
// `signed_headers` are lowercase names in sorted order. Fails if a signed header is missing.
Result<std::string> canonical_headers(const HttpRequest& request,
                                      const std::vector<std::string>& signed_headers);
Result<std::string> canonical_request(const HttpRequest& request,
                                      const std::vector<std::string>& signed_headers,
                                      std::string_view payload_hash, bool normalize);

std::string credential_scope(std::string_view date, std::string_view region,
                             std::string_view service);
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);
Bytes signing_key(std::string_view secret, std::string_view date, std::string_view region,
                  std::string_view service);
std::string payload_hash(std::string_view body);

struct SigningOptions {
  std::string region;
  std::string service;
  int64_t unix_time = 0;            // 0 = now
  bool normalize = true;            // false for S3-style signing (vectors "normalize": false)
  bool add_content_sha256 = false;  // add and sign x-amz-content-sha256
  // Amazon S3 style: sign the literal UNSIGNED-PAYLOAD (sent as x-amz-content-sha256) instead of
  // the body's hash. Services that sign the payload refuse it (VerifyOptions).
  bool unsigned_payload = false;
  bool sign_session_token = true;  // false: add x-amz-security-token after signing
};

// Adds X-Amz-Date (and X-Amz-Security-Token / x-amz-content-sha256) and Authorization. Every
// header present is signed except Authorization and User-Agent. `Host` must already be set.
Status sign_request(HttpRequest& request, const Credentials& credentials,
                    const SigningOptions& options);

// Parsed `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
struct AuthorizationHeader {
  std::string access_key_id;
  std::string date;  // yyyymmdd
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;  // 64 lowercase hex
};
Result<AuthorizationHeader> parse_authorization(std::string_view value);

struct VerifyOptions {
  std::vector<std::string> services{};  // accepted credential-scope services; empty = any
  std::vector<std::string> regions{};   // accepted credential-scope regions; empty = any
  // x-amz-content-sha256: UNSIGNED-PAYLOAD leaves the body out of the signature. Amazon S3
  // accepts it; services that sign the payload (AWS IoT's control plane and iot-data among them)
  // do not, or a tampered body would be applied.
  bool allow_unsigned_payload = false;
  int64_t now = 0;                     // 0 = wall clock
  int64_t max_skew_seconds = 15 * 60;  // AWS refuses requests older/newer than 15 minutes
  bool normalize = true;
};

struct VerifiedCaller {
  std::string access_key_id;
  std::string region;
  std::string service;
};

// Looks up the secret for an access key id; nullopt = unknown key.
using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key_id)>;

// Error codes: Errc::permission for every refusal; the message is the AWS-style reason.
// `error_type` (if given) receives the AWS error type: IncompleteSignatureException,
// InvalidSignatureException, UnrecognizedClientException or SignatureDoesNotMatch.
Result<VerifiedCaller> verify_request(const HttpRequest& request, const SecretLookup& lookup,
                                      const VerifyOptions& options,
                                      std::string* error_type = nullptr);

}  // namespace zt::aws
