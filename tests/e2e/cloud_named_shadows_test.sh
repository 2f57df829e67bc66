#!/usr/bin/env bash
# iot-data ListNamedShadowsForThing against `ztp cloud run`, driven by the real AWS CLI
# (`aws iot-data list-named-shadows-for-thing`, Debian's /usr/bin/aws): names in order, the classic
# and deleted shadows left out, paging with --page-size/--next-token, and the refusals.
: "${ZTP:?path of the ztp binary}"
source "$(dirname "$0")/lib.sh"
e2e_init named-shadows

check() {  # check <description> <jq expression> <json> (fail-fast, unlike lib.sh's check)
  jq -e "$2" <<<"$3" >/dev/null || fail "$1: jq '$2' on: $3"
}

start_cloud "$work/state"

expect_error() {  # expect_error <ErrorType> <command...>
  local type=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -ne 0 ]] || fail "expected $type, command succeeded: $*"
  grep -q "($type)" <<<"$out" || fail "expected $type, got: $out"
}
update() {  # update <thing> [<shadow name>]
  local name_args=()
  [[ $# -gt 1 ]] && name_args=(--shadow-name "$2")
  iotdata update-thing-shadow --thing-name "$1" "${name_args[@]}" --cli-binary-format raw-in-base64-out \
    --payload '{"state":{"reported":{"on":true}}}' "$work/out.json" >/dev/null || fail "update $*"
}
list() { iotdata list-named-shadows-for-thing --thing-name "$@"; }

# A thing with no shadow at all, then one with only the classic shadow: empty lists.
out=$(list lamp)
check "no shadows" '.results == [] and (has("nextToken") | not)' "$out"
update lamp
out=$(list lamp)
check "classic shadow is not a named one" '.results == []' "$out"

# Named shadows created out of order come back in name order; another thing's are not mixed in.
for name in zeta alpha mid-1 beta; do update lamp "$name"; done
update fan alpha
before=$(date +%s)
out=$(list lamp)
check "all names in order" '.results == ["alpha","beta","mid-1","zeta"] and (has("nextToken") | not)' "$out"
check "timestamp in epoch seconds" ".timestamp >= $((before - 5)) and .timestamp <= $((before + 60))" "$out"
out=$(list fan)
check "other thing" '.results == ["alpha"]' "$out"

# Paging: 3 + 1, the token taken back unchanged.
out=$(list lamp --page-size 3)
check "first page" '.results == ["alpha","beta","mid-1"] and (.nextToken | type == "string")' "$out"
token=$(jq -r .nextToken <<<"$out")
out=$(list lamp --page-size 3 --next-token "$token")
check "second page" '.results == ["zeta"] and (has("nextToken") | not)' "$out"

# A deleted named shadow is no longer listed; updating it again brings it back.
iotdata delete-thing-shadow --thing-name lamp --shadow-name beta "$work/out.json" >/dev/null
out=$(list lamp)
check "deleted shadow left out" '.results == ["alpha","mid-1","zeta"]' "$out"
update lamp beta
out=$(list lamp --page-size 100)
check "re-created shadow" '.results == ["alpha","beta","mid-1","zeta"]' "$out"

# Refusals: page size above 100, a token this service did not issue, a bad thing name.
expect_error InvalidRequestException list lamp --page-size 101
expect_error InvalidRequestException list lamp --next-token '%%%not-a-token'
expect_error InvalidRequestException list 'bad*name'

echo "PASS: cloud_named_shadows_test"
