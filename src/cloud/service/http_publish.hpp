// iot-data Publish's MQTT 5 side (API reference, iot-data Publish; reference/aws-iot.md §1.3): the
// query parameters contentType, responseTopic and messageExpiry, and the headers
// x-amz-mqtt5-payload-format-indicator, x-amz-mqtt5-correlation-data (base64) and
// x-amz-mqtt5-user-properties (base64 of a JSON array of {"name": "value"} objects; botocore's
// jsonvalue encoding makes it the base64 of a JSON *string* holding that array, also accepted).
// The message an HTTP Publish puts on the bus carries them, so MQTT 5 subscribers see them and
// rules read the user properties (get_user_properties).
#pragma once

#include "cloud/api/router.hpp"
#include "cloud/rules/republish.hpp"

namespace zt::cloud::service {

// The MQTT 5 properties of an HTTP Publish; 400 InvalidRequestException naming the parameter for
// one that is not of its form.
api::ApiResult<rules::PublishProperties> http_publish_properties(const api::ApiRequest& request);

}  // namespace zt::cloud::service
