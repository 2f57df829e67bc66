#include "cloud/console/server.hpp"

#include "cloud/api/handler_util.hpp"
#include "cloud/console/static_files.hpp"
#include "cloud/service/cloud_service.hpp"
#include "common/log.hpp"

namespace zt::cloud::console {
namespace {

using nlohmann::json;

api::HookReply now(api::Reply reply) { return {.reply = std::move(reply)}; }

api::HookReply error(int status, std::string_view message) {
  return now(console_error(status, message));
}

bool state_changing(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "DELETE" || method == "PATCH";
}

api::Reply redirect(std::string location, std::optional<std::string> cookie = std::nullopt) {
  api::Reply reply{302, "", {{"Location", std::move(location)}, {"Cache-Control", "no-store"}}};
  if (cookie) reply.headers.emplace_back("Set-Cookie", *cookie);
  return reply;
}

}  // namespace

ConsoleServer::ConsoleServer(api::ServiceContext& service, service::CloudService* cloud,
                             ConsoleOptions options)
    : service_(service),
      cloud_(cloud),
      options_(std::move(options)),
      kits_(options_.kit_link),
      context_{.service = service, .cloud = cloud, .kits = kits_, .hub = hub_} {
  add_device_routes(routes_);
  add_fleet_routes(routes_);
  if (cloud_) {
    cloud_->add_message_tap([this](const std::string& topic, const std::string& payload) {
      hub_.on_message(topic, payload);
    });
  }
}

ConsoleServer::~ConsoleServer() {
  stop();
  kit_worker_.join();
}

void ConsoleServer::start() {
  if (poller_.joinable()) return;
  poller_ = std::thread([this] { poll_boards(); });
}

void ConsoleServer::stop() {
  {
    std::lock_guard lock(poll_mutex_);
    stopping_ = true;
  }
  poll_wake_.notify_all();
  if (poller_.joinable()) poller_.join();
  hub_.close_all();
}

// Emulated kits have no push channel: while a page watches a thing, its kit's board is read
// every `board_poll` and a `board` event goes out when the snapshot changed.
void ConsoleServer::poll_boards() {
  std::map<std::string, json> last;
  std::unique_lock lock(poll_mutex_);
  while (!stopping_) {
    lock.unlock();
    kits_.resolve_pending();
    auto watched = hub_.watched_things();
    std::erase_if(last, [&](const auto& entry) { return !watched.contains(entry.first); });
    for (const auto& thing : watched) {
      auto board = kits_.board(thing);
      if (!board) continue;
      if (auto found = last.find(thing); found != last.end() && found->second == *board) continue;
      last[thing] = *board;
      hub_.on_board(thing, *board);
    }
    lock.lock();
    poll_wake_.wait_for(lock, options_.board_poll, [this] { return stopping_; });
  }
}

bool ConsoleServer::claims(std::string_view path) const {
  return path == "/console" || path.starts_with("/console/");
}

api::HookReply ConsoleServer::handle(const aws::HttpRequest& request, api::ApiServer& server) {
  std::string_view target = request.target;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? "" : target.substr(question + 1);
  if (path == "/console") return now(redirect("/console/"));
  if (path.starts_with("/console/api/")) return handle_api(request, path, server);
  if (path == "/console/login" && request.method == "GET") return login_link(request, query);
  if (request.method != "GET") return error(405, "method not allowed");
  return serve_static(path);
}

api::HookReply ConsoleServer::serve_static(std::string_view path) {
  auto relative = static_relative_path(path);
  if (!relative) return error(404, "not found");
  // File reads off the network threads.
  return {.deferred =
              [web_dir = options_.web_dir, relative = *relative] {
                auto file = resolve_static_file(web_dir, relative);
                if (!file) return console_error(404, "not found");
                auto content = read_static_file(*file);
                if (!content) return console_error(500, "could not read the file");
                api::Reply reply{200, std::move(content->body), {}};
                reply.headers.emplace_back("Content-Type", content->content_type);
                reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
                // Plain file names: the browser revalidates on every load (no stale bundle).
                reply.headers.emplace_back("Cache-Control", "no-cache");
                if (relative == "index.html") {
                  reply.headers.emplace_back(
                      "Content-Security-Policy",
                      "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
                  reply.headers.emplace_back("X-Frame-Options", "DENY");
                }
                return reply;
              },
          .pool = &kit_worker_};
}

api::HookReply ConsoleServer::login(const aws::HttpRequest& request) {
  std::string message;
  auto credentials = parse_login_body(request.body, message);
  if (!credentials) return error(400, message);
  // The secret lookup reads the registry: on its worker, like SigV4's lookups.
  return {.deferred = [this, credentials = std::move(*credentials)]() mutable {
    auto secret = service_.registry.find_secret(credentials.access_key_id);
    bool accepted =
        secret && *secret &&
        constant_time_equal(as_bytes(**secret), as_bytes(credentials.secret_access_key));
    secure_zero(credentials.secret_access_key.data(), credentials.secret_access_key.size());
    if (!accepted) return console_error(401, "the access key id or secret access key is wrong");
    std::string token = sessions_.create_session();
    api::Reply reply = console_json({{"ok", true}});
    reply.headers.emplace_back("Set-Cookie", session_cookie(token));
    return reply;
  }};
}

api::HookReply ConsoleServer::login_link(const aws::HttpRequest&, std::string_view query) {
  auto params = api::parse_query(query);
  std::string token, next = "/console/";
  for (const auto& [key, value] : params) {
    if (key == "token") token = value;
    if (key == "next") next = value;
  }
  if (!safe_next_path(next)) next = "/console/";
  if (!sessions_.redeem_login_token(token)) {
    api::Reply reply{
        401,
        "<!doctype html><title>zerotouch console</title><p>This login link is invalid, "
        "used or expired. Run <code>ztp interact</code> again, or <a "
        "href=\"/console/#/login\">sign in</a>.</p>",
        {{"Content-Type", "text/html; charset=utf-8"}, {"Cache-Control", "no-store"}}};
    return now(std::move(reply));
  }
  return now(redirect(next, session_cookie(sessions_.create_session())));
}

api::HookReply ConsoleServer::handle_api(const aws::HttpRequest& request, std::string_view path,
                                         api::ApiServer& server) {
  const std::string& method = request.method;
  if (path == "/console/api/login") {
    if (method != "POST") return error(405, "use POST");
    if (request.header("X-ZT-Console") != "1") return error(403, "missing header X-ZT-Console: 1");
    return login(request);
  }
  // SigV4-signed calls of the CLI (`ztp interact`): the caller holds the account's keys.
  if (path == "/console/api/login-links" || path == "/console/api/kits") {
    if (method != "POST") return error(405, "use POST");
    std::string region;
    if (auto refused = server.authenticate(request, region)) return now(std::move(*refused));
    json body = parse_json(request.body.empty() ? "{}" : request.body).value_or(json());
    if (!body.is_object()) return error(400, "the body must be a JSON object");
    if (path == "/console/api/kits") {
      auto thing_member = string_member(body, "thingName");
      auto socket_member = string_member(body, "controlSocket");
      if (!thing_member || !socket_member) {
        return error(400,
                     !thing_member ? thing_member.error().message : socket_member.error().message);
      }
      std::string thing = thing_member->value_or("");
      std::string socket = socket_member->value_or("");
      if (!api::valid_thing_name(thing)) return error(400, "thingName is missing or invalid");
      if (socket.empty() || socket.front() != '/')
        return error(400, "controlSocket must be an absolute path");
      kits_.attach(thing, socket);
      spdlog::info("console: kit of {} attached at {}", thing, socket);
      return now(console_json({{"thingName", thing}, {"controlSocket", socket}}));
    }
    auto next_member = string_member(body, "next");
    if (!next_member) return error(400, next_member.error().message);
    std::string next = next_member->value_or("/console/");
    if (!safe_next_path(next)) return error(400, "next must be a path under /console/");
    std::string token = sessions_.create_login_token();
    std::string host = std::string(request.header("Host").value_or("127.0.0.1"));
    std::string url =
        "http://" + host + "/console/login?token=" + token + "&next=" + aws::uri_encode(next, true);
    return now(console_json({{"token", token}, {"url", url}}));
  }
  auto cookie = request.header("Cookie");
  auto token = cookie ? cookie_value(*cookie, kSessionCookie) : std::nullopt;
  if (!token || !sessions_.valid_session(*token)) return error(401, "log in first");
  if (state_changing(method) && request.header("X-ZT-Console") != "1")
    return error(403, "missing header X-ZT-Console: 1");
  if (path == "/console/api/logout") {
    if (method != "POST") return error(405, "use POST");
    sessions_.end_session(*token);
    api::Reply reply = console_json({{"ok", true}});
    reply.headers.emplace_back("Set-Cookie", expired_session_cookie());
    return now(std::move(reply));
  }
  std::string_view target = request.target;
  size_t question = target.find('?');
  auto query =
      api::parse_query(question == std::string_view::npos ? "" : target.substr(question + 1));
  if (path == "/console/api/stream") {
    if (method != "GET") return error(405, "use GET");
    std::string thing;
    for (const auto& [key, value] : query) {
      if (key == "thing") thing = value;
    }
    if (!thing.empty() && !api::valid_thing_name(thing)) return error(400, "invalid thing name");
    auto stream = hub_.subscribe(thing);
    poll_wake_.notify_all();  // a new watcher: read its board now
    return {.stream = stream,
            .stream_headers = {{"Content-Type", "text/event-stream"},
                               {"Cache-Control", "no-store"},
                               {"X-Accel-Buffering", "no"}}};
  }
  auto match = routes_.match(method, path);
  if (!match.handler) {
    return error(match.path_known ? 405 : 404,
                 match.path_known ? "method not allowed" : "no such console API");
  }
  auto shared_request = std::make_shared<aws::HttpRequest>(request);
  ConsoleRequest console_request{
      .http = shared_request.get(), .path = std::move(match.path), .query = std::move(query)};
  auto run = [this, handler = match.handler, shared_request, console_request] {
    return (*handler)(context_, console_request);
  };
  if (match.runs == Routes::Runs::kit) return {.deferred = run, .pool = &kit_worker_};
  return {.deferred = [this, run] {
    // One call = one transaction; handler errors (status >= 300) roll back.
    api::Reply reply;
    Status committed = service_.registry.transaction([&]() -> Status {
      reply = run();
      if (reply.status >= 300) return make_error(Errc::conflict, "handler refused the request");
      return ok();
    });
    if (!committed && reply.status < 300)
      return console_error(500, "the change could not be committed");
    return reply;
  }};
}

}  // namespace zt::cloud::console
