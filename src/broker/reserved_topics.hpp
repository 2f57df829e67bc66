// Which reserved (`$`) topics a client may publish to, as AWS IoT has them: only the request topics
// of a service the cloud runs. Everything a service publishes itself (shadow responses, lifecycle
// and registration events) is Subscribe-only for clients, so no client can forge it.
//
// AWS IoT developer guide, "Reserved topics": "Topics that begin with a dollar sign ($) are
// reserved for use by AWS IoT. You can subscribe and publish to these reserved topics as they
// allow; however, you can't create new topics that begin with a dollar sign. Unsupported publish or
// subscribe operations to reserved topics can result in a terminated connection." Its tables list
// Publish only for the shadow `get|update|delete` request topics (classic and named), Basic Ingest
// `$aws/rules/<rule>/…`, the fleet provisioning request topics, and the jobs / Device Defender
// request topics, whose services are added here when the cloud runs them.
// `…/accepted|rejected|delta| documents` and `$aws/events/…` are Subscribe. Retained messages are
// not allowed on reserved topics (reference/aws-iot.md §6.1).
#pragma once

#include <string_view>

namespace zt::cloud::broker {

enum class ReservedTopics {
  // The local cloud, which runs the services: only their request topics (the default).
  aws_services,
  // `ztp broker run`, a plain broker for tests that runs no service: clients may publish anywhere
  // under `$aws/things/` and `$aws/rules/` (a test plays the shadow service, as with Mosquitto);
  // other `$` topics and RETAIN on any `$` topic are still refused.
  no_services,
};

// True when `topic` (a valid topic name) is not reserved, or is a request topic clients may
// publish to. The same rule applies to PUBLISH and to will messages.
bool client_may_publish(std::string_view topic,
                        ReservedTopics rules = ReservedTopics::aws_services);

// Why a client may not publish `topic` with `retain`, or "" when it may (the reserved-topic rules
// only; iot:Publish / iot:RetainPublish are the Authorizer's).
std::string_view reserved_topic_refusal(std::string_view topic, bool retain,
                                        ReservedTopics rules = ReservedTopics::aws_services);

}  // namespace zt::cloud::broker
