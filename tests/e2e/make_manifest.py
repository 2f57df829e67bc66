#!/usr/bin/python3
"""Writes a manifest of pre-provisioned secure elements in the shape Microchip delivers for
Trust&GO parts (a JSON array of JWS-signed entries; see src/pki/manifest.hpp), for the e2e tests.

  make_manifest.py SIGNER_KEY SIGNER_CERT OUT ENTRY...

Each ENTRY is "UNIQUE_ID:DEVICE_CERT:CHAIN_CERT[:tamper|:wrongkey]": `tamper` changes the payload
after signing (the signature no longer verifies), `wrongkey` lists another key than the device
certificate's. Signed with ES256 by SIGNER_KEY; x5t#S256 names SIGNER_CERT.
"""
import base64
import hashlib
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def der(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read()).public_bytes(serialization.Encoding.DER)


def main():
    key_path, cert_path, out, *specs = sys.argv[1:]
    with open(key_path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    signer_der = der(cert_path)
    header = b64url(json.dumps({"typ": "JWT", "alg": "ES256", "kid": "manifest-signer",
                                "x5t#S256": b64url(hashlib.sha256(signer_der).digest())}).encode())
    entries = []
    for spec in specs:
        unique_id, device_path, chain_path, *flags = spec.split(":")
        device_der = der(device_path)
        numbers = x509.load_der_x509_certificate(device_der).public_key().public_numbers()
        if "wrongkey" in flags:
            numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
        payload = {
            "version": 1, "model": "ATECC608A", "partNumber": "ATECC608A-TNGTLS",
            "manufacturer": {"organizationName": "Microchip Technology Inc",
                             "organizationalUnitName": "Secure Products Group"},
            "provisioner": {"organizationName": "Microchip Technology Inc",
                            "organizationalUnitName": "Secure Products Group"},
            "distributor": {"organizationName": "Microchip Technology Inc",
                            "organizationalUnitName": "Microchip Direct"},
            "groupId": "ZTTESTGROUP", "provisioningTimestamp": "2026-12-06T10:00:00.000Z",
            "uniqueId": unique_id,
            "publicKeySet": {"keys": [{
                "kid": "0", "kty": "EC", "crv": "P-256",
                "x": b64url(numbers.x.to_bytes(32, "big")), "y": b64url(numbers.y.to_bytes(32, "big")),
                "x5c": [base64.b64encode(device_der).decode(), base64.b64encode(der(chain_path)).decode()]}]},
        }
        body = b64url(json.dumps(payload).encode())
        r, s = utils.decode_dss_signature(key.sign(f"{header}.{body}".encode(), ec.ECDSA(hashes.SHA256())))
        if "tamper" in flags:
            payload["groupId"] = "TAMPERED"
            body = b64url(json.dumps(payload).encode())
        entries.append({"payload": body, "protected": header, "header": {"uniqueId": unique_id},
                        "signature": b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))})
    entries.append({"payload": 42, "protected": header, "signature": "x"})  # a broken entry
    with open(out, "w") as f:
        json.dump(entries, f, indent=2)


if __name__ == "__main__":
    main()
