#!/usr/bin/env bash
# Just-in-time registration end to end against `ztp cloud run` (REST API + MQTT broker), with real
# clients only: the ztp factory PKI, the AWS CLI (Debian's /usr/bin/aws), mosquitto_pub/sub and
# paho (/usr/bin/python3). Flow of the seed guide: register the signer CA, create the JITR rule,
# a device nobody registered connects → refused, registration event seen by an admin subscriber,
# the built-in ZTLambdaJITR activates it → second connect succeeds. Then policy enforcement,
# shadows over HTTP and MQTT, revocation of a live session, and the same JITR flow with the
# project's Python JITR function (functions/jitr/lambda_function.py) run as an external command.
# Admin subscriber: a certificate from CreateKeysAndCertificate (signed by the cloud's issuer CA,
# which the broker trusts) with an allow-all policy attached.
source "$(dirname "$0")/lib.sh"
e2e_init jitr
on_failure() { echo "--- server log (tail)"; tail -40 "$work/server.err" || true; }
now_ms() { date +%s%3N; }

cd "$work"
"$ZTP" --log-level info cloud run --state-dir state --http 127.0.0.1:0 --mqtt 127.0.0.1:0 >server.out 2>server.err &
pids+=($!)
wait_until 10 grep -q '^listening mqtts=' server.out || fail "cloud did not start: $(cat server.out)"
http_port=$(sed -n 's/^listening http=127\.0\.0\.1:\([0-9]*\)$/\1/p' server.out)
mqtt_port=$(sed -n 's/^listening mqtts=127\.0\.0\.1:\([0-9]*\)$/\1/p' server.out)
account=$(sed -n 's/^account=\([0-9]*\) .*/\1/p' server.out)
[[ -n "$http_port" && -n "$mqtt_port" ]] || fail "listening lines: $(cat server.out)"
endpoint_url="http://127.0.0.1:$http_port"
# The new account's secret is in the 0600 credentials file, never in the output (often a log).
secret=$(sed -n 's/^aws_secret_access_key = //p' state/credentials)
[[ -n "$secret" && "$(stat -c %a state/credentials)" == 600 ]] || fail "state/credentials: no secret or not 0600"
grep -qF "$secret" server.out server.err && fail "the secret access key was printed by cloud run"

aws_env "$work/state"
# mqtt_tls CERT KEY: the server is verified (CA + SAN localhost); SNI "localhost".
mqtt_tls() { echo "-h localhost -p $mqtt_port --cafile $work/state/server-ca.crt --cert $1 --key $2"; }

# --- factory PKI and CA registration (seed guide §III-IV) -------------------------------------
make_ca pki
"$ZTP" ca register --dir pki --endpoint-url "$endpoint_url" >register.out || fail "ca register: $(cat register.out)"
ca_id=$(cert_id pki/signer-ca.crt)
iot describe-ca-certificate --certificate-id "$ca_id" | jq -e '.certificateDescription.status == "ACTIVE" and
  .certificateDescription.autoRegistrationStatus == "ENABLE"' >/dev/null || fail "CA not ACTIVE/ENABLE"
"$ZTP" cloud setup-jitr --state-dir state | grep -q ZeroTouchJustInTimeRegistration || fail "setup-jitr"
iot get-topic-rule --rule-name ZeroTouchJustInTimeRegistration | jq -e --arg arn \
  "arn:aws:lambda:us-east-1:$account:function:ZTLambdaJITR" '.rule.actions[0].lambda.functionArn == $arn' >/dev/null \
  || fail "JITR rule"

# --- admin subscriber on $aws/events/# ---------------------------------------------------------
iot create-keys-and-certificate --set-as-active --certificate-pem-outfile admin.crt \
  --private-key-outfile admin.key >admin.json
admin_arn=$(jq -r .certificateArn admin.json)
iot create-policy --policy-name AdminAll \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}' >/dev/null
iot attach-policy --policy-name AdminAll --target "$admin_arn"
stdbuf -oL mosquitto_sub $(mqtt_tls admin.crt admin.key) -i admin -q 1 -t '$aws/events/#' -v -d >events.log 2>&1 &
pids+=($!)
wait_until 10 grep -q 'received SUBACK' events.log || fail "admin subscriber: $(cat events.log)"

# --- a device nobody registered ------------------------------------------------------------------
device() {  # device NAME CN: key, CSR (openssl req), certificate from ztp ca issue-device, chain
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
  openssl req -new -key "$1.key" -subj "/O=Example Inc/CN=$2" -out "$1.csr"
  "$ZTP" ca issue-device --dir pki --csr "$1.csr" --out "$1.crt" >/dev/null
  cat "$1.crt" pki/signer-ca.crt >"$1-chain.crt"
}
device dev1 "sn0123abcd"
dev1_id=$(cert_id dev1.crt)
thing=$(openssl x509 -in dev1.crt -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)

# The first attempt runs in the background so the activation is timed from the connect itself.
t0=$(now_ms)
timeout 10 mosquitto_pub $(mqtt_tls dev1-chain.crt dev1.key) -i "$thing" -t "$thing/hello" -m first -q 1 \
  >first.out 2>&1 &
first_pub=$!
active() { [[ $(iot describe-certificate --certificate-id "$dev1_id" | jq -r .certificateDescription.status) == ACTIVE ]]; }
wait_until 20 active || fail "the JITR function did not activate $dev1_id: $("$ZTP" cloud function log --state-dir state)"
t1=$(now_ms)
if wait "$first_pub"; then fail "first connect of an unregistered device succeeded"; fi
wait_until 10 grep -q "certificates/registered/$ca_id .*\"certificateId\":\"$dev1_id\"" events.log \
  || fail "no registration event: $(grep -v '^Client' events.log)"
event=$(grep -m1 "^\$aws/events/certificates/registered/$ca_id " events.log | cut -d' ' -f2-)
jq -e --arg ca "$ca_id" --arg acct "$account" '.caCertificateId == $ca and .awsAccountId == $acct and
  .certificateStatus == "PENDING_ACTIVATION" and (.timestamp | type) == "number" and
  (.certificateRegistrationTimestamp | test("^[0-9]{13}$")) and .sourceIp == "127.0.0.1"' <<<"$event" >/dev/null \
  || fail "registration event payload: $event"
echo "JITR: first connect → certificate ACTIVE seen by aws iot describe-certificate in $((t1 - t0)) ms (CLI polling: ~0.5 s per call)"
iot describe-thing --thing-name "$thing" | jq -e '.thingTypeName == "microchip-zero-touch-kit"' >/dev/null || fail "thing"
iot list-thing-principals --thing-name "$thing" | jq -e --arg id "$dev1_id" '.principals[0] | endswith($id)' >/dev/null \
  || fail "thing principal"
"$ZTP" cloud function log --state-dir state | jq -se 'map(select(.functionName == "ZTLambdaJITR" and .succeeded)) |
  length == 1' >/dev/null || fail "invocation log: $("$ZTP" cloud function log --state-dir state)"

# --- second connect succeeds; lifecycle events; policy refusals close the connection -------------
timeout 10 mosquitto_pub $(mqtt_tls dev1-chain.crt dev1.key) -i "$thing" -t "$thing/hello" -m second -q 1 \
  || fail "second connect refused"
wait_until 10 grep -q "presence/connected/$thing " events.log || fail "no connected event"
wait_until 10 grep -q "presence/disconnected/$thing .*CLIENT_INITIATED_DISCONNECT" events.log || fail "no disconnected event"
sleep 1  # aws-iot.md §6.3: 1 CONNECT per second per client id
timeout 10 mosquitto_pub $(mqtt_tls dev1-chain.crt dev1.key) -i "$thing" -t "\$aws/things/someone-else/shadow/update" \
  -m '{"state":{}}' -q 1 >other.out 2>&1 || true
wait_until 10 grep -q "presence/disconnected/$thing .*FORBIDDEN_ACCESS" events.log \
  || fail "publishing to another thing's shadow was not refused: $(cat other.out)"
if timeout 10 mosquitto_pub $(mqtt_tls dev1-chain.crt dev1.key) -i "not-$thing" -t "$thing/x" -m x -q 1 >/dev/null 2>&1; then
  fail "connect with a client id the policy does not allow succeeded"
fi

# --- shadows: HTTP (aws iot-data) and MQTT (paho) agree ---------------------------------------
sleep 1  # the same client id connected just above (1 CONNECT per second per client id)
/usr/bin/python3 "$ZT_SOURCE_DIR/tests/e2e/jitr/shadow_device.py" localhost "$mqtt_port" state/server-ca.crt \
  dev1-chain.crt dev1.key "$thing" "$endpoint_url" >shadow.json || fail "paho shadow device"
jq -e '.delta.state == {"color":"red","interval":30} and .accepted.state.reported.color == "red" and
  .get.state.delta == {"interval":30} and .get.state.reported.color == "red"' shadow.json >/dev/null \
  || fail "MQTT shadow view: $(cat shadow.json)"
iotdata get-thing-shadow --thing-name "$thing" get.json >/dev/null
jq -e --slurpfile mqtt shadow.json '.state.desired == {"color":"red","interval":30} and .state.reported == {"color":"red"}
  and .state.delta == {"interval":30} and .version == $mqtt[0].get.version' get.json >/dev/null \
  || fail "REST shadow differs from MQTT: $(cat get.json) vs $(cat shadow.json)"
version=$(jq .version get.json)
out=$(iotdata update-thing-shadow --thing-name "$thing" --cli-binary-format raw-in-base64-out \
  --payload "{\"state\":{\"desired\":{\"color\":\"blue\"}},\"version\":$((version - 1))}" conflict.json 2>&1) \
  && fail "stale version accepted"
grep -q "ConflictException" <<<"$out" || fail "version conflict: $out"
iotdata update-thing-shadow --thing-name "$thing" --shadow-name cfg --cli-binary-format raw-in-base64-out \
  --payload '{"state":{"reported":{"fw":"1.0"}}}' named.json >/dev/null
iotdata get-thing-shadow --thing-name "$thing" --shadow-name cfg named-get.json >/dev/null
jq -e '.state.reported.fw == "1.0" and .version == 1' named-get.json >/dev/null || fail "named shadow: $(cat named-get.json)"
out=$(iotdata get-thing-shadow --thing-name "$thing" --shadow-name nope nope.json 2>&1) && fail "missing shadow found"
grep -q "ResourceNotFoundException" <<<"$out" || fail "missing shadow: $out"

# --- revoking a certificate ends its live session ---------------------------------------------
stdbuf -oL mosquitto_sub $(mqtt_tls dev1-chain.crt dev1.key) -i "$thing" -t "$thing/#" -d >dev1-sub.log 2>&1 &
dev1_sub=$!
pids+=("$dev1_sub")
wait_until 10 grep -q 'received SUBACK' dev1-sub.log || fail "device subscriber: $(cat dev1-sub.log)"
iot update-certificate --certificate-id "$dev1_id" --new-status REVOKED
t_revoked=$(now_ms)
wait_until 10 grep -q "presence/disconnected/$thing .*SERVER_INITIATED_DISCONNECT" events.log \
  || fail "revoked certificate still connected"
# The session was closed by UpdateCertificate's commit hook, not a poll: the server log says so.
grep -q "certificate $dev1_id is REVOKED (registry change): closed 1 connection" server.err \
  || fail "no revocation hook in the server log: $(grep -i revok server.err)"
echo "revocation: update-certificate returned → disconnected event seen within $(( $(now_ms) - t_revoked )) ms (0.1 s polling here)"
kill "$dev1_sub" 2>/dev/null || true  # it may have given up by itself
if timeout 10 mosquitto_pub $(mqtt_tls dev1-chain.crt dev1.key) -i "$thing" -t "$thing/x" -m x -q 1 >/dev/null 2>&1; then
  fail "revoked certificate connected"
fi

# --- the same flow with the project's Python JITR function (functions/jitr) run as a command ------
"$ZTP" cloud function add PyJITR --exec "/usr/bin/python3 $ZT_SOURCE_DIR/functions/jitr/lambda_function.py" \
  --state-dir state >/dev/null
"$ZTP" cloud setup-jitr --state-dir state --function PyJITR >/dev/null
device dev2 "py-thing-2"
dev2_id=$(cert_id dev2.crt)
thing2=$(openssl x509 -in dev2.crt -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)
if timeout 10 mosquitto_pub $(mqtt_tls dev2-chain.crt dev2.key) -i "$thing2" -t "$thing2/x" -m x -q 1 >/dev/null 2>&1; then
  fail "first connect of dev2 succeeded"
fi
active2() { [[ $(iot describe-certificate --certificate-id "$dev2_id" | jq -r .certificateDescription.status) == ACTIVE ]]; }
wait_until 30 active2 || fail "python function did not activate dev2: $("$ZTP" cloud function log --state-dir state)"
timeout 10 mosquitto_pub $(mqtt_tls dev2-chain.crt dev2.key) -i "$thing2" -t "$thing2/x" -m x -q 1 \
  || fail "dev2 second connect"
# The policy names the thing's client id: another thing's client id is refused.
if timeout 10 mosquitto_pub $(mqtt_tls dev2-chain.crt dev2.key) -i "$thing" -t "$thing/x" -m x -q 1 >/dev/null 2>&1; then
  fail "dev2 connected with another thing's client id"
fi
echo "server log:"; grep -E 'jitr|function' server.err | head -20
echo "PASS cloud_jitr_test"
