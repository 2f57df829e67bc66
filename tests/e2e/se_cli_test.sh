#!/bin/bash
# ztp se end to end: a new state file is a blank chip, provision, access rules visible at the CLI,
# a signature from the chip verified by the openssl CLI, and the same chip served on a socket.
source "$(dirname "$0")/lib.sh"
e2e_init se-cli
cd "$work"

"$ZTP" se info --state chip.json > info.txt
grep -q '^serial number  0123[0-9A-F]\{12\}EE$' info.txt || fail "serial number format: $(cat info.txt)"
grep -q '^revision       00005000 (ATECC508A)$' info.txt || fail "revision"
grep -q '^config zone    unlocked$' info.txt || fail "blank chip must be unlocked"
[ "$(stat -c %a chip.json)" = 600 ] || fail "state file mode $(stat -c %a chip.json)"

# Before the data lock, data slots are not readable.
if "$ZTP" se read --slot 8 --state chip.json 2> err.txt; then fail "read before data lock succeeded"; fi
grep -q 'chip status 0x0F' err.txt || fail "read error message: $(cat err.txt)"

"$ZTP" se provision --state chip.json > provision.txt
grep -q '^device public key (slot 0) [0-9a-f]\{128\}$' provision.txt || fail "provision output: $(cat provision.txt)"
"$ZTP" se info --state chip.json | grep -q '^data zone      locked$' || fail "data zone not locked after provision"
if "$ZTP" se provision --state chip.json 2> err.txt; then fail "second provision succeeded"; fi
grep -q 'already locked' err.txt || fail "second provision message: $(cat err.txt)"

# The private key is never readable; a data slot round-trips.
if "$ZTP" se read --slot 0 --state chip.json 2> err.txt; then fail "slot 0 was readable"; fi
grep -q 'reading slot 0: .*0x0F' err.txt || fail "slot 0 error message: $(cat err.txt)"
"$ZTP" se write --slot 8 --hex 00112233445566778899aabbccddeeff --offset 32 --state chip.json
[ "$("$ZTP" se read --slot 8 --block 1 --length 32 --state chip.json)" = \
  "00112233445566778899aabbccddeeff00000000000000000000000000000000" ] || fail "slot 8 round trip"
if "$ZTP" se write --slot 8 --hex 0011 --state chip.json 2> err.txt; then fail "2-byte write succeeded"; fi
if "$ZTP" se read --slot 16 --state chip.json 2> err.txt; then fail "slot 16 accepted"; fi
grep -q 'slot 16 does not exist' err.txt || fail "slot 16 message: $(cat err.txt)"

# A signature made inside the chip verifies with openssl against the chip's public key.
printf 'zero touch' > message.txt
digest=$(sha256sum message.txt | cut -c1-64)
"$ZTP" se sign --slot 0 --digest "$digest" --der sig.der --state chip.json > /dev/null
"$ZTP" se pubkey --slot 0 --pem --state chip.json > device.pem
openssl dgst -sha256 -verify device.pem -signature sig.der message.txt | grep -q 'Verified OK' || fail "openssl verify"

# The same chip over the socket.
"$ZTP" se serve --state chip.json --socket "$work/se.sock" > serve.log 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 100); do [ -S "$work/se.sock" ] && break; sleep 0.05; done
[ -S "$work/se.sock" ] || fail "server did not create its socket"
[ "$(stat -c %a "$work/se.sock")" = 600 ] || fail "socket mode"
[ "$("$ZTP" se pubkey --slot 0 --socket "$work/se.sock")" = "$("$ZTP" se pubkey --slot 0 --state chip.json)" ] || \
  fail "socket and state file disagree on the public key"
"$ZTP" se read --slot 8 --block 1 --length 4 --socket "$work/se.sock" | grep -q '^00112233$' || fail "read over socket"
kill -TERM "$server"
wait "$server" || fail "serve exited non-zero on SIGTERM"
server=""
[ ! -e "$work/se.sock" ] || fail "socket left behind"
echo "ok: ztp se CLI"
