// One signed connection to one AWS service: where it is (the configured --endpoint-url, else the
// service's AWS endpoint for the region), how its requests are signed (SigV4 with the service's
// signing name; a global service such as IAM is signed for us-east-1), and how a rest-json answer
// or error is read. The IoT, Lambda and IAM clients are thin layers over it, so a request is built
// by the same code whether it goes to real AWS or to the local cloud.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aws/config.hpp"
#include "aws/http_client.hpp"

namespace zt::aws {

struct ServiceSpec {
  std::string signing_name;  // iot, lambda, iam
  // The endpoint host: "{region}" is replaced by the region (iot.{region}.amazonaws.com);
  // a host without it is a global endpoint (iam.amazonaws.com).
  std::string host_pattern;
  // Global services are signed for this region whatever the client's region is (AWS General
  // Reference, "Signing AWS API requests": IAM's credential scope region is us-east-1).
  std::string global_signing_region;
};

inline const ServiceSpec kIotService{"iot", "iot.{region}.amazonaws.com", ""};
inline const ServiceSpec kLambdaService{"lambda", "lambda.{region}.amazonaws.com", ""};
inline const ServiceSpec kIamService{"iam", "iam.amazonaws.com", "us-east-1"};

// What goes on the wire; tests replace it to see the signed requests without a network.
using Transport = std::function<Result<HttpResponse>(const HttpRequest&)>;
using Headers = std::vector<std::pair<std::string, std::string>>;

class ServiceClient {
 public:
  ServiceClient(ClientConfig config, ServiceSpec spec, HttpClientOptions options = {});
  ServiceClient(ServiceClient&&) noexcept;
  ServiceClient& operator=(ServiceClient&&) noexcept;
  ~ServiceClient();

  const ClientConfig& config() const { return config_; }
  const ServiceSpec& spec() const { return spec_; }
  std::string endpoint() const;  // scheme://host[:port][base path]
  std::string signing_region() const;

  // For tests: another transport, and a fixed signing time (seconds since the epoch; 0 = now).
  void set_transport(Transport transport) { transport_ = std::move(transport); }
  void set_signing_time(int64_t unix_time) { signing_time_ = unix_time; }

  // Builds and signs one request. `raw_path` is already percent-encoded, `query` is "k=v&…"
  // (encoded) or empty; the body is sent with `content_type` when not empty.
  Result<HttpRequest> build(std::string_view method, std::string_view raw_path,
                            std::string_view query, std::string body, std::string_view content_type,
                            const Headers& headers = {}) const;
  Result<HttpResponse> send(const HttpRequest& request);

  // One rest-json call (IoT, Lambda): the body is sent as application/json when given; an answer
  // of 300 or more becomes an Error "<AWS error code> (HTTP n) calling METHOD path: message"
  // with errc_for_aws_error's code. An empty answer is an empty object.
  Result<nlohmann::json> call_json(std::string_view method, std::string_view raw_path,
                                   std::string_view query = {},
                                   const nlohmann::json* body = nullptr,
                                   const Headers& headers = {});

 private:
  ClientConfig config_;
  ServiceSpec spec_;
  // A configured endpoint URL that does not parse: every call fails with it, rather than quietly
  // going to the real AWS endpoint of the region.
  std::optional<Error> endpoint_error_;
  Url url_;
  HttpClient http_;
  Transport transport_;
  int64_t signing_time_ = 0;
};

// AWS error codes (x-amzn-ErrorType, IAM's <Code>) → our error code, so callers can tell "not
// there" and "already there" apart whatever the service: IoT's ResourceNotFoundException, IAM's
// NoSuchEntity, Lambda's ResourceConflictException, …
Errc errc_for_aws_error(std::string_view error_type);

}  // namespace zt::aws
