#include "cloud/endpoint_names.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>

namespace zt::cloud {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

EndpointNames::EndpointNames(std::string prefix, std::string region,
                             std::vector<std::string> domains)
    : prefix_(std::move(prefix)), region_(std::move(region)), domains_(std::move(domains)) {
  if (std::find(domains_.begin(), domains_.end(), kLocalDomain) == domains_.end()) {
    domains_.emplace_back(kLocalDomain);
  }
}

std::string EndpointNames::ats_name(std::string_view domain) const {
  return prefix_ + "-ats.iot." + region_ + "." + std::string(domain);
}

std::string EndpointNames::legacy_name(std::string_view domain) const {
  return prefix_ + ".iot." + region_ + "." + std::string(domain);
}

std::vector<std::string> EndpointNames::host_names() const {
  std::vector<std::string> names;
  for (const auto& domain : domains_) {
    names.push_back(ats_name(domain));
    names.push_back(legacy_name(domain));
  }
  names.emplace_back(kLocalDomain);
  return names;
}

bool EndpointNames::accepts(std::string_view server_name, std::string_view local_address) const {
  if (server_name.empty()) return true;
  const std::string name = lower(server_name);
  for (const auto& host : host_names()) {
    if (name == host) return true;
  }
  boost::system::error_code ec;
  auto literal = boost::asio::ip::make_address(name, ec);
  if (ec) return false;
  auto local = boost::asio::ip::make_address(std::string(local_address), ec);
  if (ec) return false;
  if (local.is_v6() && local.to_v6().is_v4_mapped() && literal.is_v4()) {
    return literal.to_v4() == local.to_v6().to_v4();
  }
  return literal == local;
}

std::string EndpointNames::accepted_list() const {
  std::string out;
  for (const auto& host : host_names()) out += host + ", ";
  return out + "or the listener's IP address";
}

Status validate_endpoint_domain(std::string_view domain) {
  auto bad = [&](std::string_view why) {
    return make_error(
        Errc::invalid_argument,
        "--endpoint-domain '" + std::string(domain.substr(0, 100)) + "': " + std::string(why));
  };
  if (domain == kLocalDomain) return ok();
  if (domain.empty() || domain.size() > 80) return bad("must be 1 to 80 characters");
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(domain), ec);
  if (!ec) return bad("is an IP address; give a DNS domain (the broker accepts its IP anyway)");
  size_t labels = 0;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    std::string_view label = domain.substr(start, dot - start);
    if (label.empty() || label.size() > 63) return bad("has an empty or over-long label");
    if (label.front() == '-' || label.back() == '-') return bad("a label starts or ends with '-'");
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return bad("use lower-case letters, digits, '-' and '.' only");
      }
    }
    ++labels;
    start = dot + 1;
  }
  if (labels < 2) return bad("needs at least two labels (e.g. iot.example.test)");
  return ok();
}

}  // namespace zt::cloud
