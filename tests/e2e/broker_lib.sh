# Helpers for the broker e2e tests (sourced, not run by ctest): a temp dir, a test PKI, starting
# `ztp broker run` on an ephemeral port, mosquitto clients with bounded waits, cleanup of every
# process we started.
set -euo pipefail

ZTP=${ZTP:-${ZT_BINARY_DIR:-build}/bin/ztp}
ZT_SOURCE_DIR=${ZT_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
work=$(mktemp -d /tmp/zt-broker-e2e.XXXXXX)
pids=()
failures=0

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

bash "$ZT_SOURCE_DIR/tools/make-test-pki.sh" "$work/pki" >/dev/null
pki=$work/pki

# start_broker NAME ANCHORS_PEM: runs the broker, sets BROKER_PID and PORT.
start_broker() {
  local name=$1 anchors=$2
  "$ZTP" --log-level debug broker run --cert "$pki/server.crt" --key "$pki/server.key" --ca "$anchors" \
    --listen 127.0.0.1:0 >"$work/$name.out" 2>"$work/$name.err" &
  BROKER_PID=$!
  pids+=("$BROKER_PID")
  PORT=
  for _ in $(seq 100); do
    PORT=$(sed -n 's/^listening mqtts=127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/$name.out")
    [ -n "$PORT" ] && return 0
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "broker $name did not start:"; cat "$work/$name.err"; exit 1
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
wait_log() {
  for _ in $(seq 100); do
    grep -qF -- "$2" "$work/$1.err" && return 0
    sleep 0.05
  done
  echo "timed out waiting for '$2' in the $1 broker log"
  return 1
}

pub() { timeout 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" "$@"; }

check() {  # check DESCRIPTION COMMAND…
  local description=$1
  shift
  if "$@"; then echo "ok   - $description"; else echo "FAIL - $description"; failures=$((failures + 1)); fi
}

finish_tests() {
  if ((failures)); then
    echo "$failures check(s) failed; broker logs:"
    cat "$work"/*.err 2>/dev/null | tail -50
    exit 1
  fi
  echo "all checks passed"
}
