// The names devices reach the local cloud's MQTT endpoint by, and which TLS server names (SNI)
// the broker accepts.
//
// DescribeEndpoint (reference/aws-iot.md) answers <prefix>-ats.iot.<region>.<domain> for
// iot:Data-ATS and <prefix>.iot.<region>.<domain> for the legacy iot:Data — the type it answers
// when none is given, as Microchip's aws_register_signer.py asks. AWS IoT accepts devices on both
// names, so the broker accepts both, for every domain: the built-in "localhost" one and the one
// `ztp cloud run --endpoint-domain` adds (each future domain configuration adds its domain here).
// Besides: "localhost", an IP literal equal to the address the connection arrived at (mosquitto
// clients send `-h 127.0.0.1` as SNI, though RFC 6066 §3 does not allow literals), and no SNI at
// all — AWS requires SNI only of SNI_ONLY certificates (RegisterCertificateWithoutCA), which the
// authenticator checks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace zt::cloud {

inline constexpr std::string_view kLocalDomain = "localhost";

class EndpointNames {
 public:
  // `domains`: the first answers DescribeEndpoint; kLocalDomain is always accepted too.
  EndpointNames(std::string prefix, std::string region, std::vector<std::string> domains = {});

  std::string ats_name(std::string_view domain) const;     // iot:Data-ATS
  std::string legacy_name(std::string_view domain) const;  // iot:Data
  const std::string& primary_domain() const { return domains_.front(); }
  const std::vector<std::string>& domains() const { return domains_; }

  // Every endpoint name of every domain, ATS first, then "localhost": the server certificate's
  // DNS names.
  std::vector<std::string> host_names() const;
  // SNI rule (case-insensitive, as DNS names are). `local_address`: where the connection arrived.
  bool accepts(std::string_view server_name, std::string_view local_address) const;
  // For logs and errors: "a, b, c, localhost or the listener's IP address".
  std::string accepted_list() const;

 private:
  std::string prefix_;
  std::string region_;
  std::vector<std::string> domains_;
};

// A domain for --endpoint-domain: lower-case DNS labels (a-z, 0-9, '-', 1..63 each, not starting
// or ending with '-'), at least two labels, at most 80 characters (the kit stores the whole
// endpoint name in 128 bytes), not an IP address.
Status validate_endpoint_domain(std::string_view domain);

}  // namespace zt::cloud
