// Shared by the provisioning template handlers (handlers_provisioning.cpp: the templates,
// handlers_provisioning_versions.cpp: their versions).
#pragma once

#include <string>

#include "cloud/api/handler_util.hpp"

namespace zt::cloud::api::provisioning_handlers {

// arn:aws:iot:<region>:<account>:provisioningtemplate/<name> (developer guide, "Fleet
// provisioning").
std::string template_arn(const ServiceContext& ctx, const std::string& name);
// The {templateName} of the path, checked against the API's pattern and length.
ApiResult<std::string> template_name_param(const ApiRequest& request);
// The stored template, or ResourceNotFoundException.
ApiResult<registry::ProvisioningTemplate> require_template(ServiceContext& ctx,
                                                           const std::string& name);
// templateBody: a string of at most 10,240 characters that parse_template accepts; its reason is
// the InvalidRequestException's message.
ApiResult<std::string> checked_template_body(const nlohmann::json& body);

}  // namespace zt::cloud::api::provisioning_handlers

namespace zt::cloud::api {
// Create/Describe/List/DeleteProvisioningTemplateVersion; called by add_provisioning_routes.
void add_provisioning_version_routes(Router& router);
}  // namespace zt::cloud::api
