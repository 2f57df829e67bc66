# Helpers shared by the e2e scripts (sourced, not run by ctest): a private work directory removed
# on exit, background processes that are always stopped, bounded waits, checks with a count, and
# the local cloud on ephemeral ports with the AWS CLI pointed at it.
#
#   source "$(dirname "$0")/lib.sh"; e2e_init kit
set -euo pipefail

ZTP=${ZTP:-${ZT_BINARY_DIR:-build}/bin/ztp}
ZTP=$(realpath "$ZTP")
ZT_SOURCE_DIR=${ZT_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
AWS=/usr/bin/aws
pids=()
failures=0
checks=0

# e2e_init NAME: creates $work (/tmp/zt-NAME-e2e.XXXXXX) and stops every process in $pids, then
# removes $work (kept with E2E_KEEP=1, to debug), when the script exits for any reason.
e2e_init() {
  work=$(mktemp -d "/tmp/zt-$1-e2e.XXXXXX")
  trap e2e_cleanup EXIT
}
e2e_cleanup() {
  local status=$? pid code crashed=0
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    code=0
    wait "$pid" 2>/dev/null || code=$?
    # 128+N: ended by signal N. Our SIGTERM is expected; SIGILL, SIGABRT, SIGBUS, SIGFPE or SIGSEGV
    # is a crash (at stop, say) that the checks before it could not see.
    case $code in
      132 | 134 | 135 | 136 | 139)
        echo "FAIL: process $pid ended by signal $((code - 128)) (a crash)" >&2
        crashed=1
        ;;
    esac
  done
  if [ "${E2E_KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  if ((crashed && status == 0)); then exit 1; fi
}

# fail MESSAGE: stop the test now. pass: count a check that passed (with fail-fast scripts).
fail() {
  echo "FAIL: $*" >&2
  if declare -F on_failure >/dev/null; then on_failure >&2 || true; fi
  exit 1
}
pass() { checks=$((checks + 1)); }

# check DESCRIPTION COMMAND…: runs the command; counts and reports the outcome, goes on.
check() {
  local description=$1
  shift
  if "$@"; then
    echo "ok   - $description"
    checks=$((checks + 1))
  else
    echo "FAIL - $description"
    failures=$((failures + 1))
  fi
}
# finish_tests: exit status of a script made of `check`s (on_failure, if defined, shows logs).
finish_tests() {
  if ((failures)); then
    echo "$failures check(s) failed"
    if declare -F on_failure >/dev/null; then on_failure || true; fi
    exit 1
  fi
  echo "all $checks checks passed"
}

# wait_for FILE TEXT [SECONDS=20]: until FILE contains TEXT (fixed string), polling every 50 ms.
wait_for() {
  local limit=$((${3:-20} * 20))
  for _ in $(seq "$limit"); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "timed out after ${3:-20} s waiting for '$2' in $1:"
  tail -20 "$1" 2>/dev/null || true
  return 1
}
# wait_until SECONDS COMMAND…: until COMMAND succeeds, polling every 0.1 s.
wait_until() {
  local limit=$(($1 * 10))
  shift
  for _ in $(seq "$limit"); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

# count FILE TEXT: lines of FILE containing TEXT. wait_count FILE TEXT N [SECONDS]: until more
# than N such lines.
count() { grep -cF -- "$2" "$1" 2>/dev/null || true; }
more_than() { [ "$(count "$1" "$2")" -gt "$3" ]; }
wait_count() { wait_until "${4:-20}" more_than "$1" "$2" "$3"; }
# start_process NAME COMMAND…: runs COMMAND in the background with stdout/stderr appended to
# $work/NAME.out / $work/NAME.err; sets LAST_PID and remembers it for the cleanup.
start_process() {
  local name=$1
  shift
  "$@" >>"$work/$name.out" 2>>"$work/$name.err" &
  LAST_PID=$!
  pids+=("$LAST_PID")
}
# stop_process PID: SIGTERM and wait for it.
stop_process() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
# listening_port FILE KIND [SECONDS=10]: the port of the "listening KIND=127.0.0.1:PORT" line a
# ztp server prints, waiting for it.
listening_port() {
  local file=$1 kind=$2 port=
  for _ in $(seq $((${3:-10} * 20))); do
    port=$(sed -n "s/^listening $kind=127\\.0\\.0\\.1:\\([0-9]*\\)\$/\\1/p" "$file" 2>/dev/null | tail -1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.05
  done
  echo "no 'listening $kind=' line in $file" >&2
  return 1
}

# start_cloud STATE_DIR [EXTRA ARGS…]: `ztp cloud run` on ephemeral ports (HTTP and MQTT) as
# process "cloud"; sets CLOUD_PID, HTTP_PORT, MQTT_PORT, endpoint_url and points the AWS CLI at
# the account the cloud keeps in STATE_DIR.
start_cloud() {
  local state=$1
  shift
  : >"$work/cloud.out"
  start_process cloud "$ZTP" --log-level info cloud run --state-dir "$state" --http 127.0.0.1:0 \
    --mqtt 127.0.0.1:0 "$@"
  CLOUD_PID=$LAST_PID
  MQTT_PORT=$(listening_port "$work/cloud.out" mqtts 30) || fail "the cloud did not start: $(tail -5 "$work/cloud.err")"
  HTTP_PORT=$(listening_port "$work/cloud.out" http 1)
  endpoint_url=http://127.0.0.1:$HTTP_PORT
  aws_env "$state"
}
# aws_env STATE_DIR: the AWS CLI uses the local cloud's credentials and region, nothing else.
aws_env() {
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION \
    AWS_ENDPOINT_URL
  export AWS_SHARED_CREDENTIALS_FILE="$1/credentials" AWS_CONFIG_FILE="$1/config"
  export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
}
iot() { "$AWS" iot --endpoint-url "$endpoint_url" --output json "$@"; }
iotdata() { "$AWS" iot-data --endpoint-url "$endpoint_url" --output json "$@"; }

# cert_id PEM: AWS IoT's certificate id (SHA-256 of the DER). ski_hex PEM: the thing name the kit
# uses (hex subject key identifier).
cert_id() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
ski_hex() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f; }
# make_ca DIR: root CA, signer CSR and signer CA with `ztp ca` (the factory PKI of the seed).
make_ca() {
  mkdir -p "$1"
  "$ZTP" ca create-root --dir "$1" >/dev/null
  "$ZTP" ca create-signer-csr --dir "$1" >/dev/null
  "$ZTP" ca create-signer --dir "$1" >/dev/null
}

# AWS CLI checks (scripts that define their own copies keep them): expect_error <ErrorType>
# <command...> — the CLI fails naming the error type, its output in $out; jqe FILTER JSON — jq -e
# holds; iam … — the IAM CLI at the local cloud; trust SERVICE — a role trust policy for SERVICE.
expect_error() {
  local type=$1; shift
  local rc=0
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -ne 0 ]] || fail "expected $type, command succeeded: $*"
  grep -q "($type)" <<<"$out" || fail "expected $type, got: $out"
  pass
}
jqe() { jq -e "$1" <<<"$2" >/dev/null || fail "jq '$1' on: $2"; pass; }
iam() { "$AWS" iam --endpoint-url "$endpoint_url" --region us-east-1 --output json "$@"; }
trust() { printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"%s"},"Action":"sts:AssumeRole"}]}' "$1"; }
