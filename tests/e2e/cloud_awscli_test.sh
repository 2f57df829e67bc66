#!/usr/bin/env bash
# The seed's admin sequence against `ztp cloud run`, driven by the real AWS CLI (Debian's
# /usr/bin/aws) with --endpoint-url and the credentials the cloud wrote into its state dir.
# Every output is checked field by field; then the failures the acceptance names.
source "$(dirname "$0")/lib.sh"
e2e_init cloud-awscli
# Fail-fast here: check <description> <jq expression> <json>.
check() {
  jq -e "$2" <<<"$3" >/dev/null || fail "$1: jq '$2' on: $3"
}

start_server() {
  : >"$work/server.out"
  start_process server "$ZTP" cloud run --state-dir "$work/state" --http 127.0.0.1:0
  server_pid=$LAST_PID
  port=$(listening_port "$work/server.out" http 10) || fail "no listening line: $(cat "$work/server.err")"
  endpoint_url=http://127.0.0.1:$port
}
stop_server() { stop_process "$server_pid"; }

start_server
account=$(sed -n 's/^account=\([0-9]*\) .*/\1/p' "$work/server.out")
endpoint=$(sed -n 's/.* endpoint=\(.*\)$/\1/p' "$work/server.out")
[[ "$account" =~ ^[0-9]{12}$ ]] || fail "account id '$account'"
[[ $(stat -c %a "$work/state/credentials") == 600 ]] || fail "credentials file mode"
[[ $(stat -c %a "$work/state/config") == 600 ]] || fail "config file mode"

aws_env "$work/state"
# expect_error <ErrorType> <command...>: the CLI must fail (rc 255) naming the error type.
expect_error() {
  local type=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -ne 0 ]] || fail "expected $type, command succeeded: $*"
  grep -q "($type)" <<<"$out" || fail "expected $type, got: $out"
}
arn() { echo "arn:aws:iot:us-east-1:$account:$1"; }

# --- factory PKI: root and signer CA with `ztp ca`; an openssl-made second CA and the device ------
cd "$work"
mkdir pki
"$ZTP" ca create-root --dir pki >/dev/null
"$ZTP" ca create-signer-csr --dir pki >/dev/null
"$ZTP" ca create-signer --dir pki >/dev/null
cp pki/signer-ca.crt signer.crt
cp pki/signer-ca.key signer.key
openssl ecparam -name prime256v1 -genkey -noout -out root.key 2>/dev/null
openssl req -x509 -new -key root.key -subj "/O=Example Inc/CN=Example Root CA" -days 3650 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out root.crt
make_signer() {  # make_signer <name> <cn>
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
  openssl req -new -key "$1.key" -subj "/O=Example Inc/CN=$2" -out "$1.csr"
  printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >ca.ext
  openssl x509 -req -in "$1.csr" -CA root.crt -CAkey root.key -CAcreateserial -days 3650 -extfile ca.ext -out "$1.crt" 2>/dev/null
}
make_signer other "Other Signer 0002"
openssl ecparam -name prime256v1 -genkey -noout -out device.key 2>/dev/null
openssl req -new -key device.key -subj "/O=Example Inc/CN=Example Device" -out device.csr
printf 'basicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >device.ext
openssl x509 -req -in device.csr -CA signer.crt -CAkey signer.key -CAcreateserial -days 365 -extfile device.ext -out device.crt 2>/dev/null
thing=$(openssl x509 -in device.crt -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)

# --- get-registration-code; verification certs: `ztp ca create-verification` (seed form: the CA's
# own key) and the AWS-documented form (new key pair, CN = code) for the second CA -------------------
out=$(iot get-registration-code)
check "registration code" '.registrationCode | test("^[0-9a-f]{64}$")' "$out"
code=$(jq -r .registrationCode <<<"$out")
out2=$(iot get-registration-code)
[[ $(jq -r .registrationCode <<<"$out2") == "$code" ]] || fail "registration code changed"
"$ZTP" ca create-verification --dir pki --code "$code" >/dev/null
cp pki/signer-ca-verification.crt verif.crt
openssl ecparam -name prime256v1 -genkey -noout -out verif.key 2>/dev/null
openssl req -new -key verif.key -subj "/CN=$code" -out verif.csr
openssl x509 -req -in verif.csr -CA other.crt -CAkey other.key -CAcreateserial -days 1 -out other-verif.crt 2>/dev/null

# --- failures first: wrong CN, non-CA certificate ----------------------------------------------------
openssl req -new -key verif.key -subj "/CN=not-the-registration-code" -out wrong.csr
openssl x509 -req -in wrong.csr -CA signer.crt -CAkey signer.key -CAcreateserial -days 1 -out wrong.crt 2>/dev/null
expect_error RegistrationCodeValidationException iot register-ca-certificate \
  --ca-certificate file://signer.crt --verification-cert file://wrong.crt --set-as-active
expect_error CertificateValidationException iot register-ca-certificate \
  --ca-certificate file://device.crt --verification-cert file://verif.crt
out=$(iot list-ca-certificates)
check "nothing half-registered" '.certificates == []' "$out"

# --- register-ca-certificate, describe-ca-certificate -----------------------------------------------
ca_id=$(cert_id signer.crt)
out=$(iot register-ca-certificate --ca-certificate file://signer.crt --verification-certificate file://verif.crt \
  --set-as-active --allow-auto-registration)
check "ca id" ".certificateId == \"$ca_id\"" "$out"
check "ca arn" ".certificateArn == \"$(arn cacert/$ca_id)\"" "$out"
expect_error ResourceAlreadyExistsException iot register-ca-certificate \
  --ca-certificate file://signer.crt --verification-certificate file://verif.crt
out=$(iot describe-ca-certificate --certificate-id "$ca_id")
d=$(jq .certificateDescription <<<"$out")
check "ca status" '.status == "ACTIVE"' "$d"
check "ca auto-registration" '.autoRegistrationStatus == "ENABLE"' "$d"
check "ca arn" ".certificateArn == \"$(arn cacert/$ca_id)\"" "$d"
check "ca owner" ".ownedBy == \"$account\"" "$d"
check "ca mode" '.certificateMode == "DEFAULT"' "$d"
check "ca version" '.customerVersion == 1' "$d"
check "ca dates" '(.creationDate | test("^[0-9]{4}-")) and .validity.notAfter > .validity.notBefore' "$d"
[[ "$(jq -r .certificatePem <<<"$d" | openssl x509 -outform DER | sha256sum | cut -d' ' -f1)" == "$ca_id" ]] || fail "ca pem"
out=$(iot list-ca-certificates)
check "list ca" ".certificates | length == 1 and .[0].certificateId == \"$ca_id\" and .[0].status == \"ACTIVE\"" "$out"
other_id=$(cert_id other.crt)
out=$(iot register-ca-certificate --ca-certificate file://other.crt --verification-certificate file://other-verif.crt)
check "aws-form PoP" ".certificateId == \"$other_id\"" "$out"
out=$(iot describe-ca-certificate --certificate-id "$other_id")
check "registered inactive" '.certificateDescription.status == "INACTIVE" and .certificateDescription.autoRegistrationStatus == "DISABLE"' "$out"
iot update-ca-certificate --certificate-id "$other_id" --new-status ACTIVE --new-auto-registration-status ENABLE
out=$(iot describe-ca-certificate --certificate-id "$other_id")
check "updated ca" '.certificateDescription.status == "ACTIVE" and .certificateDescription.autoRegistrationStatus == "ENABLE" and .certificateDescription.customerVersion == 2' "$out"
expect_error CertificateStateException iot delete-ca-certificate --certificate-id "$other_id"
iot update-ca-certificate --certificate-id "$other_id" --new-status INACTIVE
iot delete-ca-certificate --certificate-id "$other_id"
expect_error ResourceNotFoundException iot describe-ca-certificate --certificate-id "$other_id"

# --- register-certificate, describe/update/list ----------------------------------------------------
dev_id=$(cert_id device.crt)
dev_arn=$(arn cert/$dev_id)
out=$(iot register-certificate --certificate-pem file://device.crt --ca-certificate-pem file://signer.crt)
check "device id" ".certificateId == \"$dev_id\" and .certificateArn == \"$dev_arn\"" "$out"
out=$(iot describe-certificate --certificate-id "$dev_id")
d=$(jq .certificateDescription <<<"$out")
check "device status" '.status == "INACTIVE"' "$d"
check "device ca" ".caCertificateId == \"$ca_id\"" "$d"
check "device owner" ".ownedBy == \"$account\" and .certificateArn == \"$dev_arn\"" "$d"
iot update-certificate --certificate-id "$dev_id" --new-status ACTIVE
out=$(iot describe-certificate --certificate-id "$dev_id")
check "device active" '.certificateDescription.status == "ACTIVE" and .certificateDescription.customerVersion == 2' "$out"
out=$(iot list-certificates)
check "list certificates" ".certificates | map(select(.certificateId == \"$dev_id\" and .status == \"ACTIVE\" and .certificateArn == \"$dev_arn\")) | length == 1" "$out"
out=$(iot list-certificates-by-ca --ca-certificate-id "$ca_id")
check "list by ca" ".certificates | length == 1 and .[0].certificateId == \"$dev_id\"" "$out"
expect_error CertificateStateException iot delete-certificate --certificate-id "$dev_id"
expect_error ResourceNotFoundException iot describe-certificate --certificate-id "$(printf 'a%.0s' {1..64})"

# --- thing type, thing ---------------------------------------------------------------------------------
out=$(iot create-thing-type --thing-type-name microchip-zero-touch-kit)
check "thing type" ".thingTypeName == \"microchip-zero-touch-kit\" and .thingTypeArn == \"$(arn thingtype/microchip-zero-touch-kit)\" and (.thingTypeId | length) == 36" "$out"
out=$(iot describe-thing-type --thing-type-name microchip-zero-touch-kit)
check "describe thing type" '.thingTypeMetadata.deprecated == false and .thingTypeName == "microchip-zero-touch-kit"' "$out"
out=$(iot create-thing --thing-name "$thing" --thing-type-name microchip-zero-touch-kit)
check "thing" ".thingName == \"$thing\" and .thingArn == \"$(arn thing/$thing)\"" "$out"
thing_id=$(jq -r .thingId <<<"$out")
out=$(iot describe-thing --thing-name "$thing")
check "describe thing" ".thingName == \"$thing\" and .thingId == \"$thing_id\" and .defaultClientId == \"$thing\" and .thingTypeName == \"microchip-zero-touch-kit\" and .version == 1 and .attributes == {}" "$out"

# --- policies (document of reference/kit.md) and attachments -----------------------------------------
cat >policy.json <<POLICY
{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:$account:client/\${iot:ClientId}"]},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["arn:aws:iot:us-east-1:$account:topic/\${iot:ClientId}/*","arn:aws:iot:us-east-1:$account:topic/\$aws/things/\${iot:ClientId}/shadow/*"]},
 {"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:$account:topicfilter/\${iot:ClientId}/#","arn:aws:iot:us-east-1:$account:topicfilter/\$aws/things/\${iot:ClientId}/shadow/*"]},
 {"Effect":"Allow","Action":["iot:UpdateThingShadow","iot:GetThingShadow"],"Resource":["arn:aws:iot:us-east-1:$account:thing/\${iot:ClientId}"]}]}
POLICY
policy="ZTPolicy_$dev_id"
out=$(iot create-policy --policy-name "$policy" --policy-document file://policy.json)
check "policy" ".policyName == \"$policy\" and .policyArn == \"$(arn policy/$policy)\" and .policyVersionId == \"1\"" "$out"
check "policy document" "(.policyDocument | fromjson) == $(jq -c . policy.json)" "$out"
expect_error ResourceAlreadyExistsException iot create-policy --policy-name "$policy" --policy-document file://policy.json
expect_error MalformedPolicyException iot create-policy --policy-name bad --policy-document '{"Statement":"x"}'
out=$(iot get-policy --policy-name "$policy")
check "get policy" ".policyName == \"$policy\" and .defaultVersionId == \"1\" and (.policyDocument | fromjson) == $(jq -c . policy.json)" "$out"
iot create-policy --policy-name SecondPolicy --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}' >/dev/null
iot attach-principal-policy --policy-name "$policy" --principal "$dev_arn"
iot attach-policy --policy-name SecondPolicy --target "$dev_arn"
iot attach-thing-principal --thing-name "$thing" --principal "$dev_arn"
out=$(iot list-attached-policies --target "$dev_arn")
check "attached policies (ARN with %2F in the path)" ".policies | map(.policyName) | sort == ([\"$policy\", \"SecondPolicy\"] | sort)" "$out"
check "attached policy arns" ".policies | map(select(.policyName == \"SecondPolicy\" and .policyArn == \"$(arn policy/SecondPolicy)\")) | length == 1" "$out"
out=$(iot list-principal-policies --principal "$dev_arn")
check "principal policies" '.policies | length == 2' "$out"
out=$(iot list-targets-for-policy --policy-name "$policy")
check "targets" ".targets == [\"$dev_arn\"]" "$out"
out=$(iot list-principal-things --principal "$dev_arn")
check "principal things" ".things == [\"$thing\"]" "$out"
out=$(iot list-thing-principals --thing-name "$thing")
check "thing principals" ".principals == [\"$dev_arn\"]" "$out"
expect_error DeleteConflictException iot delete-policy --policy-name "$policy"

# --- describe-endpoint, create-topic-rule ---------------------------------------------------------------
out=$(iot describe-endpoint --endpoint-type iot:Data-ATS)
check "endpoint" ".endpointAddress == \"$endpoint\"" "$out"
[[ "$endpoint" == *-ats.iot.us-east-1.localhost ]] || fail "endpoint name $endpoint"
sql="SELECT * FROM '\$aws/events/certificates/registered/$ca_id'"
lambda="arn:aws:lambda:us-east-1:$account:function:ZTLambdaJITR"
payload=$(jq -nc --arg sql "$sql" --arg fn "$lambda" '{sql:$sql, ruleDisabled:false, awsIotSqlVersion:"2016-03-23", actions:[{lambda:{functionArn:$fn}}]}')
iot create-topic-rule --rule-name ZTJITR --topic-rule-payload "$payload"
out=$(iot get-topic-rule --rule-name ZTJITR)
check "rule" ".ruleArn == \"$(arn rule/ZTJITR)\" and .rule.ruleName == \"ZTJITR\" and .rule.actions[0].lambda.functionArn == \"$lambda\" and .rule.ruleDisabled == false and .rule.awsIotSqlVersion == \"2016-03-23\"" "$out"
jq -e --arg sql "$sql" '.rule.sql == $sql' <<<"$out" >/dev/null || fail "rule sql: $out"
out=$(iot list-topic-rules)
jq -e --arg t "\$aws/events/certificates/registered/$ca_id" '.rules | length == 1 and .[0].topicPattern == $t and .[0].ruleName == "ZTJITR"' <<<"$out" >/dev/null || fail "list rules: $out"
expect_error SqlParseException iot create-topic-rule --rule-name Bad --topic-rule-payload '{"sql":"SELEKT","actions":[]}'

# --- bad secret → 403 --------------------------------------------------------------------------------
key_id=$(sed -n 's/^aws_access_key_id = //p' "$work/state/credentials")
debug=$(AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=wrongwrongwrongwrongwrongwrongwrongwrong \
  "$AWS" iot list-things --endpoint-url "http://127.0.0.1:$port" --debug 2>&1) && fail "bad secret accepted"
grep -q '"GET /things HTTP/1.1" 403' <<<"$debug" || fail "bad secret did not get 403"
grep -q "(SignatureDoesNotMatch)" <<<"$debug" || fail "bad secret error type"
unsigned=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/things")
[[ "$unsigned" == 403 ]] || fail "unsigned request got $unsigned"

# --- ztp ca register (seed form: verification cert with the CA's own key) → kit-info.json ---------------
mkdir kit
"$ZTP" ca create-root --dir kit >/dev/null
"$ZTP" ca create-signer-csr --dir kit --signer-id 0001 >/dev/null
"$ZTP" ca create-signer --dir kit >/dev/null
echo '{"wifi_ssid": "lab"}' >kit/kit-info.json
"$ZTP" ca register --dir kit --endpoint-url "http://127.0.0.1:$port" >"$work/register.log" || fail "ztp ca register: $(cat "$work/register.log")"
kit_ca=$(cert_id kit/signer-ca.crt)
info=$(cat kit/kit-info.json)
check "kit-info endpoint" ".endpointAddress == \"$endpoint\"" "$info"
check "kit-info ca" ".certificateDescription.certificateId == \"$kit_ca\" and .certificateDescription.status == \"ACTIVE\" and .certificateDescription.autoRegistrationStatus == \"ENABLE\"" "$info"
check "kit-info kept keys" '.wifi_ssid == "lab"' "$info"
[[ "$(openssl x509 -in kit/signer-ca-verification.crt -noout -pubkey)" == "$(openssl x509 -in kit/signer-ca.crt -noout -pubkey)" ]] || fail "verification cert key"
openssl x509 -in kit/signer-ca-verification.crt -noout -subject | grep -q "CN *= *$code" || fail "verification CN"
"$ZTP" ca register --dir kit --endpoint-url "http://127.0.0.1:$port" >/dev/null || fail "ztp ca register re-run"

# --- restart: same account, everything still there -------------------------------------------------------
stop_server
start_server
grep -q "^account=$account " "$work/server.out" || fail "account changed on restart"
out=$(iot describe-certificate --certificate-id "$dev_id")
check "after restart" '.certificateDescription.status == "ACTIVE"' "$out"
out=$(iot list-ca-certificates)
check "cas after restart" '.certificates | length == 2' "$out"
echo "PASS cloud_awscli_test"
