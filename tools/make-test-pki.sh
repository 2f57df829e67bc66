#!/usr/bin/env bash
# Writes a small PKI for broker tests and benchmarks into DIR, with the openssl CLI (P-256):
#   root.crt            self-signed root CA
#   inter.crt           intermediate CA signed by the root (a "registered signer CA")
#   device.crt/.key     device certificate signed by the intermediate; device-chain.crt = device + intermediate
#   server.crt/.key     broker certificate for 127.0.0.1 / localhost, signed by the root
#   rogue-device.crt/.key  a device of an unrelated, untrusted CA
#   rogue-device-chain.crt = rogue-device + rogue-ca
#   rsa-device.crt/.key a device with an RSA 2048 key signed by the intermediate; rsa-device-chain.crt
# Usage: make-test-pki.sh DIR [EXTRA_DEVICES]   (EXTRA_DEVICES: also device-1 … device-N, for load)
set -euo pipefail
dir=$1
extra=${2:-0}
mkdir -p "$dir"
cd "$dir"

key() {
  if [ "${ZT_KEY_ALGORITHM:-EC}" = RSA ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  fi
  chmod 600 "$1"
}

cat > ext.cnf <<'CNF'
[zt_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[zt_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[zt_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

# issue NAME CN ISSUER SECTION: NAME.key + NAME.crt signed by ISSUER (or self-signed when ISSUER = -).
issue() {
  local name=$1 cn=$2 issuer=$3 section=$4
  key "$name.key"
  if [ "$issuer" = "-" ]; then
    openssl req -new -x509 -key "$name.key" -subj "/O=zerotouch test/CN=$cn" -days 30 -sha256 \
      -extensions "$section" -config <(cat /etc/ssl/openssl.cnf ext.cnf) -out "$name.crt" 2>/dev/null
  else
    openssl req -new -key "$name.key" -subj "/O=zerotouch test/CN=$cn" -out "$name.csr" 2>/dev/null
    openssl x509 -req -in "$name.csr" -CA "$issuer.crt" -CAkey "$issuer.key" -CAcreateserial -days 30 -sha256 \
      -extfile ext.cnf -extensions "$section" -out "$name.crt" 2>/dev/null
    rm -f "$name.csr"
  fi
}

issue root "Test Root CA" - zt_ca
issue inter "Test Signer CA" root zt_ca
issue device "device-0001" inter zt_leaf
issue server "localhost" root zt_server
issue rogue-ca "Rogue CA" - zt_ca
issue rogue-device "device-rogue" rogue-ca zt_leaf
ZT_KEY_ALGORITHM=RSA issue rsa-device "device-rsa" inter zt_leaf
cat device.crt inter.crt > device-chain.crt
cat rsa-device.crt inter.crt > rsa-device-chain.crt
cat rogue-device.crt rogue-ca.crt > rogue-device-chain.crt
for ((i = 1; i <= extra; i++)); do issue "device-$i" "device-$i" inter zt_leaf; done
