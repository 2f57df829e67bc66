// Fuzzes the XML reader that reads IAM's answers (aws/xml_reader.hpp), and the IAM client's
// answer handling over it: any bytes, with any status, must give a value or an error — never a
// crash, an unbounded allocation or deep recursion.
#include "aws/iam_client.hpp"
#include "aws/xml_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto document = zt::aws::parse_xml(input);
  if (document) (void)document->text_at("GetRoleResult/Role/Arn");

  static zt::aws::IamClient* iam = [] {
    auto* client = new zt::aws::IamClient(
        zt::aws::ClientConfig{{"AKIDEXAMPLE", "secret", ""}, "us-east-1", "", "default"});
    return client;
  }();
  std::string body(input);
  for (int status : {200, 404}) {
    iam->service().set_transport([&](const zt::aws::HttpRequest&) {
      return zt::Result<zt::aws::HttpResponse>(zt::aws::HttpResponse{status, {}, body});
    });
    (void)iam->get_role("R");
    (void)iam->list_attached_role_policies("R");
  }
  return 0;
}
