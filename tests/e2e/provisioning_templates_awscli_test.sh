#!/usr/bin/env bash
# Provisioning templates in the local cloud, driven by the stock AWS CLI (Debian's /usr/bin/aws):
# Create/Describe/List/Update/Delete ProvisioningTemplate and Create/Describe/List/Delete
# ProvisioningTemplateVersion (default version, paging), the provisioning role checked against IAM,
# the pre-provisioning hook (a Lambda function of the account), and each error AWS answers: a
# template AWS refuses (InvalidRequestException with the reason), a taken name
# (ResourceAlreadyExistsException), a missing template or version (ResourceNotFoundException), the
# default version deleted (DeleteConflictException), a sixth version (VersionsLimitExceededException).
source "$(dirname "$0")/lib.sh"
e2e_init provisioning-templates
on_failure() { tail -20 "$work/cloud.err"; }

start_cloud "$work/state"
account=$(sed -n 's/^account=\([0-9]*\) .*/\1/p' "$work/cloud.out")
lambda() { "$AWS" lambda --endpoint-url "$endpoint_url" --output json "$@"; }
iam create-role --role-name zt-provisioning --assume-role-policy-document "$(trust iot.amazonaws.com)" >/dev/null ||
  fail "create-role zt-provisioning"
iam create-role --role-name zt-lambda --assume-role-policy-document "$(trust lambda.amazonaws.com)" >/dev/null ||
  fail "create-role zt-lambda"
role="arn:aws:iam::$account:role/zt-provisioning"

cd "$work"
cat >fleet.json <<'JSON'
{
  "Parameters": {"SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
  "Resources": {
    "thing": {"Type": "AWS::IoT::Thing",
              "Properties": {"ThingName": {"Fn::Join": ["", ["sensor-", {"Ref": "SerialNumber"}]]}}},
    "certificate": {"Type": "AWS::IoT::Certificate",
                    "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
    "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "SensorPolicy"}}
  },
  "DeviceConfiguration": {"Fallback": "https://example.com"}
}
JSON

# --- create, describe ------------------------------------------------------------------------------
created=$(iot create-provisioning-template --template-name fleet --template-body file://fleet.json \
  --provisioning-role-arn "$role" --description "sensors")
jq -e --arg arn "arn:aws:iot:us-east-1:$account:provisioningtemplate/fleet" \
  '.templateArn == $arn and .templateName == "fleet" and .defaultVersionId == 1' <<<"$created" >/dev/null ||
  fail "CreateProvisioningTemplate: $created"
described=$(iot describe-provisioning-template --template-name fleet)
jq -e --arg role "$role" --rawfile body fleet.json '.templateName == "fleet" and .description == "sensors" and
  .enabled == false and .type == "FLEET_PROVISIONING" and .defaultVersionId == 1 and
  .provisioningRoleArn == $role and .templateBody == $body and (.creationDate | type == "string") and
  (.lastModifiedDate | type == "string") and (has("preProvisioningHook") | not)' <<<"$described" >/dev/null ||
  fail "DescribeProvisioningTemplate: $described"
pass
expect_error ResourceAlreadyExistsException iot create-provisioning-template --template-name fleet \
  --template-body file://fleet.json --provisioning-role-arn "$role"
expect_error ResourceNotFoundException iot describe-provisioning-template --template-name nothere

# --- templates AWS refuses, each with its reason ---------------------------------------------------
refuse() {  # refuse REASON BODY
  expect_error InvalidRequestException iot create-provisioning-template --template-name bad \
    --template-body "$2" --provisioning-role-arn "$role"
  grep -qF -- "$1" <<<"$out" || fail "expected '$1' in: $out"
}
refuse "not valid JSON" '{"Resources": '
refuse "no Resources" '{"Parameters": {}}'
refuse "unsupported Type AWS::S3::Bucket" '{"Resources": {"b": {"Type": "AWS::S3::Bucket", "Properties": {}}}}'
refuse "but not both" '{"Resources": {"p": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "a", "PolicyDocument": "{}"}}}}'
refuse "MERGE is valid only" '{"Resources": {"t": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "a"}, "OverrideSettings": {"ThingTypeName": "MERGE"}}}}'
refuse "undeclared parameter Serial" '{"Resources": {"t": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "Serial"}}}}}'
refuse "unsupported function Fn::GetAtt" '{"Resources": {"t": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Fn::GetAtt": ["a", "b"]}}}}}'
refuse "refers to itself" '{"Conditions": {"A": {"Fn::Not": [{"Condition": "A"}]}}, "Resources": {}}'
refuse "Member must have length less than or equal to 10240" "{\"Resources\": {}, \"Description\": \"$(head -c 10300 /dev/zero | tr '\0' x)\"}"
expect_error InvalidRequestException iot create-provisioning-template --template-name 'bad name!' \
  --template-body file://fleet.json --provisioning-role-arn "$role"
grep -q "Member must satisfy regular expression pattern" <<<"$out" || fail "name pattern: $out"
expect_error InvalidRequestException iot create-provisioning-template --template-name bad \
  --template-body file://fleet.json --provisioning-role-arn "arn:aws:iam::$account:role/nothere"
expect_error InvalidRequestException iot create-provisioning-template --template-name bad \
  --template-body file://fleet.json --provisioning-role-arn "arn:aws:iam::$account:role/zt-lambda"
grep -q "cannot be assumed by iot.amazonaws.com" <<<"$out" || fail "role trust: $out"
expect_error InvalidRequestException iot create-provisioning-template --template-name bad --type JITP \
  --template-body file://fleet.json --provisioning-role-arn "$role" \
  --pre-provisioning-hook "targetArn=arn:aws:lambda:us-east-1:$account:function:hook"
expect_error InvalidRequestException iot create-provisioning-template --template-name bad \
  --template-body file://fleet.json --provisioning-role-arn "$role" \
  --pre-provisioning-hook "targetArn=arn:aws:lambda:us-east-1:$account:function:nothere"
grep -q "does not exist" <<<"$out" || fail "missing hook function: $out"
expect_error ResourceNotFoundException iot describe-provisioning-template --template-name bad

# --- the pre-provisioning hook ------------------------------------------------------------------------
mkdir -p src-hook && printf 'def handler(event, context):\n    return {"allowProvisioning": True}\n' >src-hook/hook.py
(cd src-hook && /usr/bin/python3 -m zipfile -c ../hook.zip hook.py)
lambda create-function --function-name hook --runtime python3.11 --role "arn:aws:iam::$account:role/zt-lambda" \
  --handler hook.handler --zip-file fileb://hook.zip >/dev/null || fail "create-function hook"
hook="arn:aws:lambda:us-east-1:$account:function:hook"
iot create-provisioning-template --template-name hooked --template-body file://fleet.json \
  --provisioning-role-arn "$role" --enabled --pre-provisioning-hook "targetArn=$hook" >/dev/null ||
  fail "create with a hook"
jq -e --arg hook "$hook" '.enabled == true and .preProvisioningHook == {"targetArn": $hook, "payloadVersion": "2020-04-01"}' \
  <<<"$(iot describe-provisioning-template --template-name hooked)" >/dev/null || fail "hook described"
iot update-provisioning-template --template-name hooked --remove-pre-provisioning-hook || fail "remove hook"
jqe '(has("preProvisioningHook") | not)' "$(iot describe-provisioning-template --template-name hooked)"
expect_error InvalidRequestException iot update-provisioning-template --template-name hooked \
  --pre-provisioning-hook "targetArn=$hook" --remove-pre-provisioning-hook

# --- versions: default, paging, conflicts, the limit --------------------------------------------------
sed 's/sensor-/device-/' fleet.json >fleet2.json
v2=$(iot create-provisioning-template-version --template-name fleet --template-body file://fleet2.json)
jqe '.versionId == 2 and .isDefaultVersion == false and .templateName == "fleet"' "$v2"
v3=$(iot create-provisioning-template-version --template-name fleet --template-body file://fleet2.json --set-as-default)
jqe '.versionId == 3 and .isDefaultVersion == true' "$v3"
jq -e --rawfile body fleet2.json '.defaultVersionId == 3 and .templateBody == $body' \
  <<<"$(iot describe-provisioning-template --template-name fleet)" >/dev/null || fail "default is 3"
jqe '.versionId == 1 and .isDefaultVersion == false and (.templateBody | contains("sensor-"))' \
  "$(iot describe-provisioning-template-version --template-name fleet --version-id 1)"
# One version per page: the CLI follows nextToken through three requests.
jqe '[.versions[].versionId] == [1, 2, 3] and ([.versions[] | select(.isDefaultVersion)] | length == 1)' \
  "$(iot list-provisioning-template-versions --template-name fleet --page-size 1)"
page=$(iot list-provisioning-template-versions --template-name fleet --max-results 2 --no-paginate)
jqe '(.versions | length == 2) and (.nextToken | type == "string")' "$page"
expect_error DeleteConflictException iot delete-provisioning-template-version --template-name fleet --version-id 3
iot delete-provisioning-template-version --template-name fleet --version-id 1 || fail "delete version 1"
expect_error ResourceNotFoundException iot describe-provisioning-template-version --template-name fleet --version-id 1
expect_error ResourceNotFoundException iot delete-provisioning-template-version --template-name fleet --version-id 1
expect_error InvalidRequestException iot create-provisioning-template-version --template-name fleet \
  --template-body '{"Resources": {"x": {"Type": "AWS::IoT::Nope", "Properties": {}}}}'
for version in 4 5 6; do
  jqe ".versionId == $version" "$(iot create-provisioning-template-version --template-name fleet --template-body file://fleet.json)"
done
expect_error VersionsLimitExceededException iot create-provisioning-template-version --template-name fleet \
  --template-body file://fleet.json
expect_error ResourceNotFoundException iot create-provisioning-template-version --template-name nothere \
  --template-body file://fleet.json
iot update-provisioning-template --template-name fleet --default-version-id 2 --enabled || fail "update default"
jqe '.defaultVersionId == 2 and .enabled == true' "$(iot describe-provisioning-template --template-name fleet)"
expect_error ResourceNotFoundException iot update-provisioning-template --template-name fleet --default-version-id 99

# --- list templates with paging, delete --------------------------------------------------------------
iot create-provisioning-template --template-name jitp --type JITP --template-body file://fleet.json \
  --provisioning-role-arn "$role" >/dev/null || fail "create JITP"
listed=$(iot list-provisioning-templates --page-size 1)
jqe '[.templates[].templateName] == ["fleet", "hooked", "jitp"] and
  ([.templates[] | select(.templateName == "jitp")][0].type == "JITP")' "$listed"
jqe '(.templates | length == 1) and (.nextToken | type == "string")' \
  "$(iot list-provisioning-templates --max-results 1 --no-paginate)"
iot delete-provisioning-template --template-name fleet || fail "delete fleet"
expect_error ResourceNotFoundException iot describe-provisioning-template --template-name fleet
expect_error ResourceNotFoundException iot delete-provisioning-template --template-name fleet
expect_error ResourceNotFoundException iot list-provisioning-template-versions --template-name fleet
jqe '[.templates[].templateName] == ["hooked", "jitp"]' "$(iot list-provisioning-templates)"
echo "all $checks checks passed"
