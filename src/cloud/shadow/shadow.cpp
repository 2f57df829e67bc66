#include "cloud/shadow/shadow.hpp"

#include <algorithm>

#include "common/json.hpp"

namespace zt::cloud::shadow {

namespace {

// §4.2: every leaf gets {"timestamp": T}; objects are mirrored; arrays get per-element metadata.
json metadata_of(const json& value, int64_t now) {
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, child] : value.items()) out[key] = metadata_of(child, now);
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& child : value) out.push_back(metadata_of(child, now));
    return out;
  }
  return json{{"timestamp", now}};
}

// Deep merge of `patch` into `target` (§4.3): null removes a field, objects merge, anything else
// (arrays included) replaces. An object emptied by null removals disappears, as AWS does not keep
// it; an object the update sets to {} itself is kept (and shows in the delta), as AWS keeps it.
void merge(json& target, json& target_metadata, const json& patch, int64_t now) {
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      target.erase(key);
      target_metadata.erase(key);
    } else if (value.is_object()) {
      if (!target.contains(key) || !target[key].is_object()) {
        target[key] = json::object();
        target_metadata[key] = json::object();
      }
      if (!target_metadata.contains(key) || !target_metadata[key].is_object())
        target_metadata[key] = json::object();
      merge(target[key], target_metadata[key], value, now);
      if (target[key].empty() && !value.empty()) {
        target.erase(key);
        target_metadata.erase(key);
      }
    } else {
      target[key] = value;
      target_metadata[key] = metadata_of(value, now);
    }
  }
}

int depth_of(const json& value) {
  int deepest = 0;
  if (value.is_object() || value.is_array()) {
    for (const auto& child : value) deepest = std::max(deepest, depth_of(child));
    return deepest + 1;
  }
  return 0;
}

bool array_holds_null(const json& value) {
  if (value.is_array()) {
    for (const auto& child : value) {
      if (child.is_null() || array_holds_null(child)) return true;
    }
  } else if (value.is_object()) {
    for (const auto& child : value) {
      if (array_holds_null(child)) return true;
    }
  }
  return false;
}

json delta_metadata(const json& delta, const json& metadata) {
  json out = json::object();
  for (const auto& [key, value] : delta.items()) {
    if (!metadata.contains(key)) continue;
    const json& meta = metadata[key];
    out[key] = value.is_object() && meta.is_object() && !meta.contains("timestamp")
                   ? delta_metadata(value, meta)
                   : meta;
  }
  return out;
}

void add_token(json& document, const std::optional<std::string>& client_token) {
  if (client_token) document["clientToken"] = *client_token;
}

bool name_chars_ok(std::string_view name, bool allow_dollar) {
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
           c == '_' || c == '-' || (allow_dollar && c == '$');
  });
}

}  // namespace

json Rejection::to_json(int64_t timestamp, const std::optional<std::string>& client_token) const {
  json out{{"code", code}, {"message", message}, {"timestamp", timestamp}};
  add_token(out, client_token);
  return out;
}

std::optional<std::string> client_token_of(std::string_view payload) {
  json request = parse_json(payload).value_or(json());
  if (request.is_object() && request.contains("clientToken") &&
      request["clientToken"].is_string()) {
    return request["clientToken"].get<std::string>();
  }
  return std::nullopt;
}

json compute_delta(const json& desired, const json& reported) {
  json delta = json::object();
  if (!desired.is_object()) return delta;
  for (const auto& [key, value] : desired.items()) {
    if (!reported.is_object() || !reported.contains(key)) {
      delta[key] = value;
    } else if (value.is_object() && reported[key].is_object()) {
      json nested = compute_delta(value, reported[key]);
      if (!nested.empty()) delta[key] = std::move(nested);
    } else if (value != reported[key]) {
      delta[key] = value;
    }
  }
  return delta;
}

Outcome<UpdateResult> Shadow::update(std::string_view payload, int64_t now, const Limits& limits) {
  using Result = Outcome<UpdateResult>;
  if (payload.size() > limits.max_payload_bytes) {
    return Result::reject(413, "The payload exceeds the maximum size allowed");
  }
  // parse_json stops a document nested deeper than kMaxJsonDepth while parsing; the depth of
  // desired/reported (limits.max_depth) is checked below on what it built.
  auto parsed = parse_json(payload);
  if (!parsed) {
    return Result::reject(400, parsed.error().code == Errc::invalid_argument
                                   ? "JSON contains too many levels of nesting; maximum is " +
                                         std::to_string(limits.max_depth)
                                   : "Invalid JSON");
  }
  json request = std::move(*parsed);
  if (!request.is_object()) return Result::reject(400, "Invalid JSON");

  std::optional<std::string> client_token;
  if (request.contains("clientToken")) {
    const json& token = request["clientToken"];
    if (!token.is_string() ||
        token.get_ref<const std::string&>().size() > limits.max_client_token_bytes) {
      return Result::reject(400, "Invalid clientToken");
    }
    client_token = token.get<std::string>();
  }
  std::optional<int64_t> expected_version;
  if (request.contains("version")) {
    const json& version = request["version"];
    if (!version.is_number_integer()) return Result::reject(400, "Invalid version");
    expected_version = version.get<int64_t>();
  }
  if (!request.contains("state")) return Result::reject(400, "Missing required node: state");
  const json& state = request["state"];
  if (!state.is_null() && !state.is_object())
    return Result::reject(400, "State node must be an object");
  if (state.is_object()) {
    for (const auto& [key, value] : state.items()) {
      if (key != "desired" && key != "reported") {
        return Result::reject(400, "State contains an invalid node: '" + key + "'");
      }
      if (!value.is_null() && !value.is_object()) {
        return Result::reject(400, key == "desired" ? "Desired node must be an object"
                                                    : "Reported node must be an object");
      }
      if (depth_of(value) > limits.max_depth) {
        return Result::reject(400, "JSON contains too many levels of nesting; maximum is " +
                                       std::to_string(limits.max_depth));
      }
      if (array_holds_null(value))
        return Result::reject(400, "Invalid JSON: arrays may not contain null");
    }
  }
  // §4.3: a supplied version must equal the current one; omitting it bypasses the check.
  if (expected_version && *expected_version != version_)
    return Result::reject(409, "Version conflict");

  json desired = desired_, reported = reported_;
  json desired_metadata = desired_metadata_, reported_metadata = reported_metadata_;
  json accepted_metadata = json::object();
  bool touched_desired = false;
  if (state.is_null()) {
    // {"state": null} empties the document without deleting the shadow; the reply's metadata
    // carries the time of that change, as AWS's does.
    desired = reported = desired_metadata = reported_metadata = json::object();
    accepted_metadata = json{{"timestamp", now}};
    touched_desired = true;
  } else {
    for (const auto& [key, value] : state.items()) {
      json& section = key == "desired" ? desired : reported;
      json& section_metadata = key == "desired" ? desired_metadata : reported_metadata;
      touched_desired = touched_desired || key == "desired";
      if (value.is_null()) {
        section = json::object();
        section_metadata = json::object();
        accepted_metadata[key] = json{{"timestamp", now}};
      } else {
        merge(section, section_metadata, value, now);
        accepted_metadata[key] = metadata_of(value, now);
      }
    }
  }
  // The size of {"desired":…,"reported":…} as one dump would give it, without copying both into
  // one document: 24 bytes of braces, keys and separators.
  if (desired.dump().size() + reported.dump().size() + 24 > limits.max_state_bytes) {
    return Result::reject(413, "The payload exceeds the maximum size allowed");
  }

  json delta_before = delta();
  // The document before, for /documents: the old sections move there (the new ones are copies).
  json previous_metadata = metadata_document_moved();
  json previous{{"state", state_document_moved()},
                {"metadata", std::move(previous_metadata)},
                {"version", version_}};
  desired_ = std::move(desired);
  reported_ = std::move(reported);
  desired_metadata_ = std::move(desired_metadata);
  reported_metadata_ = std::move(reported_metadata);
  exists_ = true;
  ++version_;

  UpdateResult result;
  result.accepted = json{
      {"state", state}, {"metadata", accepted_metadata}, {"version", version_}, {"timestamp", now}};
  add_token(result.accepted, client_token);

  json delta_now = delta();
  // Published when the update touched desired or changed the delta, and desired and reported differ
  // (§4.3 [U]).
  if (!delta_now.empty() && (touched_desired || delta_now != delta_before)) {
    json message{{"version", version_},
                 {"timestamp", now},
                 {"state", delta_now},
                 {"metadata", delta_metadata(delta_now, desired_metadata_)}};
    add_token(message, client_token);
    result.delta = std::move(message);
  }
  json current{
      {"state", state_document()}, {"metadata", metadata_document()}, {"version", version_}};
  result.documents =
      json{{"previous", std::move(previous)}, {"current", std::move(current)}, {"timestamp", now}};
  add_token(result.documents, client_token);
  return {std::move(result), {}};
}

Outcome<json> Shadow::get(int64_t now, std::string_view shadow_name,
                          const std::optional<std::string>& client_token) const {
  if (!exists_) {
    return Outcome<json>::reject(404,
                                 "No shadow exists with name: '" + std::string(shadow_name) + "'");
  }
  json state = state_document();
  json delta_now = delta();
  if (!delta_now.empty()) state["delta"] = std::move(delta_now);
  json out{{"state", std::move(state)},
           {"metadata", metadata_document()},
           {"version", version_},
           {"timestamp", now}};
  add_token(out, client_token);
  return {std::move(out), {}};
}

Outcome<json> Shadow::remove(int64_t now, std::string_view shadow_name,
                             const std::optional<std::string>& client_token) {
  if (!exists_) {
    return Outcome<json>::reject(404,
                                 "No shadow exists with name: '" + std::string(shadow_name) + "'");
  }
  exists_ = false;
  desired_ = reported_ = desired_metadata_ = reported_metadata_ = json::object();
  json out{{"version", version_}, {"timestamp", now}};
  add_token(out, client_token);
  return {std::move(out), {}};
}

json Shadow::delta() const { return compute_delta(desired_, reported_); }

json Shadow::state_document() const {
  json out = json::object();
  if (!desired_.empty()) out["desired"] = desired_;
  if (!reported_.empty()) out["reported"] = reported_;
  return out;
}

json Shadow::state_document_moved() {
  json out = json::object();
  if (!desired_.empty()) out["desired"] = std::move(desired_);
  if (!reported_.empty()) out["reported"] = std::move(reported_);
  return out;
}

json Shadow::metadata_document_moved() {
  json out = json::object();
  if (!desired_metadata_.empty()) out["desired"] = std::move(desired_metadata_);
  if (!reported_metadata_.empty()) out["reported"] = std::move(reported_metadata_);
  return out;
}

json Shadow::metadata_document() const {
  json out = json::object();
  if (!desired_metadata_.empty()) out["desired"] = desired_metadata_;
  if (!reported_metadata_.empty()) out["reported"] = reported_metadata_;
  return out;
}

json Shadow::to_storage() const {
  return json{{"exists", exists_},
              {"version", version_},
              {"desired", desired_},
              {"reported", reported_},
              {"metadata", json{{"desired", desired_metadata_}, {"reported", reported_metadata_}}}};
}

std::optional<Shadow> Shadow::from_storage(const json& stored) {
  if (!stored.is_object() || !stored.contains("version") ||
      !stored["version"].is_number_integer()) {
    return std::nullopt;
  }
  Shadow shadow;
  shadow.exists_ = stored.value("exists", false);
  shadow.version_ = stored["version"].get<int64_t>();
  auto section = [&](const json& parent, const char* key) {
    return parent.is_object() && parent.contains(key) && parent[key].is_object() ? parent[key]
                                                                                 : json::object();
  };
  shadow.desired_ = section(stored, "desired");
  shadow.reported_ = section(stored, "reported");
  const json metadata = section(stored, "metadata");
  shadow.desired_metadata_ = section(metadata, "desired");
  shadow.reported_metadata_ = section(metadata, "reported");
  return shadow;
}

std::string shadow_topic_prefix(std::string_view thing, std::string_view shadow_name) {
  std::string out = "$aws/things/" + std::string(thing) + "/shadow";
  if (!shadow_name.empty()) out += "/name/" + std::string(shadow_name);
  return out;
}

std::optional<ShadowTopic> parse_request_topic(std::string_view topic) {
  constexpr std::string_view kPrefix = "$aws/things/";
  if (topic.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  topic.remove_prefix(kPrefix.size());
  size_t slash = topic.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  ShadowTopic out;
  out.thing = std::string(topic.substr(0, slash));
  topic.remove_prefix(slash + 1);
  constexpr std::string_view kShadow = "shadow/";
  if (topic.substr(0, kShadow.size()) != kShadow) return std::nullopt;
  topic.remove_prefix(kShadow.size());
  constexpr std::string_view kName = "name/";
  if (topic.substr(0, kName.size()) == kName) {
    topic.remove_prefix(kName.size());
    slash = topic.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    out.shadow_name = std::string(topic.substr(0, slash));
    topic.remove_prefix(slash + 1);
    if (!valid_shadow_name(out.shadow_name)) return std::nullopt;
  }
  if (topic != "get" && topic != "update" && topic != "delete") return std::nullopt;
  if (!valid_thing_name(out.thing)) return std::nullopt;
  out.operation = std::string(topic);
  return out;
}

bool valid_thing_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 && name_chars_ok(name, false);
}

bool valid_shadow_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && name_chars_ok(name, true);
}

}  // namespace zt::cloud::shadow
