#!/usr/bin/env bash
# AWS IoT Jobs against `ztp cloud run`, driven by the stock AWS CLI (Debian's /usr/bin/aws): every
# control-plane operation (jobs, executions, templates) with its paging and documented errors, and
# the device's HTTP API (`aws iot-jobs-data`): get-pending, start-next, describe, update, with
# VersionConflictException and InvalidStateTransitionException. The device side's every rejected code
# and notification is jobs_mqtt_paho_test.py.
: "${ZTP:?path of the ztp binary}"
source "$(dirname "$0")/lib.sh"
e2e_init jobs-awscli

check() {  # check <description> <jq expression> <json> (fail-fast)
  jq -e "$2" <<<"$3" >/dev/null || fail "$1: jq '$2' on: $3"
}
expect_error() {  # expect_error <ErrorType> <command...>
  local type=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -ne 0 ]] || fail "expected $type, command succeeded: $*"
  grep -q "($type)" <<<"$out" || fail "expected $type, got: $out"
}
on_failure() { tail -20 "$work/cloud.err"; }

start_cloud "$work/state"
account=$(sed -n 's/^account=\([0-9]*\) .*/\1/p' "$work/cloud.out")
region=$("$AWS" configure get region)
arn() { echo "arn:aws:iot:$region:$account:$1"; }
jobsdata() { "$AWS" iot-jobs-data --endpoint-url "$endpoint_url" --output json "$@"; }

for thing in lamp fan heater; do iot create-thing --thing-name "$thing" >/dev/null; done
doc='{"operation":"setLeds","leds":{"red":true}}'

# --- CreateJob: validation and errors first ------------------------------------------------------
expect_error InvalidRequestException iot create-job --job-id 'bad id!' --targets "$(arn thing/lamp)" --document "$doc"
expect_error InvalidRequestException iot create-job --job-id j0 --targets "$(arn thing/lamp)"
expect_error ResourceNotFoundException iot create-job --job-id j0 --targets "$(arn thing/ghost)" --document "$doc"
expect_error InvalidRequestException iot create-job --job-id j0 --targets "$(arn thing/lamp)" --document "$doc" \
  --timeout-config inProgressTimeoutInMinutes=0
expect_error InvalidRequestException iot create-job --job-id j0 --targets "$(arn thing/lamp)" --document "$doc" \
  --abort-config '{"criteriaList":[{"failureType":"SOMETIMES","action":"CANCEL","thresholdPercentage":50,"minNumberOfExecutedThings":1}]}'

out=$(iot create-job --job-id j1 --targets "$(arn thing/lamp)" "$(arn thing/fan)" --document "$doc" \
  --description "first job" --target-selection SNAPSHOT \
  --job-executions-rollout-config maximumPerMinute=50 \
  --abort-config '{"criteriaList":[{"failureType":"FAILED","action":"CANCEL","thresholdPercentage":100,"minNumberOfExecutedThings":2}]}' \
  --timeout-config inProgressTimeoutInMinutes=30 \
  --presigned-url-config roleArn=arn:aws:iam::$account:role/JobsS3,expiresInSec=600)
check "create-job" ".jobId == \"j1\" and .jobArn == \"$(arn job/j1)\" and .description == \"first job\"" "$out"
expect_error ResourceAlreadyExistsException iot create-job --job-id j1 --targets "$(arn thing/lamp)" --document "$doc"

out=$(iot describe-job --job-id j1)
check "describe-job" '.job.status == "IN_PROGRESS" and .job.targetSelection == "SNAPSHOT"
  and .job.jobProcessDetails.numberOfQueuedThings == 2 and .job.timeoutConfig.inProgressTimeoutInMinutes == 30
  and .job.jobExecutionsRolloutConfig.maximumPerMinute == 50 and (.job.targets | length) == 2
  and .job.abortConfig.criteriaList[0].failureType == "FAILED" and .job.presignedUrlConfig.expiresInSec == 600' "$out"
expect_error ResourceNotFoundException iot describe-job --job-id nope
out=$(iot get-job-document --job-id j1)
check "get-job-document" '.document | fromjson | .operation == "setLeds"' "$out"

# --- executions: describe, list for job / thing with paging and filters ----------------------------
out=$(iot describe-job-execution --job-id j1 --thing-name lamp)
check "describe-job-execution" ".execution.status == \"QUEUED\" and .execution.versionNumber == 1
  and .execution.executionNumber == 1 and .execution.thingArn == \"$(arn thing/lamp)\"" "$out"
expect_error ResourceNotFoundException iot describe-job-execution --job-id j1 --thing-name heater
out=$(iot list-job-executions-for-job --job-id j1 --max-items 1)
check "list for job, page 1" '(.executionSummaries | length) == 1 and (.NextToken | type == "string")' "$out"
out=$(iot list-job-executions-for-job --job-id j1 --max-items 1 --starting-token "$(jq -r .NextToken <<<"$out")")
check "list for job, page 2" ".executionSummaries[0].thingArn == \"$(arn thing/lamp)\" and (has(\"NextToken\") | not)" "$out"
expect_error InvalidRequestException iot list-job-executions-for-job --job-id j1 --status SOMETIMES
expect_error ResourceNotFoundException iot list-job-executions-for-job --job-id nope
out=$(iot list-job-executions-for-thing --thing-name lamp)
check "list for thing" '.executionSummaries[0].jobId == "j1" and .executionSummaries[0].jobExecutionSummary.status == "QUEUED"' "$out"

# --- the device over HTTP (iot-jobs-data) ----------------------------------------------------------
out=$(jobsdata get-pending-job-executions --thing-name lamp)
check "get-pending" '.queuedJobs[0].jobId == "j1" and .inProgressJobs == []' "$out"
out=$(jobsdata start-next-pending-job-execution --thing-name lamp --status-details step=download --step-timeout-in-minutes 5)
check "start-next" '.execution.jobId == "j1" and .execution.status == "IN_PROGRESS" and .execution.versionNumber == 2
  and (.execution.jobDocument | fromjson | .operation == "setLeds") and .execution.statusDetails.step == "download"' "$out"
out=$(jobsdata describe-job-execution --thing-name lamp --job-id j1 --no-include-job-document)
check "describe (device)" '.execution.status == "IN_PROGRESS" and (.execution | has("jobDocument") | not)' "$out"
expect_error VersionConflictException jobsdata update-job-execution --thing-name lamp --job-id j1 --status SUCCEEDED --expected-version 1
out=$(jobsdata update-job-execution --thing-name lamp --job-id j1 --status SUCCEEDED --expected-version 2 \
  --status-details result=ok --include-job-execution-state)
check "update" '.executionState.status == "SUCCEEDED" and .executionState.versionNumber == 3' "$out"
expect_error InvalidStateTransitionException jobsdata update-job-execution --thing-name lamp --job-id j1 --status IN_PROGRESS
out=$(iot describe-job-execution --job-id j1 --thing-name lamp)
check "execution after the device" '.execution.status == "SUCCEEDED" and .execution.statusDetails.detailsMap.result == "ok"
  and (.execution.startedAt | type == "string")' "$out"

# --- CancelJobExecution / DeleteJobExecution --------------------------------------------------------
expect_error InvalidStateTransitionException iot cancel-job-execution --job-id j1 --thing-name lamp
expect_error VersionConflictException iot cancel-job-execution --job-id j1 --thing-name fan --expected-version 9
jobsdata start-next-pending-job-execution --thing-name fan >/dev/null
expect_error InvalidStateTransitionException iot cancel-job-execution --job-id j1 --thing-name fan
expect_error InvalidStateTransitionException iot delete-job-execution --job-id j1 --thing-name fan --execution-number 1
iot cancel-job-execution --job-id j1 --thing-name fan --force --status-details why=test
out=$(iot describe-job-execution --job-id j1 --thing-name fan)
check "force-canceled execution" '.execution.status == "CANCELED" and .execution.forceCanceled == true' "$out"
out=$(iot describe-job --job-id j1)
check "snapshot job completes" '.job.status == "COMPLETED" and (.job.completedAt | type == "string")
  and .job.jobProcessDetails.numberOfSucceededThings == 1 and .job.jobProcessDetails.numberOfCanceledThings == 1' "$out"
expect_error ResourceNotFoundException iot delete-job-execution --job-id j1 --thing-name fan --execution-number 2
iot delete-job-execution --job-id j1 --thing-name fan --execution-number 1
expect_error ResourceNotFoundException iot describe-job-execution --job-id j1 --thing-name fan
expect_error InvalidStateTransitionException iot cancel-job --job-id j1

# --- CancelJob, DeleteJob, ListJobs ---------------------------------------------------------------
iot create-job --job-id j2 --targets "$(arn thing/heater)" --document "$doc" --target-selection CONTINUOUS >/dev/null
iot create-job --job-id j3 --targets "$(arn thing/heater)" "$(arn thing/lamp)" --document "$doc" >/dev/null
expect_error InvalidStateTransitionException iot delete-job --job-id j2
out=$(iot cancel-job --job-id j2 --reason-code BAD_BATCH --comment "stopped by hand")
check "cancel-job" '.jobId == "j2"' "$out"
out=$(iot describe-job --job-id j2)
check "canceled job" '.job.status == "CANCELED" and .job.reasonCode == "BAD_BATCH" and .job.comment == "stopped by hand"
  and .job.jobProcessDetails.numberOfCanceledThings == 1' "$out"
out=$(iot list-jobs --status IN_PROGRESS)
check "list-jobs status" '[.jobs[].jobId] == ["j3"]' "$out"
out=$(iot list-jobs --target-selection CONTINUOUS)
check "list-jobs target selection" '[.jobs[].jobId] == ["j2"]' "$out"
out=$(iot list-jobs --max-items 2)
check "list-jobs page 1" '[.jobs[].jobId] == ["j1","j2"] and (.NextToken | type == "string")' "$out"
out=$(iot list-jobs --max-items 2 --starting-token "$(jq -r .NextToken <<<"$out")")
check "list-jobs page 2" '[.jobs[].jobId] == ["j3"]' "$out"
expect_error InvalidRequestException iot list-jobs --status SOMETIMES
iot delete-job --job-id j2
expect_error ResourceNotFoundException iot describe-job --job-id j2
iot delete-job --job-id j3 --force
out=$(iot list-job-executions-for-thing --thing-name heater)
check "deleted jobs' executions are gone" '.executionSummaries == []' "$out"

# --- job templates ----------------------------------------------------------------------------------
out=$(iot create-job-template --job-template-id leds-red --description "red LEDs" --document "$doc" \
  --timeout-config inProgressTimeoutInMinutes=10)
check "create-job-template" ".jobTemplateId == \"leds-red\" and .jobTemplateArn == \"$(arn jobtemplate/leds-red)\"" "$out"
expect_error ConflictException iot create-job-template --job-template-id leds-red --document "$doc" --description x
out=$(iot create-job-template --job-template-id from-job --job-arn "$(arn job/j1)" --description "copy of j1")
out=$(iot describe-job-template --job-template-id from-job)
check "template from a job" '.document | fromjson | .operation == "setLeds"' "$out"
out=$(iot describe-job-template --job-template-id leds-red)
check "describe-job-template" '.description == "red LEDs" and .timeoutConfig.inProgressTimeoutInMinutes == 10
  and (.createdAt | type == "string")' "$out"
out=$(iot list-job-templates --max-items 1)
check "list-job-templates" '[.jobTemplates[].jobTemplateId] == ["from-job"] and (.NextToken | type == "string")' "$out"
out=$(iot create-job --job-id from-template --targets "$(arn thing/heater)" --job-template-arn "$(arn jobtemplate/leds-red)")
out=$(iot describe-job --job-id from-template)
check "job from a template" ".job.jobTemplateArn == \"$(arn jobtemplate/leds-red)\" and .job.timeoutConfig.inProgressTimeoutInMinutes == 10" "$out"
out=$(iot get-job-document --job-id from-template)
check "template's document" '.document | fromjson | .leds.red == true' "$out"
iot delete-job-template --job-template-id leds-red
expect_error ResourceNotFoundException iot describe-job-template --job-template-id leds-red
expect_error ResourceNotFoundException iot create-job --job-id j9 --targets "$(arn thing/heater)" --job-template-arn "$(arn jobtemplate/leds-red)"

echo "jobs aws CLI: all checks passed"
