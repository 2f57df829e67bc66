#!/usr/bin/env bash
# End-to-end: `ztp ca` against the real openssl CLI and a real SoftHSM2 token.
# The whole chain, profile fields as `openssl x509 -text` shows them, OpenSSL-made CSRs, bad inputs
# (each: exit != 0, a clear message, no new or half-written file), key modes, and PKCS#11 signing.
source "$(dirname "$0")/lib.sh"
e2e_init pki-cli
WORK=$work
cd "$WORK"

# Files under a directory (recursive, names only), to prove a failed command wrote nothing.
listing() { (cd "$1" && find . -mindepth 1 | sort) 2>/dev/null || true; }

# expect_fail <what> <message-pattern> <dir-to-watch> -- command...
expect_fail() {
  local what=$1 pattern=$2 watch=$3
  shift 4
  local before after rc=0
  before=$(listing "$watch")
  "$@" >out.txt 2>err.txt || rc=$?
  [ "$rc" -ne 0 ] || fail "$what: exit code 0"
  grep -q -- "$pattern" err.txt || fail "$what: message does not match '$pattern': $(cat err.txt)"
  after=$(listing "$watch")
  [ "$before" = "$after" ] || fail "$what: files changed: $(diff <(echo "$before") <(echo "$after"))"
  pass
}

# expect_text <file> <what> <pattern>: a field of `openssl x509 -text`.
expect_text() {
  grep -q -- "$3" "$1" || fail "$2: '$3' not in $(cat "$1")"
  pass
}

make_csr() {  # make_csr <key-spec> <out.csr> [subject]: an OpenSSL-made CSR
  local subject=${3:-/O=Example Inc/CN=Example Device}
  case $1 in
    p256) openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$2.key" -out "$2" -subj "$subject" 2>/dev/null ;;
    p384) openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$2.key" -out "$2" -subj "$subject" 2>/dev/null ;;
    rsa) openssl req -new -newkey rsa:2048 -nodes -keyout "$2.key" -out "$2" -subj "$subject" 2>/dev/null ;;
  esac
}

echo "== the whole chain"
"$ZTP" ca create-root --dir ca >root.out
"$ZTP" ca create-signer-csr --dir ca >csr.out
"$ZTP" ca create-signer --dir ca >signer.out
make_csr p256 device.csr
"$ZTP" ca issue-device --dir ca --csr device.csr >device.out
"$ZTP" ca create-verification --dir ca --code 5f2b3c4d9e8a7b6c >verification.out
for f in root-ca.key root-ca.crt signer-ca.key signer-ca.csr signer-ca.crt signer-ca-verification.crt device.crt; do
  [ -s "ca/$f" ] || fail "ca/$f missing"
done
pass
grep -q "Saved to ca/root-ca.crt" root.out || fail "summary: $(cat root.out)"
grep -q "Serial:" device.out && grep -q "Validity:" device.out && grep -q "Subject:  O=Example Inc, CN=Example Device" device.out ||
  fail "device summary: $(cat device.out)"
pass

openssl verify -CAfile ca/root-ca.crt -untrusted ca/signer-ca.crt ca/device.crt >verify.out ||
  fail "openssl verify: $(cat verify.out)"
pass
openssl verify -CAfile ca/root-ca.crt ca/signer-ca.crt >/dev/null || fail "signer does not verify against root"
openssl verify -partial_chain -CAfile ca/signer-ca.crt ca/signer-ca-verification.crt >/dev/null ||
  fail "verification certificate is not signed by the signer key"
pass

echo "== openssl req -verify on our CSRs"
openssl req -in ca/signer-ca.csr -verify -noout 2>&1 | grep -q "verify OK" || fail "signer CSR does not verify"
openssl req -in ca/signer-ca.csr -noout -text >csr.txt
expect_text csr.txt "signer CSR" "Subject: O = Example Inc, CN = Example Signer FFFF"
expect_text csr.txt "signer CSR" "CA:TRUE, pathlen:0"

echo "== profile fields (openssl x509 -text)"
openssl x509 -in ca/root-ca.crt -noout -text >root.txt
expect_text root.txt root "Subject: O = Example Inc, CN = Example Root CA"
expect_text root.txt root "Issuer: O = Example Inc, CN = Example Root CA"
expect_text root.txt root "CA:TRUE"
expect_text root.txt root "X509v3 Basic Constraints: critical"
expect_text root.txt root "ecdsa-with-SHA256"
expect_text root.txt root "NIST CURVE: P-256"
openssl x509 -in ca/signer-ca.crt -noout -text >signer.txt
expect_text signer.txt signer "Issuer: O = Example Inc, CN = Example Root CA"
expect_text signer.txt signer "Subject: O = Example Inc, CN = Example Signer FFFF"
expect_text signer.txt signer "CA:TRUE, pathlen:0"
expect_text signer.txt signer "X509v3 Key Usage: critical"
expect_text signer.txt signer "Digital Signature, Certificate Sign, CRL Sign"
expect_text signer.txt signer "X509v3 Authority Key Identifier"
openssl x509 -in ca/device.crt -noout -text >device.txt
expect_text device.txt device "Issuer: O = Example Inc, CN = Example Signer FFFF"
expect_text device.txt device "Subject: O = Example Inc, CN = Example Device"
expect_text device.txt device "Not After : Dec 31 23:59:59 3000 GMT"
grep -Eq "Not Before: .* [0-9]{2}:00:00 [0-9]{4} GMT" device.txt || fail "device notBefore minutes/seconds not 0"
pass
[ "$(openssl x509 -in ca/device.crt -noout -ext subjectKeyIdentifier,authorityKeyIdentifier | grep -c ':')" -ge 2 ] ||
  fail "device SKI/AKI"
pass
openssl x509 -in ca/signer-ca-verification.crt -noout -text >verification.txt
expect_text verification.txt verification "Subject: CN = 5f2b3c4d9e8a7b6c"
# The verification certificate carries the signer's own public key.
[ "$(openssl x509 -in ca/signer-ca-verification.crt -noout -pubkey)" = "$(openssl x509 -in ca/signer-ca.crt -noout -pubkey)" ] ||
  fail "verification certificate public key is not the signer's"
pass

echo "== device serial = SHA-256(X||Y || compressed issue date)"
openssl x509 -in ca/device.crt -outform DER -out device.der
/usr/bin/python3 - device.der <<'EOF' || fail "device serial rule"
import hashlib, subprocess, sys, datetime
der = open(sys.argv[1], "rb").read()
serial = der[15:31]
pub = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", sys.argv[1], "-noout", "-pubkey"],
                     capture_output=True, check=True).stdout
spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, capture_output=True, check=True).stdout
xy = spki[-64:]
text = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", sys.argv[1], "-noout", "-startdate"],
                      capture_output=True, check=True, text=True).stdout.strip().split("=", 1)[1]
t = datetime.datetime.strptime(text, "%b %d %H:%M:%S %Y GMT")
y, m, d, h = t.year - 2000, t.month, t.day, t.hour
date = bytes([(y << 3) | (m >> 1), ((m & 1) << 7) | (d << 2) | (h >> 3), (h & 7) << 5])
want = bytearray(hashlib.sha256(xy + date).digest()[:16])
want[0] = (want[0] & 0x7F) | 0x40
assert serial == bytes(want), (serial.hex(), bytes(want).hex())
EOF
pass

echo "== key files are 0600, keys are reused, certificates need --force"
[ "$(stat -c %a ca/root-ca.key)" = 600 ] && [ "$(stat -c %a ca/signer-ca.key)" = 600 ] || fail "key modes"
pass
cp ca/root-ca.key root-key.before
expect_fail "create-root over an existing root-ca.crt" "root-ca.crt already exists; pass --force" ca -- "$ZTP" ca create-root --dir ca
"$ZTP" ca create-root --dir ca --force >/dev/null
cmp -s ca/root-ca.key root-key.before || fail "root key was not reused"
pass
"$ZTP" ca create-signer --dir ca --force >/dev/null
"$ZTP" ca issue-device --dir ca --csr device.csr --force >/dev/null
openssl verify -CAfile ca/root-ca.crt -untrusted ca/signer-ca.crt ca/device.crt >/dev/null || fail "re-issued chain"
pass

echo "== bad inputs"
mkdir empty
expect_fail "create-signer without a CSR" "signer-ca.csr not found — run \`ztp ca create-signer-csr\` first" empty -- \
  "$ZTP" ca create-signer --dir empty
"$ZTP" ca create-signer-csr --dir empty >/dev/null
expect_fail "create-signer without a root" "root-ca.crt not found — run \`ztp ca create-root\` first" empty -- \
  "$ZTP" ca create-signer --dir empty
mkdir here && "$ZTP" ca create-signer-csr --dir here >/dev/null
expect_fail "default --dir: create-signer without a root" "^ztp: error: root-ca.crt not found — run \`ztp ca create-root\` first" here -- \
  env -C here "$ZTP" ca create-signer
expect_fail "issue-device without a signer" "signer-ca.crt not found — run \`ztp ca create-signer\` first" empty -- \
  "$ZTP" ca issue-device --dir empty --csr device.csr
expect_fail "issue-device without the CSR" "no-such.csr" ca -- "$ZTP" ca issue-device --dir ca --csr no-such.csr --out new.crt

head -c 300 device.csr >truncated.csr
expect_fail "truncated PEM CSR" "truncated.csr" . -- "$ZTP" ca issue-device --dir ca --csr truncated.csr --out new.crt
cp -r ca broken && head -c 200 ca/root-ca.crt >broken/root-ca.crt && rm broken/signer-ca.crt
expect_fail "truncated PEM root certificate" "root-ca.crt" broken -- "$ZTP" ca create-signer --dir broken

openssl x509 -in ca/signer-ca.crt -outform DER -out signer.der
mkdir tampered && cp ca/signer-ca.key ca/root-ca.key ca/root-ca.crt tampered/
openssl req -in ca/signer-ca.csr -outform DER -out signer-csr.der
/usr/bin/python3 -c "import sys; d=bytearray(open('signer-csr.der','rb').read()); d[-1]^=1; open('tampered/signer-ca.csr','wb').write(d)"
expect_fail "signer CSR with a tampered signature" "invalid signature" tampered -- "$ZTP" ca create-signer --dir tampered
openssl req -in device.csr -outform DER -out device-csr.der
/usr/bin/python3 -c "d=bytearray(open('device-csr.der','rb').read()); d[-3]^=0x40; open('tampered.csr','wb').write(d)"
expect_fail "device CSR with a tampered signature" "invalid signature" . -- "$ZTP" ca issue-device --dir ca --csr tampered.csr --out new.crt

mkdir rsa && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa/root-ca.key 2>/dev/null
expect_fail "RSA root key" "RSA key; an ECDSA P-256" rsa -- "$ZTP" ca create-root --dir rsa
make_csr rsa rsa.csr
expect_fail "RSA device CSR" "rsa.csr is an RSA key" . -- "$ZTP" ca issue-device --dir ca --csr rsa.csr --out new.crt
mkdir p384 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384/signer-ca.key 2>/dev/null
expect_fail "P-384 signer key" "secp384r1" p384 -- "$ZTP" ca create-signer-csr --dir p384
make_csr p384 p384.csr
expect_fail "P-384 device CSR" "p384.csr is an EC key on secp384r1" . -- "$ZTP" ca issue-device --dir ca --csr p384.csr --out new.crt

cp -r ca mismatch && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out mismatch/signer-ca.key 2>/dev/null
expect_fail "signer key that does not match signer-ca.crt" "does not match the public key in mismatch/signer-ca.crt" mismatch -- \
  "$ZTP" ca issue-device --dir mismatch --csr device.csr --force
expect_fail "verification with a mismatched signer key" "does not match" mismatch -- \
  "$ZTP" ca create-verification --dir mismatch --code abc --force

# Unwritable directories (root ignores mode bits): under a regular file, and under /proc.
touch plain-file
expect_fail "--dir under a regular file" "plain-file" . -- "$ZTP" ca create-root --dir plain-file/ca
expect_fail "--dir under /proc" "/proc/zt-no-such-dir" . -- "$ZTP" ca create-root --dir /proc/zt-no-such-dir/ca
expect_fail "--out under /proc" "/proc/zt-no-such-dir" ca -- \
  "$ZTP" ca issue-device --dir ca --csr device.csr --out /proc/zt-no-such-dir/device.crt
[ ! -e plain-file/ca ] || fail "created something under plain-file"
pass

echo "== SoftHSM2: signer key in a PKCS#11 token"
MODULE=/usr/lib/softhsm/libsofthsm2.so
mkdir -p hsm/tokens
printf 'directories.tokendir = %s/hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$WORK" >hsm/softhsm2.conf
export SOFTHSM2_CONF=$WORK/hsm/softhsm2.conf
softhsm2-util --init-token --free --label zt-factory --pin 4321 --so-pin 87654321 >/dev/null
pkcs11-tool --module "$MODULE" --token-label zt-factory --login --pin 4321 \
  --keypairgen --key-type EC:prime256v1 --label signer-ca --id 51 >/dev/null 2>&1
URI="pkcs11:token=zt-factory;object=signer-ca;type=private;module-path=$MODULE?pin-value=4321"
"$ZTP" ca create-root --dir hsmca >/dev/null
"$ZTP" ca create-signer-csr --dir hsmca --key "$URI" >hsm.out
[ ! -e hsmca/signer-ca.key ] || fail "a signer key file was written although the key is in the token"
grep -q "4321" hsm.out && fail "PIN printed"
openssl req -in hsmca/signer-ca.csr -verify -noout 2>&1 | grep -q "verify OK" || fail "token-signed CSR"
pass
"$ZTP" ca create-signer --dir hsmca >/dev/null
make_csr p256 hsm-device.csr
"$ZTP" ca issue-device --dir hsmca --key "$URI" --csr hsm-device.csr >/dev/null
openssl verify -CAfile hsmca/root-ca.crt -untrusted hsmca/signer-ca.crt hsmca/device.crt >/dev/null ||
  fail "device certificate issued through PKCS#11 does not verify"
pass
# The same through the environment instead of URI attributes.
ZT_PKCS11_MODULE=$MODULE ZT_PKCS11_PIN=4321 "$ZTP" ca create-verification --dir hsmca \
  --key "pkcs11:token=zt-factory;object=signer-ca" --code 0badc0de >/dev/null
openssl verify -partial_chain -CAfile hsmca/signer-ca.crt hsmca/signer-ca-verification.crt >/dev/null ||
  fail "verification certificate through PKCS#11"
pass
expect_fail "wrong PIN" "PIN incorrect" hsmca -- "$ZTP" ca issue-device --dir hsmca --force --csr hsm-device.csr \
  --key "pkcs11:token=zt-factory;object=signer-ca;module-path=$MODULE?pin-value=1111"
grep -q "1111" err.txt && fail "wrong PIN printed"
expect_fail "missing token object" "object not found" hsmca -- "$ZTP" ca issue-device --dir hsmca --force \
  --csr hsm-device.csr --key "pkcs11:token=zt-factory;object=nothing;module-path=$MODULE?pin-value=4321"
pkcs11-tool --module "$MODULE" --token-label zt-factory --login --pin 4321 \
  --keypairgen --key-type EC:secp384r1 --label p384 --id 52 >/dev/null 2>&1
expect_fail "P-384 key in the token" "P-256" hsmca -- "$ZTP" ca issue-device --dir hsmca --force --csr hsm-device.csr \
  --key "pkcs11:token=zt-factory;object=p384;type=private;module-path=$MODULE?pin-value=4321"
grep -q "secp384r1" err.txt || fail "P-384 token key: type not named: $(cat err.txt)"
grep -q "4321" err.txt && fail "PIN printed: $(cat err.txt)"
# The root key in the token signs the signer certificate: the token key does not match root-ca.crt.
expect_fail "token key that does not match root-ca.crt" "does not match" hsmca -- "$ZTP" ca create-signer --dir hsmca \
  --force --key "$URI"

echo "pki_cli_test: $checks checks passed"
