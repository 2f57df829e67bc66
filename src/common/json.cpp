#include "common/json.hpp"

namespace zt {
namespace {

using nlohmann::json;

// The member `key`, or nullptr when it is absent or null.
const json* find_member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return nullptr;
  return &*found;
}

Error wrong_type(std::string_view key, std::string_view name, std::string_view type) {
  return make_error(Errc::invalid_argument,
                    std::string(name.empty() ? key : name) + " must be " + std::string(type));
}

}  // namespace

Result<json> parse_json(std::string_view text, int max_depth) {
  bool too_deep = false;
  // The callback sees each container's start with the number of containers around it; refusing
  // one discards it, and the parser (iterative, not recursive) reads on to the end without
  // building anything below it.
  json::parser_callback_t limit = [&](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= max_depth) {
      too_deep = true;
      return false;
    }
    return true;
  };
  json parsed = json::parse(text.begin(), text.end(), limit, /*allow_exceptions=*/false);
  if (too_deep) {
    return make_error(Errc::invalid_argument, "the JSON document is nested more than " +
                                                  std::to_string(max_depth) + " levels deep");
  }
  if (parsed.is_discarded()) return make_error(Errc::parse, "the document is not valid JSON");
  return parsed;
}

Result<std::optional<std::string>> string_member(const json& object, std::string_view key,
                                                 std::string_view name) {
  const json* member = find_member(object, key);
  if (!member) return std::optional<std::string>();
  if (!member->is_string()) return wrong_type(key, name, "a string");
  return std::optional<std::string>(member->get_ref<const std::string&>());
}

Result<std::optional<bool>> bool_member(const json& object, std::string_view key,
                                        std::string_view name) {
  const json* member = find_member(object, key);
  if (!member) return std::optional<bool>();
  if (!member->is_boolean()) return wrong_type(key, name, "a boolean");
  return std::optional<bool>(member->get<bool>());
}

Result<std::optional<int64_t>> integer_member(const json& object, std::string_view key,
                                              std::string_view name, int64_t min, int64_t max) {
  const json* member = find_member(object, key);
  if (!member) return std::optional<int64_t>();
  std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (min == INT64_MIN && max == INT64_MAX) range = "an integer";
  int64_t value = 0;
  if (member->is_number_unsigned()) {
    uint64_t unsigned_value = member->get<uint64_t>();
    if (unsigned_value > static_cast<uint64_t>(INT64_MAX)) return wrong_type(key, name, range);
    value = static_cast<int64_t>(unsigned_value);
  } else if (member->is_number_integer()) {
    value = member->get<int64_t>();
  } else {
    return wrong_type(key, name, range);
  }
  if (value < min || value > max) return wrong_type(key, name, range);
  return std::optional<int64_t>(value);
}

Result<const json*> object_member(const json& object, std::string_view key, std::string_view name) {
  const json* member = find_member(object, key);
  if (member && !member->is_object()) return wrong_type(key, name, "an object");
  return member;
}

Result<const json*> array_member(const json& object, std::string_view key, std::string_view name) {
  const json* member = find_member(object, key);
  if (member && !member->is_array()) return wrong_type(key, name, "an array");
  return member;
}

}  // namespace zt
