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
: "${ZTP:?}" "${ZT_SOURCE_DIR:?}" "${ZT_BINARY_DIR:?}"
source "$(dirname "$0")/lib.sh"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing: run tools/setup.sh (apt-get install chromium)"
[ -d "$ZT_BINARY_DIR/web-deps/node_modules/playwright-core" ] ||
  fail "playwright-core is not installed in $ZT_BINARY_DIR/web-deps: build the 'web' target"
[ -f "$ZT_BINARY_DIR/web/index.html" ] || fail "no console bundle in $ZT_BINARY_DIR/web: build the 'web' target"

e2e_init console-fleet
q() { "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; fail "$*"; }; }

make_ca "$work"
start_cloud "$work/cloud" --web-dir "$ZT_BINARY_DIR/web"
HTTP=127.0.0.1:$HTTP_PORT MQTT=127.0.0.1:$MQTT_PORT
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
