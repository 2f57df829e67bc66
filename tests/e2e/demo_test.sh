#!/usr/bin/env bash
# `make demo` headless (DEMO_ONCE=1) in a temporary directory, twice: the whole zero-touch flow
# from nothing, then again on the kept state. Asserts what the flow must show: JITR refusal then
# subscription, certificate ACTIVE, thing = hex SKI of the device certificate, ZTPolicy_<certId>
# attached, LED1 lit by a desired change, button 1 reported.
set -euo pipefail
: "${ZTP:?}" "${ZT_SOURCE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() {
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}

for round in 1 2; do
  if ! DEMO_DIR="$work/demo" DEMO_ONCE=1 ZTP="$ZTP" timeout 300 bash "$ZT_SOURCE_DIR/tools/demo.sh" >"$work/demo$round.log" 2>&1; then
    echo "FAIL: demo round $round exited non-zero"
    tail -30 "$work/demo$round.log"
    exit 1
  fi
  log=$work/demo$round.log
  check "round $round: first connect refused (JITR)" grep -q "ERROR: MQTT connect refused" "$log"
  check "round $round: subscribed to the delta topic" grep -q "SUCCESS: Subscribed to the MQTT update topic subscription" "$log"
  check "round $round: certificate ACTIVE" grep -q '"status": "ACTIVE"' "$log"
  cert_id=$(openssl x509 -in "$work/demo/device.crt" -outform DER | sha256sum | cut -d' ' -f1)
  ski=$(openssl x509 -in "$work/demo/device.crt" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr 'A-F' 'a-f')
  check "round $round: thing = hex SKI" grep -q "\"thingName\": \"$ski\"" "$log"
  check "round $round: ZTPolicy_<certId> attached" grep -q "^ZTPolicy_$cert_id\$" "$log"
  check "round $round: LED1 on" grep -q '"led1":"on"' "$log"
  check "round $round: button 1 reported down" grep -q '"button1": "down"' "$log"
  check "round $round: Wi-Fi password not in clear" bash -c "! grep -q correct-horse-battery-staple '$work/demo/kit-info.json'"
done
check "second round reused the CA" grep -q "reusing" "$work/demo2.log"
no_leftover() { ! pgrep -f "[k]it run --dir $work/demo/kit" && ! pgrep -f "[c]loud run --state-dir $work/demo/cloud"; }
check "no process left behind" no_leftover
echo "demo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
