// Device shadow documents with AWS IoT semantics (reference/aws-iot.md §4): merge with null
// deletes, per-leaf metadata timestamps, versions with optimistic locking, delta computation, and
// the exact payloads of /update/accepted, /update/delta, /update/documents, /get/accepted and
// /delete/accepted. Pure logic: no I/O. The broker and the HTTP data plane persist
// `Shadow::to_storage()`.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zt::cloud::shadow {

using nlohmann::json;

struct Limits {
  size_t max_state_bytes =
      8 * 1024;  // desired + reported of the merged document, metadata excluded
  size_t max_payload_bytes = 128 * 1024;
  int max_depth = 8;  // levels inside desired/reported (AWS sources disagree: 5, 6 or 8)
  size_t max_client_token_bytes = 64;
};

// An AWS shadow rejection: HTTP status code and message, as published on /rejected topics.
struct Rejection {
  int code = 400;
  std::string message;
  json to_json(int64_t timestamp, const std::optional<std::string>& client_token) const;
};

template <class T>
struct Outcome {
  std::optional<T> value;
  Rejection rejection;
  explicit operator bool() const { return value.has_value(); }
  static Outcome reject(int code, std::string message) {
    return {std::nullopt, {code, std::move(message)}};
  }
};

struct UpdateResult {
  json accepted;              // /update/accepted (and the REST UpdateThingShadow response)
  std::optional<json> delta;  // /update/delta, when there is something to publish
  json documents;             // /update/documents
};

// The client token of a request payload, when it is a JSON object with a string clientToken:
// rejections echo it even when the rest of the request is invalid.
std::optional<std::string> client_token_of(std::string_view payload);

class Shadow {
 public:
  Shadow() = default;

  bool exists() const { return exists_; }
  int64_t version() const { return version_; }
  const json& desired() const { return desired_; }
  const json& reported() const { return reported_; }

  // Applies an update request payload at time `now` (epoch seconds).
  Outcome<UpdateResult> update(std::string_view payload, int64_t now, const Limits& limits = {});
  // The /get/accepted document; 404 when there is no shadow. `shadow_name` is used in the message.
  Outcome<json> get(int64_t now, std::string_view shadow_name,
                    const std::optional<std::string>& client_token = std::nullopt) const;
  // Deletes the shadow; the version keeps counting if it is re-created (AWS: within 48 h).
  Outcome<json> remove(int64_t now, std::string_view shadow_name,
                       const std::optional<std::string>& client_token = std::nullopt);

  // The current delta between desired and reported (empty object when none).
  json delta() const;

  json to_storage() const;
  static std::optional<Shadow> from_storage(const json& stored);

 private:
  json state_document() const;  // {"desired":…, "reported":…} with empty sections omitted
  json metadata_document() const;
  // The same, moving the sections out (update() replaces them right after).
  json state_document_moved();
  json metadata_document_moved();

  bool exists_ = false;
  int64_t version_ = 0;  // last version used; survives deletion
  json desired_ = json::object();
  json reported_ = json::object();
  json desired_metadata_ = json::object();
  json reported_metadata_ = json::object();
};

// Delta of `desired` against `reported` (§4.3): differing or missing desired leaves, with the path
// to the root; arrays and type mismatches compare as whole values.
json compute_delta(const json& desired, const json& reported);

// Topic helpers: "$aws/things/<thing>/shadow[/name/<shadow>]".
std::string shadow_topic_prefix(std::string_view thing, std::string_view shadow_name);

struct ShadowTopic {
  std::string thing;
  std::string shadow_name;  // empty for the classic shadow
  std::string operation;    // "get", "update" or "delete"
};
// Parses a request topic ($aws/things/T/shadow/get, …/name/N/update, …); nullopt if it is not one.
std::optional<ShadowTopic> parse_request_topic(std::string_view topic);

bool valid_thing_name(std::string_view name);   // [a-zA-Z0-9:_-]{1,128}
bool valid_shadow_name(std::string_view name);  // [$a-zA-Z0-9:_-]{1,64}

}  // namespace zt::cloud::shadow
