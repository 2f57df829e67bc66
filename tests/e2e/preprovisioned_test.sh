#!/usr/bin/env bash
# Pre-provisioned parts / multi-account registration end to end: a Trust&GO-shaped manifest
# (tests/e2e/make_manifest.py; certificates made with openssl) imported by
# `ztp cloud import-certificates`, each entry verified before RegisterCertificateWithoutCA; the
# registered devices connect with mosquitto_pub only when they send SNI (AWS: "Devices with
# certificates in SNI_ONLY mode must send the SNI extension"), and not once their certificate is
# INACTIVE. A second import reports the parts already registered.
source "$(dirname "$0")/lib.sh"
e2e_init preprovisioned
on_failure() { echo "--- cloud log (tail)"; tail -30 "$work/cloud.err" || true; }
cd "$work"
start_cloud state

# --- the vendor's PKI: root → signer → devices; a rogue signer; the manifest signer --------------
ca() {  # ca NAME SUBJECT [ISSUER]
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
  if [ -z "${3:-}" ]; then
    openssl req -x509 -new -key "$1.key" -sha256 -days 365 -subj "$2" -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,cRLSign -out "$1.crt"
  else
    openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days 365 -sha256 \
      -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  fi
}
device() {  # device NAME SERIAL SIGNER
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
  openssl req -new -key "$1.key" -subj "/O=Microchip Technology Inc/CN=sn$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days 365 -sha256 -out "$1.crt" 2>/dev/null
}
ca root "/O=Example Vendor/CN=Example Root CA"
ca signer "/O=Example Vendor/CN=Example Signer FFFF" root
ca rogue "/O=Rogue/CN=Rogue Signer"
device dev1 0123a1b2c3d4e5f601 signer
device dev2 0123a1b2c3d4e5f602 signer
device dev3 0123a1b2c3d4e5f603 signer
device dev4 0123a1b2c3d4e5f604 signer
device bad 0123a1b2c3d4e5f6ff rogue
openssl ecparam -name prime256v1 -genkey -noout -out manifest-signer.key 2>/dev/null
openssl req -x509 -new -key manifest-signer.key -days 30 -subj "/O=Example Vendor/CN=Manifest Signer" -out manifest-signer.crt
/usr/bin/python3 "$ZT_SOURCE_DIR/tests/e2e/make_manifest.py" manifest-signer.key manifest-signer.crt manifest.json \
  0123a1b2c3d4e5f601:dev1.crt:signer.crt 0123a1b2c3d4e5f602:dev2.crt:signer.crt \
  0123a1b2c3d4e5f603:dev3.crt:signer.crt:tamper 0123a1b2c3d4e5f604:dev4.crt:signer.crt:wrongkey \
  0123a1b2c3d4e5f6ff:bad.crt:rogue.crt

iot create-policy --policy-name PreprovisionedDevice --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect","iot:Publish"],"Resource":"*"}]}' >/dev/null
import() {
  "$ZTP" cloud import-certificates --manifest manifest.json --root root.crt --manifest-signer manifest-signer.crt \
    --policy PreprovisionedDevice --create-things --endpoint-url "$endpoint_url" --region us-east-1
}
if import >import.out 2>import.err; then fail "an import with refused parts exited 0"; fi
cat import.out
check "dev1 registered" grep -q "^0123a1b2c3d4e5f601  registered $(cert_id dev1.crt)$" import.out
check "dev2 registered" grep -q "^0123a1b2c3d4e5f602  registered $(cert_id dev2.crt)$" import.out
check "tampered entry refused" grep -q "^0123a1b2c3d4e5f603  refused: the manifest signature does not verify" import.out
check "listed key refused" grep -q "^0123a1b2c3d4e5f604  refused: the manifest's device key is not" import.out
check "rogue chain refused" grep -q "^0123a1b2c3d4e5f6ff  refused: the device certificate's chain: " import.out
check "broken entry refused" grep -q "^entry 5  refused: payload, protected and signature must be strings" import.out
check "summary" grep -q "^2 registered, 0 already registered, 4 refused$" import.out
for refused in dev3 dev4 bad; do
  if iot describe-certificate --certificate-id "$(cert_id $refused.crt)" >/dev/null 2>&1; then
    fail "refused part $refused was registered"
  fi
done
dev1_id=$(cert_id dev1.crt)
iot describe-certificate --certificate-id "$dev1_id" | jq -e '.certificateDescription | .status == "ACTIVE" and
  .certificateMode == "SNI_ONLY" and (has("caCertificateId") | not)' >/dev/null || fail "dev1: ACTIVE, SNI_ONLY, no CA"
iot list-thing-principals --thing-name 0123a1b2c3d4e5f601 | jq -e --arg id "$dev1_id" \
  '.principals == ["arn:aws:iot:us-east-1:" + (.principals[0] | split(":")[4]) + ":cert/" + $id]' >/dev/null \
  || fail "thing 0123a1b2c3d4e5f601 with dev1's certificate"
iot list-attached-policies --target "$(iot describe-certificate --certificate-id "$dev1_id" | jq -r .certificateDescription.certificateArn)" |
  jq -e '.policies[0].policyName == "PreprovisionedDevice"' >/dev/null || fail "policy attached"
pass

# --- MQTT: with SNI (-h localhost) accepted; without (an IP address sends none) refused ----------
pub() {  # pub HOST CERT KEY CLIENT [EXTRA]
  mosquitto_pub -h "$1" -p "$MQTT_PORT" --cafile state/server-ca.crt --cert "$2" --key "$3" -i "$4" \
    -t "parts/$4" -m hello -q 1 "${@:5}"
}
check "dev1 connects with SNI" pub localhost dev1.crt dev1.key dev1
cat dev2.crt signer.crt >dev2-chain.crt
check "dev2 with its chain, with SNI" pub localhost dev2-chain.crt dev2.key dev2
# mosquitto_pub sends the host as SNI even when it is an IP address: `openssl s_client
# -noservername` sends none. connack ARGS…: the CONNACK bytes a CONNECT (MQTT 3.1.1, client id
# dev1) got back ("" when the broker hung up); the same probe with SNI is the control.
connack() {
  { printf '\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04dev1'; sleep 2; } |
    timeout 5 openssl s_client -connect 127.0.0.1:$MQTT_PORT -cert dev1.crt -key dev1.key -quiet "$@" 2>/dev/null |
    od -An -tx1 | tr -d ' \n' || true
}
sleep 1  # AWS's quota: one CONNECT per second per client id
check "s_client with SNI: CONNACK accepted" test "$(connack -servername localhost)" = 20020000
sleep 1
check "s_client without SNI: no CONNACK" test -z "$(connack -noservername)"
check "refused without SNI, logged" wait_for "$work/cloud.err" "is SNI_ONLY: the client must send SNI" 5
if pub localhost dev3.crt dev3.key dev3 2>/dev/null; then fail "a refused part connected"; fi
pass

# --- a second import: the same parts are reported as already registered ------------------------
if import >import2.out 2>&1; then fail "second import exited 0"; fi
check "second import" grep -q "^0 registered, 2 already registered, 4 refused$" import2.out

# --- deactivated: refused at once -----------------------------------------------------------------
iot update-certificate --certificate-id "$dev1_id" --new-status INACTIVE
sleep 1  # one CONNECT per second per client id
if pub localhost dev1.crt dev1.key dev1 2>/dev/null; then fail "an INACTIVE certificate connected"; fi
pass
finish_tests
