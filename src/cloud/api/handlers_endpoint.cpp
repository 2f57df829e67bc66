// DescribeEndpoint (reference/aws-iot.md §1.6): the account's data endpoint names.
#include "cloud/api/handler_util.hpp"

namespace zt::cloud::api {
namespace {

ApiResult<Reply> describe_endpoint(ServiceContext& ctx, const ApiRequest& request) {
  std::string type = request.query_value("endpointType").value_or("iot:Data");
  std::string suffix = ".iot." + ctx.region + "." + ctx.endpoint_domain;
  std::string address;
  if (type == "iot:Data-ATS") {
    address = ctx.endpoint_prefix + "-ats" + suffix;
  } else if (type == "iot:Data") {
    address = ctx.endpoint_prefix + suffix;
  } else if (type == "iot:CredentialProvider") {
    address = ctx.endpoint_prefix + ".credentials" + suffix;
  } else if (type == "iot:Jobs") {
    address = ctx.endpoint_prefix + ".jobs" + suffix;
  } else {
    return invalid_request("endpointType '" + type.substr(0, 40) +
                           "' is not iot:Data, iot:Data-ATS, iot:CredentialProvider or iot:Jobs");
  }
  return json_reply({{"endpointAddress", address}});
}

}  // namespace

void add_endpoint_routes(Router& r) {
  r.add("GET", "/endpoint", "DescribeEndpoint", describe_endpoint);
}

}  // namespace zt::cloud::api
