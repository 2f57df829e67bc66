# Helpers for the broker e2e tests (sourced, not run by ctest): a temp dir, a test PKI, starting
# `ztp broker run` on an ephemeral port, mosquitto clients with bounded waits, cleanup of every
# process we started.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init broker

bash "$ZT_SOURCE_DIR/tools/make-test-pki.sh" "$work/pki" >/dev/null
pki=$work/pki

# start_broker NAME ANCHORS_PEM: runs the broker, sets BROKER_PID and PORT.
start_broker() {
  local name=$1 anchors=$2
  : >"$work/$name.out"
  start_process "$name" "$ZTP" --log-level debug broker run --cert "$pki/server.crt" --key "$pki/server.key" \
    --ca "$anchors" --listen 127.0.0.1:0
  BROKER_PID=$LAST_PID
  PORT=$(listening_port "$work/$name.out" mqtts 5) || { echo "broker $name did not start:"; cat "$work/$name.err"; exit 1; }
}

# tls_args CERT KEY: mosquitto client TLS options (server verified against our root).
tls_args() { echo "--cafile $pki/root.crt --cert $pki/$1 --key $pki/$2"; }

# sub NAME COUNT ARGS…: background mosquitto_sub printing "topic payload", bounded to 10 s.
sub() {
  local name=$1 count=$2
  shift 2
  timeout 10 mosquitto_sub -h 127.0.0.1 -p "$PORT" -C "$count" -v "$@" >"$work/$name.sub" 2>"$work/$name.suberr" &
  SUB_PID=$!
  pids+=("$SUB_PID")
}

# wait_log BROKER_NAME TEXT: waits (≤ 5 s) until the broker's log contains TEXT — e.g.
# "sub1 subscribed to a/b", since mosquitto_sub itself has no "ready" signal.
wait_log() { wait_for "$work/$1.err" "$2" 5; }

pub() { timeout 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" "$@"; }

on_failure() {
  echo "broker logs:"
  cat "$work"/*.err 2>/dev/null | tail -50
}
