#!/usr/bin/env bash
# The emulated kit against the full local cloud (`ztp cloud run`: JITR rule, ZTLambdaJITR), in the
# failure cases of issue 7's acceptance, each with the firmware's clear message and a recovery
# that keeps the key in slot 0:
#  - unregistered CA: a kit provisioned with a signer CA the cloud never registered is refused,
#    retries with a bounded backoff, and passes JITR once `ztp ca register` has run — without
#    being provisioned again;
#  - deactivated certificate (INACTIVE): the live session is ended, reconnects are refused, and
#    `update-certificate --new-status ACTIVE` brings the same certificate back;
#  - revoked certificate (REVOKED): the same, except that AWS IoT never reactivates a revoked
#    certificate (CertificateStateException); the kit recovers by provisioning a new certificate
#    for the same key, which JITR registers.
# All registry facts are read with the real AWS CLI (/usr/bin/aws).
source "$(dirname "$0")/lib.sh"
e2e_init kit-cloud

kit=$work/kit
console=$kit/console.log
on_failure() {
  echo "--- kit console (tail)"; tail -30 "$console" 2>/dev/null
  echo "--- cloud log (tail)"; tail -30 "$work/cloud.err" 2>/dev/null
}
# The firmware's words when the endpoint drops a connection at CONNECT (AWS IoT sends no CONNACK).
refusal="): the device certificate is not accepted — being registered just in time (first connection), or inactive/revoked; retrying in"
status_of() { iot describe-certificate --certificate-id "$1" --query certificateDescription.status --output text; }
pubkey() { openssl x509 -in "$1" -noout -pubkey; }

start_cloud "$work/state"
"$ZTP" cloud setup-jitr --state-dir "$work/state" >/dev/null
make_ca "$work/registered"
make_ca "$work/unregistered"
"$ZTP" ca register --dir "$work/registered" --endpoint-url "$endpoint_url" >/dev/null
# The unregistered factory has the endpoint (say, copied from another line's kit-info.json) but
# its signer CA was never registered.
python3 - "$work/registered/kit-info.json" "$work/unregistered/kit-info.json" <<'PY'
import json, sys
endpoint = json.load(open(sys.argv[1]))["endpointAddress"]
json.dump({"endpointAddress": endpoint}, open(sys.argv[2], "w"), indent=4)
PY
ZTP_WIFI_PASSWORD=correct-horse-battery "$ZTP" kit set-wifi --dir "$work/unregistered" --ssid lab >/dev/null

export ZTP_WIFI_PASSWORD=correct-horse-battery  # for the kit's access point and set-wifi
start_process kit "$ZTP" kit run --dir "$kit" --wifi-ap lab \
  --server-ca "$work/state/server-ca.crt" --endpoint-override "127.0.0.1:$MQTT_PORT" --retry-max-ms 1000
KIT_PID=$LAST_PID
wait_for "$work/kit.out" "console=" 10 || fail "the kit did not start"
"$ZTP" kit provision --dir "$work/unregistered" --kit-socket "$kit/usb.sock" >/dev/null
device=$work/unregistered/device.crt
id=$(cert_id "$device")
thing=$(ski_hex "$device")
key=$(pubkey "$device")

# --- unregistered CA ---------------------------------------------------------------------------
wait_for "$console" "attempt 4" 20 || fail "the kit did not retry"
check "unregistered CA: the firmware's clear message" \
  grep -q "ERROR: TLS handshake: .*: the endpoint does not trust the device certificate's CA — its signer CA is not registered (or not ACTIVE); run \`ztp ca register\`; retrying in" "$console"
# Backoff (base 500 ms, cap --retry-max-ms 1000, jitter up to half the delay): the first wait is
# 500-750 ms, every later one the cap.
mapfile -t delays < <(sed -n 's/.*; retrying in \([0-9]*\) ms$/\1/p' "$console")
check "unregistered CA: first retry after 500-750 ms" test "${delays[0]}" -ge 500 -a "${delays[0]}" -le 750
check "unregistered CA: later retries capped at 1000 ms" test "${delays[1]}" -eq 1000 -a "${delays[2]}" -eq 1000
check "unregistered CA: nothing registered in the cloud" \
  bash -c "! '$AWS' iot --endpoint-url '$endpoint_url' describe-certificate --certificate-id '$id' >/dev/null 2>&1"

# The fix: register the CA; the next retry is registered just in time — no re-provisioning.
subscribed=$(count "$console" "SUCCESS: Subscribed")
"$ZTP" ca register --dir "$work/unregistered" --endpoint-url "$endpoint_url" >/dev/null
check "after ca register: JITR and subscription" wait_count "$console" "SUCCESS: Subscribed to the MQTT update topic subscription: \$aws/things/$thing/" "$subscribed" 30
check "after ca register: certificate ACTIVE" test "$(status_of "$id")" = ACTIVE
check "after ca register: thing = hex SKI" test "$(iot describe-thing --thing-name "$thing" --query thingName --output text)" = "$thing"
iot describe-certificate --certificate-id "$id" --query certificateDescription.certificatePem --output text >"$work/registered.pem"
check "after ca register: JITR registered the certificate provisioned before, same key" \
  test "$key" = "$(pubkey "$work/registered.pem")"

# cut_off STATUS: update-certificate to STATUS ends the kit's live session, its reconnects are
# refused with the firmware's message, and the cloud's log names the status.
cut_off() {
  local status=$1 lost refused
  local cut="MQTT connection lost (the endpoint ends the sessions of a certificate that is deactivated or revoked)"
  lost=$(count "$console" "$cut")
  refused=$(count "$console" "$refusal")
  iot update-certificate --certificate-id "$id" --new-status "$status"
  check "$status: the live session is ended" wait_count "$console" "$cut" "$lost" 10
  check "$status: reconnects refused, with the firmware's clear message" wait_count "$console" "$refusal" "$refused" 10
  check "$status: the cloud names the reason" grep -q "certificate $id is $status" "$work/cloud.err"
}

# --- deactivated certificate (INACTIVE), then ACTIVE again --------------------------------------
subscribed=$(count "$console" "SUCCESS: Subscribed")
cut_off INACTIVE
iot update-certificate --certificate-id "$id" --new-status ACTIVE
check "ACTIVE again: the same certificate reconnects" wait_count "$console" "SUCCESS: Subscribed" "$subscribed" 20

# --- revoked certificate ------------------------------------------------------------------------
subscribed=$(count "$console" "SUCCESS: Subscribed")
cut_off REVOKED
set +e
iot update-certificate --certificate-id "$id" --new-status ACTIVE >"$work/reactivate.out" 2>&1
rc=$?
set -e
check "REVOKED: reactivation refused as by AWS IoT" \
  bash -c "test $rc -ne 0 && grep -q 'CertificateStateException' '$work/reactivate.out'"
check "REVOKED: still refused" test "$(status_of "$id")" = REVOKED
# Recovery: a new certificate for the same key in slot 0, registered just in time.
"$ZTP" kit provision --dir "$work/unregistered" --kit-socket "$kit/usb.sock" >/dev/null
new_id=$(cert_id "$device")
check "re-provisioned: a new certificate" test "$new_id" != "$id"
check "re-provisioned: the same key" test "$key" = "$(pubkey "$device")"
check "re-provisioned: JITR and subscription" wait_count "$console" "SUCCESS: Subscribed to the MQTT update topic subscription: \$aws/things/$thing/" "$subscribed" 30
check "re-provisioned: new certificate ACTIVE" test "$(status_of "$new_id")" = ACTIVE
check "re-provisioned: ZTPolicy_<new id> attached" \
  test "$(iot list-attached-policies --target "$(iot describe-certificate --certificate-id "$new_id" --query certificateDescription.certificateArn --output text)" --query 'policies[].policyName' --output text)" = "ZTPolicy_$new_id"

stop_process "$KIT_PID"
check "kit stops cleanly" grep -q "Stopped" "$console"
finish_tests
