#!/usr/bin/env bash
# MQTT 5 against real Mosquitto clients (`mosquitto_pub/sub -V 5`, issue 18) over mutual TLS, each
# check one that fails without the feature:
#   `ztp broker run`: PUBLISH properties (-D: user properties in order with a repeated name, content
#   type, response topic, correlation data, payload format indicator, message expiry counted down);
#   3.1.1 and 5 subscribers on one topic at once; shared subscriptions ($share/<group>/<filter>:
#   each message to one member of the group); message expiry of a message queued for an offline
#   session; session expiry across a reconnect (-x 60 keeps the session, 0 ends it).
#   `ztp cloud run` with a policy: a denied PUBLISH ends an MQTT 5 connection with a reason-coded
#   DISCONNECT (0x87 Not authorized), where 3.1.1 just closes.
source "$(dirname "$0")/broker_lib.sh"

start_broker v5 "$pki/inter.crt"
device=$(tls_args device.crt device.key)
sleep_past_connect_quota() { sleep 1; }  # aws-iot.md §6.3: 1 CONNECT per second per client id

# --- PUBLISH properties, end to end --------------------------------------------------------------
sub props 1 -V 5 -i sub-props -q 1 -t zt5/props -F '%t %p|%P|%C|%R|%D|%F|%E' $device
wait_log v5 "sub-props subscribed to zt5/props"
pub -V 5 -i pub-props -q 1 -t zt5/props -m hello $device \
  -D publish user-property site north -D publish user-property batch 7 -D publish user-property site south \
  -D publish content-type text/plain -D publish response-topic zt5/reply -D publish correlation-data corr-1 \
  -D publish payload-format-indicator 1 -D publish message-expiry-interval 300
wait "$SUB_PID" || true
line=$(cat "$work/props.sub")
check "user properties arrive in order, the repeated name twice" \
  grep -q '^zt5/props hello|site:north batch:7 site:south|' <<<"$line"
check "content type, response topic, correlation data and payload format indicator arrive" \
  grep -q '|text/plain|zt5/reply|corr-1|1|' <<<"$line"
check "the message expiry interval arrives counted down (≤ 300 s, > 0)" \
  bash -c '[[ "$1" =~ \|([0-9]+)$ ]] && ((BASH_REMATCH[1] > 0 && BASH_REMATCH[1] <= 300))' _ "$line"

# --- 3.1.1 and 5 on the same topic at once ------------------------------------------------------
sub mixed5 2 -V 5 -i sub-mixed5 -q 1 -t zt5/mixed -F '%p|%P' $device
sub5=$SUB_PID
wait_log v5 "sub-mixed5 subscribed to zt5/mixed"
sub mixed3 2 -V 311 -i sub-mixed3 -q 1 -t zt5/mixed -v $device
sub3=$SUB_PID
wait_log v5 "sub-mixed3 subscribed to zt5/mixed"
pub -V 311 -i pub-mixed3 -q 1 -t zt5/mixed -m from-311 $device
pub -V 5 -i pub-mixed5 -q 1 -t zt5/mixed -m from-5 -D publish user-property k v $device
wait "$sub5" || true
wait "$sub3" || true
check "the MQTT 5 subscriber gets both, the v5 message with its user property" \
  diff <(printf 'from-311|\nfrom-5|k:v\n') "$work/mixed5.sub"
check "the 3.1.1 subscriber gets both" diff <(printf 'zt5/mixed from-311\nzt5/mixed from-5\n') "$work/mixed3.sub"

# --- shared subscriptions ----------------------------------------------------------------------
# Two members of group g — one MQTT 5, one 3.1.1 (AWS offers shared subscriptions to both) — and
# one ordinary subscriber; 6 messages: the ordinary one gets all 6, the group gets each exactly once
# between its members. -W bounds the members (they cannot know how many they will get).
for member in a b; do
  version=5; [ "$member" = b ] && version=311
  timeout 10 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V $version -i "share-$member" -q 1 -t '$share/g/zt5/shared' \
    -W 4 $device >"$work/share-$member.sub" 2>"$work/share-$member.err" &
  pids+=($!)
  eval "share_$member=$!"
  wait_log v5 "share-$member subscribed to \$share/g/zt5/shared"
done
sub plain 6 -V 5 -i share-plain -q 1 -t zt5/shared $device
wait_log v5 "share-plain subscribed to zt5/shared"
for i in 1 2 3 4 5 6; do pub -V 5 -i "share-pub-$i" -q 1 -t zt5/shared -m "m$i" $device; done
wait "$SUB_PID" || true
wait "$share_a" || true
wait "$share_b" || true
check "the ordinary subscriber gets all 6" diff <(printf 'zt5/shared m%s\n' 1 2 3 4 5 6) "$work/plain.sub"
check "the group gets each message exactly once between its members" \
  diff <(printf 'm%s\n' 1 2 3 4 5 6) <(sort -V "$work/share-a.sub" "$work/share-b.sub")

# --- message expiry of a queued message ----------------------------------------------------------
# A persistent session (clean start off, session expiry 600 s) goes offline; two QoS 1 messages are
# queued, one that expires after 1 s; 2 s later the session comes back and gets only the other.
timeout 10 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 -c -x 600 -i exp-sub -q 1 -t zt5/expiry -W 2 \
  $device >/dev/null 2>&1 &
first=$!
pids+=("$first")
wait_log v5 "exp-sub subscribed to zt5/expiry"
kill "$first"; wait "$first" 2>/dev/null || true
pub -V 5 -i exp-pub-1 -q 1 -t zt5/expiry -m short-lived -D publish message-expiry-interval 1 $device
pub -V 5 -i exp-pub-2 -q 1 -t zt5/expiry -m lasting $device
sleep 2  # past the first message's expiry (the broker's clock, not an assertion on timing)
sub expiry 1 -V 5 -c -x 600 -i exp-sub -q 1 -t zt5/expiry -W 3 $device
wait "$SUB_PID" || true
check "an expired queued message is dropped, the other delivered" diff <(echo 'zt5/expiry lasting') "$work/expiry.sub"

# --- session expiry across a reconnect -----------------------------------------------------------
# session_round NAME FIRST_ARGS…: subscribe with clean start and the given session options, go
# away, a message is published, come back with clean start off (-c -x 60); prints what the second
# connection received. In MQTT 5 the Session Expiry Interval, not clean start, decides whether the
# session outlives the connection (mqtt-v5.0 §3.1.2.11.2).
session_round() {
  local name=$1
  shift
  timeout 10 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 "$@" -i "$name" -q 1 -t "zt5/session/$name" -W 2 \
    $device >/dev/null 2>&1 &
  local first=$!
  pids+=("$first")
  wait_log v5 "$name subscribed to zt5/session/$name"
  kill "$first"; wait "$first" 2>/dev/null || true
  pub -V 5 -i "$name-pub" -q 1 -t "zt5/session/$name" -m "while away" $device
  sleep_past_connect_quota
  sub "$name" 1 -V 5 -c -x 60 -i "$name" -q 1 -t "zt5/session/$name" -W 3 $device
  wait "$SUB_PID" || true
  cat "$work/$name.sub"
}
check "session expiry 60 s (-x 60): the session outlives the connection, the message waits for it" \
  diff <(echo 'zt5/session/keep while away') <(session_round keep -x 60)
check "session expiry 0 (no -x): the session ends with the connection, nothing waits" \
  diff /dev/null <(session_round gone)

# --- a policy denial: reason-coded DISCONNECT (ztp cloud run) ----------------------------------
start_cloud "$work/state"
cd "$work"
iot create-keys-and-certificate --set-as-active --certificate-pem-outfile narrow.crt \
  --private-key-outfile narrow.key >narrow.json
iot create-policy --policy-name Narrow --policy-document '{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
  {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/zt5/allowed"}]}' >/dev/null
iot attach-policy --policy-name Narrow --target "$(jq -r .certificateArn narrow.json)"
cloud_tls="-h 127.0.0.1 -p $MQTT_PORT --cafile $work/state/server-ca.crt --cert narrow.crt --key narrow.key"
check "an allowed PUBLISH succeeds" timeout 10 mosquitto_pub -V 5 $cloud_tls -i narrow-1 -q 1 -t zt5/allowed -m ok
timeout 10 mosquitto_pub -V 5 -d $cloud_tls -i narrow-2 -q 1 -t zt5/denied -m no >denied5.out 2>&1 || true
check "a denied PUBLISH: DISCONNECT with reason 0x87 (Not authorized)" grep -q 'Received DISCONNECT (135)' denied5.out
timeout 10 mosquitto_pub -V 311 -d $cloud_tls -i narrow-3 -q 1 -t zt5/denied -m no >denied3.out 2>&1 || true
check "MQTT 3.1.1: the connection just closes (no DISCONNECT in 3.1.1)" \
  bash -c '! grep -q "Received DISCONNECT" denied3.out && ! grep -q "received PUBACK" denied3.out'

finish_tests
