#!/usr/bin/env bash
# Lambda in the local cloud, driven by the stock AWS CLI (Debian's /usr/bin/aws) against `ztp cloud
# run`: create a Python function from a zip, invoke it (a result, a raised exception, a timeout, a
# package without the handler, the log tail), `provided` functions (a package's bootstrap, a
# `ztp cloud function add` command), permissions, a rule refused without the function's permission
# and run with it, a code update that changes what it does,
# a function whose boto3 client lists the local cloud's things (the SDK is pointed back), delete;
# and hostile packages (a "../" entry, a symbolic link, an oversized zip, wrong JSON types). Every
# invocation must be in `ztp cloud function log`.
source "$(dirname "$0")/lib.sh"
e2e_init lambda-awscli
on_failure() { tail -20 "$work/cloud.err"; }

start_cloud "$work/state"
account=$(sed -n 's/^account=\([0-9]*\) .*/\1/p' "$work/cloud.out")
lambda() { "$AWS" lambda --endpoint-url "$endpoint_url" --output json "$@"; }
role="arn:aws:iam::$account:role/zt-lambda"
iam create-role --role-name zt-lambda --assume-role-policy-document "$(trust lambda.amazonaws.com)" >/dev/null ||
  fail "create-role zt-lambda"
iam create-role --role-name zt-ec2-only --assume-role-policy-document "$(trust ec2.amazonaws.com)" >/dev/null ||
  fail "create-role zt-ec2-only"
arn="arn:aws:lambda:us-east-1:$account:function"

cd "$work"
# zip_py NAME SOURCE: NAME.zip holding lambda_function.py.
zip_py() {
  mkdir -p "src-$1" && printf '%s\n' "$2" >"src-$1/lambda_function.py"
  (cd "src-$1" && /usr/bin/python3 -m zipfile -c "../$1.zip" lambda_function.py)
}
zip_py hello 'import os
def lambda_handler(event, context):
    print("hello from", context.function_name)
    return {"greeting": "hello " + event.get("name", "?"), "function": context.function_name,
            "arn": context.invoked_function_arn, "memory": context.memory_limit_in_mb,
            "remaining": context.get_remaining_time_in_millis() > 0,
            "stage": os.environ.get("STAGE"), "region": os.environ["AWS_REGION"]}'

# --- create, get, list ---------------------------------------------------------------------------
created=$(lambda create-function --function-name hello --runtime python3.11 --role "$role" \
  --handler lambda_function.lambda_handler --zip-file fileb://hello.zip --timeout 5 \
  --environment 'Variables={STAGE=local}')
sha=$(openssl dgst -sha256 -binary hello.zip | base64)
jq -e --arg arn "$arn:hello" --arg sha "$sha" --argjson size "$(stat -c %s hello.zip)" \
  '.FunctionArn == $arn and .CodeSha256 == $sha and .CodeSize == $size and .Version == "$LATEST"
   and .Timeout == 5 and .MemorySize == 128 and .Environment.Variables.STAGE == "local"
   and (.LastModified | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}\\+0000$"))' \
  <<<"$created" >/dev/null || fail "CreateFunction: $created"
expect_error ResourceConflictException lambda create-function --function-name hello --runtime python3.11 \
  --role "$role" --handler lambda_function.lambda_handler --zip-file fileb://hello.zip
grep -q "Function already exist: hello" <<<"$out" || fail "conflict message: $out"
jqe '.Configuration.FunctionName == "hello" and .Configuration.Handler == "lambda_function.lambda_handler"' \
  "$(lambda get-function --function-name hello)"
jqe '.Runtime == "python3.11"' "$(lambda get-function-configuration --function-name "$arn:hello")"
expect_error ResourceNotFoundException lambda get-function --function-name nothere
grep -q "Function not found: $arn:nothere" <<<"$out" || fail "not-found message: $out"

# --- invoke: the handler's JSON, the log tail -----------------------------------------------------
meta=$(lambda invoke --function-name hello --payload '{"name":"kit"}' --cli-binary-format raw-in-base64-out \
  --log-type Tail out.json)
jqe '.StatusCode == 200 and .ExecutedVersion == "$LATEST" and (has("FunctionError") | not)' "$meta"
jq -e --arg arn "$arn:hello" '.greeting == "hello kit" and .function == "hello" and .arn == $arn and
  .memory == 128 and .remaining and .stage == "local" and .region == "us-east-1"' out.json >/dev/null \
  || fail "invoke result: $(cat out.json)"
log=$(jq -r .LogResult <<<"$meta" | base64 -d)
grep -q "hello from hello" <<<"$log" && grep -q "^START RequestId: " <<<"$log" && grep -q "^REPORT RequestId: " <<<"$log" \
  || fail "log tail: $log"
pass

# --- a handler that raises; a timeout; a package without the handler ------------------------------
zip_py raises 'def lambda_handler(event, context):
    raise ValueError("bad serial " + str(event.get("serial")))'
lambda create-function --function-name raises --runtime python3.12 --role "$role" \
  --handler lambda_function.lambda_handler --zip-file fileb://raises.zip >/dev/null
meta=$(lambda invoke --function-name raises --payload '{"serial":7}' --cli-binary-format raw-in-base64-out out.json)
jqe '.StatusCode == 200 and .FunctionError == "Unhandled"' "$meta"
jq -e '.errorType == "ValueError" and .errorMessage == "bad serial 7" and (.stackTrace | length) >= 1' out.json >/dev/null \
  || fail "raised: $(cat out.json)"

zip_py sleeps 'import time
def lambda_handler(event, context):
    time.sleep(30)'
lambda create-function --function-name sleeps --runtime python3.11 --role "$role" \
  --handler lambda_function.lambda_handler --zip-file fileb://sleeps.zip --timeout 1 >/dev/null
meta=$(lambda invoke --function-name sleeps out.json)
jqe '.FunctionError == "Unhandled"' "$meta"
jq -e '.errorType == "Sandbox.Timedout" and (.errorMessage | test("Task timed out after 1.00 seconds"))' out.json >/dev/null \
  || fail "timeout: $(cat out.json)"

lambda create-function --function-name nohandler --runtime python3.11 --role "$role" \
  --handler missing.lambda_handler --zip-file fileb://hello.zip >/dev/null
lambda invoke --function-name nohandler out.json >/dev/null
jq -e '.errorType == "Runtime.ImportModuleError" and (.errorMessage | test("missing"))' out.json >/dev/null \
  || fail "no handler: $(cat out.json)"
pass

# --- Event and DryRun ----------------------------------------------------------------------------
jqe '.StatusCode == 202' "$(lambda invoke --function-name hello --invocation-type Event out.json)"
jqe '.StatusCode == 204' "$(lambda invoke --function-name hello --invocation-type DryRun out.json)"

# --- provided: a package's bootstrap executable; a `ztp cloud function add` command ------------------
/usr/bin/python3 - <<'PY'
import zipfile
with zipfile.ZipFile("provided.zip", "w") as z:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o100755 << 16
    z.writestr(info, '#!/bin/sh\nprintf \'{"got": %s, "name": "%s"}\' "$(cat)" "$AWS_LAMBDA_FUNCTION_NAME"\n')
with zipfile.ZipFile("nobootstrap.zip", "w") as z:
    z.writestr("README", "no bootstrap here")
PY
lambda create-function --function-name custom --runtime provided.al2 --role "$role" --handler none \
  --zip-file fileb://provided.zip >/dev/null
lambda invoke --function-name custom --payload '{"a":1}' --cli-binary-format raw-in-base64-out out.json >/dev/null
jq -e '.got == {"a":1} and .name == "custom"' out.json >/dev/null || fail "provided: $(cat out.json)"
pass
lambda create-function --function-name nobootstrap --runtime provided --role "$role" --handler none \
  --zip-file fileb://nobootstrap.zip >/dev/null
jqe '.FunctionError == "Unhandled"' "$(lambda invoke --function-name nobootstrap out.json)"
jq -e '.errorType == "Runtime.InvalidEntrypoint"' out.json >/dev/null || fail "no bootstrap: $(cat out.json)"
lambda delete-function --function-name nobootstrap
"$ZTP" cloud function add shell --exec 'tr a-z A-Z' --state-dir "$work/state" >/dev/null
jqe '.Runtime == "provided" and .Timeout == 30' "$(lambda get-function-configuration --function-name shell)"
lambda invoke --function-name shell --payload '"quiet"' --cli-binary-format raw-in-base64-out out.json >/dev/null
[[ $(cat out.json) == '"QUIET"' ]] || fail "function add as provided: $(cat out.json)"
jqe '.Policy | fromjson | .Statement[0].Principal.Service == "iot.amazonaws.com"' \
  "$(lambda get-policy --function-name shell)"
lambda delete-function --function-name shell

# --- permissions ---------------------------------------------------------------------------------
added=$(lambda add-permission --function-name hello --statement-id iot-rules --action lambda:InvokeFunction \
  --principal iot.amazonaws.com --source-arn "arn:aws:iot:us-east-1:$account:rule/*")
jqe '.Statement | fromjson | .Sid == "iot-rules" and .Principal.Service == "iot.amazonaws.com"' "$added"
expect_error ResourceConflictException lambda add-permission --function-name hello --statement-id iot-rules \
  --action lambda:InvokeFunction --principal iot.amazonaws.com
policy=$(lambda get-policy --function-name hello)
jq -e --arg arn "$arn:hello" '.Policy | fromjson | .Version == "2012-10-17" and (.Statement | length) == 1 and
  .Statement[0].Resource == $arn and .Statement[0].Action == "lambda:InvokeFunction" and
  .Statement[0].Condition.ArnLike["AWS:SourceArn"] != null' <<<"$policy" >/dev/null || fail "policy: $policy"
pass
lambda remove-permission --function-name hello --statement-id iot-rules
expect_error ResourceNotFoundException lambda get-policy --function-name hello
expect_error ResourceNotFoundException lambda remove-permission --function-name hello --statement-id iot-rules

# --- update code and configuration ----------------------------------------------------------------
zip_py hello2 'def lambda_handler(event, context):
    return "version two"'
updated=$(lambda update-function-code --function-name hello --zip-file fileb://hello2.zip)
jq -e --arg sha "$(openssl dgst -sha256 -binary hello2.zip | base64)" '.CodeSha256 == $sha' <<<"$updated" >/dev/null \
  || fail "update code: $updated"
lambda invoke --function-name hello out.json >/dev/null
[[ $(cat out.json) == '"version two"' ]] || fail "after update: $(cat out.json)"
pass
jqe '.Timeout == 9 and .Description == "two"' \
  "$(lambda update-function-configuration --function-name hello --timeout 9 --description two)"
expect_error PreconditionFailedException lambda update-function-configuration --function-name hello \
  --timeout 8 --revision-id 00000000-0000-0000-0000-000000000000

# --- a rule's lambda action needs the function's permission, as on AWS ---------------------------------
"$AWS" iot --endpoint-url "$endpoint_url" create-topic-rule --rule-name to_hello --topic-rule-payload \
  "{\"sql\": \"SELECT * FROM 'lambda/test'\", \"actions\": [{\"lambda\": {\"functionArn\": \"$arn:hello\"}}]}"
logged() {  # logged <jq filter over the log's lines>: true once an attempt matches
  "$ZTP" cloud function log --state-dir "$work/state" --limit 50 | jq -se "map(select($1)) | length > 0" >/dev/null
}
publish() { "$AWS" iot-data --endpoint-url "$endpoint_url" publish --topic lambda/test --payload '{"n":1}' \
  --cli-binary-format raw-in-base64-out; }
publish
wait_until 20 logged '.functionName == "hello" and .ruleName == "to_hello" and (.succeeded | not) and (.detail | test("does not allow iot.amazonaws.com to lambda:InvokeFunction"))' \
  || fail "a rule without the permission: $("$ZTP" cloud function log --state-dir "$work/state")"
lambda add-permission --function-name hello --statement-id iot --action lambda:InvokeFunction \
  --principal iot.amazonaws.com --source-arn "arn:aws:iot:us-east-1:$account:rule/to_hello" >/dev/null
publish
wait_until 20 logged '.functionName == "hello" and .ruleName == "to_hello" and .succeeded' \
  || fail "a rule with the permission: $("$ZTP" cloud function log --state-dir "$work/state")"
pass

# --- the SDK in the function talks to the local cloud ----------------------------------------------
"$AWS" iot --endpoint-url "$endpoint_url" create-thing --thing-name lambda-sees-me >/dev/null
zip_py things 'import boto3
def lambda_handler(event, context):
    return sorted(t["thingName"] for t in boto3.client("iot").list_things()["things"])'
lambda create-function --function-name things --runtime python3.11 --role "$role" \
  --handler lambda_function.lambda_handler --zip-file fileb://things.zip --timeout 20 >/dev/null
lambda invoke --function-name things out.json >/dev/null
jq -e 'index("lambda-sees-me") != null' out.json >/dev/null || fail "boto3 in the function: $(cat out.json)"
pass

# --- list (paging) and delete ----------------------------------------------------------------------
page=$(lambda list-functions --max-items 2)
jqe '(.Functions | length) == 2 and .NextToken != null' "$page"
jqe '[.Functions[].FunctionName] | sort == ["custom","hello","nohandler","raises","sleeps","things"]' \
  "$(lambda list-functions)"
lambda delete-function --function-name nohandler
expect_error ResourceNotFoundException lambda delete-function --function-name nohandler
expect_error ResourceNotFoundException lambda invoke --function-name nohandler out.json

# --- hostile input ---------------------------------------------------------------------------------
/usr/bin/python3 - <<'PY'
import zipfile
with zipfile.ZipFile("evil.zip", "w") as z:
    z.writestr("../../escape.py", "x = 1\n")
with zipfile.ZipFile("link.zip", "w") as z:
    info = zipfile.ZipInfo("lambda_function.py")
    info.external_attr = (0o120777 << 16)
    z.writestr(info, "/etc/passwd")
with zipfile.ZipFile("bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(2):
        z.writestr("zeros%d" % i, b"\0" * (200 * 1024 * 1024))
open("notzip.zip", "wb").write(b"PK\x03\x04 this is not a zip")
PY
expect_error InvalidParameterValueException lambda create-function --function-name evil --runtime python3.11 \
  --role "$role" --handler a.b --zip-file fileb://evil.zip
grep -q "not a relative path" <<<"$out" || fail "traversal message: $out"
expect_error InvalidParameterValueException lambda create-function --function-name evil --runtime python3.11 \
  --role "$role" --handler a.b --zip-file fileb://link.zip
expect_error InvalidParameterValueException lambda create-function --function-name evil --runtime python3.11 \
  --role "$role" --handler a.b --zip-file fileb://bomb.zip
grep -q "Unzipped size must be smaller than 262144000 bytes" <<<"$out" || fail "bomb message: $out"
[[ ! -e "$work/escape.py" && ! -e "$work/state/escape.py" ]] || fail "a zip entry escaped"
# The role must exist and trust lambda.amazonaws.com (CreateFunction's InvalidParameterValueException).
for bad_role in "arn:aws:iam::$account:role/no-such-role" "arn:aws:iam::$account:role/zt-ec2-only"; do
  expect_error InvalidParameterValueException lambda create-function --function-name badrole \
    --runtime python3.11 --role "$bad_role" --handler lambda_function.lambda_handler --zip-file fileb://hello.zip
  grep -q "The role defined for the function cannot be assumed by Lambda." <<<"$out" || fail "role message: $out"
done
expect_error ResourceNotFoundException lambda get-function --function-name badrole
/usr/bin/python3 -c 'import os, zipfile; zipfile.ZipFile("big.zip", "w").writestr("noise", os.urandom(52 << 20))'
expect_error RequestEntityTooLargeException lambda create-function --function-name big --runtime python3.11 \
  --role "$role" --handler a.b --zip-file fileb://big.zip
# A signed 1.5 MB package is taken (over the API's 1 MB default); unsigned, the same body is refused
# before it is read: only a known signer may send up to 67 MB.
/usr/bin/python3 -c 'import os, zipfile; z = zipfile.ZipFile("mid.zip", "w"); z.writestr("lambda_function.py", "x = 1\n"); z.writestr("noise", os.urandom(3 << 19)); z.close()'
jqe '.CodeSize > 1048576' "$(lambda create-function --function-name mid --runtime python3.11 --role "$role" \
  --handler lambda_function.h --zip-file fileb://mid.zip)"
lambda delete-function --function-name mid
code=$(head -c $((3 << 19)) /dev/zero | curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @- \
  -H 'Content-Type: application/json' "$endpoint_url/2015-03-31/functions")
[[ $code == 413 ]] || fail "unsigned large body: HTTP $code"
pass
expect_error InvalidParameterValueException lambda create-function --function-name evil --runtime python3.11 \
  --role "not-a-role" --handler a.b --zip-file fileb://hello.zip
expect_error InvalidParameterValueException lambda create-function --function-name evil --runtime nodejs18.x \
  --role "$role" --handler a.b --zip-file fileb://hello.zip
# Wrong JSON types and bytes that are not a zip, straight to the API (the CLI refuses them first).
wrong=$(/usr/bin/python3 - "$endpoint_url" "$role" <<'PY'
import json, sys, urllib.error, urllib.request
import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
credentials = boto3.Session().get_credentials()
role = sys.argv[2]
code = {"ZipFile": "UEsDBCB0aGlzIGlzIG5vdCBhIHppcA=="}  # "PK\x03\x04 this is not a zip"
out = []
for body in ({"FunctionName": 7}, {"FunctionName": "x", "Timeout": "3"},
             {"FunctionName": "x", "Environment": {"Variables": {"A1": 1}}},
             {"FunctionName": "x", "Runtime": "python3.11", "Role": role, "Handler": "a.b", "Code": "zip"},
             {"FunctionName": "x", "Runtime": "python3.11", "Role": role, "Handler": "a.b", "Code": code}):
    request = AWSRequest("POST", sys.argv[1] + "/2015-03-31/functions", data=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json"})
    SigV4Auth(credentials, "lambda", "us-east-1").add_auth(request)
    try:
        urllib.request.urlopen(urllib.request.Request(request.url, data=request.body, headers=dict(request.headers)))
        out.append([200, None, ""])
    except urllib.error.HTTPError as error:
        out.append([error.code, error.headers.get("x-amzn-ErrorType"), json.loads(error.read())["message"]])
print(json.dumps(out))
PY
)
jqe 'all(.[]; .[0] == 400 and .[1] == "InvalidParameterValueException") and
  (.[4][2] | test("Could not unzip uploaded file"))' "$wrong"

# --- the invocation log ------------------------------------------------------------------------------
log=$("$ZTP" cloud function log --state-dir "$work/state" --limit 50)
jq -se 'map(select(.functionName == "raises" and (.succeeded | not) and (.detail | test("ValueError")))) | length == 1' \
  <<<"$log" >/dev/null || fail "raises not logged: $log"
jq -se 'map(select(.functionName == "sleeps" and (.succeeded | not) and (.detail | test("Sandbox.Timedout")))) | length == 1' \
  <<<"$log" >/dev/null || fail "timeout not logged: $log"
jq -se 'map(select(.functionName == "things" and .succeeded)) | length == 1' <<<"$log" >/dev/null \
  || fail "things not logged: $log"
pass
echo "all $checks checks passed"
