#!/usr/bin/env bash
# `ztp kit run --flow fleet-claim` against the real `ztp cloud run`: fleet provisioning by claim
# with CreateKeysAndCertificate. The returned private key is written into the ATECC508A's slot 3
# with an encrypted PrivWrite (GenDig over the I/O protection key in slot 4, which the kit's blank
# chip was configured for), then RegisterThing, then the reconnect with the new identity. The kit
# restarted keeps its identity (flash + slot 3): no second provisioning.
source "$(dirname "$0")/lib.sh"
e2e_init kit-flows-fleet-claim
source "$(dirname "$0")/kit_flows_lib.sh"
source "$(dirname "$0")/kit_flows_fleet_lib.sh"

start_cloud "$work/state"
mkdir -p "$work/factory"
fleet_cloud_setup
fleet_kit fleet-claim
check "fleet-claim: key written to slot 3" test "$key_slot" = 3
check "fleet-claim: with an encrypted PrivWrite" \
  grep -q "FLEET: the returned P-256 key written to the ATECC508A slot 3 with an encrypted PrivWrite" "$console"
check "fleet-claim: the I/O protection key is 0600" test "$(stat -c %a "$kit/flash/io-protection.key")" = 600
check "fleet-claim: no private key in the kit's files" \
  bash -c "! grep -rq 'PRIVATE KEY' '$kit' '$work/kit.out'"
# Restart: the identity stays (the certificate in flash, the key in slot 3).
stop_process "$KIT_PID"
: >"$work/kit.out"
start_kit fleet-claim
check "restart: connects with the saved identity" \
  wait_count "$console" "SUCCESS: Subscribed to the MQTT update topic subscription: \$aws/things/$thing/" 1 20
check "restart: no second provisioning" test "$(count "$console" "FLEET: RegisterThing accepted")" = 1
stop_process "$KIT_PID"
finish_tests
