#include "cloud/console/kits.hpp"

#include "common/json.hpp"

namespace zt::cloud::console {

using nlohmann::json;

void KitDirectory::attach(const std::string& thing, const std::filesystem::path& control_socket) {
  std::lock_guard lock(mutex_);
  by_thing_[thing] = control_socket;
}

void KitDirectory::attach_dir(const std::filesystem::path& kit_dir) {
  if (!link_) return;  // its socket is unknown, and it could not be reached anyway
  std::lock_guard lock(mutex_);
  pending_dirs_.push_back(link_->control_socket(kit_dir));
}

Result<std::string> KitDirectory::request(const std::filesystem::path& socket,
                                          const std::string& line) const {
  if (!link_) {
    return make_error(Errc::unsupported,
                      "this console has no link to kits, so it cannot reach the control socket " +
                          socket.string());
  }
  return link_->request(socket, line);
}

void KitDirectory::resolve_pending() {
  std::vector<std::filesystem::path> pending;
  {
    std::lock_guard lock(mutex_);
    pending = pending_dirs_;
  }
  for (const auto& socket : pending) {
    auto reply = request(socket, "leds");
    if (!reply) continue;  // not running yet
    auto snapshot = parse_json(*reply);
    auto thing_member = snapshot ? string_member(*snapshot, "thing") : snapshot.error();
    if (!thing_member || !*thing_member || (*thing_member)->empty())
      continue;  // not provisioned yet
    std::string thing = **thing_member;
    std::lock_guard lock(mutex_);
    by_thing_[thing] = socket;
    std::erase(pending_dirs_, socket);
  }
}

std::optional<std::filesystem::path> KitDirectory::socket_of(const std::string& thing,
                                                             bool resolve) {
  {
    std::lock_guard lock(mutex_);
    if (auto found = by_thing_.find(thing); found != by_thing_.end()) return found->second;
    if (pending_dirs_.empty() || !resolve) return std::nullopt;
  }
  resolve_pending();
  std::lock_guard lock(mutex_);
  if (auto found = by_thing_.find(thing); found != by_thing_.end()) return found->second;
  return std::nullopt;
}

Result<json> KitDirectory::board(const std::string& thing) {
  auto socket = socket_of(thing);
  if (!socket) return make_error(Errc::not_found, "no emulated kit is attached for " + thing);
  ZT_TRY_ASSIGN(std::string leds, request(*socket, "leds"));
  json snapshot = parse_json(leds).value_or(json());
  if (!snapshot.is_object()) return make_error(Errc::parse, "the kit's board snapshot is not JSON");
  if (auto status = request(*socket, "status")) {
    json parsed = parse_json(*status).value_or(json());
    if (parsed.is_object()) snapshot["status"] = std::move(parsed);
  }
  return snapshot;
}

Status KitDirectory::press(const std::string& thing, int button) {
  auto socket = socket_of(thing);
  if (!socket) return make_error(Errc::not_found, "no emulated kit is attached for " + thing);
  if (button < 1 || button > 3)
    return make_error(Errc::invalid_argument, "button must be 1, 2 or 3");
  ZT_TRY(request(*socket, "press " + std::to_string(button)));
  return ok();
}

}  // namespace zt::cloud::console
