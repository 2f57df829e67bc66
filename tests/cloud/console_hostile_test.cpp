// The console's stream hub sees every message a device publishes on $aws/things/<thing>/…: no
// document may crash it (issue 12: {"current":1} on …/shadow/update/documents threw type_error
// on the service worker and terminated the cloud).
#include <gtest/gtest.h>

#include "cloud/console/stream_hub.hpp"

namespace zt::cloud::console {
namespace {

TEST(ConsoleHostileInput, StreamHubSurvivesAnyDocument) {
  StreamHub hub;
  auto thing_stream = hub.subscribe("t1");
  auto fleet_stream = hub.subscribe("");
  std::string deep_object;
  for (int i = 0; i < 65000; ++i) deep_object += "{\"current\":";
  deep_object += "1" + std::string(65000, '}');
  const std::string documents[] = {
      R"({"current":1})",
      R"({"current":"x"})",
      R"({"current":[1,2]})",
      R"({"current":null})",
      R"({"previous":{},"current":{"state":{"reported":{"a":1}}}})",
      "[]",
      "1",
      "not json",
      std::string(65000, '[') + std::string(65000, ']'),
      deep_object,
      std::string("{\"current\":\"\xff\xfe\"}"),
      std::string("\xff\xfe\x00\x01", 4),
  };
  for (const auto& document : documents) {
    for (const char* topic :
         {"$aws/things/t1/shadow/update/documents", "$aws/things/t1/shadow/name/n/update/documents",
          "$aws/events/presence/connected/t1", "$aws/things/t1/other"}) {
      EXPECT_NO_THROW(hub.on_message(topic, document)) << topic << " " << document.substr(0, 40);
    }
  }
  auto presence = hub.presence("t1");
  ASSERT_TRUE(presence);
  EXPECT_TRUE(presence->connected);
}

}  // namespace
}  // namespace zt::cloud::console
