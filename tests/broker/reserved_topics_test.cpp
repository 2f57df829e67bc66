// Which reserved topics a client may publish to (reserved_topics.hpp; AWS IoT developer guide,
// "Reserved topics"): request topics only, never a service's responses or events.
#include "broker/reserved_topics.hpp"

#include <gtest/gtest.h>

namespace zt::cloud::broker {
namespace {

TEST(ReservedTopics, ClientsMayPublishShadowRequestsAndBasicIngest) {
  for (const char* topic : {
           "$aws/things/dev-1/shadow/get",
           "$aws/things/dev-1/shadow/update",
           "$aws/things/dev-1/shadow/delete",
           "$aws/things/dev-1/shadow/name/cfg/get",
           "$aws/things/dev-1/shadow/name/cfg/update",
           "$aws/things/dev-1/shadow/name/cfg/delete",
           "$aws/rules/MyRule/sensors/1",
           "$aws/rules/MyRule/x",
           "$aws/certificates/create/json",  // fleet provisioning's requests
           "$aws/certificates/create/cbor",
           "$aws/certificates/create-from-csr/json",
           "$aws/certificates/create-from-csr/cbor",
           "$aws/provisioning-templates/FleetTemplate/provision/json",
           "$aws/provisioning-templates/FleetTemplate/provision/cbor",
           "sensors/1",  // not reserved at all
           "a$b",
       }) {
    EXPECT_TRUE(client_may_publish(topic)) << topic;
    EXPECT_EQ(reserved_topic_refusal(topic, false), "") << topic;
  }
}

TEST(ReservedTopics, ResponsesEventsAndUnknownReservedTopicsAreRefused) {
  for (const char* topic : {
           "$aws/things/dev-1/shadow/update/documents",
           "$aws/things/dev-1/shadow/update/accepted",
           "$aws/things/dev-1/shadow/update/rejected",
           "$aws/things/dev-1/shadow/update/delta",
           "$aws/things/dev-1/shadow/get/accepted",
           "$aws/things/dev-1/shadow/delete/rejected",
           "$aws/things/dev-1/shadow/name/cfg/update/documents",
           "$aws/things/dev-1/shadow/name/cfg/update/delta",
           "$aws/things/dev-1/shadow/name//update",
           "$aws/things/dev-1/shadow/name/cfg",
           "$aws/things/dev-1/shadow",
           "$aws/things//shadow/update",
           "$aws/things/dev-1/shadow/list",
           "$aws/things/dev-1/other",
           "$aws/events/certificates/registered/abc",
           "$aws/events/presence/connected/dev-1",
           "$aws/events/subscriptions/subscribed/dev-1",
           "$aws/rules/MyRule",  // Basic Ingest needs a topic after the rule name
           "$aws/rules//x",
           "$aws/certificates/create/json/accepted",  // fleet provisioning's answers
           "$aws/certificates/create-from-csr/cbor/rejected",
           "$aws/provisioning-templates/T/provision/json/accepted",
           "$aws/certificates/create/xml",
           "$aws/certificates/create",
           "$aws/provisioning-templates//provision/json",
           "$aws/provisioning-templates/T/provision",
           "$aws",
           "$SYS/broker/load",
           "$other/topic",
       }) {
    EXPECT_FALSE(client_may_publish(topic)) << topic;
    EXPECT_NE(reserved_topic_refusal(topic, false), "") << topic;
  }
}

TEST(ReservedTopics, RetainIsRefusedOnEveryReservedTopic) {
  EXPECT_NE(reserved_topic_refusal("$aws/things/dev-1/shadow/update", true), "");
  EXPECT_NE(reserved_topic_refusal("$aws/rules/R/x", true), "");
  EXPECT_EQ(reserved_topic_refusal("sensors/1", true), "");
}

TEST(ReservedTopics, WithoutServicesTheThingAndRuleTopicsAreOpen) {
  // `ztp broker run`: a test plays the shadow service.
  constexpr auto kOpen = ReservedTopics::no_services;
  EXPECT_TRUE(client_may_publish("$aws/things/dev-1/shadow/update/delta", kOpen));
  EXPECT_TRUE(client_may_publish("$aws/rules/R/x", kOpen));
  EXPECT_FALSE(client_may_publish("$aws/events/presence/connected/dev-1", kOpen));
  EXPECT_NE(reserved_topic_refusal("$aws/things/dev-1/shadow/update/delta", true, kOpen), "");
}

}  // namespace
}  // namespace zt::cloud::broker
