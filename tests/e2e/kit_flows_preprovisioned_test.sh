#!/usr/bin/env bash
# `ztp kit run --flow preprovisioned` against the real `ztp cloud run`: a pre-provisioned part. The
# factory provisions the kit (device certificate from its own signer CA, which the cloud never
# registers) while the kit is off the network; the certificate is registered without a CA
# (RegisterCertificateWithoutCA, multi-account registration: SNI_ONLY), the thing and a
# least-privilege policy are made with the stock aws CLI; deployed, the kit's FIRST connection
# (with SNI, as the kit always sends) is accepted and its shadow loop runs.
source "$(dirname "$0")/lib.sh"
e2e_init kit-flows-preprovisioned
source "$(dirname "$0")/kit_flows_lib.sh"

start_cloud "$work/state"
make_ca "$work/factory"
endpoint=$(iot describe-endpoint --endpoint-type iot:Data-ATS --query endpointAddress --output text)
echo "{\"endpointAddress\": \"$endpoint\"}" >"$work/factory/kit-info.json"
"$ZTP" kit set-wifi --dir "$work/factory" --ssid lab >/dev/null

# At the factory: no access point in range, so the kit cannot connect yet.
start_process kit "$ZTP" kit run --dir "$kit" --flow preprovisioned \
  --server-ca "$work/state/server-ca.crt" --endpoint-override "127.0.0.1:$MQTT_PORT"
KIT_PID=$LAST_PID
wait_for "$work/kit.out" "console=" 10 || fail "the kit did not start"
"$ZTP" kit provision --dir "$work/factory" --kit-socket "$kit/usb.sock" >/dev/null
wait_for "$console" "AP lab not found" 10 || fail "the kit tried the network"
stop_process "$KIT_PID"
device=$work/factory/device.crt
thing=$(ski_hex "$device")
id=$(cert_id "$device")

# The cloud side of a pre-provisioned part, with the stock aws CLI.
arn=$(iot register-certificate-without-ca --certificate-pem "file://$device" --status ACTIVE \
  --query certificateArn --output text)
check "registered without a CA: SNI_ONLY" \
  test "$(iot describe-certificate --certificate-id "$id" --query certificateDescription.certificateMode --output text)" = SNI_ONLY
iot create-thing --thing-name "$thing" >/dev/null
iot create-policy --policy-name KitDevicePolicy --policy-document "$(device_policy)" >/dev/null
iot attach-policy --policy-name KitDevicePolicy --target "$arn"
iot attach-thing-principal --thing-name "$thing" --principal "$arn"

# Deployed: the access point is there; the first connection is accepted.
: >"$work/kit.out"
start_kit preprovisioned
check "first connection accepted, shadow subscribed" \
  wait_for "$console" "SUCCESS: Subscribed to the MQTT update topic subscription: \$aws/things/$thing/shadow/update/delta" 20
check "no refused attempt (no JITR, no retry)" bash -c "! grep -q 'retrying in' '$console'"
check "connected on attempt 1" grep -q "as $thing, attempt 1$" "$console"
shadow_round_trip "$thing"
stop_process "$KIT_PID"
check "kit stops cleanly" grep -q "Stopped" "$console"
finish_tests
