// Reading JSON that a client sent (API bodies, shadow documents, MQTT payloads the rules engine
// evaluates, console requests, function replies): one parser with a nesting limit, and checked
// member accessors. nlohmann's value()/get<T>() throw type_error on a member of the wrong type;
// these return an Errc::invalid_argument error naming the member instead (STYLE.md: client data
// never reaches a throwing accessor).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace zt {

// The deepest nesting of objects and arrays a client document may have. A stack guard, not a
// content rule: serialising, comparing and merging JSON recurse once per level, so a 128 KB
// payload of 65,000 '[' would overflow a thread's stack in dump(). No AWS IoT document needs more
// (shadow desired/reported allow 8 levels at most, policies and rule payloads a handful), and 64
// levels cost a few tens of KB of stack at worst.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text`. Errors: Errc::parse when it is not JSON; Errc::invalid_argument when it nests
// deeper than `max_depth` levels — checked while parsing, before a document is built, so no deep
// value ever exists.
Result<nlohmann::json> parse_json(std::string_view text, int max_depth = kMaxJsonDepth);

// Checked members of a JSON object. A member that is absent or null gives nullopt (nullptr for
// object/array); one of another type gives Errc::invalid_argument "<name> must be a <type>", where
// `name` is how the client knows the member ("attributePayload.merge"; `key` when empty). A
// non-object `object` has no members.
Result<std::optional<std::string>> string_member(const nlohmann::json& object, std::string_view key,
                                                 std::string_view name = {});
Result<std::optional<bool>> bool_member(const nlohmann::json& object, std::string_view key,
                                        std::string_view name = {});
// An integer (a JSON number without fraction that fits int64_t), within [min, max].
Result<std::optional<int64_t>> integer_member(const nlohmann::json& object, std::string_view key,
                                              std::string_view name = {}, int64_t min = INT64_MIN,
                                              int64_t max = INT64_MAX);
Result<const nlohmann::json*> object_member(const nlohmann::json& object, std::string_view key,
                                            std::string_view name = {});
Result<const nlohmann::json*> array_member(const nlohmann::json& object, std::string_view key,
                                           std::string_view name = {});

}  // namespace zt
