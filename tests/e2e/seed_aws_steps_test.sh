#!/usr/bin/env bash
# The seed guide's AWS steps (§III.4-5 role and policy, §V.2 function, §V.3 rule) done with the
# stock aws CLI only (/usr/bin/aws) against `ztp cloud run`: create the role with Lambda's trust
# policy, put the seed's ZTLambdaJITRPolicy, attach AWSLambdaBasicExecutionRole, zip and create
# the function from the project's functions/jitr/lambda_function.py, add the permission for AWS
# IoT, create the rule. Then an emulated kit, provisioned as the seed's kit is, is registered just
# in time by that Python Lambda and its shadow works both ways. Bad input: a rule naming a
# function that gave AWS IoT no permission → the invocation is recorded as failed with a clear
# error. Last, `ztp aws deploy-jitr` against the same cloud brings the hand-made stack to its own
# (then a second run changes nothing), and `ztp aws teardown-jitr` removes it all (twice).
source "$(dirname "$0")/lib.sh"
e2e_init seed-aws

kit=$work/kit
console=$kit/console.log
on_failure() {
  echo "--- kit console (tail)"; tail -20 "$console" 2>/dev/null
  echo "--- cloud log (tail)"; tail -40 "$work/cloud.err" 2>/dev/null
}
awscli() { "$AWS" --endpoint-url "$endpoint_url" --output json "$@"; }

start_cloud "$work/state"
account=$(sed -n 's/^account=\([0-9]*\) .*/\1/p' "$work/cloud.out")
region=$(sed -n 's/^account=[0-9]* region=\([a-z0-9-]*\) .*/\1/p' "$work/cloud.out")
[[ -n "$account" && -n "$region" ]] || fail "account line: $(cat "$work/cloud.out")"
cd "$work"

# --- §III.4-5: the Lambda's policy and role -----------------------------------------------------
cat >trust.json <<'JSON'
{"Version": "2012-10-17",
 "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
JSON
# The seed's ZTLambdaJITRPolicy, as printed in the guide (§III.4e).
cat >policy.json <<'JSON'
{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iot:UpdateCertificate",
                "iot:CreatePolicy",
                "iot:AttachPrincipalPolicy",
                "iot:CreateThing",
                "iot:CreateThingType",
                "iot:DescribeCertificate",
                "iot:DescribeCaCertificate",
                "iot:DescribeThing",
                "iot:DescribeThingType",
                "iot:GetPolicy"
            ],
            "Resource": "*"
        }
    ]
}
JSON
role_arn=$(awscli iam create-role --role-name ZTLambdaJITRRole --assume-role-policy-document file://trust.json \
  --query Role.Arn --output text) || fail "create-role"
check "create-role: the role's ARN in this account" test "$role_arn" = "arn:aws:iam::$account:role/ZTLambdaJITRRole"
awscli iam put-role-policy --role-name ZTLambdaJITRRole --policy-name ZTLambdaJITRPolicy \
  --policy-document file://policy.json || fail "put-role-policy"
awscli iam attach-role-policy --role-name ZTLambdaJITRRole \
  --policy-arn arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole || fail "attach-role-policy"
check "list-attached-role-policies: AWSLambdaBasicExecutionRole" \
  test "$(awscli iam list-attached-role-policies --role-name ZTLambdaJITRRole --query 'AttachedPolicies[].PolicyName' --output text)" = AWSLambdaBasicExecutionRole

# --- §V.2: the function ---------------------------------------------------------------------------
zip -j -q function.zip "$ZT_SOURCE_DIR/functions/jitr/lambda_function.py"
function_arn=$(awscli lambda create-function --function-name ZTLambdaJITR --runtime python3.12 \
  --role "$role_arn" --handler lambda_function.lambda_handler --timeout 30 --zip-file fileb://function.zip \
  --query FunctionArn --output text) || fail "create-function"
check "create-function: the function's ARN" test "$function_arn" = "arn:aws:lambda:$region:$account:function:ZTLambdaJITR"
rule_arn="arn:aws:iot:$region:$account:rule/ZeroTouchJustInTimeRegistration"
awscli lambda add-permission --function-name ZTLambdaJITR --statement-id iot-jitr --action lambda:InvokeFunction \
  --principal iot.amazonaws.com --source-arn "$rule_arn" --source-account "$account" >permission.json \
  || fail "add-permission"

# --- §V.3: the rule -----------------------------------------------------------------------------
awscli iot create-topic-rule --rule-name ZeroTouchJustInTimeRegistration --topic-rule-payload \
  "{\"sql\": \"SELECT * FROM '\$aws/events/certificates/registered/#'\", \"awsIotSqlVersion\": \"2016-03-23\",
    \"ruleDisabled\": false, \"actions\": [{\"lambda\": {\"functionArn\": \"$function_arn\"}}]}" || fail "create-topic-rule"

# --- §VI-VIII: CA registration, a kit provisioned, JITR by the Python Lambda --------------------
make_ca pki
"$ZTP" ca register --dir pki --endpoint-url "$endpoint_url" >/dev/null || fail "ca register"
export ZTP_WIFI_PASSWORD=correct-horse-battery
"$ZTP" kit set-wifi --dir pki --ssid lab >/dev/null
start_process kit "$ZTP" kit run --dir "$kit" --wifi-ap lab \
  --server-ca "$work/state/server-ca.crt" --endpoint-override "127.0.0.1:$MQTT_PORT" --retry-max-ms 1000
wait_for "$work/kit.out" "console=" 10 || fail "the kit did not start"
"$ZTP" kit provision --dir pki --kit-socket "$kit/usb.sock" >/dev/null || fail "kit provision"
id=$(cert_id pki/device.crt)
thing=$(ski_hex pki/device.crt)
check "JITR: the kit subscribes after the Python Lambda registered it" \
  wait_for "$console" "SUCCESS: Subscribed to the MQTT update topic subscription: \$aws/things/$thing/shadow/update/delta" 60
check "JITR: certificate ACTIVE" \
  test "$(awscli iot describe-certificate --certificate-id "$id" --query certificateDescription.status --output text)" = ACTIVE
check "JITR: thing = hex SKI, of the kit's thing type" \
  test "$(awscli iot describe-thing --thing-name "$thing" --query thingTypeName --output text)" = microchip-zero-touch-kit
check "JITR: ZTPolicy_<certificateId> attached" \
  test "$(awscli iot list-principal-policies --principal "arn:aws:iot:$region:$account:cert/$id" --query 'policies[].policyName' --output text)" = "ZTPolicy_$id"
check "JITR: the thing attached to the certificate" \
  test "$(awscli iot list-thing-principals --thing-name "$thing" --query 'principals[0]' --output text)" = "arn:aws:iot:$region:$account:cert/$id"
check "JITR: the invocation recorded as the Python function's success" \
  bash -c "'$ZTP' cloud function log --state-dir '$work/state' | jq -se 'map(select(.functionName == \"ZTLambdaJITR\" and .succeeded)) | length >= 1' >/dev/null"

# The shadow, both ways: desired.led1 lights LED1; a button press is reported.
awscli iot-data update-thing-shadow --thing-name "$thing" --cli-binary-format raw-in-base64-out \
  --payload '{"state":{"desired":{"led1":"on"}}}' "$work/update.json" >/dev/null || fail "update-thing-shadow"
led1_on() { "$ZTP" kit leds --kit-dir "$kit" | grep -q '"led1":"on"'; }
check "shadow: desired.led1 = on lights LED1" wait_until 20 led1_on
"$ZTP" kit press 1 --kit-dir "$kit" >/dev/null
button_down() {
  awscli iot-data get-thing-shadow --thing-name "$thing" "$work/shadow.json" >/dev/null &&
    jq -e '.state.reported.button1 == "down"' "$work/shadow.json" >/dev/null
}
check "shadow: button 1 reported down" wait_until 20 button_down

# --- bad input: a rule naming a function without permission -------------------------------------
awscli lambda create-function --function-name NoPermission --runtime python3.12 --role "$role_arn" \
  --handler lambda_function.lambda_handler --zip-file fileb://function.zip >/dev/null || fail "create NoPermission"
awscli iot create-topic-rule --rule-name NoPermissionRule --topic-rule-payload \
  "{\"sql\": \"SELECT * FROM 'test/no-permission'\", \"awsIotSqlVersion\": \"2016-03-23\",
    \"actions\": [{\"lambda\": {\"functionArn\": \"arn:aws:lambda:$region:$account:function:NoPermission\"}}]}" \
  || fail "create NoPermissionRule"
awscli iot-data publish --topic test/no-permission --cli-binary-format raw-in-base64-out --payload '{"x":1}' \
  || fail "publish"
refused() {
  "$ZTP" cloud function log --state-dir "$work/state" >"$work/log.json" &&
    jq -se 'map(select(.functionName == "NoPermission" and (.succeeded | not))) | length >= 1' "$work/log.json" >/dev/null
}
check "no permission: the invocation is recorded as failed" wait_until 20 refused
check "no permission: the error says why" grep -qi "permission" "$work/log.json"
awscli iot delete-topic-rule --rule-name NoPermissionRule
awscli lambda delete-function --function-name NoPermission

# --- ztp aws deploy-jitr / teardown-jitr on the same cloud --------------------------------------
"$ZTP" aws deploy-jitr --endpoint-url "$endpoint_url" >deploy1.out 2>&1 || fail "deploy-jitr: $(cat deploy1.out)"
check "deploy-jitr: every call printed as an aws command" grep -q '^\$ aws --endpoint-url http://127.0.0.1:[0-9]* iot get-topic-rule --rule-name ZeroTouchJustInTimeRegistration' deploy1.out
check "deploy-jitr: the existing role kept" grep -q "exists: $role_arn" deploy1.out
check "deploy-jitr: the inline policy brought to ours (AttachThingPrincipal)" grep -q '^\$ aws .* iam put-role-policy' deploy1.out
check "deploy-jitr: the code replaced by ours" grep -q '^\$ aws .* lambda update-function-code' deploy1.out
check "deploy-jitr: the rule already right" grep -q "unchanged: rule ZeroTouchJustInTimeRegistration" deploy1.out
check "deploy-jitr: no secret printed" bash -c "! grep -qF \"\$(sed -n 's/^aws_secret_access_key *= *//p' '$work/state/credentials')\" deploy1.out"
"$ZTP" aws deploy-jitr --endpoint-url "$endpoint_url" >deploy2.out 2>&1 || fail "second deploy-jitr: $(cat deploy2.out)"
check "deploy-jitr again: nothing changed, and it says so" grep -q "everything was already deployed; nothing changed" deploy2.out
check "deploy-jitr again: only reads" bash -c "! grep -qE '^\\$ aws .* (create|put|attach|update|add)-' '$work/deploy2.out'"
check "deploy-jitr: the permission for the rule" \
  bash -c "'$AWS' --endpoint-url '$endpoint_url' lambda get-policy --function-name ZTLambdaJITR --query Policy --output text | grep -q iot-rule-ZeroTouchJustInTimeRegistration"

"$ZTP" aws teardown-jitr --endpoint-url "$endpoint_url" >teardown1.out 2>&1 || fail "teardown-jitr: $(cat teardown1.out)"
check "teardown-jitr: removed" grep -q "resource(s) removed" teardown1.out
gone() { ! awscli "$@" >/dev/null 2>&1; }
check "teardown-jitr: rule gone" gone iot get-topic-rule --rule-name ZeroTouchJustInTimeRegistration
check "teardown-jitr: function gone" gone lambda get-function --function-name ZTLambdaJITR
check "teardown-jitr: role gone" gone iam get-role --role-name ZTLambdaJITRRole
"$ZTP" aws teardown-jitr --endpoint-url "$endpoint_url" >teardown2.out 2>&1 || fail "second teardown-jitr: $(cat teardown2.out)"
check "teardown-jitr again: nothing to remove, and it says so" grep -q "nothing was deployed; nothing changed" teardown2.out
finish_tests
