#!/usr/bin/env bash
# `ztp ca issue-device` keeps only an allow-list of the extensions a device CSR requests (issue 12,
# item 8): SKI and AKI (set by the issuer), basicConstraints CA:FALSE, keyUsage digitalSignature,
# extendedKeyUsage clientAuth — in the profile's encoding. Everything else (subjectAltName,
# nsCertType CA, serverAuth, other key usages) is dropped, and the command names what it dropped.
# CSRs made by the openssl CLI; certificates read back with `openssl x509 -text`.
source "$(dirname "$0")/lib.sh"
e2e_init ca-device-extensions
cd "$work"

q() { "$@" >last.log 2>&1 || { cat last.log >&2; fail "$*"; }; }
q "$ZTP" ca create-root --dir ca
q "$ZTP" ca create-signer-csr --dir ca
q "$ZTP" ca create-signer --dir ca

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout hostile.key -out hostile.csr \
  -subj "/O=Example Inc/CN=Example Device" \
  -addext "subjectAltName=DNS:bank.example,IP:10.0.0.1" \
  -addext "nsCertType=sslCA,server,client" \
  -addext "extendedKeyUsage=serverAuth,clientAuth" \
  -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
  -addext "basicConstraints=CA:FALSE" 2>/dev/null
check "the CSR really requests them" \
  bash -c "openssl req -in hostile.csr -noout -text | grep -q 'Netscape Cert Type'"

"$ZTP" ca issue-device --dir ca --csr hostile.csr --out hostile.crt >issue.out 2>issue.err ||
  fail "issue-device: $(cat issue.err)"
openssl x509 -in hostile.crt -noout -text >hostile.txt
check "no subjectAltName in the certificate" bash -c "! grep -q 'Subject Alternative Name' hostile.txt"
check "no nsCertType" bash -c "! grep -q 'Netscape Cert Type' hostile.txt"
check "no serverAuth" bash -c "! grep -q 'TLS Web Server Authentication' hostile.txt"
check "extendedKeyUsage clientAuth kept" grep -q 'TLS Web Client Authentication' hostile.txt
check "keyUsage digitalSignature only" \
  bash -c "grep -A1 'X509v3 Key Usage: critical' hostile.txt | tail -1 | grep -qx ' *Digital Signature'"
check "basicConstraints CA:FALSE" grep -q 'CA:FALSE' hostile.txt
check "SKI and AKI set by the issuer" \
  bash -c "grep -q 'Subject Key Identifier' hostile.txt && grep -q 'Authority Key Identifier' hostile.txt"
check "not usable as a CA (openssl x509 -purpose)" \
  bash -c "openssl x509 -in hostile.crt -noout -purpose | grep -q 'SSL server CA : No'"
for dropped in subjectAltName nsCertType "extendedKeyUsage serverAuth" \
  "keyUsage bits other than digitalSignature"; do
  check "the command says it dropped $dropped" grep -qF "Dropped CSR extension: $dropped" issue.out
done

# A CSR with no extension requests: SKI and AKI only, nothing reported (the kit's CSRs are so).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout plain.key -out plain.csr \
  -subj "/O=Example Inc/CN=Example Device" 2>/dev/null
q "$ZTP" ca issue-device --dir ca --csr plain.csr --out plain.crt
cp last.log plain.out
check "a plain CSR: nothing dropped" bash -c "! grep -q Dropped plain.out"
check "… and only the two key identifiers" \
  test "$(openssl x509 -in plain.crt -noout -text | grep -c 'X509v3 [A-Z]')" -eq 2

# Asking for CA powers refuses the CSR outright.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca-request.csr \
  -subj "/CN=Sneaky" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
set +e
"$ZTP" ca issue-device --dir ca --csr ca-request.csr --out sneaky.crt >/dev/null 2>sneaky.err
rc=$?
set -e
check "a CSR asking for CA:TRUE is refused" test "$rc" -ne 0
check "… saying why" grep -q "CA:TRUE" sneaky.err
check "… writing no certificate" test ! -e sneaky.crt

finish_tests
