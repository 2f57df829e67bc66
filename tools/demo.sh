#!/usr/bin/env bash
# `make demo`: the zero-touch flow of the seed guide from nothing, on this machine, one printed step
# at a time: factory PKI → local AWS-IoT-compatible cloud → CA registration → JITR rule → an emulated
# kit (ATECC508A + Wi-Fi + TLS) provisioned over its USB protocol → the device is registered just in
# time on its first connect → LED and button round trips through its shadow.
#
# State lives in ./demo/ (DEMO_DIR): a second run reuses the keys, the cloud and the chip.
# DEMO_ONCE=1 (tests, scripts) exits 0 after the round trips instead of running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ZTP=$(realpath "${ZTP:-build/bin/ztp}")
DEMO=${DEMO_DIR:-demo}
mkdir -p "$DEMO"
DEMO=$(realpath "$DEMO")
CLOUD=$DEMO/cloud
KIT=$DEMO/kit
AWS=/usr/bin/aws
SSID=zerotouch-lab
PSK=correct-horse-battery-staple

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
run() { printf '$ %s\n' "$*"; "$@"; }
fail() { printf 'demo: %s\n' "$*" >&2; exit 1; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for FILE TEXT SECONDS: until FILE contains TEXT, bounded.
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -qF -- "$2" "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out after $3 s waiting for '$2' in $1"
    sleep 0.2
  done
}

echo "zerotouch demo in $DEMO (keys, cloud state and chip are reused between runs)"

step "1. Factory PKI: root CA, signer CA key + CSR, signer CA certificate (ztp ca)"
# A second run keeps the CA (its registration in the cloud stays valid); delete demo/ to start over.
if [ -f "$DEMO/signer-ca.crt" ]; then
  echo "reusing $DEMO/root-ca.crt and $DEMO/signer-ca.crt"
else
  run "$ZTP" ca create-root --dir "$DEMO"
  run "$ZTP" ca create-signer-csr --dir "$DEMO"
  run "$ZTP" ca create-signer --dir "$DEMO"
fi

step "2. The local AWS-IoT-compatible cloud: control plane (SigV4) + MQTT over mutual TLS"
"$ZTP" cloud run --state-dir "$CLOUD" --http 127.0.0.1:0 --mqtt 127.0.0.1:0 >"$DEMO/cloud.out" 2>"$DEMO/cloud.err" &
pids+=($!)
wait_for "$DEMO/cloud.out" "listening mqtts=" 30
HTTP=$(sed -n 's/^listening http=\(.*\)$/\1/p' "$DEMO/cloud.out" | tail -1)
MQTT=$(sed -n 's/^listening mqtts=\(.*\)$/\1/p' "$DEMO/cloud.out" | tail -1)
echo "control plane http://$HTTP, MQTT mqtts://$MQTT (state in $CLOUD)"
export AWS_SHARED_CREDENTIALS_FILE=$CLOUD/credentials AWS_CONFIG_FILE=$CLOUD/config AWS_PAGER=""
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
ENDPOINT=http://$HTTP

step "3. Register the signer CA with the cloud: verification certificate, active, auto-registration (ztp ca register)"
run "$ZTP" ca register --dir "$DEMO" --endpoint-url "$ENDPOINT"

step "4. The JITR rule → built-in ZTLambdaJITR function (ztp cloud setup-jitr)"
run "$ZTP" cloud setup-jitr --state-dir "$CLOUD"

step "5. Start the emulated kit: ATECC508A (provisioned on first start), Wi-Fi AP '$SSID', debug console"
"$ZTP" kit run --dir "$KIT" --wifi-ap "$SSID:$PSK" --server-ca "$CLOUD/server-ca.crt" \
  --endpoint-override "$MQTT" --retry-max-ms 2000 >"$DEMO/kit.out" 2>"$DEMO/kit.err" &
pids+=($!)
wait_for "$DEMO/kit.out" "console=" 20
console=$KIT/console.log
grep -F "console=" "$DEMO/kit.out" | tail -1

step "6. kit set-wifi and kit provision: CSR signed inside the secure element, device certificate, compressed certs"
offset=$(wc -c <"$console" 2>/dev/null || echo 0)
run "$ZTP" kit set-wifi --dir "$DEMO" --ssid "$SSID" --password "$PSK"
run "$ZTP" kit provision --dir "$DEMO" --kit-socket "$KIT/usb.sock"

step "7. The device connects: first attempt refused (JITR), registered by the function, then subscribed"
deadline=$((SECONDS + 60))
until tail -c +"$((offset + 1))" "$console" | grep -qF "SUCCESS: Subscribed to the MQTT update topic subscription"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the kit did not subscribe within 60 s; see $console and $DEMO/cloud.err"
  sleep 0.3
done
tail -c +"$((offset + 1))" "$console" | grep -E "WIFI|DNS|MQTT|JITR|SUCCESS|ERROR|retry|Retry|refused" | tail -12
thing=$(sed -n 's/.*"thing_name": *"\([0-9a-f]*\)".*/\1/p' "$DEMO/kit-info.json")
[ -n "$thing" ] || fail "no thing_name in kit-info.json"
cert_id=$(openssl x509 -in "$DEMO/device.crt" -outform DER | sha256sum | cut -d' ' -f1)
run "$AWS" --endpoint-url "$ENDPOINT" iot describe-certificate --certificate-id "$cert_id" \
  --query 'certificateDescription.{status:status,caCertificateId:caCertificateId}' --output json
run "$AWS" --endpoint-url "$ENDPOINT" iot describe-thing --thing-name "$thing" --query '{thingName:thingName,thingTypeName:thingTypeName}' --output json
run "$AWS" --endpoint-url "$ENDPOINT" iot list-principal-policies --principal \
  "$("$AWS" --endpoint-url "$ENDPOINT" iot describe-certificate --certificate-id "$cert_id" --query certificateDescription.certificateArn --output text)" \
  --query 'policies[].policyName' --output text

step "8. Toggle LED1 through the shadow (desired.led1 = on) and see it lit on the board"
run "$AWS" --endpoint-url "$ENDPOINT" iot-data update-thing-shadow --thing-name "$thing" \
  --cli-binary-format raw-in-base64-out --payload '{"state":{"desired":{"led1":"on"}}}' "$DEMO/shadow-update.json" >/dev/null
deadline=$((SECONDS + 20))
until "$ZTP" kit leds --kit-dir "$KIT" | grep -qiE "led1[^a-z0-9]*on"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "LED1 did not turn on within 20 s"
  sleep 0.3
done
run "$ZTP" kit leds --kit-dir "$KIT"

step "9. Press button 1 on the board and see it reported in the shadow"
run "$ZTP" kit press 1 --kit-dir "$KIT"
deadline=$((SECONDS + 20))
until "$AWS" --endpoint-url "$ENDPOINT" iot-data get-thing-shadow --thing-name "$thing" "$DEMO/shadow.json" >/dev/null 2>&1 &&
  grep -q '"button1": *"down"' <(python3 -m json.tool "$DEMO/shadow.json"); do
  [ "$SECONDS" -lt "$deadline" ] || fail "button 1 was not reported within 20 s"
  sleep 0.3
done
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({"reported": d["state"]["reported"], "version": d["version"]}, indent=1))' "$DEMO/shadow.json"

echo
echo "${bold}Done: the kit was provisioned, registered just in time, and talks to its shadow.${plain}"
if [ "${DEMO_ONCE:-0}" = 1 ]; then exit 0; fi
echo "Cloud control plane: $ENDPOINT (aws CLI: AWS_SHARED_CREDENTIALS_FILE=$CLOUD/credentials AWS_CONFIG_FILE=$CLOUD/config)"
echo "Kit console: $console; board: ztp kit leds|press N --kit-dir $KIT. Ctrl-C to stop."
wait
