// The XML of AWS query-protocol answers (IAM API Reference, "Making query requests"): a
// <ActionResponse xmlns=…><ActionResult>…</ActionResult><ResponseMetadata><RequestId>…
// envelope, and the <ErrorResponse> of a refusal. Text is escaped; characters XML 1.0 cannot
// carry at all (C0 controls other than tab, LF, CR) become U+FFFD.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zt::cloud::iam {

inline constexpr std::string_view kIamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/";

// Escapes & < > for element text (the writer makes no attributes but the fixed namespace).
std::string xml_escape(std::string_view text);

// Builds nested elements: open("Role"); element("RoleName", name); close(); … take().
class XmlWriter {
 public:
  void open(std::string_view name);
  void close();
  void element(std::string_view name, std::string_view text);
  // Closes what is still open and returns the document text.
  std::string take();

 private:
  std::string out_;
  std::vector<std::string> open_;
};

// <Action>Response xmlns=…><Action>Result>result</…Result><ResponseMetadata>…; an empty
// `result` leaves the Result element out (AttachRolePolicy, DeleteRole…), as IAM does.
std::string query_response(std::string_view action, std::string_view result,
                           std::string_view request_id);

// <ErrorResponse xmlns=…><Error><Type>Sender|Receiver</Type><Code>…</Code><Message>…</Message>
// </Error><RequestId>…</RequestId></ErrorResponse>
std::string query_error(bool sender, std::string_view code, std::string_view message,
                        std::string_view request_id);

}  // namespace zt::cloud::iam
