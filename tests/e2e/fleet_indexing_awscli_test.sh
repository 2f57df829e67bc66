#!/usr/bin/env bash
# Fleet indexing with the stock AWS CLI (issue 17): the CLI's shorthand for
# update-indexing-configuration, search-index paging with --max-results/--next-token, and
# connectivity indexing driven by a real MQTT device (mosquitto_sub over mutual TLS, client id =
# thing name, as AWS's connectivity indexing keys it): connected while it is subscribed, then
# disconnected with AWS's disconnectReason. describe-index, list-indices, the aggregations and
# their documented errors.
source "$(dirname "$0")/lib.sh"
e2e_init fleet-indexing-awscli

start_cloud "$work/state"
cd "$work"
expect_error() {  # expect_error <Code> <command...>: the CLI fails naming the error code.
  local code=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -ne 0 ]] || fail "expected $code, the command succeeded: $*"
  grep -q "($code)" <<<"$out" || fail "expected $code, got: $out"
}
search() { iot search-index --query-string "$@"; }
names() { jq -c '[.things[].thingName]'; }

expect_error ResourceNotFoundException search 'thingName:*'
iot update-indexing-configuration --thing-indexing-configuration \
  'thingIndexingMode=REGISTRY_AND_SHADOW,thingConnectivityIndexingMode=STATUS,customFields=[{name=attributes.watts,type=Number}]'
out=$(iot get-indexing-configuration)
jq -e '.thingIndexingConfiguration.thingIndexingMode == "REGISTRY_AND_SHADOW"
       and (.thingIndexingConfiguration.managedFields | map(.name) | index("connectivity.connected"))
       and .thingIndexingConfiguration.customFields == [{"name":"attributes.watts","type":"Number"}]' \
  <<<"$out" >/dev/null || fail "configuration: $out"
[[ $(iot list-indices | jq -c .indexNames) == '["AWS_Things"]' ]] || fail "list-indices"
[[ $(iot describe-index --index-name AWS_Things | jq -r .schema) == REGISTRY_AND_SHADOW_AND_CONNECTIVITY_STATUS ]] ||
  fail "describe-index"
pass

# Five lamps; lamp-3 gets a certificate and connects.
for i in 1 2 3 4 5; do
  iot create-thing --thing-name "lamp-$i" --attribute-payload "{\"attributes\":{\"watts\":\"${i}0\"}}" >/dev/null
done
[[ $(search 'thingName:lamp-*' | names) == '["lamp-1","lamp-2","lamp-3","lamp-4","lamp-5"]' ]] || fail "all lamps"
page=$(search 'thingName:lamp-*' --max-results 2)
[[ $(names <<<"$page") == '["lamp-1","lamp-2"]' ]] || fail "first page: $page"
token=$(jq -r .nextToken <<<"$page")
page=$(search 'thingName:lamp-*' --max-results 2 --next-token "$token")
[[ $(names <<<"$page") == '["lamp-3","lamp-4"]' ]] || fail "second page: $page"
page=$(search 'thingName:lamp-*' --max-results 2 --next-token "$(jq -r .nextToken <<<"$page")")
[[ $(names <<<"$page") == '["lamp-5"]' && $(jq 'has("nextToken")' <<<"$page") == false ]] || fail "last page: $page"
[[ $(search 'attributes.watts:[20 TO 40}' | names) == '["lamp-2","lamp-3"]' ]] || fail "range"
pass

iot create-keys-and-certificate --set-as-active --certificate-pem-outfile lamp.crt \
  --private-key-outfile lamp.key >lamp.json
iot create-policy --policy-name LampPolicy --policy-document '{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["iot:Connect","iot:Subscribe","iot:Receive"],"Resource":"*"}]}' >/dev/null
iot attach-policy --policy-name LampPolicy --target "$(jq -r .certificateArn lamp.json)"
iot attach-thing-principal --thing-name lamp-3 --principal "$(jq -r .certificateArn lamp.json)"
start_process lamp mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" --cafile "$work/state/server-ca.crt" \
  --cert lamp.crt --key lamp.key -i lamp-3 -t lamps/3 -q 1
lamp_pid=$LAST_PID
connected() { [[ $(search 'connectivity.connected:true' | names) == '["lamp-3"]' ]]; }
wait_until 20 connected || fail "lamp-3 never indexed as connected: $(search 'thingName:lamp-3')"
out=$(search 'thingName:lamp-3')
jq -e '.things[0].connectivity.connected == true and (.things[0].connectivity.timestamp > 1600000000000)' \
  <<<"$out" >/dev/null || fail "connectivity: $out"
stop_process "$lamp_pid"
disconnected() {
  search 'thingName:lamp-3' | jq -e '.things[0].connectivity | .connected == false and (.disconnectReason | type == "string")' >/dev/null
}
wait_until 20 disconnected || fail "lamp-3 never indexed as disconnected: $(search 'thingName:lamp-3')"
[[ $(search 'connectivity.connected:false' | jq '.things | length') == 5 ]] || fail "five disconnected"
pass

out=$(iot get-statistics --query-string 'thingName:lamp-*' --aggregation-field attributes.watts)
jq -e '.statistics | .count == 5 and .sum == 150 and .average == 30 and .minimum == 10 and .maximum == 50' \
  <<<"$out" >/dev/null || fail "statistics: $out"
[[ $(iot get-cardinality --query-string '*' --aggregation-field connectivity.connected | jq .cardinality) == 1 ]] ||
  fail "cardinality"
out=$(iot get-percentiles --query-string '*' --aggregation-field attributes.watts --percents 50)
[[ $(jq -c .percentiles <<<"$out") == '[{"percent":50,"value":30}]' ]] || fail "percentiles: $out"
expect_error InvalidAggregationException iot get-percentiles --query-string '*' --aggregation-field thingName
expect_error InvalidQueryException search 'thingName:(lamp'
expect_error InvalidRequestException iot update-indexing-configuration \
  --thing-indexing-configuration thingIndexingMode=OFF,thingConnectivityIndexingMode=STATUS
pass
echo "fleet indexing with the aws CLI: $checks checks passed"
