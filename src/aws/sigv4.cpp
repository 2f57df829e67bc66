#include "aws/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "common/hex.hpp"
#include "common/time.hpp"
#include "crypto/digest.hpp"

namespace zt::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// SigV4 header value canonical form: trimmed, internal whitespace runs become one space.
std::string collapse_whitespace(std::string_view value) {
  value = trim(value);
  std::string out;
  out.reserve(value.size());
  bool in_space = false;
  for (char c : value) {
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(separator, start);
    if (pos == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Error refuse(std::string* error_type, std::string_view type, std::string message) {
  if (error_type) *error_type = std::string(type);
  return make_error(Errc::permission, std::move(message));
}

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

void HttpRequest::set_header(std::string name, std::string value) {
  std::erase_if(headers, [&](const auto& h) { return iequals(h.first, name); });
  headers.emplace_back(std::move(name), std::move(value));
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string uri_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string normalize_path(std::string_view path) {
  // botocore auth.py remove_dot_segments: drop "" and ".", ".." pops; keep a trailing slash.
  std::vector<std::string_view> output;
  for (std::string_view segment : split(path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!output.empty()) output.pop_back();
      continue;
    }
    output.push_back(segment);
  }
  std::string result = "/";
  for (size_t i = 0; i < output.size(); ++i) {
    if (i) result.push_back('/');
    result.append(output[i]);
  }
  if (!output.empty() && !path.empty() && path.back() == '/') result.push_back('/');
  return result;
}

std::string canonical_uri(std::string_view raw_path, bool normalize) {
  if (raw_path.empty()) return "/";
  return uri_encode(normalize ? normalize_path(raw_path) : std::string(raw_path), true);
}

std::string canonical_query(std::string_view raw_query) {
  if (raw_query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::string_view item : split(raw_query, '&')) {
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    pairs.emplace_back(uri_encode(uri_decode(key), false), uri_encode(uri_decode(value), false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += key;
    out.push_back('=');
    out += value;
  }
  return out;
}

Result<std::string> canonical_headers(const HttpRequest& request,
                                      const std::vector<std::string>& signed_headers) {
  std::string out;
  for (const std::string& name : signed_headers) {
    std::string joined;
    bool found = false;
    for (const auto& [key, value] : request.headers) {
      if (!iequals(key, name)) continue;
      if (found) joined.push_back(',');
      joined += collapse_whitespace(value);
      found = true;
    }
    if (!found)
      return make_error(Errc::invalid_argument, "signed header '" + name + "' is missing");
    out += name;
    out.push_back(':');
    out += joined;
    out.push_back('\n');
  }
  return out;
}

Result<std::string> canonical_request(const HttpRequest& request,
                                      const std::vector<std::string>& signed_headers,
                                      std::string_view payload_hash, bool normalize) {
  std::string_view target = request.target;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  ZT_TRY_ASSIGN(std::string headers, canonical_headers(request, signed_headers));
  std::string names;
  for (const std::string& name : signed_headers) {
    if (!names.empty()) names.push_back(';');
    names += name;
  }
  std::string out = request.method;
  out.push_back('\n');
  out += canonical_uri(path, normalize);
  out.push_back('\n');
  out += canonical_query(query);
  out.push_back('\n');
  out += headers;
  out.push_back('\n');
  out += names;
  out.push_back('\n');
  out += payload_hash;
  return out;
}

std::string credential_scope(std::string_view date, std::string_view region,
                             std::string_view service) {
  return std::string(date) + "/" + std::string(region) + "/" + std::string(service) +
         "/aws4_request";
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" +
         to_hex(crypto::sha256(as_bytes(canonical_request)));
}

Bytes signing_key(std::string_view secret, std::string_view date, std::string_view region,
                  std::string_view service) {
  std::string seed = "AWS4" + std::string(secret);
  auto k_date = crypto::hmac_sha256(as_bytes(seed), as_bytes(date));
  secure_zero(seed.data(), seed.size());
  auto k_region = crypto::hmac_sha256(k_date, as_bytes(region));
  auto k_service = crypto::hmac_sha256(k_region, as_bytes(service));
  auto k_signing = crypto::hmac_sha256(k_service, as_bytes("aws4_request"));
  return Bytes(k_signing.begin(), k_signing.end());
}

std::string payload_hash(std::string_view body) { return to_hex(crypto::sha256(as_bytes(body))); }

Status sign_request(HttpRequest& request, const Credentials& credentials,
                    const SigningOptions& options) {
  if (!request.header("host"))
    return make_error(Errc::invalid_argument, "request has no Host header");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return make_error(Errc::invalid_argument, "no AWS credentials to sign with");
  }
  int64_t now = options.unix_time ? options.unix_time : unix_now();
  std::string amz_date = format_amz_date(now);
  std::string date = amz_date.substr(0, 8);
  request.set_header("X-Amz-Date", amz_date);
  std::string hash = options.unsigned_payload ? "UNSIGNED-PAYLOAD" : payload_hash(request.body);
  if (options.add_content_sha256 || options.unsigned_payload)
    request.set_header("x-amz-content-sha256", hash);
  bool token_after = !credentials.session_token.empty() && !options.sign_session_token;
  if (!credentials.session_token.empty() && options.sign_session_token) {
    request.set_header("X-Amz-Security-Token", credentials.session_token);
  }
  std::vector<std::string> names;
  for (const auto& header : request.headers) {
    std::string name = lowercase(header.first);
    if (name == "authorization" || name == "user-agent") continue;
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  ZT_TRY_ASSIGN(std::string creq, canonical_request(request, names, hash, options.normalize));
  std::string scope = credential_scope(date, options.region, options.service);
  std::string sts = string_to_sign(amz_date, scope, creq);
  Bytes key = signing_key(credentials.secret_access_key, date, options.region, options.service);
  std::string signature = to_hex(crypto::hmac_sha256(key, as_bytes(sts)));
  secure_zero(key.data(), key.size());
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : ";") + name;
  request.set_header("Authorization", std::string(kAlgorithm) +
                                          " Credential=" + credentials.access_key_id + "/" + scope +
                                          ", SignedHeaders=" + joined + ", Signature=" + signature);
  if (token_after) request.set_header("X-Amz-Security-Token", credentials.session_token);
  return ok();
}

Result<AuthorizationHeader> parse_authorization(std::string_view value) {
  value = trim(value);
  if (value.substr(0, kAlgorithm.size()) != kAlgorithm ||
      (value.size() > kAlgorithm.size() && !is_space(value[kAlgorithm.size()]))) {
    return make_error(Errc::parse, "Authorization header is not AWS4-HMAC-SHA256");
  }
  value.remove_prefix(kAlgorithm.size());
  std::map<std::string, std::string, std::less<>> fields;
  for (std::string_view part : split(value, ',')) {
    part = trim(part);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return make_error(Errc::parse, "Authorization component '" + std::string(part.substr(0, 64)) +
                                         "' is not key=value");
    }
    std::string key(trim(part.substr(0, eq)));
    if (!fields.emplace(key, std::string(trim(part.substr(eq + 1)))).second) {
      return make_error(Errc::parse, "Authorization component '" + key + "' repeated");
    }
  }
  for (const char* required : {"Credential", "SignedHeaders", "Signature"}) {
    if (!fields.count(required)) {
      return make_error(Errc::parse,
                        std::string("Authorization header requires '") + required + "' parameter");
    }
  }
  AuthorizationHeader out;
  auto scope = split(fields["Credential"], '/');
  if (scope.size() != 5 || scope[4] != "aws4_request" || scope[0].empty() || scope[1].size() != 8 ||
      scope[2].empty() || scope[3].empty()) {
    return make_error(Errc::parse,
                      "Credential must be <key>/<yyyymmdd>/<region>/<service>/aws4_request");
  }
  out.access_key_id = scope[0];
  out.date = scope[1];
  out.region = scope[2];
  out.service = scope[3];
  for (std::string_view name : split(fields["SignedHeaders"], ';')) {
    if (name.empty()) return make_error(Errc::parse, "SignedHeaders has an empty name");
    out.signed_headers.emplace_back(name);
  }
  if (!std::is_sorted(out.signed_headers.begin(), out.signed_headers.end())) {
    return make_error(Errc::parse, "SignedHeaders are not sorted");
  }
  for (const auto& name : out.signed_headers) {
    if (name != lowercase(name)) return make_error(Errc::parse, "SignedHeaders are not lowercase");
  }
  out.signature = fields["Signature"];
  if (out.signature.size() != 64 ||
      !std::all_of(out.signature.begin(), out.signature.end(),
                   [](char c) { return hex_value(c) >= 0 && !std::isupper(c); })) {
    return make_error(Errc::parse, "Signature must be 64 lowercase hex digits");
  }
  return out;
}

Result<VerifiedCaller> verify_request(const HttpRequest& request, const SecretLookup& lookup,
                                      const VerifyOptions& options, std::string* error_type) {
  auto authorization = request.header("authorization");
  if (!authorization) {
    return refuse(error_type, "MissingAuthenticationTokenException",
                  "Missing Authentication Token");
  }
  auto parsed = parse_authorization(*authorization);
  if (!parsed) return refuse(error_type, "IncompleteSignatureException", parsed.error().message);
  const AuthorizationHeader& auth = *parsed;
  if (!options.services.empty() && std::find(options.services.begin(), options.services.end(),
                                             auth.service) == options.services.end()) {
    return refuse(
        error_type, "InvalidSignatureException",
        "Credential should be scoped to correct service: '" + options.services.front() + "'. ");
  }
  // IAM User Guide, "Troubleshoot signed requests for AWS APIs", credential scope errors: "If the
  // credential scope does not specify the same Region as the request … Credential should be
  // scoped to a valid Region, not region-code"; on the wire "…valid region, not 'x'. "
  if (!options.regions.empty() && std::find(options.regions.begin(), options.regions.end(),
                                            auth.region) == options.regions.end()) {
    return refuse(
        error_type, "InvalidSignatureException",
        "Credential should be scoped to a valid region, not '" + auth.region.substr(0, 64) + "'. ");
  }
  if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), "host") ==
      auth.signed_headers.end()) {
    return refuse(error_type, "IncompleteSignatureException", "Host header must be signed");
  }
  auto amz_date = request.header("x-amz-date");
  if (!amz_date) {
    return refuse(error_type, "IncompleteSignatureException",
                  "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                  "header.");
  }
  auto when = parse_amz_date(*amz_date);
  if (!when) return refuse(error_type, "IncompleteSignatureException", "X-Amz-Date is malformed");
  if (amz_date->substr(0, 8) != auth.date) {
    return refuse(error_type, "InvalidSignatureException",
                  "Credential date does not match X-Amz-Date");
  }
  int64_t now = options.now ? options.now : unix_now();
  if (options.max_skew_seconds > 0 &&
      (*when > now + options.max_skew_seconds || *when < now - options.max_skew_seconds)) {
    return refuse(error_type, "InvalidSignatureException",
                  "Signature expired: " + std::string(*amz_date) + " is now earlier than " +
                      format_amz_date(now - options.max_skew_seconds) + " (" +
                      format_amz_date(now) + " - 15 min.)");
  }
  std::string hash = payload_hash(request.body);
  if (auto declared = request.header("x-amz-content-sha256")) {
    if (*declared == "UNSIGNED-PAYLOAD" && !options.allow_unsigned_payload) {
      // A service that signs the payload computes the hash itself, so a signature over the
      // literal UNSIGNED-PAYLOAD cannot match: the answer AWS gives is SignatureDoesNotMatch.
      return refuse(error_type, "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you "
                    "provided. This service signs the payload: x-amz-content-sha256 must be the "
                    "SHA-256 of the body, not UNSIGNED-PAYLOAD.");
    }
    if (*declared != "UNSIGNED-PAYLOAD" &&
        !constant_time_equal(as_bytes(*declared), as_bytes(hash))) {
      return refuse(error_type, "SignatureDoesNotMatch",
                    "The provided x-amz-content-sha256 header does not match the body");
    }
    hash = std::string(*declared);
  }
  std::optional<std::string> secret = lookup(auth.access_key_id);
  if (!secret) {
    return refuse(error_type, "UnrecognizedClientException",
                  "The security token included in the request is invalid.");
  }
  auto creq = canonical_request(request, auth.signed_headers, hash, options.normalize);
  if (!creq) return refuse(error_type, "IncompleteSignatureException", creq.error().message);
  std::string sts =
      string_to_sign(*amz_date, credential_scope(auth.date, auth.region, auth.service), *creq);
  Bytes key = signing_key(*secret, auth.date, auth.region, auth.service);
  secure_zero(secret->data(), secret->size());
  std::string expected = to_hex(crypto::hmac_sha256(key, as_bytes(sts)));
  secure_zero(key.data(), key.size());
  if (!constant_time_equal(as_bytes(expected), as_bytes(auth.signature))) {
    return refuse(error_type, "SignatureDoesNotMatch",
                  "The request signature we calculated does not match the signature you provided. "
                  "Check your AWS Secret Access Key and signing method.");
  }
  return VerifiedCaller{auth.access_key_id, auth.region, auth.service};
}

}  // namespace zt::aws
