#!/usr/bin/env bash
# THE jobs flow: a CONTINUOUS job targeted at a DYNAMIC thing group (attributes.fleet:lab) exists
# before the kit's thing is in it; the thing gets fleet=lab, joins the group, the job follows it
# there and reaches the emulated kit over MQTT (notify-next, start-next); the kit runs it
# (setLeds), its reported shadow shows the LEDs, and `aws iot describe-job-execution` shows the
# outcome and, in the raw answer (--debug), the status history; an unknown operation FAILS with
# its reason. The kit is provisioned and registered just in time as the seed's flow does.
: "${ZTP:?path of the ztp binary}"
source "$(dirname "$0")/lib.sh"
e2e_init jobs-kit

kit=$work/kit
console=$kit/console.log
on_failure() {
  echo "--- kit console (tail)"; tail -30 "$console" 2>/dev/null
  echo "--- cloud log (tail)"; tail -30 "$work/cloud.err" 2>/dev/null
}

start_cloud "$work/state"
account=$(sed -n 's/^account=\([0-9]*\) .*/\1/p' "$work/cloud.out")
region=$("$AWS" configure get region)
"$ZTP" cloud setup-jitr --state-dir "$work/state" >/dev/null
make_ca "$work/ca"
"$ZTP" ca register --dir "$work/ca" --endpoint-url "$endpoint_url" >/dev/null
export ZTP_WIFI_PASSWORD=correct-horse-battery
"$ZTP" kit set-wifi --dir "$work/ca" --ssid lab >/dev/null
start_process kit "$ZTP" kit run --dir "$kit" --wifi-ap lab \
  --server-ca "$work/state/server-ca.crt" --endpoint-override "127.0.0.1:$MQTT_PORT" --retry-max-ms 1000 --jobs
KIT_PID=$LAST_PID
wait_for "$work/kit.out" "console=" 10 || fail "the kit did not start"
"$ZTP" kit provision --dir "$work/ca" --kit-socket "$kit/usb.sock" >/dev/null
thing=$(ski_hex "$work/ca/device.crt")
wait_for "$console" "SUCCESS: Subscribed" 30 || fail "the kit did not connect"
check "the kit asks for pending jobs on connect" wait_for "$console" "Jobs: no pending job" 10

# The target: a dynamic thing group of the things whose attribute fleet is "lab".
# The job is created first (CONTINUOUS): the kit's thing joins the group afterwards, when its
# attribute is set, and the job follows it there.
iot update-indexing-configuration --thing-indexing-configuration thingIndexingMode=REGISTRY >/dev/null
iot create-dynamic-thing-group --thing-group-name lab-kits --query-string "attributes.fleet:lab" >/dev/null
group_arn="arn:aws:iot:$region:$account:thinggroup/lab-kits"
iot create-job --job-id leds-on --targets "$group_arn" --target-selection CONTINUOUS \
  --document '{"operation":"setLeds","leds":{"led1":"on","led3":"on"}}' >/dev/null
out=$(iot list-job-executions-for-job --job-id leds-on)
check "no execution while the group is empty" jq -e '.executionSummaries == []' <<<"$out" >/dev/null
out=$(iot list-jobs --thing-group-name lab-kits)
check "list-jobs --thing-group-name" jq -e '[.jobs[].jobId] == ["leds-on"]' <<<"$out" >/dev/null
iot update-thing --thing-name "$thing" --attribute-payload '{"attributes":{"fleet":"lab"},"merge":true}'
check "the thing is in the dynamic group" test "$(iot list-things-in-thing-group --thing-group-name lab-kits --query 'things[0]' --output text)" = "$thing"
check "the kit runs the job" wait_for "$console" "Jobs: job leds-on SUCCEEDED" 20
check "the kit's LEDs are set (its reported shadow)" bash -c \
  "'$AWS' iot-data --endpoint-url '$endpoint_url' get-thing-shadow --thing-name '$thing' '$work/shadow.json' >/dev/null &&
   jq -e '.state.reported.led1 == \"on\" and .state.reported.led3 == \"on\" and .state.reported.led2 == \"off\"' '$work/shadow.json' >/dev/null"

out=$(iot describe-job-execution --job-id leds-on --thing-name "$thing")
check "describe-job-execution: SUCCEEDED with the kit's statusDetails" jq -e \
  '.execution.status == "SUCCEEDED" and .execution.statusDetails.detailsMap.result == "led1=on led3=on"
   and .execution.statusDetails.detailsMap.operation == "setLeds" and .execution.versionNumber == 3' <<<"$out" >/dev/null
"$AWS" iot --endpoint-url "$endpoint_url" describe-job-execution --job-id leds-on --thing-name "$thing" --debug \
  2>&1 | grep -A1 "Response body:$" | tail -1 >"$work/raw.txt" || true
history=$(/usr/bin/python3 - "$work/raw.txt" <<'PY'
import ast, json, sys
body = json.loads(ast.literal_eval(open(sys.argv[1]).read().strip()))
print(" ".join(step["status"] for step in body["execution"]["statusHistory"]))
PY
)
out=$(iot describe-job --job-id leds-on)
check "the continuous job stays IN_PROGRESS" jq -e '.job.status == "IN_PROGRESS" and .job.jobProcessDetails.numberOfSucceededThings == 1' <<<"$out" >/dev/null
check "the status history: QUEUED IN_PROGRESS SUCCEEDED (got: $history)" test "$history" = "QUEUED IN_PROGRESS SUCCEEDED"

# A job the kit cannot run fails with its reason.
iot create-job --job-id bad-op --targets "arn:aws:iot:$region:$account:thing/$thing" \
  --document '{"operation":"selfDestruct"}' >/dev/null
check "an unknown operation fails" wait_for "$console" "Jobs: job bad-op FAILED" 20
out=$(iot describe-job-execution --job-id bad-op --thing-name "$thing")
check "FAILED with the reason" jq -e '.execution.status == "FAILED"
  and (.execution.statusDetails.detailsMap.reason | test("unknown operation"))' <<<"$out" >/dev/null
out=$(iot describe-job --job-id bad-op)
check "the snapshot job is COMPLETED" jq -e '.job.status == "COMPLETED" and .job.jobProcessDetails.numberOfFailedThings == 1' <<<"$out" >/dev/null

stop_process "$KIT_PID"
finish_tests
