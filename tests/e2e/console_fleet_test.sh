#!/usr/bin/env bash
# The fleet view in a real browser (issue 8): one emulated kit goes through the real JITR (refused
# connect → registration event → rule → ZTLambdaJITR → ACTIVE → connected), a rule sends messages
# to a failing function, then `ztp cloud simulate-jitr` adds 1,000 devices of the same CA (real
# certificates, the rows JITR writes, 50 per transaction: seconds instead of 1,000 TLS connections
# with their JITR round trips). tests/e2e/console_fleet.mjs then drives headless Debian chromium
# through playwright-core: CA device count, the virtualised list (DOM rows stay bounded while
# scrolling 1,001 devices), search, the device's JITR timeline in order, the device page link,
# invocations with the failed-only filter, and the live disconnect when the kit stops.
# Screenshots: <build>/test-artifacts/console/fleet-*.png.
set -euo pipefail
: "${ZTP:?}" "${ZT_SOURCE_DIR:?}" "${ZT_BINARY_DIR:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing: run tools/setup.sh (apt-get install chromium)"
[ -d "$ZT_BINARY_DIR/web-deps/node_modules/playwright-core" ] ||
  fail "playwright-core is not installed in $ZT_BINARY_DIR/web-deps: build the 'web' target"
[ -f "$ZT_BINARY_DIR/web/index.html" ] || fail "no console bundle in $ZT_BINARY_DIR/web: build the 'web' target"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
wait_for() {  # FILE TEXT SECONDS
  local deadline=$((SECONDS + $3))
  until grep -qF -- "$2" "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || { tail -20 "$1" >&2 || true; fail "timed out waiting for '$2' in $1"; }
    sleep 0.2
  done
}
q() { "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; fail "$*"; }; }

q "$ZTP" ca create-root --dir "$work"
q "$ZTP" ca create-signer-csr --dir "$work"
q "$ZTP" ca create-signer --dir "$work"
"$ZTP" cloud run --state-dir "$work/cloud" --http 127.0.0.1:0 --mqtt 127.0.0.1:0 \
  --web-dir "$ZT_BINARY_DIR/web" >"$work/cloud.out" 2>"$work/cloud.err" &
pids+=($!)
wait_for "$work/cloud.out" "console http://" 30
HTTP=$(sed -n 's/^listening http=\(.*\)$/\1/p' "$work/cloud.out" | tail -1)
MQTT=$(sed -n 's/^listening mqtts=\(.*\)$/\1/p' "$work/cloud.out" | tail -1)
export AWS_SHARED_CREDENTIALS_FILE=$work/cloud/credentials AWS_CONFIG_FILE=$work/cloud/config AWS_PAGER=""
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL
q "$ZTP" ca register --dir "$work" --endpoint-url "http://$HTTP"
q "$ZTP" cloud setup-jitr --state-dir "$work/cloud"
# A rule whose function always fails: its attempts are the invocation log's failures.
q "$ZTP" cloud function add Broken --exec 'echo "no such table" >&2; exit 3' --state-dir "$work/cloud"
account=$(sed -n 's/^account=\([0-9]*\) .*/\1/p' "$work/cloud.out" | head -1)
q aws --endpoint-url "http://$HTTP" iot create-topic-rule --rule-name BrokenRule --topic-rule-payload \
  "{\"sql\":\"SELECT * FROM 'zt/fail/#'\",\"actions\":[{\"lambda\":{\"functionArn\":\"arn:aws:lambda:us-east-1:$account:function:Broken\"}}]}"

ZTP_WIFI_PASSWORD=fleet-test-psk "$ZTP" kit run --dir "$work/kit" --wifi-ap zt-lab --server-ca "$work/cloud/server-ca.crt" \
  --endpoint-override "$MQTT" --retry-max-ms 1000 >"$work/kit.out" 2>"$work/kit.err" &
kit_pid=$!
pids+=($kit_pid)
wait_for "$work/kit.out" "console=" 20
ZTP_WIFI_PASSWORD=fleet-test-psk q "$ZTP" kit set-wifi --dir "$work" --ssid zt-lab
q "$ZTP" kit provision --dir "$work" --kit-socket "$work/kit/usb.sock"
wait_for "$work/kit/console.log" "SUCCESS: Subscribed to the MQTT update topic subscription" 60
q aws --endpoint-url "http://$HTTP" iot-data publish --topic zt/fail/1 --payload '{"job":1}'
deadline=$((SECONDS + 30))  # attempts 1, 2 (after 0.5 s) and 3 (after 1 s more)
until [ "$("$ZTP" cloud function log --state-dir "$work/cloud" | grep -c '"functionName":"Broken"')" -ge 3 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "Broken was not attempted three times"
  sleep 0.3
done

"$ZTP" cloud simulate-jitr --state-dir "$work/cloud" --ca-cert "$work/signer-ca.crt" \
  --ca-key "$work/signer-ca.key" --count 1000 | tee "$work/simulate.out"
grep -q "simulated JITR of 1000 devices" "$work/simulate.out" || fail "ztp cloud simulate-jitr"

"$ZTP" interact --dir "$work" --endpoint-url "http://$HTTP" >"$work/interact.out" 2>&1 ||
  { cat "$work/interact.out" >&2; fail "ztp interact"; }
URL=$(grep -o 'http://[^ ]*/console/login?token=[^ ]*' "$work/interact.out" | tail -1)
[ -n "$URL" ] || fail "ztp interact printed no login link"
thing=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["thing_name"])' "$work/kit-info.json")

artifacts=$ZT_BINARY_DIR/test-artifacts/console
mkdir -p "$artifacts"
ZT_CONSOLE_URL=$URL ZT_CONSOLE_BASE=http://$HTTP ZT_THING=$thing ZT_KIT_PID=$kit_pid \
  ZT_ARTIFACTS=$artifacts ZT_WEB_DEPS=$ZT_BINARY_DIR/web-deps \
  timeout 240 node "$ZT_SOURCE_DIR/tests/e2e/console_fleet.mjs"
