#include "cloud/console/routes.hpp"

namespace zt::cloud::console {

std::optional<std::string> ConsoleRequest::query_value(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

api::Reply console_json(const nlohmann::json& body, int status) {
  api::Reply reply;
  reply.status = status;
  reply.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  reply.headers.emplace_back("Content-Type", "application/json");
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

api::Reply console_error(int status, std::string_view message) {
  return console_json({{"message", message}}, status);
}

void Routes::add(std::string_view method, std::string_view pattern, ConsoleHandler handler,
                 Runs runs) {
  router_.add(method, pattern, std::to_string(handlers_.size()), {});
  handlers_.emplace_back(std::move(handler), runs);
}

Routes::Match Routes::match(std::string_view method, std::string_view raw_path) const {
  auto found = router_.match(method, raw_path);
  Match out;
  out.path_known = found.path_known;
  if (!found.handler) return out;
  const auto& [handler, runs] = handlers_.at(std::stoul(found.operation));
  out.handler = &handler;
  out.runs = runs;
  out.path = std::move(found.path);
  return out;
}

}  // namespace zt::cloud::console
