#!/usr/bin/env bash
# `ztp demo --once --dir D`, twice: the whole zero-touch flow from an empty directory, then again
# on the kept state. Each round must exit 0 (its LED and button round trips succeeded); the test
# then reads what it left with independent tools: the kit's console log, and the registry and
# shadow through the real AWS CLI against `ztp cloud run` on the same state directory (thing = hex
# SKI, ZTPolicy_<certId> attached, certificate ACTIVE, reported LED1 and button 1). Last, the
# interactive `ztp demo` prints a working web-console link, and is stopped with SIGINT, which must
# stop its cloud and kit.
source "$(dirname "$0")/lib.sh"
e2e_init demo

demo=$work/demo
console=$demo/kit/console.log
on_failure() { tail -40 "$work"/demo*.log 2>/dev/null; tail -20 "$demo"/cloud.err 2>/dev/null; }
no_leftovers() {
  ! pgrep -f "[k]it run --dir $demo/kit" >/dev/null && ! pgrep -f "[c]loud run --state-dir $demo/cloud" >/dev/null
}

for round in 1 2; do
  log=$work/demo$round.log
  offset=$(stat -c %s "$console" 2>/dev/null || echo 0)
  if ! timeout 300 "$ZTP" demo --once --dir "$demo" >"$log" 2>&1; then
    fail "round $round: ztp demo --once exited non-zero"
  fi
  check "round $round: every step printed" grep -q "== 9. Press button 1" "$log"
  check "round $round: the aws CLI command shown for the shadow update" \
    grep -q '^\$ aws --endpoint-url http://127.0.0.1:[0-9]* iot-data update-thing-shadow --thing-name' "$log"
  check "round $round: the JITR stack through the AWS APIs, printed as aws commands" \
    grep -q '^\$ aws --endpoint-url http://127.0.0.1:[0-9]* iot get-topic-rule --rule-name ZeroTouchJustInTimeRegistration' "$log"
  if ((round == 1)); then
    check "round 1: deploy-jitr created the role, function, permission and rule" grep -q "^deploy-jitr: 6 change(s)" "$log"
  else
    check "round 2: deploy-jitr found everything deployed" grep -q "everything was already deployed; nothing changed" "$log"
  fi
  check "round $round: JITR refused the first connection" grep -q "ERROR: MQTT connect refused" "$log"
  check "round $round: LED1 on, as the board shows it" grep -q '"led1":"on"' "$log"
  check "round $round: done" grep -q "^Done: the kit was provisioned" "$log"
  check "round $round: the web console's device page link" \
    grep -q "^http://127.0.0.1:[0-9]*/console/login?token=[0-9a-f]*&next=/console/%23/device/$(ski_hex "$demo/device.crt")\$" "$log"
  check "round $round: no child process left" no_leftovers

  tail -c +$((offset + 1)) "$console" >"$work/console$round.log"  # this round's console lines
  device=$demo/device.crt
  id=$(cert_id "$device")
  thing=$(ski_hex "$device")
  check "round $round: console: subscribed to the thing's delta" \
    grep -q "SUCCESS: Subscribed to the MQTT update topic subscription: \$aws/things/$thing/shadow/update/delta" "$work/console$round.log"
  check "round $round: console: the delta reached the kit" grep -q 'Received MQTT Shadow Update Delta Message: .*"led1":"on"' "$work/console$round.log"
  check "round $round: console: button 1 pressed" grep -q "Button 1 pressed: down" "$work/console$round.log"
  check "round $round: Wi-Fi password not in clear" bash -c "! grep -q correct-horse-battery-staple '$demo/kit-info.json'"

  # The registry and the shadow the round left, read back with the AWS CLI.
  start_cloud "$demo/cloud"
  check "round $round: certificate ACTIVE" \
    test "$(iot describe-certificate --certificate-id "$id" --query certificateDescription.status --output text)" = ACTIVE
  check "round $round: thing = hex SKI" test "$(iot describe-thing --thing-name "$thing" --query thingName --output text)" = "$thing"
  arn=$(iot describe-certificate --certificate-id "$id" --query certificateDescription.certificateArn --output text)
  check "round $round: ZTPolicy_<certId> attached" \
    test "$(iot list-principal-policies --principal "$arn" --query 'policies[].policyName' --output text)" = "ZTPolicy_$id"
  iotdata get-thing-shadow --thing-name "$thing" "$work/shadow$round.json" >/dev/null
  check "round $round: reported led1 on" test "$(jq -r .state.reported.led1 "$work/shadow$round.json")" = on
  check "round $round: reported button1 down" test "$(jq -r .state.reported.button1 "$work/shadow$round.json")" = down
  stop_process "$CLOUD_PID"
  eval "id$round=$id thing$round=$thing"
done
check "round 2 reused the CA" grep -q "reusing $demo/signer-ca.crt" "$work/demo2.log"
check "round 2: a new device certificate" test "$id1" != "$id2"
check "round 2: the same key in the chip (same thing)" test "$thing1" = "$thing2"

# Interactive: runs until SIGINT, then stops the kit and the cloud and exits 0.
timeout 300 "$ZTP" demo --dir "$demo" >"$work/demo3.log" 2>&1 &
demo_pid=$!
pids+=("$demo_pid")
wait_for "$work/demo3.log" "Running until Ctrl-C." 120 || fail "ztp demo did not reach its running state"
check "interactive: prints the cloud URL" grep -q "^Cloud control plane: http://127.0.0.1:" "$work/demo3.log"
# The device page's one-time link signs a browser in: a redirect to the page with a session cookie.
link=$(grep -o '^http://127.0.0.1:[0-9]*/console/login?token=[0-9a-f]*&next=[^ ]*' "$work/demo3.log" | tail -1)
curl -s -o /dev/null -D "$work/login.headers" "$link" || true
check "interactive: the console link logs in (302 to the device page, session cookie)" \
  bash -c "grep -q '^HTTP/1.1 302' '$work/login.headers' && grep -qi '^set-cookie: ' '$work/login.headers' && grep -qi '^location: /console/#/device/' '$work/login.headers'"
kill -INT "$demo_pid"
rc=0
wait "$demo_pid" || rc=$?
check "interactive: SIGINT ends ztp demo with status 0" test "$rc" -eq 0
check "interactive: the kit and the cloud were stopped" grep -q "stopping ztp cloud run" "$work/demo3.log"
check "interactive: no child process left" no_leftovers
finish_tests
