// The AWS::IoT::Certificate::* parameters of a template, read from the device's certificate (AWS
// IoT developer guide, "Just-in-time provisioning"): Country, Organization, OrganizationalUnit,
// DistinguishedNameQualifier, StateName, CommonName, SerialNumber (attributes of the certificate's
// subject, "limited to what JITP can extract from the subject field") and Id (the certificate id
// AWS IoT gives it, not a field of the certificate). Locality (the subject's L) is offered too.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace zt::cloud::provisioning {

inline constexpr std::string_view kCertificateParameterPrefix = "AWS::IoT::Certificate::";

// {"AWS::IoT::Certificate::Id": id, "AWS::IoT::Certificate::CommonName": …, …}: only the subject
// attributes the certificate has. Errors: the PEM is not a certificate.
Result<nlohmann::json> certificate_parameters(std::string_view certificate_pem,
                                              const std::string& certificate_id);

}  // namespace zt::cloud::provisioning
