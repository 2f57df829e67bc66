#!/usr/bin/env bash
# IAM in the local cloud with the stock AWS CLI (issue 16): the seed's IAM steps (the JITR
# Lambda's role with its trust policy, the inline ZTLambdaJITRPolicy, AWSLambdaBasicExecutionRole
# attached), each documented error, a user whose new access key signs requests to IoT and is
# refused once deleted, and hostile bodies. The cloud runs in eu-west-1: IAM is global and is
# signed for us-east-1, IoT for the cloud's region.
source "$(dirname "$0")/lib.sh"
e2e_init iam-awscli

start_cloud "$work/state" --region eu-west-1
account=$(sed -n 's/^account=\([0-9]*\) .*/\1/p' "$work/cloud.out")
[[ "$account" =~ ^[0-9]{12}$ ]] || fail "account id '$account'"
iam() { "$AWS" iam --endpoint-url "$endpoint_url" --region us-east-1 --output json "$@"; }
# expect_error <Code> <command...>: the CLI fails (rc 255) naming IAM's error code; prints the message.
expect_error() {
  local code=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -ne 0 ]] || fail "expected $code, the command succeeded: $*"
  grep -q "($code)" <<<"$out" || fail "expected $code, got: $out"
  sed -n 's/.*operation: //p' <<<"$out" | sed 's/[[:space:]]*$//'
}
expect_message() {  # expect_message <text> <output of expect_error>
  [[ "$2" == "$1" ]] || fail "message '$2', expected '$1'"
}
cd "$work"

# --- the seed's steps: the role, its inline policy, the AWS managed policy --------------------------
cat >trust.json <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
  ]
}
JSON
# The seed's ZTLambdaJITRPolicy, as its guide prints it.
awk '/^\{/{f=1} f{print} /^\}/{if(f) exit}' <(sed -n '/Policy Name: ZTLambdaJITRPolicy/,$p' \
  /work/shared/seed/000_ffa0ba1b23830381.txt) >policy.json 2>/dev/null || true
if ! jq -e '.Statement[0].Action | index("iot:CreateThing")' policy.json >/dev/null 2>&1; then
  # The seed is not on this machine: the same document.
  cat >policy.json <<'JSON'
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iot:UpdateCertificate",
 "iot:CreatePolicy", "iot:AttachPrincipalPolicy", "iot:CreateThing", "iot:CreateThingType",
 "iot:DescribeCertificate", "iot:DescribeCaCertificate", "iot:DescribeThing", "iot:DescribeThingType",
 "iot:GetPolicy"], "Resource": "*"}]}
JSON
fi
basic=arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole

role=$(iam create-role --role-name ZTLambdaJITRRole --assume-role-policy-document file://trust.json \
  --description "JITR Lambda") || fail "create-role"
jq -e --arg a "arn:aws:iam::$account:role/ZTLambdaJITRRole" '.Role.Arn == $a and .Role.Path == "/"
  and (.Role.RoleId | test("^AROA[A-Z2-7]{17}$")) and (.Role.CreateDate | test("^\\d{4}-\\d\\d-\\d\\dT"))
  and .Role.AssumeRolePolicyDocument.Statement[0].Principal.Service == "lambda.amazonaws.com"
  and .Role.MaxSessionDuration == 3600' <<<"$role" >/dev/null || fail "create-role output: $role"
iam put-role-policy --role-name ZTLambdaJITRRole --policy-name ZTLambdaJITRPolicy \
  --policy-document file://policy.json || fail "put-role-policy"
iam attach-role-policy --role-name ZTLambdaJITRRole --policy-arn "$basic" || fail "attach-role-policy"
got=$(iam get-role --role-name ZTLambdaJITRRole)
jq -e --argjson r "$role" '.Role.RoleId == $r.Role.RoleId and .Role.Description == "JITR Lambda"' \
  <<<"$got" >/dev/null || fail "get-role: $got"
attached=$(iam list-attached-role-policies --role-name ZTLambdaJITRRole)
jq -e --arg b "$basic" '.AttachedPolicies == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": $b}]' \
  <<<"$attached" >/dev/null || fail "list-attached-role-policies: $attached"
jq -e '.PolicyNames == ["ZTLambdaJITRPolicy"]' <<<"$(iam list-role-policies --role-name ZTLambdaJITRRole)" \
  >/dev/null || fail "list-role-policies"
inline=$(iam get-role-policy --role-name ZTLambdaJITRRole --policy-name ZTLambdaJITRPolicy)
jq -e --slurpfile p policy.json '.PolicyDocument == $p[0]' <<<"$inline" >/dev/null \
  || fail "get-role-policy gives back another document: $inline"
jq -e '.Roles | map(.RoleName) == ["ZTLambdaJITRRole"]' <<<"$(iam list-roles)" >/dev/null || fail "list-roles"
# Signed for the cloud's region instead of us-east-1: IAM's answer.
out=$(expect_error SignatureDoesNotMatch "$AWS" iam --endpoint-url "$endpoint_url" --region eu-west-1 \
  get-role --role-name ZTLambdaJITRRole)
expect_message "Credential should be scoped to a valid region, not 'eu-west-1'." "$out"

# --- the documented errors ---------------------------------------------------------------------------
out=$(expect_error NoSuchEntity iam get-role --role-name NoSuchRole)
expect_message "The role with name NoSuchRole cannot be found." "$out"
out=$(expect_error EntityAlreadyExists iam create-role --role-name ZTLambdaJITRRole \
  --assume-role-policy-document file://trust.json)
expect_message "Role with name ZTLambdaJITRRole already exists." "$out"
out=$(expect_error MalformedPolicyDocument iam put-role-policy --role-name ZTLambdaJITRRole \
  --policy-name Broken --policy-document '{"Version": "2012-10-17", "Statement": [')
expect_message "This policy contains invalid Json" "$out"
out=$(expect_error MalformedPolicyDocument iam put-role-policy --role-name ZTLambdaJITRRole \
  --policy-name NoResource --policy-document '{"Statement": {"Effect": "Allow", "Action": "iot:*"}}')
expect_message "Policy statement must contain resources." "$out"
out=$(expect_error MalformedPolicyDocument iam create-role --role-name TrustWithResource \
  --assume-role-policy-document file://policy.json)
expect_message "Has prohibited field Resource" "$out"
out=$(expect_error NoSuchEntity iam attach-role-policy --role-name ZTLambdaJITRRole \
  --policy-arn "arn:aws:iam::$account:policy/ZTLambdaJITRPolicy")
expect_message "Policy arn:aws:iam::$account:policy/ZTLambdaJITRPolicy does not exist or is not attachable." "$out"
out=$(expect_error ValidationError iam create-role --role-name 'bad name' --assume-role-policy-document file://trust.json)
[[ "$out" == *"Member must satisfy regular expression pattern"* ]] || fail "ValidationError message: $out"
out=$(expect_error DeleteConflict iam delete-role --role-name ZTLambdaJITRRole)
expect_message "Cannot delete entity, must detach all policies first." "$out"
iam detach-role-policy --role-name ZTLambdaJITRRole --policy-arn "$basic" || fail "detach-role-policy"
out=$(expect_error DeleteConflict iam delete-role --role-name ZTLambdaJITRRole)
expect_message "Cannot delete entity, must delete policies first." "$out"
iam delete-role-policy --role-name ZTLambdaJITRRole --policy-name ZTLambdaJITRPolicy || fail "delete-role-policy"
iam delete-role --role-name ZTLambdaJITRRole || fail "delete-role"
expect_error NoSuchEntity iam get-role --role-name ZTLambdaJITRRole >/dev/null

# --- a user and a second key pair that signs ---------------------------------------------------------
user=$(iam create-user --user-name ZTUser)
jq -e --arg a "arn:aws:iam::$account:user/ZTUser" '.User.Arn == $a and (.User.UserId | test("^AIDA"))' \
  <<<"$user" >/dev/null || fail "create-user: $user"
jq -e --arg a "arn:aws:iam::$account:root" '.User.Arn == $a' <<<"$(iam get-user)" >/dev/null \
  || fail "get-user of the account's key is the root user"
key=$(iam create-access-key --user-name ZTUser)
key_id=$(jq -r .AccessKey.AccessKeyId <<<"$key")
[[ "$key_id" =~ ^AKIA[A-Z2-7]{16}$ ]] || fail "access key id '$key_id'"
[[ $(jq -r '.AccessKey.SecretAccessKey | length' <<<"$key") == 40 ]] || fail "secret length"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$key_id" \
  "$(jq -r .AccessKey.SecretAccessKey <<<"$key")" >user-credentials
chmod 600 user-credentials
as_user() { AWS_SHARED_CREDENTIALS_FILE="$work/user-credentials" "$@"; }
as_user iot list-things >/dev/null || fail "a call signed with the new key"
jq -e '.User.UserName == "ZTUser"' <<<"$(as_user iam get-user)" >/dev/null || fail "get-user as ZTUser"
listed=$(iam list-access-keys --user-name ZTUser)
jq -e --arg k "$key_id" '.AccessKeyMetadata | length == 1 and .[0].AccessKeyId == $k and .[0].Status == "Active"
  and (.[0] | has("SecretAccessKey") | not)' <<<"$listed" >/dev/null || fail "list-access-keys: $listed"
out=$(expect_error DeleteConflict iam delete-user --user-name ZTUser)
expect_message "Cannot delete entity, must delete access keys first." "$out"
iam delete-access-key --user-name ZTUser --access-key-id "$key_id" || fail "delete-access-key"
out=$(expect_error UnrecognizedClientException as_user iot list-things)
expect_message "The security token included in the request is invalid." "$out"
out=$(expect_error InvalidClientTokenId as_user iam get-user)
expect_message "The security token included in the request is invalid." "$out"
out=$(expect_error NoSuchEntity iam delete-access-key --user-name ZTUser --access-key-id "$key_id")
expect_message "The Access Key with id $key_id cannot be found." "$out"
iam delete-user --user-name ZTUser || fail "delete-user"

# --- hostile bodies, signed with the account's key (botocore's signer) -------------------------------
/usr/bin/python3 - "$endpoint_url" "$work/state/credentials" <<'PY' || fail "hostile bodies"
import configparser, sys, re
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
import urllib.request, urllib.error

url, credentials_file = sys.argv[1], sys.argv[2]
profile = configparser.ConfigParser(); profile.read(credentials_file)
creds = Credentials(profile["default"]["aws_access_key_id"], profile["default"]["aws_secret_access_key"])

def post(body):
    request = AWSRequest(method="POST", url=url + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(creds, "iam", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(url + "/", data=body, method="POST", headers=dict(request.headers))
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()

def expect(body, status, code):
    got_status, text = post(body)
    match = re.search(r"<Code>([^<]*)</Code>", text)
    got_code = match.group(1) if match else None
    assert (got_status, got_code) == (status, code), (body[:80], got_status, text[:300])
    assert "<ErrorResponse" in text, text[:300]

trust = "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%7D"
base = b"Action=CreateRole&Version=2010-05-08&RoleName=H&AssumeRolePolicyDocument=" + trust.encode()
expect(b"Action=ListRoles&Version=2010-05-08&Padding=" + b"a" * 200000, 400, "ValidationError")  # huge form
expect(b"Action=ListRoles&Version=2010-05-08&Bad=%G1", 400, "MalformedQueryString")             # bad escape
expect(b"Action=ListRoles&Version=2010-05-08&Bad=%FF%FE", 400, "MalformedQueryString")          # not UTF-8
expect(b"Action=ListRoles&Action=DeleteRole&Version=2010-05-08", 400, "ValidationError")        # repeated
expect(b"Version=2010-05-08", 400, "MissingAction")
expect(b"Action=NoSuchOperation&Version=2010-05-08", 400, "InvalidAction")
expect(base + b"&MaxSessionDuration=forever", 400, "ValidationError")                           # wrong type
expect(base + b"&MaxSessionDuration=99999999999999999999999", 400, "ValidationError")
expect(b"Action=CreateRole&Version=2010-05-08&RoleName=H&AssumeRolePolicyDocument=%5B" + b"%5B" * 1500,
       400, "MalformedPolicyDocument")                                                          # deep nesting
expect(b"Action=CreateRole&Version=2010-05-08&RoleName=H&AssumeRolePolicyDocument=%7B%22Statement%22%3A3%7D",
       400, "MalformedPolicyDocument")                                                          # wrong JSON type
expect(b"Action=GetRole&Version=2010-05-08&RoleName=" + b"r" * 65, 400, "ValidationError")
# Over the server's body limit (1 MiB): refused from the head alone (its Content-Length), before
# SigV4, with 413; the body is never read (so the head is sent alone and the answer read).
import socket
host, port = url.split("//")[1].split(":")
with socket.create_connection((host, int(port)), timeout=30) as connection:
    connection.sendall(b"POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                       b"Content-Length: %d\r\n\r\n" % (url.split("//")[1].encode(), 2 << 20))
    answer = b""
    while chunk := connection.recv(4096):
        answer += chunk
assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
print("hostile bodies refused")
PY
# Nothing of it was created, and the cloud still answers.
jq -e '.Roles == []' <<<"$(iam list-roles)" >/dev/null || fail "a hostile request left a role"
echo "iam e2e passed"
