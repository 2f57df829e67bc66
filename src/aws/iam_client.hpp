// AWS IAM client: the query protocol (IAM API Reference, "Making Query Requests": a form-encoded
// POST of Action, Version=2010-05-08 and the action's parameters to https://iam.amazonaws.com/,
// SigV4 service "iam" scoped to us-east-1, XML answers; errors are an ErrorResponse with
// Error/Code and Error/Message). The role calls `ztp aws deploy-jitr` needs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aws/service_client.hpp"
#include "aws/xml_reader.hpp"

namespace zt::aws {

inline constexpr const char* kIamApiVersion = "2010-05-08";

struct IamRole {
  std::string name;
  std::string arn;
  std::string assume_role_policy;  // the trust policy JSON (IAM answers it URL-encoded)
};

using QueryParameters = std::vector<std::pair<std::string, std::string>>;

// "Action=…&Version=…&k=v…" with every byte but RFC 3986's unreserved ones percent-encoded (as
// the form body of a query request; the order given is kept).
std::string form_encode(const QueryParameters& parameters);

class IamClient {
 public:
  explicit IamClient(ClientConfig config, HttpClientOptions options = {});

  ServiceClient& service() { return service_; }
  std::string endpoint() const { return service_.endpoint(); }

  // One action; answers the <ActionResult> element (an empty element for actions without one).
  // A failure is an Error "<Code> (HTTP n) calling Action: <Message>" with errc_for_aws_error's
  // code (NoSuchEntity → not_found, EntityAlreadyExists → already_exists, …).
  Result<XmlElement> call(std::string_view action, const QueryParameters& parameters);

  // nullopt when the role does not exist.
  Result<std::optional<IamRole>> get_role(std::string_view name);
  Result<IamRole> create_role(std::string_view name, std::string_view trust_policy,
                              std::string_view description = {});
  Status delete_role(std::string_view name);
  Status put_role_policy(std::string_view role, std::string_view policy_name,
                         std::string_view document);
  // The inline policy's document, or nullopt when the role has no policy of that name.
  Result<std::optional<std::string>> get_role_policy(std::string_view role,
                                                     std::string_view policy_name);
  Status delete_role_policy(std::string_view role, std::string_view policy_name);
  Status attach_role_policy(std::string_view role, std::string_view policy_arn);
  Status detach_role_policy(std::string_view role, std::string_view policy_arn);
  // The names of the role's inline policies (all pages).
  Result<std::vector<std::string>> list_role_policies(std::string_view role);
  Status update_assume_role_policy(std::string_view role, std::string_view trust_policy);
  // Every attached managed policy's ARN (all pages).
  Result<std::vector<std::string>> list_attached_role_policies(std::string_view role);

 private:
  // Every page of a List action: `collect` reads one result; Marker/IsTruncated page on.
  Status list_pages(std::string_view action, std::string_view role,
                    const std::function<void(const XmlElement&)>& collect);
  ServiceClient service_;
};

}  // namespace zt::aws
