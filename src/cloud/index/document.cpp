#include "cloud/index/document.hpp"

#include "cloud/shadow/shadow.hpp"

namespace zt::cloud::index {

using nlohmann::json;

std::optional<json> shadow_section(std::string_view stored) {
  json document = json::parse(stored, nullptr, false);
  auto shadow = shadow::Shadow::from_storage(document);
  if (!shadow || !shadow->exists()) return std::nullopt;
  json section = json::object();
  if (!shadow->desired().empty()) section["desired"] = shadow->desired();
  if (!shadow->reported().empty()) section["reported"] = shadow->reported();
  json delta = shadow->delta();
  if (!delta.empty()) section["delta"] = delta;
  if (document.contains("metadata") && document["metadata"].is_object()) {
    section["metadata"] = document["metadata"];
  }
  section["hasDelta"] = !delta.empty();
  section["version"] = shadow->version();
  return section;
}

std::optional<std::string> shadow_text(const std::optional<json>& classic,
                                       const std::vector<std::pair<std::string, json>>& named) {
  if (!classic && named.empty()) return std::nullopt;
  json text = classic ? *classic : json::object();
  if (!named.empty()) {
    json names = json::object();
    for (const auto& [name, section] : named) names[name] = section;
    text["name"] = std::move(names);
  }
  return text.dump();
}

}  // namespace zt::cloud::index
