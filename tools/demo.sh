#!/usr/bin/env bash
# `make demo`: the zero-touch provisioning flow from nothing, one printed step at a time, in ./demo/.
# For now the factory PKI part; the kit, the secure element and the cloud join as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
ZTP=${ZTP:-build/bin/ztp}
DEMO=${DEMO_DIR:-demo}

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
run() { printf '$ %s\n' "$*"; "$@"; }

mkdir -p "$DEMO"
echo "zerotouch demo in $DEMO/ (keys are reused between runs, certificates re-issued)"

step "1. Root CA: root-ca.key + self-signed root-ca.crt"
run "$ZTP" ca create-root --dir "$DEMO" --force

step "2. Signer CA key and CSR: signer-ca.key + signer-ca.csr"
run "$ZTP" ca create-signer-csr --dir "$DEMO" --force

step "3. Signer CA certificate, signed by the root: signer-ca.crt"
run "$ZTP" ca create-signer --dir "$DEMO" --force

step "4. A device CSR (here from openssl; the kit makes it inside its secure element)"
run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$DEMO/device-openssl.key" -out "$DEMO/device.csr" -subj "/O=Example Inc/CN=Example Device"

step "5. Device certificate from the CSR, signed by the signer CA: device.crt"
run "$ZTP" ca issue-device --dir "$DEMO" --csr "$DEMO/device.csr" --force

step "6. The chain verifies with OpenSSL"
run openssl verify -CAfile "$DEMO/root-ca.crt" -untrusted "$DEMO/signer-ca.crt" "$DEMO/device.crt"
run openssl x509 -in "$DEMO/device.crt" -noout -subject -issuer -serial -dates -ext subjectKeyIdentifier

echo
echo "Done: factory PKI ready in $DEMO/"
