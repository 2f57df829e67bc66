#!/usr/bin/env bash
# Shared by tests/e2e/kit_flows_*_test.sh: the real `ztp cloud run`, the emulated kit in one
# `--flow`, the stock aws CLI. Sourced after lib.sh's e2e_init.
kit=$work/kit
console=$kit/console.log
on_failure() {
  echo "--- kit console (tail)"; tail -40 "$console" 2>/dev/null
  echo "--- cloud log (tail)"; tail -30 "$work/cloud.err" 2>/dev/null
}
export ZTP_WIFI_PASSWORD=correct-horse-battery  # the kit's access point and set-wifi

# start_kit FLOW: the emulated kit in FLOW against the running cloud.
start_kit() {
  start_process kit "$ZTP" kit run --dir "$kit" --wifi-ap lab --flow "$1" \
    --server-ca "$work/state/server-ca.crt" --endpoint-override "127.0.0.1:$MQTT_PORT" --retry-max-ms 1000
  KIT_PID=$LAST_PID
  wait_for "$work/kit.out" "console=" 10 || fail "the kit did not start"
}

# shadow_round_trip THING: desired led1 on through the shadow lights the board's LED1, and a
# button press shows up in the reported state.
shadow_round_trip() {
  local thing=$1
  iotdata update-thing-shadow --thing-name "$thing" --cli-binary-format raw-in-base64-out \
    --payload '{"state":{"desired":{"led1":"on"}}}' "$work/shadow.out" >/dev/null
  check "$thing: desired led1=on reaches the board" \
    wait_until 15 bash -c "'$ZTP' kit leds --kit-dir '$kit' | grep -q '\"led1\":\"on\"'"
  "$ZTP" kit press 1 --kit-dir "$kit" >/dev/null
  check "$thing: button 1 reported in the shadow" wait_until 15 bash -c \
    "'$AWS' iot-data --endpoint-url '$endpoint_url' get-thing-shadow --thing-name '$thing' /dev/stdout | grep -q '\"button1\": *\"down\"'"
}

# A policy for the final identity: connect as the thing the certificate is attached to, its own
# shadow topics only (least privilege, AWS's policy variables).
device_policy() {
  cat <<'JSON'
{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Action": "iot:Connect",
  "Resource": "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
 {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
  "Resource": "arn:aws:iot:*:*:topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"},
 {"Effect": "Allow", "Action": "iot:Subscribe",
  "Resource": "arn:aws:iot:*:*:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"}]}
JSON
}
