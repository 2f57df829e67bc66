#include "cloud/api/router.hpp"

#include "common/hex.hpp"
#include "common/uuid.hpp"

namespace zt::cloud::api {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// x-amzn-RequestId: a version-4 UUID, as AWS's.
std::string request_id() { return new_uuid(); }

}  // namespace

Reply json_reply(const nlohmann::json& body, int status) {
  Reply reply;
  reply.status = status;
  reply.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  reply.headers.emplace_back("Content-Type", "application/json");
  reply.headers.emplace_back("x-amzn-RequestId", request_id());
  return reply;
}

ApiError api_error(int status, std::string_view type, std::string_view message,
                   nlohmann::json extra) {
  return ApiError{status, std::string(type), std::string(message), std::move(extra)};
}

Reply error_reply(const ApiError& error) {
  nlohmann::json body = error.extra;
  body["message"] = error.message;
  Reply reply = json_reply(body, error.status);
  reply.headers.emplace_back("x-amzn-ErrorType", error.type);
  return reply;
}

Reply error_reply(int status, std::string_view type, std::string_view message,
                  const nlohmann::json& extra) {
  return error_reply(api_error(status, type, message, extra));
}

std::optional<std::string> ApiRequest::query_value(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<std::string> ApiRequest::header(std::string_view name) const {
  auto value = http->header(name);
  if (!value) return std::nullopt;
  return std::string(*value);
}

void Router::add(std::string_view method, std::string_view pattern, std::string operation,
                 Handler handler) {
  Route route{std::string(method), {}, std::move(operation), std::move(handler)};
  for (std::string_view segment : split_path(pattern)) route.segments.emplace_back(segment);
  routes_.push_back(std::move(route));
}

std::vector<Router::Operation> Router::operations() const {
  std::vector<Operation> out;
  for (const Route& route : routes_) {
    std::string pattern;
    for (const auto& segment : route.segments) pattern += "/" + segment;
    out.push_back(Operation{route.method, pattern.empty() ? "/" : pattern, route.operation});
  }
  return out;
}

Reply Router::refuse(const ApiError& error) const {
  return error_writer_ ? error_writer_(error) : error_reply(error);
}

Router::Match Router::match(std::string_view method, std::string_view raw_path) const {
  Match result;
  auto segments = split_path(raw_path);
  for (const Route& route : routes_) {
    std::map<std::string, std::string> params;
    bool matched = true;
    size_t i = 0;
    for (; i < route.segments.size(); ++i) {
      const std::string& pattern = route.segments[i];
      bool is_param = pattern.size() > 2 && pattern.front() == '{' && pattern.back() == '}';
      bool greedy = is_param && pattern[pattern.size() - 2] == '+';
      if (greedy) {
        if (i >= segments.size()) {
          matched = false;
          break;
        }
        std::string rest;
        for (size_t j = i; j < segments.size(); ++j)
          rest += (j > i ? "/" : "") + std::string(segments[j]);
        params[pattern.substr(1, pattern.size() - 3)] = aws::uri_decode(rest);
        i = segments.size();
        break;
      }
      if (i >= segments.size()) {
        matched = false;
        break;
      }
      if (is_param) {
        if (segments[i].empty()) {
          matched = false;
          break;
        }
        params[pattern.substr(1, pattern.size() - 2)] = aws::uri_decode(segments[i]);
      } else if (pattern != segments[i]) {
        matched = false;
        break;
      }
    }
    if (!matched || (i != segments.size() && i < segments.size())) continue;
    result.path_known = true;
    if (route.method != method) continue;
    result.handler = &route.handler;
    result.operation = route.operation;
    result.path = std::move(params);
    return result;
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start < raw_query.size()) {
    size_t amp = raw_query.find('&', start);
    if (amp == std::string_view::npos) amp = raw_query.size();
    std::string_view item = raw_query.substr(start, amp - start);
    start = amp + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    out.emplace_back(aws::uri_decode(item.substr(0, eq)),
                     eq == std::string_view::npos ? "" : aws::uri_decode(item.substr(eq + 1)));
  }
  return out;
}

}  // namespace zt::cloud::api
