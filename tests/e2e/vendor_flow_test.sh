#!/usr/bin/env bash
# The seed's flow as a user of Microchip's own PC scripts runs it against `ztp cloud run`, with the
# vendor's file formats and quirks (issue 13, items 1-5 and 11):
#  - `aws iot describe-endpoint` with no type answers the legacy iot:Data name (no -ats), which
#    aws_register_signer.py writes into kit-info.json; the kit given that name connects (JITR,
#    then the shadow delta);
#  - a re-run of the registration: the 409's message yields the CA id by the script's own pattern
#    re.search('ID:([0-9a-zA-Z]+)', message);
#  - a vendor-format kit-info.json (wifi_password in clear) is provisioned by `ztp kit provision`,
#    with one note and the file's password entry left as it was;
#  - setWifi with "psk": null (kit_set_wifi.py without --password) is answered with the seed
#    guide's sentence;
#  - stock clients: mosquitto_pub/sub by 127.0.0.1 (SNI "127.0.0.1", the listener's address) and,
#    where unshare gives a private /etc/hosts, by the endpoint name; openssl s_client with the
#    legacy name; a wrong name fails the handshake with unrecognized_name, the cloud warns naming
#    the accepted names, and the kit's console says the name is not the cloud's;
#  - `ztp cloud run --endpoint-domain`: DescribeEndpoint, the server certificate and the broker
#    use the new names, and endpoint-hosts holds the /etc/hosts lines;
#  - `ztp ca create-signer-csr --signer-id abcd` is refused at creation.
# /etc/hosts is never edited: the name path of mosquitto runs in a private mount namespace.
source "$(dirname "$0")/lib.sh"
e2e_init vendor-flow

kit=$work/kit
console=$kit/console.log
factory=$work/factory
on_failure() {
  echo "--- kit console (tail)"; tail -30 "$console" 2>/dev/null
  echo "--- cloud log (tail)"; tail -30 "$work/cloud.err" 2>/dev/null
}

start_cloud "$work/state"
"$ZTP" cloud setup-jitr --state-dir "$work/state" >/dev/null
server_ca=$work/state/server-ca.crt

# --- DescribeEndpoint with no type (aws_register_signer.py) -------------------------------------
legacy=$(iot describe-endpoint --query endpointAddress --output text)
ats=$(iot describe-endpoint --endpoint-type iot:Data-ATS --query endpointAddress --output text)
check "describe-endpoint with no type: the legacy iot:Data name" \
  bash -c "[[ '$legacy' =~ ^[a-z0-9]+\\.iot\\.us-east-1\\.localhost\$ ]]"
check "iot:Data-ATS: the same prefix with -ats" test "$ats" = "${legacy%%.*}-ats.${legacy#*.}"

# --- the factory PKI and the registration, twice ------------------------------------------------
make_ca "$factory"
"$ZTP" ca register --dir "$factory" --endpoint-url "$endpoint_url" >"$work/register.out"
ca_id=$(openssl x509 -in "$factory/signer-ca.crt" -outform DER | sha256sum | cut -d' ' -f1)
set +e
iot register-ca-certificate --ca-certificate "file://$factory/signer-ca.crt" \
  --verification-certificate "file://$factory/signer-ca-verification.crt" \
  --set-as-active --allow-auto-registration >"$work/again.out" 2>"$work/again.err"
rc=$?
set -e
check "second registration: ResourceAlreadyExistsException" \
  bash -c "test $rc -ne 0 && grep -q ResourceAlreadyExistsException '$work/again.err'"
vendor_id=$(python3 -c '
import re, sys
match = re.search("ID:([0-9a-zA-Z]+)", open(sys.argv[1]).read())
print(match.group(1) if match else "")' "$work/again.err")
check "second registration: the vendor's pattern ID:([0-9a-zA-Z]+) yields the CA id" \
  test "$vendor_id" = "$ca_id"

# kit-info.json as the vendor's scripts leave it: the iot:Data name from describe_endpoint(), the
# Wi-Fi password in clear (kit_set_wifi.py).
python3 - "$factory/kit-info.json" "$legacy" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
info["endpointAddress"] = sys.argv[2]
info["wifi_ssid"] = "lab"
info["wifi_password"] = "correct-horse-battery"
json.dump(info, open(sys.argv[1], "w"), indent=4)
PY

# --- the kit: setWifi with psk null, then provisioning from the vendor file ----------------------
export ZTP_WIFI_PASSWORD=correct-horse-battery  # the emulated access point's passphrase
start_process kit "$ZTP" kit run --dir "$kit" --wifi-ap lab \
  --server-ca "$server_ca" --endpoint-override "127.0.0.1:$MQTT_PORT" --retry-max-ms 1000
KIT_PID=$LAST_PID
wait_for "$work/kit.out" "console=" 10 || fail "the kit did not start"
# kit_set_wifi.py without --password: {"method": "setWifi", "params": {"ssid": …, "psk": null}}
# in 64-byte reports padded with EOT, over the kit's USB socket.
python3 - "$kit/usb.sock" >"$work/setwifi.out" <<'PY'
import json, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
sock.connect(sys.argv[1])
request = {"method": "setWifi", "params": {"ssid": "cafe", "psk": None}, "id": 7}
line = ("board:app(" + json.dumps(request).encode().hex() + ")\n").encode()
for i in range(0, len(line), 64):
    sock.send(line[i:i + 64].ljust(64, b"\x04"))
reply = b""
while not reply.endswith(b"\n"):
    reply += sock.recv(64).rstrip(b"\x00")
text = reply.decode()
print(bytes.fromhex(text[text.index("(") + 1:text.rindex(")")]).decode())
PY
check "setWifi psk null: answered with the seed guide's sentence" \
  grep -q "You will not be able to connect to an access point that has open access or enterprise security" "$work/setwifi.out"

cp "$factory/kit-info.json" "$work/kit-info.before"
"$ZTP" kit provision --dir "$factory" --kit-socket "$kit/usb.sock" >"$work/provision.out"
check "provision: the vendor kit-info.json is accepted, with one note on the clear password" \
  test "$(count "$work/provision.out" "stores the Wi-Fi password in clear")" -eq 1
check "provision: the password entry is left as the user wrote it" \
  python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]));
sys.exit(not (a["wifi_password"] == b["wifi_password"] == "correct-horse-battery" and "wifi_password_encrypted" not in b))' \
  "$work/kit-info.before" "$factory/kit-info.json"
thing=$(ski_hex "$factory/device.crt")
check "kit: provisioned with the legacy name" wait_for "$console" "endpoint $legacy" 20
check "kit: JITR, then subscribed to the shadow delta" \
  wait_for "$console" "SUCCESS: Subscribed to the MQTT update topic subscription: \$aws/things/$thing/shadow/update/delta" 30
check "cloud: no SNI refused" bash -c "! grep -q 'is not this endpoint' '$work/cloud.err'"
iotdata update-thing-shadow --thing-name "$thing" --cli-binary-format raw-in-base64-out \
  --payload '{"state":{"desired":{"led1":"on"}}}' "$work/shadow.json" >/dev/null
check "kit: the shadow delta sets LED1" wait_for "$console" "Received MQTT Shadow Update Delta Message" 20

# --- stock clients ------------------------------------------------------------------------------
# A certificate made by the cloud, ACTIVE, with a policy for the test topic.
iot create-keys-and-certificate --set-as-active --certificate-pem-outfile "$work/client.crt" \
  --private-key-outfile "$work/client.key" --query certificateArn --output text >"$work/client.arn"
iot create-policy --policy-name stock --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}' >/dev/null
iot attach-policy --policy-name stock --target "$(cat "$work/client.arn")"
mqtt_opts=(-p "$MQTT_PORT" --cafile "$server_ca" --cert "$work/client.crt" --key "$work/client.key")
mosquitto_sub -h 127.0.0.1 "${mqtt_opts[@]}" -i stock-sub -t vendor/test -C 1 -W 30 >"$work/sub.out" 2>&1 &
sub_pid=$!
pids+=("$sub_pid")
# Published until the subscriber (connecting at the same time) has one: bounded, no timing. A new
# client id each time: AWS throttles CONNECTs to one per second per client id.
attempt=0
published_by_ip() {
  attempt=$((attempt + 1))
  mosquitto_pub -h 127.0.0.1 "${mqtt_opts[@]}" -i "stock-pub-$attempt" -t vendor/test -m by-ip ||
    return 2
  grep -qx "by-ip" "$work/sub.out"
}
check "mosquitto_pub/sub -h 127.0.0.1: SNI 127.0.0.1 accepted, message delivered" \
  wait_until 20 published_by_ip
wait "$sub_pid" 2>/dev/null || true

# By name: a private mount namespace whose /etc/hosts names the endpoint (the system file stays).
printf '127.0.0.1 localhost\n127.0.0.1 %s %s\n' "$ats" "$legacy" >"$work/hosts"
if unshare --user --map-root-user --mount true 2>/dev/null; then
  check "mosquitto_pub -h <iot:Data-ATS name> (private /etc/hosts)" \
    unshare --user --map-root-user --mount sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' \
    sh "$work/hosts" mosquitto_pub -h "$ats" "${mqtt_opts[@]}" -i stock-name -t vendor/test -m by-name
else
  echo "skip - mosquitto_pub by name: unshare is not available here"
fi
s_client() {
  echo | openssl s_client -connect "127.0.0.1:$MQTT_PORT" -CAfile "$server_ca" \
    -cert "$work/client.crt" -key "$work/client.key" "$@" 2>&1
}
check "openssl s_client -servername <iot:Data name>: verified" \
  bash -c "$(declare -f s_client); MQTT_PORT=$MQTT_PORT server_ca=$server_ca work=$work; s_client -servername '$legacy' -verify_hostname '$legacy' | grep -q 'Verify return code: 0 (ok)'"
s_client -servername wrong.example.test >"$work/wrong.out" || true
check "a wrong SNI fails the handshake with unrecognized_name" grep -q "unrecognized name" "$work/wrong.out"
check "the cloud warns, naming the accepted names" \
  wait_for "$work/cloud.err" "SNI 'wrong.example.test' is not this endpoint; it accepts $ats, $legacy" 5
check "the warning is at warning level" grep -q " warning broker: TLS from .*wrong.example.test" "$work/cloud.err"

# The kit given a name that is not the cloud's says so (not JITR, not revocation).
python3 - "$factory/kit-info.json" "${legacy/./-other.}" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
info["endpointAddress"] = sys.argv[2]
json.dump(info, open(sys.argv[1], "w"), indent=4)
PY
"$ZTP" kit provision --dir "$factory" --kit-socket "$kit/usb.sock" >/dev/null
check "kit: a wrong endpoint name is named as such" \
  wait_for "$console" "is not the cloud's (it answered the TLS alert unrecognized_name)" 20
stop_process "$KIT_PID"

# A kit whose endpoint name does not resolve (no override: its DNS step reads /etc/hosts only).
unresolved=${legacy%%.*}-ats.iot.us-east-1.nosuch.test
python3 - "$factory/kit-info.json" "$unresolved" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
info["endpointAddress"] = sys.argv[2]
json.dump(info, open(sys.argv[1], "w"), indent=4)
PY
start_process kit2 "$ZTP" kit run --dir "$work/kit2" --wifi-ap lab \
  --server-ca "$server_ca"
KIT2_PID=$LAST_PID
wait_for "$work/kit2.out" "console=" 10 || fail "the second kit did not start"
"$ZTP" kit provision --dir "$factory" --kit-socket "$work/kit2/usb.sock" >/dev/null
check "kit: an endpoint name that does not resolve is named, with the /etc/hosts fix" \
  wait_for "$work/kit2/console.log" "DNS lookup for $unresolved failed" 20
check "kit: the fix names the hosts line" grep -qF "\"127.0.0.1 $unresolved\" to /etc/hosts" "$work/kit2/console.log"
stop_process "$KIT2_PID"

# `ztp ca register` notes when the .localhost name it wrote does not resolve on this machine
# (files only: /etc/hosts, and nsswitch.conf's RFC 6761 modules).
if grep -qw "$ats" /etc/hosts || grep -qE '^hosts:.*\b(myhostname|resolve)\b' /etc/nsswitch.conf; then
  check "ca register: no note where the name resolves" bash -c "! grep -q 'RFC 6761' '$work/register.out'"
else
  check "ca register: a note names the resolution problem and the fixes" \
    grep -q "note: $ats is a .localhost name (RFC 6761)" "$work/register.out"
fi

# --- --endpoint-domain ---------------------------------------------------------------------------
stop_process "$CLOUD_PID"
start_cloud "$work/state" --endpoint-domain iot.zerotouch.test
prefix=${legacy%%.*}
domain_ats=$prefix-ats.iot.us-east-1.iot.zerotouch.test
check "--endpoint-domain: DescribeEndpoint answers the new domain" \
  test "$(iot describe-endpoint --endpoint-type iot:Data-ATS --query endpointAddress --output text)" = "$domain_ats"
check "--endpoint-domain: the server certificate lists it" \
  bash -c "openssl x509 -in '$work/state/server.crt' -noout -ext subjectAltName | grep -q 'DNS:$domain_ats'"
check "--endpoint-domain: the broker accepts it" \
  bash -c "$(declare -f s_client); MQTT_PORT=$MQTT_PORT server_ca=$server_ca work=$work; s_client -servername '$domain_ats' -verify_hostname '$domain_ats' | grep -q 'Verify return code: 0 (ok)'"
check "--endpoint-domain: the .localhost names stay accepted" \
  bash -c "$(declare -f s_client); MQTT_PORT=$MQTT_PORT server_ca=$server_ca work=$work; s_client -servername '$ats' | grep -q 'Verify return code: 0 (ok)'"
check "endpoint-hosts: the /etc/hosts line for the new names" \
  grep -qx "127.0.0.1 $domain_ats $prefix.iot.us-east-1.iot.zerotouch.test" "$work/state/endpoint-hosts"
check "tools/setup.sh --hosts --yes adds the lines to the hosts file given (a copy here)" \
  bash -c "cp '$work/hosts' '$work/hosts.copy'; ZT_HOSTS_FILE='$work/hosts.copy' '$ZT_SOURCE_DIR/tools/setup.sh' --hosts '$work/state' --yes >/dev/null && grep -q '$domain_ats' '$work/hosts.copy'"
if "$ZTP" cloud run --state-dir "$work/state2" --http 127.0.0.1:0 --mqtt off --endpoint-domain Bad_Domain >"$work/bad.out" 2>&1; then
  check "--endpoint-domain: a bad domain is refused" false
else
  check "--endpoint-domain: a bad domain is refused" grep -q "endpoint-domain" "$work/bad.out"
fi

# --- a lower-case signer id is refused at creation ------------------------------------------------
mkdir -p "$work/lower"
if "$ZTP" ca create-signer-csr --dir "$work/lower" --signer-id abcd >"$work/lower.out" 2>&1; then
  check "create-signer-csr --signer-id abcd is refused" false
else
  check "create-signer-csr --signer-id abcd is refused, naming the fix" grep -q 'use "ABCD"' "$work/lower.out"
fi
finish_tests
