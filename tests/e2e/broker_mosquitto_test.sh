#!/usr/bin/env bash
# The broker against real Mosquitto clients over mutual TLS: QoS 0/1 delivery, retained message, will
# on abrupt close, persistent session queueing, and client certificates: missing, untrusted, chained to
# an intermediate anchor with and without the intermediate sent.
source "$(dirname "$0")/broker_lib.sh"

# Anchor = the intermediate ("registered signer CA"): partial chain.
start_broker inter "$pki/inter.crt"
device=$(tls_args device.crt device.key)

# QoS 0 and QoS 1 delivery.
sub qos 2 -i sub-qos -q 1 -t 'zt/test/+' $device
wait_log inter "sub-qos subscribed to zt/test/+"
pub -i pub-a -t zt/test/a -m 'hello qos0' -q 0 $device
pub -i pub-b -t zt/test/b -m 'hello qos1' -q 1 $device
wait "$SUB_PID" || true
check "QoS 0 message delivered" grep -qx 'zt/test/a hello qos0' "$work/qos.sub"
check "QoS 1 message delivered" grep -qx 'zt/test/b hello qos1' "$work/qos.sub"

# Device certificate with and without the intermediate in the chain it sends.
check "device cert without the intermediate accepted (intermediate anchor)" \
  pub -i chain-1 -t zt/chain -m x $(tls_args device.crt device.key)
check "device cert with the intermediate accepted (intermediate anchor)" \
  pub -i chain-2 -t zt/chain -m x $(tls_args device-chain.crt device.key)

# Retained message: stored, then delivered (RETAIN set) to a later subscriber of that exact topic.
pub -i pub-retain -t zt/retained -m 'kept' -r -q 1 $device
sub retained 1 -i sub-retained -t zt/retained $device
wait "$SUB_PID" || true
check "retained message delivered on subscribe" grep -qx 'zt/retained kept' "$work/retained.sub"

# Will on abrupt close: a client with a will is killed (no DISCONNECT); its will goes out.
sub will 1 -i sub-will -t zt/will $device
wait_log inter "sub-will subscribed to zt/will"
mosquitto_sub -h 127.0.0.1 -p "$PORT" -i dying -t zt/idle --will-topic zt/will --will-payload 'gone' \
  $device >/dev/null 2>&1 &
dying=$!
pids+=("$dying")
wait_log inter "dying subscribed to zt/idle"
kill -9 "$dying"  # mosquitto_sub itself (not under timeout), so no DISCONNECT is sent
wait "$SUB_PID" || true
check "will published on abrupt close" grep -qx 'zt/will gone' "$work/will.sub"

# Persistent session: subscribe with clean session off, go away, messages arrive while offline, come back.
timeout 10 mosquitto_sub -h 127.0.0.1 -p "$PORT" -c -i persist -q 1 -t zt/queue -C 1 $device -W 2 >/dev/null 2>&1 &
first=$!
pids+=("$first")
wait_log inter "persist subscribed to zt/queue"
kill "$first"; wait "$first" 2>/dev/null || true
pub -i pub-q1 -t zt/queue -m 'queued 1' -q 1 $device
pub -i pub-q2 -t zt/queue -m 'queued 2' -q 1 $device
sleep 1  # aws-iot.md §6.3: 1 CONNECT per second per client id
sub persist 2 -c -i persist -q 1 -t zt/queue $device
wait "$SUB_PID" || true
check "QoS 1 messages queued while offline are delivered on reconnect" \
  diff <(printf 'zt/queue queued 1\nzt/queue queued 2\n') "$work/persist.sub"

# Lifecycle events (aws-iot.md §6.1): a subscriber to presence events sees another client connect.
sub events 1 -i sub-events -t '$aws/events/presence/connected/+' $device
wait_log inter 'sub-events subscribed to $aws/events/presence/connected/+'
pub -i evt-client -t zt/e -m x $device
wait "$SUB_PID" || true
check "lifecycle 'connected' event published" \
  grep -q '^$aws/events/presence/connected/evt-client {.*"eventType":"connected".*}$' "$work/events.sub"

# Refusals: no client certificate, a certificate of an unknown CA.
check "no client certificate refused" \
  bash -c "! timeout 10 mosquitto_pub -h 127.0.0.1 -p $PORT --cafile $pki/root.crt -i nocert -t zt/x -m x -q 1"
check "certificate of an untrusted CA refused" \
  bash -c "! timeout 10 mosquitto_pub -h 127.0.0.1 -p $PORT $(tls_args rogue-device.crt rogue-device.key) -i rogue -t zt/x -m x -q 1"
check "broker refused them in the TLS handshake" \
  bash -c "grep -q 'peer did not return a certificate' $work/inter.err && grep -q 'certificate verify failed' $work/inter.err"

# Anchor = the root: the device must now send the intermediate for its chain to verify.
start_broker root "$pki/root.crt"
check "root anchor: device cert with intermediate accepted" \
  pub -i root-1 -t zt/chain -m x -q 1 $(tls_args device-chain.crt device.key)
check "root anchor: device cert without intermediate refused" \
  bash -c "! timeout 10 mosquitto_pub -h 127.0.0.1 -p $PORT $(tls_args device.crt device.key) -i root-2 -t zt/x -m x -q 1"

finish_tests
