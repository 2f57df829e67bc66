#!/usr/bin/env bash
# Policies attached to thing groups apply to the member things' certificates at the broker
# (developer guide, "Static thing groups": a group's policy "is inherited by its child groups, and
# by all of the things in the group and in its child groups"), driven by the stock AWS CLI
# (/usr/bin/aws) and mosquitto clients against `ztp cloud run`:
#   - a certificate with no policy of its own is refused at CONNECT;
#   - its thing added to a CHILD group of a group with a policy: CONNECT, PUBLISH and SUBSCRIBE
#     are allowed (inherited, and only with the thing's name as client id);
#   - the thing removed from the group: refused again at once (the authorizer's cache forgets);
#   - a policy detached from the group takes the access away too; AttachPolicy to a missing
#     group is ResourceNotFoundException.
: "${ZTP:?path of the ztp binary}"
source "$(dirname "$0")/lib.sh"
e2e_init thing-group-policy

on_failure() { tail -20 "$work/cloud.err"; }
start_cloud "$work/state"
cd "$work"

iot create-keys-and-certificate --set-as-active --certificate-pem-outfile dev.crt \
  --private-key-outfile dev.key >dev.json
cert_arn=$(jq -r .certificateArn dev.json)
group_arn_prefix=${cert_arn%%:cert/*}:thinggroup/
iot create-thing --thing-name sensor-7 >/dev/null
iot attach-thing-principal --thing-name sensor-7 --principal "$cert_arn"
iot create-thing-group --thing-group-name fleet >/dev/null
iot create-thing-group --thing-group-name fleet-eu --parent-group-name fleet >/dev/null
iot create-policy --policy-name FleetAccess --policy-document '{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
  {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:*:*:topic/fleet/${iot:Connection.Thing.ThingName}/*"},
  {"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:*:*:topicfilter/fleet/${iot:Connection.Thing.ThingName}/*"}]}' >/dev/null
iot attach-policy --policy-name FleetAccess --target "${group_arn_prefix}fleet"

tls=(-h 127.0.0.1 -p "$MQTT_PORT" --cafile "$work/state/server-ca.crt" --cert dev.crt --key dev.key)
# The broker allows one CONNECT per second per client id (AWS IoT's quota): each connection of
# sensor-7 waits that long, so a refusal below is the policy's, never the throttle's.
pace() { sleep 1.1; }
publish() {  # publish <client id> <topic>: succeeds only when the broker acknowledges (QoS 1)
  pace
  timeout 10 mosquitto_pub -V 311 -d "${tls[@]}" -i "$1" -q 1 -t "$2" -m hello >pub.out 2>&1 &&
    grep -q "received PUBACK" pub.out
}

out=$(iot attach-policy --policy-name FleetAccess --target "${group_arn_prefix}missing" 2>&1) &&
  fail "AttachPolicy to a missing thing group succeeded"
grep -q "(ResourceNotFoundException)" <<<"$out" || fail "AttachPolicy to a missing group: $out"
pass

if publish sensor-7 fleet/sensor-7/temp; then fail "no policy yet, but the device got in"; fi
pass

iot add-thing-to-thing-group --thing-group-name fleet-eu --thing-name sensor-7
check "the parent group's policy lets its child group's thing connect and publish" publish sensor-7 fleet/sensor-7/temp
if publish other-client fleet/sensor-7/temp; then fail "a client id that is not the thing got the group policy"; fi
pass

# SUBSCRIBE and delivery under the group policy.
pace
stdbuf -oL mosquitto_sub -V 311 "${tls[@]}" -i sensor-7 -q 1 -t 'fleet/sensor-7/#' -C 1 -W 20 >sub.out 2>sub.err &
sub=$!
send_cmd() { iotdata publish --topic fleet/sensor-7/cmd --cli-binary-format raw-in-base64-out --payload '{"go":1}'; }
for _ in 1 2 3 4 5; do send_cmd; grep -q go sub.out && break; sleep 1; done
wait "$sub" || true
check "a subscription under the group policy receives" grep -q '"go"' sub.out

iot remove-thing-from-thing-group --thing-group-name fleet-eu --thing-name sensor-7
if publish sensor-7 fleet/sensor-7/temp; then fail "removed from the group, still allowed"; fi
pass

iot update-thing-groups-for-thing --thing-name sensor-7 --thing-groups-to-add fleet
check "back in a group with the policy (UpdateThingGroupsForThing)" publish sensor-7 fleet/sensor-7/temp
iot detach-policy --policy-name FleetAccess --target "${group_arn_prefix}fleet"
if publish sensor-7 fleet/sensor-7/temp; then fail "the group's policy detached, still allowed"; fi
pass

finish_tests
