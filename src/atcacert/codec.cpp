#include "atcacert/codec.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "atcacert/der.hpp"
#include "common/hex.hpp"

namespace zt::atcacert {

namespace {

Error refuse(std::string message) { return make_error(Errc::invalid_argument, std::move(message)); }

const CertElement* element_at(const CertDef& def, const CertLoc& loc) {
  for (const CertElement& e : def.cert_elements) {
    if (e.cert_loc == loc) return &e;
  }
  return nullptr;
}

void put(Bytes& cert, const CertLoc& loc, ByteView value) {
  // Sizes and bounds were checked by validate(); a mismatch here is a programming error.
  if (value.size() != loc.count || loc.end() > cert.size()) std::abort();
  std::copy(value.begin(), value.end(), cert.begin() + loc.offset);
}

ByteView slice(ByteView cert, const CertLoc& loc) { return cert.subspan(loc.offset, loc.count); }

bool is_upper_hex(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

// Where byte `index` of the template lies, for refusals that point at a structural difference:
// "in the issue_date element", or the X.509 field (RFC 5280 §4.1) and the innermost DER element,
// e.g. "in the subject (DER tag 0x0C at byte 167)".
std::string where(const CertDef& def, size_t index) {
  for (size_t i = 0; i < kStdElementCount; ++i) {
    const CertLoc& loc = def.std_cert_elements[i];
    if (loc.present() && index >= loc.offset && index < loc.end()) {
      return fmt::format("in the {} element", to_string(static_cast<StdElement>(i)));
    }
  }
  ByteView t = def.cert_template;
  auto outer = read_tlv(t, 0);
  if (!outer) return "in the template";
  if (index < outer->header_size) return "in the certificate's length";
  auto tbs = read_tlv(t, outer->header_size);
  if (!tbs) return "in the template";
  std::string field = "signatureAlgorithm";
  if (index < tbs->value_offset()) {
    field = "TBSCertificate's length";
  } else if (index < tbs->end()) {
    static constexpr const char* kFields[] = {
        "version",  "serialNumber", "signature algorithm", "issuer",
        "validity", "subject",      "subjectPublicKeyInfo"};
    size_t at = tbs->value_offset();
    size_t n = 0;
    bool has_version = t[at] == 0xA0;
    while (at < tbs->end()) {
      auto child = read_tlv(t, at);
      if (!child) break;
      if (index < child->end()) {
        size_t slot = n + (has_version ? 0 : 1);
        field = slot < 7 ? kFields[slot] : "extensions";
        break;
      }
      at = child->end();
      ++n;
    }
  }
  Tlv node = *outer;
  while (node.tag & 0x20) {  // constructed: descend into the child holding `index`
    size_t at = node.value_offset();
    bool found = false;
    while (at < node.end()) {
      auto child = read_tlv(t, at);
      if (!child || child->end() > node.end()) break;
      if (index >= child->offset && index < child->end()) {
        node = *child;
        found = true;
        break;
      }
      at = child->end();
    }
    if (!found) break;
  }
  return fmt::format("in the {} (DER tag 0x{:02X} at byte {})", field, node.tag, node.offset);
}

// atcacert_set_signature: the signature is the last element; re-encode it and fix the outer
// SEQUENCE length. Like atcacert_der_adjust_length we refuse when the length field would change
// size (only possible for templates near 128 or 256 bytes), since every offset would move.
Status set_signature(const CertDef& def, Bytes& cert, const crypto::RawSignature& signature) {
  const size_t sig_offset = def.element(StdElement::signature).offset;
  ZT_TRY_ASSIGN(Tlv outer, read_tlv(def.cert_template, 0));
  Bytes encoded = encode_signature_bit_string(signature);
  cert.resize(sig_offset);
  cert.insert(cert.end(), encoded.begin(), encoded.end());
  Bytes length = encode_length(cert.size() - outer.header_size);
  if (length.size() != outer.header_size - 1) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("a {}-byte signature changes the size of the certificate's length "
                    "field; the {} template cannot hold it",
                    encoded.size(), def.name));
  }
  std::copy(length.begin(), length.end(), cert.begin() + 1);
  return ok();
}

Result<Bytes> encoded_date_for(const CertDef& def, DateFormat format, const UtcTime& time,
                               std::string_view what) {
  auto encoded = encode_date(format, time);
  if (!encoded) {
    return make_error(Errc::invalid_argument, fmt::format("{} definition: {}: {}", def.name, what,
                                                          encoded.error().message));
  }
  return encoded;
}

bool is_generated(SnSource source) {
  return source != SnSource::stored && source != SnSource::stored_dynamic;
}

}  // namespace

crypto::Sha1Digest key_id(const crypto::PublicKeyRaw& public_key) {
  Bytes message;
  message.reserve(65);
  message.push_back(0x04);
  message.insert(message.end(), public_key.begin(), public_key.end());
  return crypto::sha1(message);
}

Result<Bytes> generate_serial(SnSource source, size_t length, const SerialInputs& in) {
  Bytes serial;
  switch (source) {
    case SnSource::stored:
    case SnSource::stored_dynamic:
      return make_error(Errc::invalid_argument, "a stored serial number is not generated");
    case SnSource::device_sn:
      // "0x40(MSB) + 9-byte device serial number" (atcacert_def.h).
      if (!in.device_sn) {
        return make_error(Errc::invalid_argument,
                          "the DEVICE_SN source needs the device serial number");
      }
      serial.push_back(0x40);
      serial.insert(serial.end(), in.device_sn->begin(), in.device_sn->end());
      return serial;
    case SnSource::signer_id:
      serial = {0x40, in.signer_id[0], in.signer_id[1]};
      return serial;
    default:
      break;
  }
  const bool from_public_key = source == SnSource::pub_key_hash ||
                               source == SnSource::pub_key_hash_pos ||
                               source == SnSource::pub_key_hash_raw;
  if (!from_public_key && !in.device_sn) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("the {} source needs the device serial number", to_string(source)));
  }
  if (length == 0 || length > 32) {
    return make_error(Errc::invalid_argument, "a hashed serial number is 1..32 bytes");
  }
  // SHA-256(public key (64) or device SN (9) ‖ 3 encoded date bytes [‖ byte 71 & 0xF0 in format
  // versions 1 and 2]), truncated to the element
  // size; then "& 0x7F" (positive) for the plain and _POS sources and "| 0x40" (no trimmable
  // leading byte) for the plain ones (atcacert_gen_cert_sn).
  crypto::Sha256 hash;
  if (from_public_key) {
    hash.update(in.public_key);
  } else {
    hash.update(*in.device_sn);
  }
  hash.update(in.encoded_dates);
  if (in.format_version == 1 || in.format_version == 2) {
    const uint8_t extended = in.extended_dates & kExtendedDatesMask;
    hash.update(ByteView(&extended, 1));
  }
  crypto::Sha256Digest digest = hash.finish();
  serial.assign(digest.begin(), digest.begin() + static_cast<ptrdiff_t>(length));
  if (source == SnSource::pub_key_hash || source == SnSource::device_sn_hash ||
      source == SnSource::pub_key_hash_pos || source == SnSource::device_sn_hash_pos) {
    serial[0] &= 0x7F;
  }
  if (source == SnSource::pub_key_hash || source == SnSource::device_sn_hash) serial[0] |= 0x40;
  return serial;
}

Result<SerialDates> serial_dates(const UtcTime& issue, int expire_years) {
  // atcacert_get_comp_cert / atcacert_gen_cert_sn: version 1 when the dates need it, else 0.
  SerialDates out;
  out.format_version = dates_format_version(issue, expire_years);
  ZT_TRY_ASSIGN(out.encoded_dates,
                encode_compressed_dates(issue, expire_years, out.format_version));
  if (out.format_version != 0) out.extended_dates = extended_date_bits(issue, expire_years);
  return out;
}

Result<Bytes> decompress(const CertDef& def, const DeviceData& data) {
  ZT_TRY(validate(def));
  ZT_TRY_ASSIGN(CompressedCert comp, parse_compressed(data.compressed));
  ZT_TRY(check_format(comp));
  // atcacert_set_comp_cert: ATCACERT_E_WRONG_CERT_DEF unless template id, chain id and serial
  // source all match.
  if (comp.template_id != def.template_id || comp.chain_id != def.chain_id ||
      comp.sn_source != static_cast<uint8_t>(def.sn_source)) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("the compressed certificate is for template {}, chain {}, serial "
                    "source 0x{:X}; the {} definition is template {}, chain {}, serial "
                    "source 0x{:X} ({})",
                    comp.template_id, comp.chain_id, comp.sn_source, def.name, def.template_id,
                    def.chain_id, static_cast<int>(def.sn_source), to_string(def.sn_source)));
  }
  Bytes cert = def.cert_template;

  const CertLoc& aki = def.element(StdElement::auth_key_id);
  if (data.issuer_public_key && aki.present()) {
    if (aki.count != 20)
      return make_error(Errc::invalid_argument, "authority key id is not 20 bytes");
    put(cert, aki, key_id(*data.issuer_public_key));
  }
  const CertLoc& sn = def.element(StdElement::cert_sn);
  if (def.sn_source == SnSource::stored && sn.present()) {
    if (data.stored_serial.size() != sn.count) {
      return make_error(
          Errc::invalid_argument,
          fmt::format("the {} definition stores a {}-byte serial number; got {} bytes", def.name,
                      sn.count, data.stored_serial.size()));
    }
    put(cert, sn, data.stored_serial);
  }
  const CertLoc& public_key = def.element(StdElement::public_key);
  if (public_key.present()) put(cert, public_key, data.subject_public_key);
  const CertLoc& ski = def.element(StdElement::subj_key_id);
  if (ski.present()) put(cert, ski, key_id(data.subject_public_key));

  ZT_TRY(set_signature(def, cert, comp.signature));

  const CompressedDates dates = comp.dates();
  const CertLoc& issue_loc = def.element(StdElement::issue_date);
  if (issue_loc.present()) {
    ZT_TRY_ASSIGN(Bytes issue, encoded_date_for(def, def.issue_date_format, dates.issue,
                                                "compressed issue date"));
    put(cert, issue_loc, issue);
  }
  const CertLoc& expire_loc = def.element(StdElement::expire_date);
  // An expire date that an extra element stores is written by that element; computing it from the
  // compressed dates first would only fail on leap days for nothing.
  if (expire_loc.present() && element_at(def, expire_loc) == nullptr) {
    auto expire = compressed_expire_date(dates.issue, dates.expire_years, def.expire_date_format);
    if (!expire) {
      return make_error(Errc::invalid_argument,
                        fmt::format("compressed dates {}: {}", to_hex(comp.encoded_dates),
                                    expire.error().message));
    }
    ZT_TRY_ASSIGN(Bytes encoded,
                  encoded_date_for(def, def.expire_date_format, *expire, "compressed expire date"));
    put(cert, expire_loc, encoded);
  }
  const CertLoc& signer_id = def.element(StdElement::signer_id);
  if (signer_id.present()) put(cert, signer_id, as_bytes(to_hex_upper(comp.signer_id)));

  for (const CertElement& e : def.cert_elements) {
    auto it = data.elements.find(e.id);
    if (it == data.elements.end() || it->second.size() != e.cert_loc.count) {
      return make_error(
          Errc::invalid_argument,
          fmt::format("the {} definition's element '{}' needs {} bytes of device data", def.name,
                      e.id, e.cert_loc.count));
    }
    if (e.cert_loc.present()) put(cert, e.cert_loc, it->second);
  }

  if (is_generated(def.sn_source) && sn.present()) {
    if (!issue_loc.present()) {
      return make_error(Errc::invalid_argument,
                        fmt::format("the {} serial source needs an issue date element",
                                    to_string(def.sn_source)));
    }
    ZT_TRY_ASSIGN(UtcTime issue, decode_date(def.issue_date_format, slice(cert, issue_loc)));
    ZT_TRY_ASSIGN(SerialDates encoded, serial_dates(issue, def.expire_years));
    SerialInputs inputs{data.subject_public_key, encoded.encoded_dates,  comp.signer_id,
                        data.device_sn,          encoded.format_version, encoded.extended_dates};
    ZT_TRY_ASSIGN(Bytes serial, generate_serial(def.sn_source, sn.count, inputs));
    put(cert, sn, serial);
  }
  return cert;
}

Result<DeviceData> compress(const CertDef& def, ByteView cert, const CompressOptions& options) {
  ZT_TRY(validate(def));
  auto outer = read_tlv(cert, 0);
  if (!outer || outer->tag != 0x30 || outer->end() != cert.size()) {
    return refuse("the certificate is not one DER SEQUENCE spanning all its bytes");
  }
  ZT_TRY_ASSIGN(Tlv template_outer, read_tlv(def.cert_template, 0));
  if (outer->header_size != template_outer.header_size) {
    return refuse(
        fmt::format("the certificate is {} bytes; its length field differs in size from "
                    "the {} definition's template ({} bytes)",
                    cert.size(), def.name, def.cert_template.size()));
  }
  const size_t sig_offset = def.element(StdElement::signature).offset;

  // Every byte that is not a dynamic element must equal the template's.
  std::vector<bool> dynamic(sig_offset, false);
  auto mark = [&](const CertLoc& loc) {
    for (size_t i = loc.offset; i < loc.end() && i < sig_offset; ++i) dynamic[i] = true;
  };
  for (size_t i = 0; i < kStdElementCount; ++i) {
    if (static_cast<StdElement>(i) != StdElement::signature) mark(def.std_cert_elements[i]);
  }
  for (const CertElement& e : def.cert_elements) mark(e.cert_loc);
  for (size_t i = outer->header_size; i < sig_offset; ++i) {
    if (i >= cert.size()) {
      return refuse(
          fmt::format("the certificate ends at byte {}, inside the {} definition's TBS "
                      "part: its structure differs from the template",
                      cert.size(), def.name));
    }
    if (!dynamic[i] && cert[i] != def.cert_template[i]) {
      return refuse(
          fmt::format("the certificate's structure differs from the {} definition's "
                      "template at byte {} {} (certificate 0x{:02X}, template 0x{:02X})",
                      def.name, i, where(def, i), cert[i], def.cert_template[i]));
    }
  }
  auto signature = decode_signature_bit_string(cert.subspan(sig_offset));
  if (!signature) {
    return refuse(fmt::format("the signature at byte {} is not a minimal DER ECDSA signature: {}",
                              sig_offset, signature.error().message));
  }
  if (encode_signature_bit_string(*signature) != Bytes(cert.begin() + sig_offset, cert.end())) {
    return refuse("the signature is not minimally DER-encoded; the rebuild would differ");
  }

  DeviceData out;
  out.device_sn = options.device_sn;
  out.issuer_public_key = options.issuer_public_key;
  CompressedCert comp;
  comp.signature = *signature;
  comp.template_id = static_cast<uint8_t>(def.template_id);
  comp.chain_id = static_cast<uint8_t>(def.chain_id);
  comp.sn_source = static_cast<uint8_t>(def.sn_source);

  const CertLoc& public_key = def.element(StdElement::public_key);
  if (!public_key.present())
    return refuse(fmt::format("the {} definition has no public key", def.name));
  std::copy_n(cert.begin() + public_key.offset, 64, out.subject_public_key.begin());
  const CertLoc& ski = def.element(StdElement::subj_key_id);
  if (ski.present()) {
    auto expected = key_id(out.subject_public_key);
    if (!std::equal(expected.begin(), expected.end(), cert.begin() + ski.offset)) {
      return refuse(
          fmt::format("the subject key identifier is not SHA-1(04 ‖ X ‖ Y) of the public "
                      "key; the {} definition recomputes it",
                      def.name));
    }
  }
  const CertLoc& aki = def.element(StdElement::auth_key_id);
  if (aki.present() && options.issuer_public_key) {
    auto expected = key_id(*options.issuer_public_key);
    if (!std::equal(expected.begin(), expected.end(), cert.begin() + aki.offset)) {
      return refuse(
          "the authority key identifier is not the key id of the issuer public key given");
    }
  }

  // Dates. Without an issue date element cryptoauthlib encodes 2000-01-01 00:00.
  UtcTime issue{2000, 1, 1, 0, 0, 0};
  const CertLoc& issue_loc = def.element(StdElement::issue_date);
  if (issue_loc.present()) {
    auto decoded = decode_date(def.issue_date_format, slice(cert, issue_loc));
    if (!decoded) return refuse(fmt::format("issue date: {}", decoded.error().message));
    issue = *decoded;
    const bool stored_in_full = element_at(def, issue_loc) != nullptr;
    if (!stored_in_full && issue.minute != 0) {
      return refuse(fmt::format("issue date has minutes={}; the {} definition stores hours only",
                                issue.minute, def.name));
    }
    if (!stored_in_full && issue.second != 0) {
      return refuse(fmt::format("issue date has seconds={}; the {} definition stores hours only",
                                issue.second, def.name));
    }
    if (issue.year < 2000 || issue.year > 2127) {
      return refuse(
          fmt::format("issue date {} is outside 2000..2127, the years a compressed "
                      "certificate can hold (format version 1 past 2031)",
                      format_time(issue)));
    }
  }
  ZT_TRY_ASSIGN(SerialDates dates, serial_dates(issue, def.expire_years));
  comp.encoded_dates = dates.encoded_dates;
  comp.format_version = dates.format_version;
  comp.reserved = dates.extended_dates;
  const CertLoc& expire_loc = def.element(StdElement::expire_date);
  if (expire_loc.present() && element_at(def, expire_loc) == nullptr) {
    auto actual = decode_date(def.expire_date_format, slice(cert, expire_loc));
    if (!actual) return refuse(fmt::format("expire date: {}", actual.error().message));
    auto expected = compressed_expire_date(issue, def.expire_years, def.expire_date_format);
    if (!expected) return refuse(expected.error().message);
    if (*actual != *expected) {
      if (def.expire_years == 0) {
        return refuse(
            fmt::format("expire date is {}; with expire years 0 the {} definition writes "
                        "the no-expiration date {}",
                        format_time(*actual), def.name, format_time(*expected)));
      }
      return refuse(
          fmt::format("expire date is {}; the {} definition rebuilds it as the issue date "
                      "+ {} years = {}",
                      format_time(*actual), def.name, def.expire_years, format_time(*expected)));
    }
  }

  const CertLoc& signer_id = def.element(StdElement::signer_id);
  if (signer_id.present()) {
    ByteView text = slice(cert, signer_id);
    if (!std::all_of(text.begin(), text.end(), is_upper_hex)) {
      return refuse(
          fmt::format("signer id '{}' is not 4 upper-case hex digits, which is how the {} "
                      "definition writes it",
                      as_chars(text), def.name));
    }
    ZT_TRY_ASSIGN(Bytes id, from_hex(as_chars(text)));
    comp.signer_id = {id[0], id[1]};
  }

  const CertLoc& sn = def.element(StdElement::cert_sn);
  if (sn.present()) {
    ByteView serial = slice(cert, sn);
    if (def.sn_source == SnSource::stored) {
      out.stored_serial.assign(serial.begin(), serial.end());
    } else {
      SerialInputs inputs{out.subject_public_key, comp.encoded_dates,  comp.signer_id,
                          options.device_sn,      comp.format_version, comp.reserved};
      auto expected = generate_serial(def.sn_source, sn.count, inputs);
      if (!expected) return refuse(expected.error().message);
      if (!std::equal(expected->begin(), expected->end(), serial.begin())) {
        return refuse(
            fmt::format("serial number {} does not follow the {} definition's source {}: "
                        "expected {}",
                        to_hex(serial), def.name, to_string(def.sn_source), to_hex(*expected)));
      }
    }
  }
  for (const CertElement& e : def.cert_elements) {
    ByteView value = slice(cert, e.cert_loc);
    out.elements[e.id].assign(value.begin(), value.end());
  }
  out.compressed = serialize(comp);

  // Last guard: whatever the checks above missed, the rebuild must give back the same bytes.
  auto rebuilt = decompress(def, out);
  if (!rebuilt) return refuse(fmt::format("rebuilding failed: {}", rebuilt.error().message));
  if (*rebuilt != Bytes(cert.begin(), cert.end())) {
    size_t i = 0;
    while (i < cert.size() && i < rebuilt->size() && cert[i] == (*rebuilt)[i]) ++i;
    std::string hint;
    if (aki.present() && i >= aki.offset && i < aki.end() && !options.issuer_public_key) {
      hint = "; give the issuer's public key (the template's authority key id differs)";
    }
    return refuse(
        fmt::format("the {} definition cannot rebuild this certificate bit-exactly: byte "
                    "{} {} differs{}",
                    def.name, i, i < sig_offset ? where(def, i) : "in the signature", hint));
  }
  return out;
}

Result<ByteView> tbs_of(const CertDef& def, ByteView cert) {
  if (def.tbs_cert_loc.end() > cert.size()) {
    return make_error(Errc::parse, "the certificate is shorter than its definition's TBS part");
  }
  return cert.subspan(def.tbs_cert_loc.offset, def.tbs_cert_loc.count);
}

Result<crypto::RawSignature> signature_of(const CertDef& def, ByteView cert) {
  const size_t offset = def.element(StdElement::signature).offset;
  if (offset >= cert.size()) return make_error(Errc::parse, "the certificate has no signature");
  return decode_signature_bit_string(cert.subspan(offset));
}

}  // namespace zt::atcacert
