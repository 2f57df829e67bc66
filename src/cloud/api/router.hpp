// Table-driven routing for the rest-json control plane. Routes are matched on the RAW path split
// at '/', each segment percent-decoded afterwards, so a path parameter may contain an encoded '/'
// (ListAttachedPolicies' target ARN, reference/aws-iot.md §1.3). Adding an operation = one
// `add` line + one handler.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/sigv4.hpp"
#include "common/result.hpp"

namespace zt::cloud::api {

struct ServiceContext;

// One answer: JSON body (or empty) with status and extra headers.
struct Reply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Work to run after the handler's transaction has committed, off the registry worker (Lambda's
  // Invoke runs the function there): its Reply is the answer. Empty for an ordinary reply.
  std::function<Reply()> deferred{};
};

// A refused request as AWS answers it (§1.4): the HTTP status, the x-amzn-ErrorType, the
// "message" and any extra members of the body (ResourceAlreadyExists' resourceId/resourceArn).
struct ApiError {
  int status = 500;
  std::string type;
  std::string message;
  nlohmann::json extra = nlohmann::json::object();
};

// What a handler (and each step of one) returns: its value, or the AWS error that ends the call.
template <class T>
using ApiResult = Result<T, ApiError>;

ApiError api_error(int status, std::string_view type, std::string_view message,
                   nlohmann::json extra = nlohmann::json::object());

Reply json_reply(const nlohmann::json& body, int status = 200);
// The AWS rest-json error shape (§1.4): x-amzn-ErrorType + {"message": ...} (+ extra members).
Reply error_reply(const ApiError& error);
Reply error_reply(int status, std::string_view type, std::string_view message,
                  const nlohmann::json& extra = nlohmann::json::object());

struct ApiRequest {
  const aws::HttpRequest* http = nullptr;
  std::string operation;
  std::map<std::string, std::string> path;                 // decoded path parameters
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::string caller_region;
  std::string caller_access_key{};  // the verified SigV4 access key id (IAM's GetUser)

  std::optional<std::string> query_value(std::string_view name) const;
  std::optional<std::string> header(std::string_view name) const;
  const std::string& body() const { return http->body; }
};

// A handler answers a reply or an ApiError; the server runs it in one registry transaction that an
// error rolls back.
using Handler = std::function<ApiResult<Reply>(ServiceContext&, const ApiRequest&)>;

// How a service writes a refusal: AWS rest-json (error_reply, the default) or another protocol's
// shape (IAM's query-protocol XML).
using ErrorWriter = Reply (*)(const ApiError& error);

class Router {
 public:
  explicit Router(ErrorWriter error_writer = nullptr) : error_writer_(error_writer) {}

  // pattern: "/things/{thingName}/principals"; a final "{name+}" takes the rest of the path.
  void add(std::string_view method, std::string_view pattern, std::string operation,
           Handler handler);

  struct Match {
    const Handler* handler = nullptr;
    std::string operation;
    std::map<std::string, std::string> path;
    bool path_known = false;  // some route has this path (for 405 vs 404)
  };
  Match match(std::string_view method, std::string_view raw_path) const;
  bool empty() const { return routes_.empty(); }
  // The routes, in the order they were added: what this router serves (the README's table of
  // operations is printed from them, `ztp cloud operations`).
  struct Operation {
    std::string method;
    std::string pattern;  // "/things/{thingName}/principals"
    std::string name;     // "ListThingPrincipals"
  };
  std::vector<Operation> operations() const;
  // A refusal in this service's shape.
  Reply refuse(const ApiError& error) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    std::string operation;
    Handler handler;
  };
  std::vector<Route> routes_;
  ErrorWriter error_writer_ = nullptr;
};

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view raw_query);

}  // namespace zt::cloud::api
