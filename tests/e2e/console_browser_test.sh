#!/usr/bin/env bash
# The web console in a real browser (issue 8): factory PKI → local cloud → CA registration → JITR
# → an emulated kit provisioned and connected (as `make demo` does) → `ztp interact --kit-dir`
# prints the device page's one-time login link → headless Debian chromium driven by
# playwright-core (tests/e2e/console_browser.mjs) ticks LED2, presses button 3 on the virtual
# board, and checks the guards (401 without login, bad credentials, path traversal, CSRF).
# Screenshots: <build>/test-artifacts/console/. Needs /usr/bin/chromium (tools/setup.sh installs
# it) and <build>/web-deps (npm ci by the build): without them the test FAILS, it does not skip.
: "${ZTP:?}" "${ZT_SOURCE_DIR:?}" "${ZT_BINARY_DIR:?}"
source "$(dirname "$0")/lib.sh"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing: run tools/setup.sh (apt-get install chromium)"
[ -d "$ZT_BINARY_DIR/web-deps/node_modules/playwright-core" ] ||
  fail "playwright-core is not installed in $ZT_BINARY_DIR/web-deps: build the 'web' target"
[ -f "$ZT_BINARY_DIR/web/index.html" ] || fail "no console bundle in $ZT_BINARY_DIR/web: build the 'web' target"

e2e_init console-browser
q() { "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; fail "$*"; }; }

make_ca "$work"
# --kit-dir: the cloud learns the kit's thing name from its board once it is provisioned.
start_cloud "$work/cloud" --web-dir "$ZT_BINARY_DIR/web" --kit-dir "$work/kit"
HTTP=127.0.0.1:$HTTP_PORT MQTT=127.0.0.1:$MQTT_PORT
q "$ZTP" ca register --dir "$work" --endpoint-url "http://$HTTP"
q "$ZTP" cloud setup-jitr --state-dir "$work/cloud"
ZTP_WIFI_PASSWORD=browser-test-psk "$ZTP" kit run --dir "$work/kit" --wifi-ap zt-lab --server-ca "$work/cloud/server-ca.crt" \
  --endpoint-override "$MQTT" --retry-max-ms 1000 >"$work/kit.out" 2>"$work/kit.err" &
pids+=($!)
wait_for "$work/kit.out" "console=" 20 || fail "timed out"
ZTP_WIFI_PASSWORD=browser-test-psk q "$ZTP" kit set-wifi --dir "$work" --ssid zt-lab
q "$ZTP" kit provision --dir "$work" --kit-socket "$work/kit/usb.sock"
wait_for "$work/kit/console.log" "SUCCESS: Subscribed to the MQTT update topic subscription" 60 || fail "timed out"

thing=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["thing_name"])' "$work/kit-info.json")

# Before `ztp interact`: the kit given to `cloud run --kit-dir` is already the thing's board.
id=$(sed -n 's/^aws_access_key_id *= *//p' "$work/cloud/credentials")
secret=$(sed -n 's/^aws_secret_access_key *= *//p' "$work/cloud/credentials")
curl -sf -c "$work/jar" -H 'X-ZT-Console: 1' -H 'Content-Type: application/json' \
  -d "{\"accessKeyId\":\"$id\",\"secretAccessKey\":\"$secret\"}" "http://$HTTP/console/api/login" >/dev/null ||
  fail "console login with the cloud's credentials"
deadline=$((SECONDS + 15))
until curl -sf -b "$work/jar" "http://$HTTP/console/api/devices/$thing" | grep -q '"kit":{"controlSocket"'; do
  [ "$SECONDS" -lt "$deadline" ] || fail "cloud run --kit-dir did not attach the kit of $thing"
  sleep 0.3
done

# The link the user would open; --kit-dir attaches the virtual board.
"$ZTP" interact --dir "$work" --kit-dir "$work/kit" --endpoint-url "http://$HTTP" >"$work/interact.out" 2>&1 ||
  { cat "$work/interact.out" >&2; fail "ztp interact"; }
cat "$work/interact.out"
URL=$(grep -o 'http://[^ ]*/console/login?token=[^ ]*' "$work/interact.out" | tail -1)
[ -n "$URL" ] || fail "ztp interact printed no login link"

artifacts=$ZT_BINARY_DIR/test-artifacts/console
mkdir -p "$artifacts"
ZT_CONSOLE_URL=$URL ZT_CONSOLE_BASE=http://$HTTP ZT_THING=$thing ZT_KIT_DIR=$work/kit \
  ZT_ARTIFACTS=$artifacts ZT_CLOUD_DIR=$work/cloud ZT_WEB_DEPS=$ZT_BINARY_DIR/web-deps \
  timeout 240 node "$ZT_SOURCE_DIR/tests/e2e/console_browser.mjs"
