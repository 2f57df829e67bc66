// Fuzz target: rules SQL parsing; a parsed query is evaluated against a fixed message and its own
// text as a payload (with MQTT 5 user properties, get_user_properties()), and templates are
// expanded.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cloud/rules/sql.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zt::cloud::rules;
  std::string text(reinterpret_cast<const char*>(data), size);
  MessageContext message;
  message.topic = "a/b/c";
  message.payload = R"({"a":{"b":[1,2,{"c":"x"}]},"n":5,"s":"t"})";
  message.user_properties = {{"a", "1"}, {"s", "t"}, {"a", "2"}};
  if (auto query = parse_query(text)) {
    (void)query->evaluate(message);
    message.payload = text;
    (void)query->evaluate(message);
  }
  (void)expand_template(text, message);
  return 0;
}
