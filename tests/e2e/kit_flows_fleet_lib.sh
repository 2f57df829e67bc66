#!/usr/bin/env bash
# Fleet provisioning by claim for tests/e2e/kit_flows_fleet_*_test.sh: the claim policy (only the
# fleet provisioning topics of one template), the device policy, the provisioning role and the
# template KitFleet (thing kit-<SerialNumber>, certificate ACTIVE, KitDevicePolicy), all with the
# stock aws CLI; then `ztp kit provision-claim` gives the running kit its claim certificate.
template=KitFleet

fleet_cloud_setup() {
  iot create-policy --policy-name KitClaimPolicy --policy-document '{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:*:*:client/*"},
 {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": [
   "arn:aws:iot:*:*:topic/$aws/certificates/create/*",
   "arn:aws:iot:*:*:topic/$aws/certificates/create-from-csr/*",
   "arn:aws:iot:*:*:topic/$aws/provisioning-templates/'$template'/provision/*"]},
 {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": [
   "arn:aws:iot:*:*:topicfilter/$aws/certificates/create/*",
   "arn:aws:iot:*:*:topicfilter/$aws/certificates/create-from-csr/*",
   "arn:aws:iot:*:*:topicfilter/$aws/provisioning-templates/'$template'/provision/*"]}]}' >/dev/null
  iot create-policy --policy-name KitDevicePolicy --policy-document "$(device_policy)" >/dev/null
  role_arn=$("$AWS" iam --endpoint-url "$endpoint_url" create-role --role-name KitProvisioningRole \
    --assume-role-policy-document '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]}' \
    --query Role.Arn --output text)
  cat >"$work/template.json" <<'JSON'
{"Parameters": {"SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
 "Resources": {
  "thing": {"Type": "AWS::IoT::Thing",
            "Properties": {"ThingName": {"Fn::Join": ["", ["kit-", {"Ref": "SerialNumber"}]]},
                           "AttributePayload": {"serial": {"Ref": "SerialNumber"}}}},
  "certificate": {"Type": "AWS::IoT::Certificate",
                  "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
  "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "KitDevicePolicy"}}}}
JSON
  iot create-provisioning-template --template-name "$template" --enabled \
    --provisioning-role-arn "$role_arn" --template-body "file://$work/template.json" >/dev/null
}

# fleet_kit FLOW: the kit in FLOW, its claim from the factory, and the checks every fleet flow
# shares: RegisterThing accepted, the reconnect with the new identity, the registry as the
# template says, the shadow loop. Sets thing, identity_id, key_slot.
fleet_kit() {
  local flow=$1
  start_kit "$flow"
  "$ZTP" kit set-wifi --dir "$work/factory" --ssid lab >/dev/null
  "$ZTP" kit provision-claim --dir "$work/factory" --kit-socket "$kit/usb.sock" \
    --template-name "$template" --claim-policy KitClaimPolicy --endpoint-url "$endpoint_url" >"$work/claim.out"
  claim_id=$(sed -n 's/^    certificate \([0-9a-f]*\)$/\1/p' "$work/claim.out")
  serial=$(sed -n 's/^    ATECC508A SN: //p' "$work/claim.out")
  thing=kit-$serial
  check "$flow: RegisterThing accepted" wait_for "$console" "FLEET: RegisterThing accepted: thing $thing" 20
  check "$flow: reconnected with the new identity, shadow subscribed" \
    wait_for "$console" "SUCCESS: Subscribed to the MQTT update topic subscription: \$aws/things/$thing/shadow/update/delta" 20
  identity_id=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['certificateId'])" "$kit/flash/identity.json")
  key_slot=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['keySlot'])" "$kit/flash/identity.json")
  check "$flow: the new certificate is ACTIVE (the template's Status)" \
    test "$(iot describe-certificate --certificate-id "$identity_id" --query certificateDescription.status --output text)" = ACTIVE
  check "$flow: the claim certificate is another one" test "$claim_id" != "$identity_id"
  check "$flow: thing attribute serial from the parameters" \
    test "$(iot describe-thing --thing-name "$thing" --query attributes.serial --output text)" = "$serial"
  local arn
  arn=$(iot describe-certificate --certificate-id "$identity_id" --query certificateDescription.certificateArn --output text)
  check "$flow: the thing's principal is the new certificate" \
    test "$(iot list-thing-principals --thing-name "$thing" --query 'principals[0]' --output text)" = "$arn"
  check "$flow: KitDevicePolicy on the new certificate" \
    test "$(iot list-attached-policies --target "$arn" --query 'policies[0].policyName' --output text)" = KitDevicePolicy
  check "$flow: the certificate lives in the MCU flash (0600)" \
    test "$(stat -c %a "$kit/flash/identity.json")" = 600
  check "$flow: TLS with the new key's slot" grep -q "client key in the ATECC508A slot $key_slot" "$console"
  shadow_round_trip "$thing"
}
