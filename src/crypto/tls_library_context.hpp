// The OpenSSL library context for the broker's TLS handshakes (issue 19).
//
// OpenSSL 3.0 decodes the public key of every certificate it parses through a decoder context it
// builds for that one certificate (crypto/x509/x_pubkey.c: OSSL_DECODER_CTX_new_for_pkey with no
// key type), and building it walks every key manager and every decoder the library context's
// providers offer, matching their names. With the default provider that is about 100 µs per
// certificate on the build machine: a device sends two (its own and its signer's), so it was about
// a fifth of the broker's CPU per connect. OpenSSL 3.1 caches these contexts; Debian 12 ships 3.0.
//
// This context offers the default provider's algorithms through a filter provider (the shape of
// OpenSSL's own test/filterprov.c, written here from the documented provider API, provider(7) and
// OSSL_PROVIDER_query_operation(3)): every operation passes through unchanged — ciphers, digests,
// signatures, key exchange, KDFs, MACs, random numbers, encoders, the TLS-GROUP capability —
// except two lists, which are cut to what a TLS server handshake needs:
//  - key managers: the certificates' key types, the key exchanges' (X25519, X448, DH) and HMAC
//    (TLS 1.2's CBC suites MAC through an HMAC EVP_PKEY);
//  - decoders: only SubjectPublicKeyInfo DER for the certificates' key types (and the generic
//    SubjectPublicKeyInfo step), the only decoding a handshake does (the peer's and our own
//    certificates). The certificates' key types are those AWS IoT accepts: RSA (and RSA-PSS),
//    DSA and EC (its supported signature algorithms, reference/aws-iot.md §2). A device
//    certificate with another key type (Ed25519, which that list does not name) now fails the
//    handshake; it used to connect.
// That makes a certificate's decoding about 2.5 times cheaper; the algorithms themselves are the
// default provider's own implementations, so nothing is weaker or different. It is not an ENGINE:
// nothing outside an SSL_CTX made with this context changes (an ENGINE registered for EC would
// take every EC operation of the process; bench/broker.cpp's load generator does that).
//
// Keys are not decoded in this context (no private-key or PEM decoders): load the server key with
// crypto::load_private_key (the default context) and hand the EVP_PKEY to SSL_CTX_use_PrivateKey;
// OpenSSL exports it to this context's key manager once and caches it.
//
// Returns nullptr — OpenSSL's default context — when the filter cannot be set up, or when the
// process runs OpenSSL's FIPS provider (a FIPS configuration decides its own providers).
#pragma once

#include <openssl/types.h>

namespace zt::crypto {

OSSL_LIB_CTX* tls_library_context();

}  // namespace zt::crypto
