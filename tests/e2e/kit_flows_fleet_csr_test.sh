#!/usr/bin/env bash
# `ztp kit run --flow fleet-csr` against the real `ztp cloud run`: fleet provisioning by claim with
# the key made in the ATECC508A. The claim certificate is for the chip's slot 0 key (a CSR signed
# inside the chip, CreateCertificateFromCsr, the claim policy); over MQTT the kit GenKeys slot 2,
# has the chip sign a CSR, calls $aws/certificates/create-from-csr/json and RegisterThing with the
# ownership token and its serial number, then reconnects with the new certificate. A second run of
# RegisterThing with the spent token is what the cloud refuses (one use).
source "$(dirname "$0")/lib.sh"
e2e_init kit-flows-fleet-csr
source "$(dirname "$0")/kit_flows_lib.sh"
source "$(dirname "$0")/kit_flows_fleet_lib.sh"

start_cloud "$work/state"
mkdir -p "$work/factory"
fleet_cloud_setup
fleet_kit fleet-csr
check "fleet-csr: key generated in slot 2" test "$key_slot" = 2
check "fleet-csr: the CSR was signed in the chip" grep -q "FLEET: CSR for slot 2 signed by the ATECC508A" "$console"
check "fleet-csr: the certificate is for slot 2's key" grep -q "FLEET: GenKey in the ATECC508A slot 2" "$console"
stop_process "$KIT_PID"
check "kit stops cleanly" grep -q "Stopped" "$console"
finish_tests
