#!/usr/bin/env bash
# `ztp kit run --flow jitp` against the real `ztp cloud run`: the seed's kit under a JITP CA. The
# signer CA is registered with a registration config (a template and a role that trusts
# iot.amazonaws.com), no JITR rule and no Lambda exist. The kit's first connection is closed while
# the template provisions it (thing named by the certificate id, KitDevicePolicy, certificate
# ACTIVE); its retry is accepted and its shadow loop runs.
source "$(dirname "$0")/lib.sh"
e2e_init kit-flows-jitp
source "$(dirname "$0")/kit_flows_lib.sh"

start_cloud "$work/state"
make_ca "$work/factory"
"$ZTP" ca register --dir "$work/factory" --endpoint-url "$endpoint_url" >/dev/null
ca_id=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['certificateDescription']['certificateId'])" "$work/factory/kit-info.json")
role_arn=$("$AWS" iam --endpoint-url "$endpoint_url" create-role --role-name KitJitpRole \
  --assume-role-policy-document '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]}' \
  --query Role.Arn --output text)
iot create-policy --policy-name KitDevicePolicy --policy-document "$(device_policy)" >/dev/null
python3 - "$role_arn" >"$work/registration.json" <<'PY'
import json, sys
template = {"Parameters": {"AWS::IoT::Certificate::Id": {"Type": "String"}},
            "Resources": {
                "thing": {"Type": "AWS::IoT::Thing",
                          "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::Id"}}},
                "certificate": {"Type": "AWS::IoT::Certificate",
                                "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"},
                                               "Status": "ACTIVE"}},
                "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "KitDevicePolicy"}}}}
print(json.dumps({"templateBody": json.dumps(template), "roleArn": sys.argv[1]}))
PY
iot update-ca-certificate --certificate-id "$ca_id" --new-auto-registration-status ENABLE \
  --registration-config "file://$work/registration.json"
check "no JITR rule in this cloud" test "$(iot list-topic-rules --query 'length(rules)' --output text)" = 0

"$ZTP" kit set-wifi --dir "$work/factory" --ssid lab >/dev/null
start_kit jitp
"$ZTP" kit provision --dir "$work/factory" --kit-socket "$kit/usb.sock" >/dev/null
id=$(cert_id "$work/factory/device.crt")
check "first connection closed while JITP provisions (no CONNACK)" \
  wait_for "$console" "MQTT connect refused: the endpoint closed the connection without a CONNACK" 20
check "the retry is accepted, shadow subscribed (client id = certificate id)" \
  wait_for "$console" "SUCCESS: Subscribed to the MQTT update topic subscription: \$aws/things/$id/shadow/update/delta" 20
check "the template made the certificate ACTIVE" \
  test "$(iot describe-certificate --certificate-id "$id" --query certificateDescription.status --output text)" = ACTIVE
arn=$(iot describe-certificate --certificate-id "$id" --query certificateDescription.certificateArn --output text)
check "the template's thing has the certificate" \
  test "$(iot list-thing-principals --thing-name "$id" --query 'principals[0]' --output text)" = "$arn"
check "the template attached KitDevicePolicy" \
  test "$(iot list-attached-policies --target "$arn" --query 'policies[0].policyName' --output text)" = KitDevicePolicy
shadow_round_trip "$id"
stop_process "$KIT_PID"
check "kit stops cleanly" grep -q "Stopped" "$console"
finish_tests
