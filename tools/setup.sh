#!/usr/bin/env bash
# Installs the Debian packages zerotouch builds, tests and demos with. Idempotent: installs only
# what is missing, so a prepared machine pays one dpkg query. chromium is the browser of the web
# console's browser test (driven by playwright-core from npm); node/npm build the console and
# come from Debian only when no node is on the PATH (a newer node may already be installed).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libssl-dev openssl libboost-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libfuzzer-14-dev libclang-rt-14-dev
  softhsm2 libp11-dev libengine-pkcs11-openssl opensc
  awscli python3 python3-boto3 python3-botocore python3-paho-mqtt mosquitto mosquitto-clients
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
