#include "atcacert/certdef_from_cert.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "atcacert/der.hpp"

namespace zt::atcacert {

namespace {

// DER of the object identifiers we look for (content octets only).
const Bytes kOidCommonName = {0x55, 0x04, 0x03};        // 2.5.4.3
const Bytes kOidSubjectKeyId = {0x55, 0x1D, 0x0E};      // 2.5.29.14
const Bytes kOidAuthorityKeyId = {0x55, 0x1D, 0x23};    // 2.5.29.35
const Bytes kOidBasicConstraints = {0x55, 0x1D, 0x13};  // 2.5.29.19

Error layout_error(std::string why) {
  return make_error(Errc::parse, fmt::format("sample certificate: {}", why));
}

CertLoc loc_of(size_t offset, size_t count) {
  return {static_cast<uint16_t>(offset), static_cast<uint16_t>(count)};
}

Result<std::vector<Tlv>> children(ByteView der, const Tlv& parent) {
  std::vector<Tlv> out;
  size_t at = parent.value_offset();
  while (at < parent.end()) {
    ZT_TRY_ASSIGN(Tlv child, read_tlv(der, at));
    if (child.end() > parent.end()) return layout_error("element runs past its parent");
    out.push_back(child);
    at = child.end();
  }
  return out;
}

bool value_equals(ByteView der, const Tlv& tlv, const Bytes& expected) {
  return tlv.length == expected.size() &&
         std::equal(expected.begin(), expected.end(), der.begin() + tlv.value_offset());
}

bool is_upper_hex(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

// The signer id: the last 4 characters of the CommonName when they are upper-case hex
// ("Example Signer FFFF"). cert2certdef.py finds it by replacing "FFFF" in the name.
Result<CertLoc> signer_id_in_name(ByteView der, const Tlv& name) {
  ZT_TRY_ASSIGN(auto sets, children(der, name));
  for (const Tlv& set : sets) {
    ZT_TRY_ASSIGN(auto attributes, children(der, set));
    for (const Tlv& attribute : attributes) {
      ZT_TRY_ASSIGN(auto parts, children(der, attribute));
      if (parts.size() != 2 || parts[0].tag != 0x06 ||
          !value_equals(der, parts[0], kOidCommonName)) {
        continue;
      }
      const Tlv& value = parts[1];
      if (value.length < 4) continue;
      size_t start = value.end() - 4;
      if (std::all_of(der.begin() + start, der.begin() + value.end(), is_upper_hex)) {
        return loc_of(start, 4);
      }
    }
  }
  return CertLoc{};
}

Result<DateFormat> time_format(const Tlv& time) {
  if (time.tag == 0x17 && time.length == 13) return DateFormat::rfc5280_utc;
  if (time.tag == 0x18 && time.length == 15) return DateFormat::rfc5280_gen;
  return layout_error("validity times must be UTCTime (13 bytes) or GeneralizedTime (15 bytes)");
}

int year_of(ByteView der, const Tlv& time) {
  auto decoded = decode_date(time.tag == 0x17 ? DateFormat::rfc5280_utc : DateFormat::rfc5280_gen,
                             der.subspan(time.value_offset(), time.length));
  return decoded ? decoded->year : 0;
}

Status read_extensions(ByteView der, const Tlv& explicit_tag, CertificateLayout& layout) {
  ZT_TRY_ASSIGN(auto wrapper, children(der, explicit_tag));
  if (wrapper.size() != 1 || wrapper[0].tag != 0x30) return layout_error("malformed extensions");
  ZT_TRY_ASSIGN(auto extensions, children(der, wrapper[0]));
  for (const Tlv& extension : extensions) {
    ZT_TRY_ASSIGN(auto parts, children(der, extension));
    if (parts.size() < 2 || parts[0].tag != 0x06 || parts.back().tag != 0x04) {
      return layout_error("malformed extension");
    }
    const Tlv& octets = parts.back();
    if (value_equals(der, parts[0], kOidSubjectKeyId)) {
      ZT_TRY_ASSIGN(Tlv key_id, read_tlv(der, octets.value_offset()));
      if (key_id.tag != 0x04) return layout_error("SubjectKeyIdentifier is not an OCTET STRING");
      layout.subj_key_id = loc_of(key_id.value_offset(), key_id.length);
    } else if (value_equals(der, parts[0], kOidAuthorityKeyId)) {
      ZT_TRY_ASSIGN(Tlv sequence, read_tlv(der, octets.value_offset()));
      ZT_TRY_ASSIGN(auto fields, children(der, sequence));
      for (const Tlv& field : fields) {
        if (field.tag == 0x80) layout.auth_key_id = loc_of(field.value_offset(), field.length);
      }
    } else if (value_equals(der, parts[0], kOidBasicConstraints)) {
      ZT_TRY_ASSIGN(Tlv sequence, read_tlv(der, octets.value_offset()));
      ZT_TRY_ASSIGN(auto fields, children(der, sequence));
      layout.is_ca = !fields.empty() && fields[0].tag == 0x01 && fields[0].length == 1 &&
                     der[fields[0].value_offset()] != 0;
    }
  }
  return ok();
}

}  // namespace

Result<CertificateLayout> locate_elements(ByteView der) {
  CertificateLayout layout;
  ZT_TRY_ASSIGN(Tlv cert, read_tlv(der, 0));
  if (cert.tag != 0x30 || cert.end() != der.size()) return layout_error("not one DER SEQUENCE");
  ZT_TRY_ASSIGN(auto top, children(der, cert));
  if (top.size() != 3 || top[0].tag != 0x30 || top[1].tag != 0x30 || top[2].tag != 0x03) {
    return layout_error("not TBSCertificate, signatureAlgorithm, signatureValue");
  }
  layout.tbs = loc_of(top[0].offset, top[0].header_size + top[0].length);
  layout.signature = loc_of(top[2].offset, top[2].header_size + top[2].length);

  ZT_TRY_ASSIGN(auto tbs, children(der, top[0]));
  size_t i = 0;
  if (!tbs.empty() && tbs[0].tag == 0xA0) ++i;  // [0] version
  if (tbs.size() < i + 6) return layout_error("TBSCertificate is missing fields");
  const Tlv& serial = tbs[i];
  const Tlv& issuer = tbs[i + 2];
  const Tlv& validity = tbs[i + 3];
  const Tlv& subject = tbs[i + 4];
  const Tlv& spki = tbs[i + 5];
  if (serial.tag != 0x02 || serial.length < 1 || serial.length > 20) {
    return layout_error("the serial number must be an INTEGER of 1..20 bytes (RFC 5280 §4.1.2.2)");
  }
  layout.serial = loc_of(serial.value_offset(), serial.length);

  ZT_TRY_ASSIGN(auto times, children(der, validity));
  if (times.size() != 2) return layout_error("Validity must hold notBefore and notAfter");
  ZT_TRY_ASSIGN(layout.issue_date_format, time_format(times[0]));
  ZT_TRY_ASSIGN(layout.expire_date_format, time_format(times[1]));
  layout.issue_date = loc_of(times[0].value_offset(), times[0].length);
  layout.expire_date = loc_of(times[1].value_offset(), times[1].length);
  layout.issue_year = year_of(der, times[0]);
  layout.expire_year = year_of(der, times[1]);

  ZT_TRY_ASSIGN(layout.issuer_signer_id, signer_id_in_name(der, issuer));
  ZT_TRY_ASSIGN(layout.subject_signer_id, signer_id_in_name(der, subject));

  ZT_TRY_ASSIGN(auto key_parts, children(der, spki));
  if (key_parts.size() != 2 || key_parts[1].tag != 0x03 || key_parts[1].length != 66 ||
      der[key_parts[1].value_offset()] != 0x00 || der[key_parts[1].value_offset() + 1] != 0x04) {
    return layout_error("the subject public key is not an uncompressed P-256 point");
  }
  // Skip the unused-bits octet and the 0x04 point format, as cert2certdef.py does.
  layout.public_key = loc_of(key_parts[1].value_offset() + 2, 64);

  for (size_t k = i + 6; k < tbs.size(); ++k) {
    if (tbs[k].tag == 0xA3) ZT_TRY(read_extensions(der, tbs[k], layout));
  }
  return layout;
}

Result<CertDef> definition_from_certificate(ByteView der, const DefinitionOptions& options) {
  ZT_TRY_ASSIGN(CertificateLayout layout, locate_elements(der));
  const DefinitionKind kind =
      options.kind.value_or(layout.is_ca ? DefinitionKind::signer : DefinitionKind::device);
  const bool signer = kind == DefinitionKind::signer;

  CertDef def;
  def.name = options.name.empty() ? (signer ? "signer" : "device") : options.name;
  def.template_id = options.template_id.value_or(signer ? 1 : 2);
  def.chain_id = options.chain_id.value_or(0);
  def.private_key_slot = 0;
  def.sn_source = options.sn_source.value_or(signer ? SnSource::stored : SnSource::pub_key_hash);
  def.issue_date_format = layout.issue_date_format;
  def.expire_date_format = layout.expire_date_format;
  def.tbs_cert_loc = layout.tbs;

  // cert2certdef.py: expire years = notAfter.year - notBefore.year, 0 unless within 1..31.
  const int years = layout.expire_year - layout.issue_year;
  def.expire_years = years >= 1 && years <= 31 ? years : 0;

  def.element(StdElement::public_key) = layout.public_key;
  def.element(StdElement::signature) = {layout.signature.offset,
                                        static_cast<uint16_t>(kMaxSignatureBitStringSize)};
  def.element(StdElement::issue_date) = layout.issue_date;
  def.element(StdElement::expire_date) = layout.expire_date;
  def.element(StdElement::signer_id) = signer ? layout.subject_signer_id : layout.issuer_signer_id;
  def.element(StdElement::cert_sn) = layout.serial;
  def.element(StdElement::auth_key_id) = layout.auth_key_id;
  def.element(StdElement::subj_key_id) = layout.subj_key_id;

  const uint16_t sn_size = layout.serial.count;
  if (def.sn_source == SnSource::stored) {
    if (!signer) {
      return make_error(Errc::invalid_argument,
                        "a STORED serial number needs a device location; the kit stores one only "
                        "for the signer (slot 14) — edit a definition JSON for other layouts");
    }
    def.cert_sn_dev_loc = {DeviceZone::data, 14, false, static_cast<uint16_t>(20 - sn_size),
                           sn_size};
    if (sn_size > 16) {
      return make_error(Errc::invalid_argument,
                        fmt::format("the kit's slot 14 holds a serial of at most 16 bytes; the "
                                    "sample's has {}",
                                    sn_size));
    }
  } else if (def.sn_source == SnSource::device_sn || def.sn_source == SnSource::signer_id) {
    const size_t expected = def.sn_source == SnSource::device_sn ? 10 : 3;
    if (sn_size != expected) {
      return make_error(Errc::invalid_argument,
                        fmt::format("the {} source makes a {}-byte serial; the sample's has {}",
                                    to_string(def.sn_source), expected, sn_size));
    }
  }

  if (signer) {
    def.public_key_dev_loc = {DeviceZone::data, 11, false, 0, 72};
    def.comp_cert_dev_loc = {DeviceZone::data, 12, false, 0, 72};
    def.cert_elements.push_back(
        {"IssueDate",
         {DeviceZone::data, 14, false, static_cast<uint16_t>(35 - layout.issue_date.count),
          layout.issue_date.count},
         layout.issue_date});
    def.cert_elements.push_back(
        {"ExpireDate",
         {DeviceZone::data, 14, false, static_cast<uint16_t>(50 - layout.expire_date.count),
          layout.expire_date.count},
         layout.expire_date});
  } else {
    def.public_key_dev_loc = {DeviceZone::data, 0, true, 0, 64};
    def.comp_cert_dev_loc = {DeviceZone::data, 10, false, 0, 72};
    // cert2certdef.py: with no expire years the template's notAfter stays as it is.
    if (def.expire_years == 0) def.element(StdElement::expire_date) = {};
  }

  // Template: the sample, with the signature widened to the longest P-256 encoding (top bits of
  // r and s set) and the outer length fixed to match.
  def.cert_template.assign(der.begin(), der.begin() + layout.signature.offset);
  crypto::RawSignature placeholder{};
  auto sample = decode_signature_bit_string(der.subspan(layout.signature.offset));
  if (sample) placeholder = *sample;
  placeholder[0] |= 0x80;
  placeholder[32] |= 0x80;
  Bytes signature = encode_signature_bit_string(placeholder);
  def.cert_template.insert(def.cert_template.end(), signature.begin(), signature.end());
  ZT_TRY_ASSIGN(Tlv outer, read_tlv(der, 0));
  Bytes length = encode_length(def.cert_template.size() - outer.header_size);
  if (length.size() != outer.header_size - 1) {
    return layout_error("widening the signature changes the certificate's length field");
  }
  std::copy(length.begin(), length.end(), def.cert_template.begin() + 1);

  ZT_TRY(validate(def));
  return def;
}

}  // namespace zt::atcacert
