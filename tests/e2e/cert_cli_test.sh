#!/usr/bin/env bash
# End-to-end: certificates issued by `ztp ca`, compressed and rebuilt by `ztp cert`, verified by the
# real openssl CLI; definitions generated with `ztp cert certdef`; refusals leave no output file.
source "$(dirname "$0")/lib.sh"
e2e_init cert-cli
WORK=$work
cd "$WORK"

# expect_fail <what> <message-pattern> <file-that-must-not-appear> -- command...
expect_fail() {
  local what=$1 pattern=$2 absent=$3
  shift 4
  local rc=0
  "$@" >out.txt 2>err.txt || rc=$?
  [ "$rc" -ne 0 ] || fail "$what: exit code 0"
  grep -q -- "$pattern" err.txt || fail "$what: message does not match '$pattern': $(cat err.txt)"
  [ ! -e "$absent" ] || fail "$what: $absent was written"
  pass
}

der() { openssl x509 -in "$1" -outform DER; }

echo "== a chain from ztp ca"
"$ZTP" ca create-root --dir ca >/dev/null
"$ZTP" ca create-signer-csr --dir ca >/dev/null
"$ZTP" ca create-signer --dir ca >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device.key \
  -out device.csr -subj "/O=Example Inc/CN=Example Device" 2>/dev/null
"$ZTP" ca issue-device --dir ca --csr device.csr >/dev/null
openssl x509 -in ca/device.crt -pubkey -noout >device-pub.pem
openssl x509 -in ca/signer-ca.crt -pubkey -noout >signer-pub.pem
pass

echo "== certdef from samples"
"$ZTP" cert certdef --from ca/signer-ca.crt -o signer.json >certdef.out
grep -q "signer definition, template 1, chain 0, serial source STORED" certdef.out || fail "certdef: $(cat certdef.out)"
"$ZTP" cert certdef --from ca/device.crt -o device.json >/dev/null
/usr/bin/python3 - <<'PY' || fail "device.json fields"
import json
d = json.load(open("device.json"))
assert d["template_id"] == 2 and d["sn_source"] == "PUB_KEY_HASH", d
e = d["std_cert_elements"]
assert (e["public_key"]["offset"], e["signature"]["offset"], e["issue_date"]["offset"]) == (207, 351, 101), e
assert d["tbs_cert_loc"] == {"offset": 4, "count": 335}, d["tbs_cert_loc"]
assert d["comp_cert_dev_loc"]["slot"] == 10
PY
"$ZTP" cert certdef --from ca/device.crt --template-id 5 --chain-id 3 --sn-source DEVICE_SN_HASH >custom.json
grep -q '"template_id": 5' custom.json && grep -q '"chain_id": 3' custom.json \
  && grep -q '"sn_source": "DEVICE_SN_HASH"' custom.json || fail "custom ids: $(head -5 custom.json)"
pass

echo "== compress, show, decompress: device"
"$ZTP" cert compress --def device --cert ca/device.crt --issuer ca/signer-ca.crt -o device.bin >/dev/null
[ "$(stat -c %s device.bin)" = 72 ] || fail "device.bin is not 72 bytes"
"$ZTP" cert compress --def device.json --cert ca/device.crt --issuer ca/signer-ca.crt -o device2.bin >/dev/null
cmp -s device.bin device2.bin || fail "built-in and generated device definitions disagree"
"$ZTP" cert show --compressed device.bin --def device >show.txt
grep -q "template id:      2" show.txt && grep -q "PUB_KEY_HASH" show.txt && grep -q "matches" show.txt \
  || fail "show: $(cat show.txt)"
"$ZTP" cert decompress --def device --compressed device.bin --public-key device-pub.pem \
  --signer-cert ca/signer-ca.crt -o rebuilt-device.crt >/dev/null
cmp -s <(der ca/device.crt) <(der rebuilt-device.crt) || fail "device not rebuilt bit-exactly"
pass

echo "== compress, decompress: signer (serial and dates stored in slot 14)"
"$ZTP" cert compress --def signer --cert ca/signer-ca.crt --issuer ca/root-ca.crt -o signer.bin \
  --stored-out signer-stored.json >/dev/null
"$ZTP" cert decompress --def signer --compressed signer.bin --public-key signer-pub.pem \
  --signer-cert ca/root-ca.crt --stored signer-stored.json -o rebuilt-signer.crt >/dev/null
cmp -s <(der ca/signer-ca.crt) <(der rebuilt-signer.crt) || fail "signer not rebuilt bit-exactly"
pass

echo "== openssl verify on the rebuilt chain"
openssl verify -CAfile ca/root-ca.crt -untrusted rebuilt-signer.crt rebuilt-device.crt >verify.txt 2>&1 \
  || fail "openssl verify: $(cat verify.txt)"
grep -q "rebuilt-device.crt: OK" verify.txt || fail "openssl verify: $(cat verify.txt)"
pass

echo "== refusals"
expect_fail "DEVICE_SN source with a 16-byte serial" "makes a 10-byte serial" x.json -- \
  "$ZTP" cert certdef --from ca/device.crt --sn-source DEVICE_SN -o x.json
expect_fail "signer cert against the device definition" "structure differs from the device definition" x.bin -- \
  "$ZTP" cert compress --def device --cert ca/signer-ca.crt -o x.bin
expect_fail "signer without --stored-out" "give --stored-out" x.bin -- \
  "$ZTP" cert compress --def signer --cert ca/signer-ca.crt --issuer ca/root-ca.crt -o x.bin
expect_fail "wrong issuer" "authority key identifier" x.bin -- \
  "$ZTP" cert compress --def device --cert ca/device.crt --issuer ca/root-ca.crt -o x.bin
expect_fail "decompress with the signer definition" "is for template 2" x.crt -- \
  "$ZTP" cert decompress --def signer --compressed device.bin --public-key device-pub.pem -o x.crt
head -c 71 device.bin >short.bin
expect_fail "71-byte compressed certificate" "72 bytes" x.crt -- \
  "$ZTP" cert decompress --def device --compressed short.bin --public-key device-pub.pem -o x.crt
expect_fail "missing definition file" "nope.json" x.bin -- \
  "$ZTP" cert compress --def nope.json --cert ca/device.crt -o x.bin
printf '{"template_id": 2}' >bad.json
expect_fail "incomplete definition JSON" "certificate definition JSON" x.bin -- \
  "$ZTP" cert compress --def bad.json --cert ca/device.crt -o x.bin

echo "cert_cli_test: $checks checks passed"
