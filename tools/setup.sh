#!/usr/bin/env bash
# Installs the Debian packages zerotouch builds, tests and demos with. Idempotent: installs only
# what is missing, so a prepared machine pays one dpkg query. chromium is the browser of the web
# console's browser test (driven by playwright-core from npm); node/npm build the console and
# come from Debian only when no node is on the PATH (a newer node may already be installed).
set -euo pipefail

# tools/setup.sh --hosts STATE_DIR [--yes]: makes the local cloud's endpoint names resolve on
# this machine for clients that do not implement RFC 6761 .localhost (mosquitto, AWS's device
# SDKs with glibc's default "hosts: files dns"). It shows the exact lines `ztp cloud run` wrote to
# STATE_DIR/endpoint-hosts and adds them to /etc/hosts ($ZT_HOSTS_FILE, for tests) only after the
# user says yes (or with --yes); a line for the same names already there is left alone. It never
# runs without --hosts, adds no wildcard, and does not touch nsswitch.conf, resolv.conf or
# systemd-resolved.
if [ "${1:-}" = --hosts ]; then
  state=${2:?usage: tools/setup.sh --hosts STATE_DIR [--yes]}
  hosts_file=${ZT_HOSTS_FILE:-/etc/hosts}
  lines=$(grep -v '^#' "$state/endpoint-hosts") || {
    echo "setup: no $state/endpoint-hosts (start \`ztp cloud run --state-dir $state\` once)" >&2
    exit 1
  }
  missing=()
  while read -r address names; do
    for name in $names; do
      if ! grep -qE "^[^#]*[[:space:]]$name([[:space:]]|\$)" "$hosts_file" 2>/dev/null; then
        missing+=("$address $names")
        break
      fi
    done
  done <<<"$lines"
  if ((${#missing[@]} == 0)); then
    echo "setup: $hosts_file already resolves the endpoint names"
    exit 0
  fi
  echo "setup: these lines make the local cloud's endpoint names resolve to 127.0.0.1:"
  printf '  %s\n' "${missing[@]}"
  if [ "${3:-}" != --yes ]; then
    read -r -p "Add them to $hosts_file? [y/N] " answer
    [[ $answer =~ ^[Yy] ]] || { echo "setup: $hosts_file left unchanged"; exit 0; }
  fi
  sudo_cmd=()
  [ -w "$hosts_file" ] || sudo_cmd=(sudo)
  printf '%s\n' "# zerotouch local cloud (tools/setup.sh --hosts)" "${missing[@]}" |
    "${sudo_cmd[@]}" tee -a "$hosts_file" >/dev/null
  echo "setup: added to $hosts_file"
  exit 0
fi

packages=(
  build-essential cmake ninja-build pkg-config git
  libssl-dev openssl libboost-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libsqlite3-dev libzip-dev
  libgtest-dev libgmock-dev libbenchmark-dev libtcmalloc-minimal4
  clang libfuzzer-14-dev libclang-rt-14-dev
  softhsm2 libp11-dev libengine-pkcs11-openssl opensc
  awscli python3 python3-boto3 python3-botocore python3-paho-mqtt python3-cbor2 mosquitto mosquitto-clients
  procps psmisc curl jq
  chromium
)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

node_major=$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\).*/\1/p')
if [ -z "$node_major" ] || [ "$node_major" -lt 18 ]; then
  echo "setup: the web console needs node >= 18 (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
[ -x /usr/bin/chromium ] || { echo "setup: /usr/bin/chromium is missing after installing chromium" >&2; exit 1; }
