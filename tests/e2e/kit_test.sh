#!/usr/bin/env bash
# The emulated kit end to end, with the PC tools: create-root/-signer-csr/-signer, set-wifi,
# provision (refused before an endpoint exists), then the kit joins the emulated Wi-Fi, connects
# over TLS 1.2 with its key inside the ATECC508A to `ztp broker run` and to Mosquitto (Debian,
# require_certificate, cafile = our root CA), subscribes its shadow delta, follows a delta into
# its LEDs and publishes a button press. Failures: open AP, wrong PSK, corrupted slot 10 — each
# with the firmware's message, and each recovered by the fix while the slot 0 key stays the same.
source "$(dirname "$0")/lib.sh"
e2e_init kit

ca=$work/ca
kit=$work/kit
make_ca "$ca"

# The endpoint's server certificate (issued by a separate server CA, as the cloud's), naming the
# endpoint host the kit will look up.
endpoint=zt0123456789-ats.iot.us-east-1.localhost
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/server-ca.key" \
  -subj "/CN=Test Server CA" -days 2 -out "$work/server-ca.crt" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/server.key" \
  -subj "/CN=$endpoint" -out "$work/server.csr" 2>/dev/null
openssl x509 -req -in "$work/server.csr" -CA "$work/server-ca.crt" -CAkey "$work/server-ca.key" \
  -CAcreateserial -days 2 -extfile <(printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\n' "$endpoint") \
  -out "$work/server.crt" 2>/dev/null
# A test client (the "cloud side" publishing deltas) with a certificate from our root.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/app.key" \
  -subj "/CN=app" -out "$work/app.csr" 2>/dev/null
openssl x509 -req -in "$work/app.csr" -CA "$ca/root-ca.crt" -CAkey "$ca/root-ca.key" -CAcreateserial \
  -days 2 -out "$work/app.crt" 2>/dev/null

start_process broker "$ZTP" --log-level debug broker run --cert "$work/server.crt" --key "$work/server.key" \
  --ca "$ca/root-ca.crt" --listen 127.0.0.1:0
PORT=$(listening_port "$work/broker.out" mqtts 10) || fail "the broker did not start: $(cat "$work/broker.err")"

# Passphrases never go on a command line (/proc/<pid>/cmdline): a file of access points, 0600.
(umask 077 && printf '%s\n' '# ssid:psk[:security]' 'lab:correct-horse-battery' 'cafe:whatever:open' >"$work/access-points")
start_kit() {  # start_kit HOST:PORT
  start_process kit "$ZTP" kit run --dir "$kit" --wifi-ap-file "$work/access-points" \
    --server-ca "$work/server-ca.crt" --endpoint-override "$1" --retry-max-ms 1000
  KIT_PID=$LAST_PID
  wait_for "$work/kit.out" "console=" 10
}
stop_kit() { stop_process "$KIT_PID"; }
console=$kit/console.log

start_kit "127.0.0.1:$PORT"
pty=$(sed -n 's/.*console=\(\/dev\/pts\/[0-9]*\)$/\1/p' "$work/kit.out" | tail -1)
check "console is a pseudo-terminal" test -c "$pty"
timeout 30 cat "$pty" >"$work/pty.txt" 2>/dev/null &
pids+=($!)
wait_for "$console" "Waiting for provisioning" 10
check "kit status: waiting for provisioning" \
  bash -c "'$ZTP' kit status --kit-socket '$kit/usb.sock' | grep -q '\"state_id\":1'"

# Provisioning before `ztp ca register`: no endpointAddress.
# The old ways fail, saying the new ones, and never echo the secret.
set +e
"$ZTP" kit set-wifi --dir "$ca" --ssid cafe --password whatever-open >/dev/null 2>"$work/oldflag.err"
rc_password=$?
"$ZTP" kit run --dir "$work/nokit" --wifi-ap lab:correct-horse-battery --server-ca "$work/server-ca.crt" \
  >/dev/null 2>"$work/oldap.err"
rc_ap=$?
ZTP_WIFI_PASSWORD= "$ZTP" kit set-wifi --dir "$ca" --ssid cafe </dev/null >/dev/null 2>"$work/nosecret.err"
rc_none=$?
set -e
check "set-wifi --password is refused" test "$rc_password" -ne 0
check "… naming --password-file and ZTP_WIFI_PASSWORD" \
  bash -c "grep -q -- '--password-file' '$work/oldflag.err' && grep -q ZTP_WIFI_PASSWORD '$work/oldflag.err'"
check "… without echoing the password" bash -c "! grep -q whatever-open '$work/oldflag.err'"
check "kit run --wifi-ap ssid:psk is refused" test "$rc_ap" -ne 0
check "… naming --wifi-ap-file, without the passphrase" \
  bash -c "grep -q -- '--wifi-ap-file' '$work/oldap.err' && ! grep -q correct-horse '$work/oldap.err'"
check "set-wifi with no password source (no TTY) fails, saying the three ways" \
  bash -c "test $rc_none -ne 0 && grep -q 'password-file' '$work/nosecret.err'"
(umask 077 && printf 'whatever-open\n' >"$work/cafe-password")
"$ZTP" kit set-wifi --dir "$ca" --ssid cafe --password-file "$work/cafe-password" >"$work/setwifi.out"
check "kit-info.json holds no clear Wi-Fi password" \
  bash -c "! grep -q whatever-open '$ca/kit-info.json' && grep -q wifi_password_encrypted '$ca/kit-info.json'"
check "kit-wifi.key is 0600" test "$(stat -c %a "$ca/kit-wifi.key")" = 600
set +e
"$ZTP" kit provision --dir "$ca" --kit-socket "$kit/usb.sock" >"$work/prov0.out" 2>"$work/prov0.err"
rc=$?
set -e
check "provision before register fails" test "$rc" -ne 0
check "… naming endpointAddress and ztp ca register" \
  grep -qF 'endpointAddress not found in kit-info.json — run `ztp ca register` first' "$work/prov0.err"

# What `ztp ca register` would add.
python3 - "$ca/kit-info.json" "$endpoint" <<'PY'
import json, sys
path, endpoint = sys.argv[1], sys.argv[2]
info = json.load(open(path))
info["endpointAddress"] = endpoint
json.dump(info, open(path, "w"), indent=4)
PY

# Open access point: refused by the firmware.
"$ZTP" kit provision --dir "$ca" --kit-socket "$kit/usb.sock" >"$work/prov1.out"
check "provision prints the seed's steps" grep -q "Requesting device CSR" "$work/prov1.out"
key1=$(openssl x509 -in "$ca/device.crt" -noout -pubkey)
wait_for "$console" "only WPA2 personal access points are supported"
check "open AP refused with the firmware's message" grep -q "ERROR: WINC1500 WIFI: AP cafe is an open network" "$console"

# Wrong PSK.
ZTP_WIFI_PASSWORD=wrong-password "$ZTP" kit set-wifi --dir "$ca" --ssid lab >/dev/null
"$ZTP" kit provision --dir "$ca" --kit-socket "$kit/usb.sock" >/dev/null
wait_for "$console" "authentication failed"
check "wrong PSK: the firmware's message" grep -q "ERROR: WINC1500 WIFI: Failed to connect to AP lab: authentication failed" "$console"

# The fix: the right password; the kit joins, connects and subscribes.
printf 'correct-horse-battery\n' | "$ZTP" kit set-wifi --dir "$ca" --ssid lab --password-file - >/dev/null
"$ZTP" kit provision --dir "$ca" --kit-socket "$kit/usb.sock" >"$work/prov3.out"
thing=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["thing_name"])' "$ca/kit-info.json")
ski=$(openssl x509 -in "$ca/device.crt" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)
check "thing name = hex SKI of device.crt" test "$thing" = "$ski"
check "device key unchanged by re-provisioning" test "$key1" = "$(openssl x509 -in "$ca/device.crt" -noout -pubkey)"
wait_for "$console" "SUCCESS: Subscribed to the MQTT update topic subscription: \$aws/things/$thing/shadow/update/delta"
check "Wi-Fi joined" grep -q "WINC1500 WIFI: Device IP Address: 127.0.0.1" "$console"
check "TLS 1.2 with the SE key" grep -q "TLS: connected (TLSv1.2" "$console"
check "broker saw client id = thing name, keep-alive 900" wait_for "$work/broker.err" "$thing connected (clean session true, keep-alive 900 s)" 5
wait_for "$console" "Publishing MQTT Shadow Update Message"
# 5 blinks per successful subscription (a re-provisioning in flight may add a reconnect).
check "LED0 blinked 5 times" bash -c "'$ZTP' kit leds --kit-dir '$kit' | python3 -c 'import json,sys; n=json.load(sys.stdin)[\"led0_blinks\"]; sys.exit(not (n >= 5 and n % 5 == 0))'"
check "the console pty carried the same lines" wait_for "$work/pty.txt" "SUCCESS: Subscribed" 5

# shadow_round_trip PORT LABEL: a delta turns LED1 on; a press of button 1 is reported.
shadow_round_trip() {  # shadow_round_trip PORT LABEL LOG SUBSCRIBED_TEXT
  local port=$1 label=$2 log=$3 subscribed=$4
  local tls=(--cafile "$work/server-ca.crt" --cert "$work/app.crt" --key "$work/app.key" -h 127.0.0.1 -p "$port")
  timeout 15 mosquitto_sub "${tls[@]}" -i "app-sub-$label" -t "\$aws/things/$thing/shadow/update" -C 2 \
    >"$work/reported-$label.txt" 2>"$work/sub-$label.err" &
  local sub=$!
  pids+=("$sub")
  wait_for "$log" "$subscribed" 10  # mosquitto_sub itself gives no "subscribed" signal
  timeout 10 mosquitto_pub "${tls[@]}" -i "app-pub-$label" -t "\$aws/things/$thing/shadow/update/delta" \
    -m '{"version":2,"state":{"led1":"on"}}'
  local lit=1
  for _ in $(seq 100); do
    "$ZTP" kit leds --kit-dir "$kit" | grep -q '"led1":"on"' && { lit=0; break; }
    sleep 0.05
  done
  check "$label: delta turned LED1 on" test "$lit" -eq 0
  "$ZTP" kit press 1 --kit-dir "$kit" >/dev/null
  wait "$sub" || true
  check "$label: reported led1 on after the delta" grep -q '"led1":"on"' "$work/reported-$label.txt"
  check "$label: reported button1 down after the press" grep -q '"button1":"down"' "$work/reported-$label.txt"
  # Back to a known state for the next round.
  timeout 10 mosquitto_pub "${tls[@]}" -i "app-off-$label" -t "\$aws/things/$thing/shadow/update/delta" \
    -m '{"state":{"led1":"off"}}'
  "$ZTP" kit press 1 --kit-dir "$kit" >/dev/null
}
shadow_round_trip "$PORT" ztp-broker "$work/broker.err" "app-sub-ztp-broker subscribed to"
check "delta logged on the console" grep -q "Received MQTT Shadow Update Delta Message:" "$console"

# Corrupted slot 10 (one signature byte of the compressed device certificate flipped).
stop_kit
python3 - "$kit/atecc508a.json" <<'PY'
import json, sys
path = sys.argv[1]
state = json.load(open(path))
slot = bytearray.fromhex(state["slots"][10])
slot[5] ^= 0x5A
state["slots"][10] = slot.hex()
json.dump(state, open(path, "w"))
PY
: >"$console"
start_kit "127.0.0.1:$PORT"
wait_for "$console" "ERROR: the certificates in slots 10/12 do not verify"
check "corrupted slot 10: clear firmware error" grep -q "corrupted slot" "$console"
"$ZTP" kit provision --dir "$ca" --kit-socket "$kit/usb.sock" >/dev/null
wait_for "$console" "SUCCESS: Subscribed"
check "recovered after re-provisioning, same key" test "$key1" = "$(openssl x509 -in "$ca/device.crt" -noout -pubkey)"

# Mosquitto (Debian) as the endpoint: require_certificate, cafile = our root CA.
stop_kit
MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/mosquitto.conf" <<CONF
per_listener_settings true
# Run as the invoking user: when started as root, mosquitto would drop to "mosquitto", which
# cannot read the test's private directory.
user $(id -un)
listener $MPORT 127.0.0.1
allow_anonymous true
cafile $ca/root-ca.crt
certfile $work/server.crt
keyfile $work/server.key
require_certificate true
use_identity_as_username true
log_dest stderr
log_type all
CONF
# The kit first, while nothing listens: refused connections are retried with backoff, each
# attempt printed (the same path JITR's refused first connection takes).
: >"$console"
start_kit "127.0.0.1:$MPORT"
wait_for "$console" "attempt 2" 10
check "refused connection retried with a bounded backoff" grep -q "ERROR: TCP connect to 127.0.0.1:$MPORT: Connection refused; retrying in" "$console"
start_process mosquitto mosquitto -c "$work/mosquitto.conf"
wait_for "$work/mosquitto.err" "Opening ipv4 listen socket on port $MPORT" 10
wait_for "$console" "SUCCESS: Subscribed" 20
check "Mosquitto accepted the kit's SE-backed TLS client certificate" \
  grep -q "New client connected from 127.0.0.1.* as $thing" "$work/mosquitto.err"
shadow_round_trip "$MPORT" mosquitto "$work/mosquitto.err" "Sending SUBACK to app-sub-mosquitto"

stop_kit
check "kit stops cleanly" grep -q "Stopped" "$console"

on_failure() {
  echo "kit console:"; tail -40 "$console" 2>/dev/null; tail -20 "$work/kit.err"
  tail -20 "$work/mosquitto.err" 2>/dev/null
}
finish_tests
