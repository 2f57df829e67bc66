// Fuzz target: fleet indexing query strings through parse_query, then every parsed query matched
// against a document with each kind of field (registry, attributes, shadow text, connectivity).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cloud/index/document.hpp"
#include "cloud/index/query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zt::cloud::index;
  static const nlohmann::json thing = {
      {"thingName", "kit-1"},
      {"thingId", "id-1"},
      {"thingTypeName", "Sensor"},
      {"thingGroupNames", {"a", "b"}},
      {"attributes", {{"color", "red"}, {"serial", "17"}}},
      {"shadow",
       R"({"reported":{"temp":21.5,"list":[1,"x",{"y":null}]},"hasDelta":false,"version":3,"name":{"cfg":{"reported":{"rate":5}}}})"},
      {"connectivity", {{"connected", true}, {"timestamp", 1700000000000}}},
      {"registryVersion", 2}};
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto query = parse_query(text);
  if (!query) return 0;
  (void)matches(*query, thing);
  (void)matches(*query, nlohmann::json::object());
  for (const auto& field : query->fields()) (void)field_values(thing, field);
  return 0;
}
