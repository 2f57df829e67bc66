// IotClient's endpoint handling: a configured endpoint that does not parse must fail every call
// with a message naming it, never fall back to the region's real AWS endpoint.
#include <gtest/gtest.h>

#include "aws/iot_client.hpp"

namespace zt::aws {
namespace {

ClientConfig config_with(std::string endpoint) {
  ClientConfig config;
  config.credentials.access_key_id = "AKIDEXAMPLE";
  config.credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  config.region = "us-east-1";
  config.endpoint_url = std::move(endpoint);
  return config;
}

TEST(IotClient, UnparsableEndpointFailsEveryCallWithoutFallingBackToAws) {
  IotClient client(config_with("127.0.0.1:4580"));  // no scheme
  auto result = client.get_registration_code();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("endpoint URL '127.0.0.1:4580'"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(client.endpoint().find("amazonaws.com"), std::string::npos) << client.endpoint();
}

TEST(IotClient, EmptyEndpointMeansTheRegionsAwsEndpoint) {
  IotClient client(config_with(""));
  EXPECT_EQ(client.endpoint(), "https://iot.us-east-1.amazonaws.com");
}

TEST(IotClient, ConfiguredEndpointIsUsed) {
  IotClient client(config_with("http://127.0.0.1:4580"));
  EXPECT_EQ(client.endpoint(), "http://127.0.0.1:4580");
}

}  // namespace
}  // namespace zt::aws
