#!/usr/bin/env bash
# Just-in-time provisioning end to end (AWS IoT developer guide, "Just-in-time provisioning"), with
# real clients only: a CA and a device made with openssl alone, the stock AWS CLI for IAM and IoT,
# mosquitto_pub/sub on MQTT. The CA is registered with --registration-config templateBody=…,
# roleArn=…; the role is checked as AWS checks it (exists, trusts iot.amazonaws.com) and so is the
# template. A device nobody registered connects: its first connect is closed, and in that same
# step the certificate is registered, the registration event published and the template run
# (thing with attributes from the certificate, policy, certificate ACTIVE); its second connect
# publishes. A template that fails at a device's connect leaves the certificate
# PENDING_ACTIVATION with nothing else behind; UpdateCACertificate switches auto-registration and
# the config.
source "$(dirname "$0")/lib.sh"
e2e_init jitp
on_failure() { echo "--- cloud log (tail)"; tail -30 "$work/cloud.err" || true; }
cd "$work"
start_cloud state
account=$(sed -n 's/^account=\([0-9]*\) .*/\1/p' cloud.out)
iam() { "$AWS" iam --endpoint-url "$endpoint_url" --region us-east-1 --output json "$@"; }
mqtt_tls() { echo "-h localhost -p $MQTT_PORT --cafile $work/state/server-ca.crt --cert $1 --key $2"; }
# expect_error CODE COMMAND…: the CLI fails naming CODE; prints the message.
expect_error() {
  local code=$1 out
  shift
  if out=$("$@" 2>&1); then fail "expected $code from $*, got: $out"; fi
  grep -q "($code)" <<<"$out" || fail "expected $code from $*, got: $out"
  echo "$out" | sed -n 's/.*operation: //p'
}

# --- a CA with openssl alone, proved with the registration code --------------------------------
openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -sha256 -days 365 -subj "/O=Example Inc/CN=Example JITP CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out ca.crt
code=$(iot get-registration-code | jq -r .registrationCode)
openssl ecparam -name prime256v1 -genkey -noout -out verification.key 2>/dev/null
openssl req -new -key verification.key -subj "/CN=$code" -out verification.csr
openssl x509 -req -in verification.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 \
  -out verification.crt 2>/dev/null
ca_id=$(cert_id ca.crt)

# --- the role JITP assumes, and the template (the guide's example, policy inline) ---------------
trust() { printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"%s"},"Action":"sts:AssumeRole"}]}' "$1"; }
iam create-role --role-name JITPRole --assume-role-policy-document "$(trust iot.amazonaws.com)" >/dev/null
iam create-role --role-name LambdaOnly --assume-role-policy-document "$(trust lambda.amazonaws.com)" >/dev/null
role=arn:aws:iam::$account:role/JITPRole
policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:'$account':client/${iot:Connection.Thing.ThingName}"]},{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:'$account':topic/telemetry/${iot:Connection.Thing.ThingName}"]}]}'
template=$(jq -cn --arg policy "$policy" '{
  Parameters: {"AWS::IoT::Certificate::CommonName": {Type: "String"},
               "AWS::IoT::Certificate::Country": {Type: "String"},
               "AWS::IoT::Certificate::Id": {Type: "String"}},
  Resources: {
    thing: {Type: "AWS::IoT::Thing", Properties: {
      ThingName: {Ref: "AWS::IoT::Certificate::CommonName"},
      AttributePayload: {version: "v1", country: {Ref: "AWS::IoT::Certificate::Country"}}}},
    certificate: {Type: "AWS::IoT::Certificate", Properties: {
      CertificateId: {Ref: "AWS::IoT::Certificate::Id"}, Status: "ACTIVE"}},
    policy: {Type: "AWS::IoT::Policy", Properties: {PolicyDocument: $policy}}}}')
config() { jq -cn --arg body "$1" --arg role "$2" '{templateBody: $body, roleArn: $role}'; }
register() {
  iot register-ca-certificate --ca-certificate file://ca.crt --verification-certificate file://verification.crt \
    --set-as-active --allow-auto-registration --registration-config "$1"
}

# --- what AWS refuses ---------------------------------------------------------------------------
echo "missing role: $(expect_error InvalidRequestException register "$(config "$template" arn:aws:iam::$account:role/Nobody)")"
echo "role for Lambda: $(expect_error InvalidRequestException register "$(config "$template" arn:aws:iam::$account:role/LambdaOnly)")"
echo "not an ARN: $(expect_error InvalidRequestException register "$(config "$template" iam-role/JITPRole-by-name)")"
echo "no role: $(expect_error InvalidRequestException register "$(jq -cn --arg b "$template" '{templateBody: $b}')")"
no_policy=$(jq -c 'del(.Resources.policy.Properties.PolicyDocument)' <<<"$template")
echo "bad template: $(expect_error InvalidRequestException register "$(config "$no_policy" "$role")")"
iot describe-ca-certificate --certificate-id "$ca_id" >/dev/null 2>&1 && fail "a refused registration left the CA"
pass

register "$(config "$template" "$role")" >/dev/null || fail "register-ca-certificate with the JITP config"
iot describe-ca-certificate --certificate-id "$ca_id" | jq -e --arg role "$role" --arg t "$template" '
  .certificateDescription.autoRegistrationStatus == "ENABLE" and .registrationConfig.roleArn == $role
  and .registrationConfig.templateBody == $t' >/dev/null || fail "describe-ca-certificate: registration config"

# --- an admin subscriber sees the registration event --------------------------------------------
iot create-keys-and-certificate --set-as-active --certificate-pem-outfile admin.crt \
  --private-key-outfile admin.key >admin.json
iot create-policy --policy-name AdminAll \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}' >/dev/null
iot attach-policy --policy-name AdminAll --target "$(jq -r .certificateArn admin.json)"
stdbuf -oL mosquitto_sub $(mqtt_tls admin.crt admin.key) -i admin -q 1 -t '$aws/events/certificates/registered/#' \
  -v -d >events.log 2>&1 &
pids+=($!)
wait_until 10 grep -q 'received SUBACK' events.log || fail "admin subscriber: $(cat events.log)"

# --- a device made with openssl alone -----------------------------------------------------------
device() {  # device NAME CN COUNTRY
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
  openssl req -new -key "$1.key" -subj "/C=$3/O=Example Inc/CN=$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 -out "$1.crt" 2>/dev/null
}
device dev1 jitp-device-1 DE
dev1_id=$(cert_id dev1.crt)
if mosquitto_pub $(mqtt_tls dev1.crt dev1.key) -i jitp-device-1 -t telemetry/jitp-device-1 -m first -q 1 \
  >first.out 2>&1; then fail "the first connect of a JITP device was accepted"; fi
echo "first connect: $(cat first.out)"
# Provisioned in the step that closed the first connect: no waiting.
iot describe-certificate --certificate-id "$dev1_id" | jq -e '.certificateDescription.status == "ACTIVE"' >/dev/null \
  || fail "certificate not ACTIVE after the first connect: $(iot describe-certificate --certificate-id "$dev1_id")"
iot describe-thing --thing-name jitp-device-1 | jq -e '.attributes == {"version": "v1", "country": "DE"}' >/dev/null \
  || fail "thing: $(iot describe-thing --thing-name jitp-device-1 2>&1)"
iot list-thing-principals --thing-name jitp-device-1 | jq -e --arg id "$dev1_id" '.principals | length == 1 and
  (.[0] | endswith("cert/" + $id))' >/dev/null || fail "certificate not attached to the thing"
iot list-attached-policies --target "arn:aws:iot:us-east-1:$account:cert/$dev1_id" | jq -e '.policies | length == 1' \
  >/dev/null || fail "no policy attached"
wait_until 10 grep -q "certificates/registered/$ca_id .*\"certificateId\":\"$dev1_id\"" events.log \
  || fail "no registration event: $(grep -v '^Client' events.log)"
grep -m1 "^\$aws/events/certificates/registered/$ca_id " events.log | cut -d' ' -f2- |
  jq -e '.certificateStatus == "PENDING_ACTIVATION"' >/dev/null || fail "registration event payload"
mosquitto_pub $(mqtt_tls dev1.crt dev1.key) -i jitp-device-1 -t telemetry/jitp-device-1 -m second -q 1 \
  || fail "the second connect of the provisioned device was refused"
# The policy the template attached is enforced: another topic is denied (the broker hangs up).
sleep 1  # one CONNECT per second per client id
if mosquitto_pub $(mqtt_tls dev1.crt dev1.key) -i jitp-device-1 -t telemetry/other -m x -q 1 2>/dev/null; then
  fail "the template's policy allowed a topic it does not name"
fi
pass

# --- a template that fails at connect: nothing but the PENDING_ACTIVATION certificate -----------
# A Country parameter the device's certificate lacks: AWS "The certificate must contain values for
# all of the parameters in the template body".
iot update-ca-certificate --certificate-id "$ca_id" --new-auto-registration-status ENABLE \
  --registration-config "$(config "$template" "$role")" >/dev/null || fail "update-ca-certificate"
openssl ecparam -name prime256v1 -genkey -noout -out dev2.key 2>/dev/null
openssl req -new -key dev2.key -subj "/O=Example Inc/CN=jitp-device-2" -out dev2.csr
openssl x509 -req -in dev2.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 -out dev2.crt 2>/dev/null
dev2_id=$(cert_id dev2.crt)
if mosquitto_pub $(mqtt_tls dev2.crt dev2.key) -i jitp-device-2 -t telemetry/jitp-device-2 -m x -q 1 2>/dev/null; then
  fail "a device whose provisioning failed connected"
fi
iot describe-certificate --certificate-id "$dev2_id" | jq -e '.certificateDescription.status == "PENDING_ACTIVATION"' \
  >/dev/null || fail "a failed JITP changed the certificate"
iot describe-thing --thing-name jitp-device-2 >/dev/null 2>&1 && fail "a failed JITP left a thing"
pass

# --- UpdateCACertificate: auto-registration off → an unknown device is refused, not registered ---
iot update-ca-certificate --certificate-id "$ca_id" --new-auto-registration-status DISABLE >/dev/null
device dev3 jitp-device-3 FR
if mosquitto_pub $(mqtt_tls dev3.crt dev3.key) -i jitp-device-3 -t telemetry/jitp-device-3 -m x -q 1 2>/dev/null; then
  fail "auto-registration DISABLE: a device connected"
fi
iot describe-certificate --certificate-id "$(cert_id dev3.crt)" >/dev/null 2>&1 && fail "DISABLE registered a certificate"
iot update-ca-certificate --certificate-id "$ca_id" --new-auto-registration-status ENABLE >/dev/null
sleep 1  # AWS's quota: one CONNECT per second per client id (a faster one is hung up on)
if mosquitto_pub $(mqtt_tls dev3.crt dev3.key) -i jitp-device-3 -t telemetry/jitp-device-3 -m x -q 1 2>/dev/null; then
  fail "first connect after ENABLE accepted"
fi
sleep 1  # the same quota
mosquitto_pub $(mqtt_tls dev3.crt dev3.key) -i jitp-device-3 -t telemetry/jitp-device-3 -m x -q 1 \
  || fail "second connect after ENABLE refused"
echo "update-ca-certificate bad role: $(expect_error InvalidRequestException iot update-ca-certificate \
  --certificate-id "$ca_id" --registration-config "$(config "$template" arn:aws:iam::$account:role/LambdaOnly)")"
iot describe-ca-certificate --certificate-id "$ca_id" | jq -e --arg role "$role" '.registrationConfig.roleArn == $role' \
  >/dev/null || fail "a refused update changed the config"
pass
echo "all $checks checks passed"
