#include "cloud/provisioning/certificate_parameters.hpp"

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "crypto/x509.hpp"

namespace zt::cloud::provisioning {

Result<nlohmann::json> certificate_parameters(std::string_view certificate_pem,
                                              const std::string& certificate_id) {
  ZT_TRY_ASSIGN(auto certificate, crypto::certificate_from_pem(certificate_pem));
  nlohmann::json out = nlohmann::json::object();
  out[std::string(kCertificateParameterPrefix) + "Id"] = certificate_id;
  static const std::pair<int, const char*> kFields[] = {
      {NID_countryName, "Country"},
      {NID_organizationName, "Organization"},
      {NID_organizationalUnitName, "OrganizationalUnit"},
      {NID_dnQualifier, "DistinguishedNameQualifier"},
      {NID_stateOrProvinceName, "StateName"},
      {NID_localityName, "Locality"},
      {NID_commonName, "CommonName"},
      {NID_serialNumber, "SerialNumber"},
  };
  const X509_NAME* subject = X509_get_subject_name(certificate.get());
  for (const auto& [nid, name] : kFields) {
    int index = X509_NAME_get_index_by_NID(subject, nid, -1);
    if (index < 0) continue;
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length < 0) continue;
    out[std::string(kCertificateParameterPrefix) + name] =
        std::string(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
    OPENSSL_free(utf8);
  }
  return out;
}

}  // namespace zt::cloud::provisioning
