#include "cloud/iam/xml.hpp"

namespace zt::cloud::iam {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        // XML 1.0 §2.2 Char: of the C0 controls only #x9, #xA, #xD are allowed, even as
        // references. Carriage returns are written as references so parsers keep them (§2.11).
        if (c == '\r') {
          out += "&#xD;";
        } else if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += "\xEF\xBF\xBD";
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

void XmlWriter::open(std::string_view name) {
  out_ += "<" + std::string(name) + ">";
  open_.emplace_back(name);
}

void XmlWriter::close() {
  if (open_.empty()) return;
  out_ += "</" + open_.back() + ">";
  open_.pop_back();
}

void XmlWriter::element(std::string_view name, std::string_view text) {
  out_ += "<" + std::string(name) + ">" + xml_escape(text) + "</" + std::string(name) + ">";
}

std::string XmlWriter::take() {
  while (!open_.empty()) close();
  return std::move(out_);
}

std::string query_response(std::string_view action, std::string_view result,
                           std::string_view request_id) {
  std::string name(action);
  std::string out = "<" + name + "Response xmlns=\"" + std::string(kIamNamespace) + "\">\n";
  if (!result.empty())
    out += "  <" + name + "Result>" + std::string(result) + "</" + name + "Result>\n";
  out += "  <ResponseMetadata>\n    <RequestId>" + xml_escape(request_id) +
         "</RequestId>\n  </ResponseMetadata>\n</" + name + "Response>\n";
  return out;
}

std::string query_error(bool sender, std::string_view code, std::string_view message,
                        std::string_view request_id) {
  return "<ErrorResponse xmlns=\"" + std::string(kIamNamespace) + "\">\n  <Error>\n    <Type>" +
         (sender ? "Sender" : "Receiver") + "</Type>\n    <Code>" + xml_escape(code) +
         "</Code>\n    <Message>" + xml_escape(message) + "</Message>\n  </Error>\n  <RequestId>" +
         xml_escape(request_id) + "</RequestId>\n</ErrorResponse>\n";
}

}  // namespace zt::cloud::iam
