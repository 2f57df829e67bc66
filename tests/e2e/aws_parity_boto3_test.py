"""boto3 (and the openssl CLI for keys and CSRs) against `ztp cloud run`: the operations and behaviours of
issue 17 that make the local cloud answer as AWS IoT does (docs/compatibility.md, "Behaviour decisions").

  1. Policy versions: five at most (VersionsLimitExceededException in AWS's words), the default one not
     deletable (DeleteConflictException), numbers never reused, setAsDefault, GetPolicy follows the default,
     DeletePolicy refused while non-default versions exist; ListPolicyPrincipals with paging.
  2. Enable/DisableTopicRule (ruleDisabled as GetTopicRule/ListTopicRules show it).
  3. Role aliases: the role checked in the local IAM, credentialDurationSeconds bounds (900..43200 and the
     role's own maximum), describe/list (paging)/update/delete, every error.
  4. Domain configurations: create (customer- and AWS-managed), describe, list (paging, serviceType),
     update (status), delete, every error.
  5. AWS's wording: validation errors ("1 validation error detected: ..."), ListThingPrincipals on an unknown
     thing; an operation we do not have → UnknownOperationException, not ResourceNotFoundException; a call
     signed for another region is refused.
  6. UpdateThing with merge false drops attributes with empty values; CreateKeysAndCertificate gives a 2048-bit
     RSA key pair; CreateCertificateFromCsr takes RSA >= 2048 and ECDSA P-256/P-384/P-521 CSRs only.
127.0.0.1 and ephemeral ports; the cloud is stopped at the end."""
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import Cloud  # noqa: E402

import boto3  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.exceptions  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

failures = []
DOC = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}'


def check(description, condition, detail=""):
    print(("ok   - " if condition else "FAIL - ") + description + ("" if condition else ": " + str(detail)))
    if not condition:
        failures.append(description)


def error_of(call, *args, **kwargs):
    """(code, message, HTTP status) of a call expected to fail; ("", "", 200) when it did not."""
    try:
        call(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"], e.response["Error"].get("Message", ""),
                e.response["ResponseMetadata"]["HTTPStatusCode"])
    return ("", "", 200)


def policy_versions(iot):
    iot.create_policy(policyName="pv", policyDocument=DOC)
    for n in range(2, 6):
        created = iot.create_policy_version(policyName="pv", policyDocument=DOC.replace("Connect", "C%d*" % n))
        check("CreatePolicyVersion %d answers its number, not default" % n,
              created["policyVersionId"] == str(n) and created["isDefaultVersion"] is False, created)
    code, message, status = error_of(iot.create_policy_version, policyName="pv", policyDocument=DOC)
    check("a sixth version is VersionsLimitExceededException in AWS's words",
          (code, message, status) == ("VersionsLimitExceededException",
                                      "The policy pv already has the maximum number of versions (5)", 409),
          (code, message, status))
    versions = iot.list_policy_versions(policyName="pv")["policyVersions"]
    check("ListPolicyVersions: five, newest first, version 1 the default",
          [v["versionId"] for v in versions] == ["5", "4", "3", "2", "1"]
          and [v["isDefaultVersion"] for v in versions] == [False] * 4 + [True], versions)
    iot.set_default_policy_version(policyName="pv", policyVersionId="3")
    policy = iot.get_policy(policyName="pv")
    check("GetPolicy follows the default version",
          policy["defaultVersionId"] == "3" and "C3*" in policy["policyDocument"], policy)
    got = iot.get_policy_version(policyName="pv", policyVersionId="3")
    check("GetPolicyVersion of the default", got["isDefaultVersion"] is True and "C3*" in got["policyDocument"]
          and got["policyName"] == "pv", got)
    check("the default version cannot be deleted",
          error_of(iot.delete_policy_version, policyName="pv", policyVersionId="3")[0] == "DeleteConflictException")
    iot.delete_policy_version(policyName="pv", policyVersionId="5")
    created = iot.create_policy_version(policyName="pv", policyDocument=DOC, setAsDefault=True)
    check("numbers are not reused after a delete; setAsDefault makes it the default",
          created["policyVersionId"] == "6" and created["isDefaultVersion"] is True, created)
    check("GetPolicy shows the new default", iot.get_policy(policyName="pv")["defaultVersionId"] == "6")
    check("GetPolicyVersion of a deleted version is ResourceNotFoundException",
          error_of(iot.get_policy_version, policyName="pv", policyVersionId="5")[0] == "ResourceNotFoundException")
    check("GetPolicyVersion of an unknown policy is ResourceNotFoundException",
          error_of(iot.get_policy_version, policyName="nope", policyVersionId="1")[0] == "ResourceNotFoundException")
    code, message, _ = error_of(iot.get_policy_version, policyName="pv", policyVersionId="x1")
    check("a policyVersionId that is not a number: AWS's validation wording",
          code == "InvalidRequestException" and message == "1 validation error detected: Value 'x1' at "
          "'policyVersionId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+",
          (code, message))
    check("a malformed document is MalformedPolicyException",
          error_of(iot.create_policy_version, policyName="pv", policyDocument="{}")[0] == "MalformedPolicyException")
    check("SetDefaultPolicyVersion of a missing version is ResourceNotFoundException",
          error_of(iot.set_default_policy_version, policyName="pv", policyVersionId="9")[0]
          == "ResourceNotFoundException")
    check("DeletePolicy is refused while non-default versions exist",
          error_of(iot.delete_policy, policyName="pv")[0] == "DeleteConflictException")
    for version in ("1", "2", "3", "4"):
        iot.delete_policy_version(policyName="pv", policyVersionId=version)
    iot.delete_policy(policyName="pv")
    check("then DeletePolicy succeeds", error_of(iot.get_policy, policyName="pv")[0] == "ResourceNotFoundException")

    # ListPolicyPrincipals: the certificates a policy is attached to, paged with marker/pageSize.
    iot.create_policy(policyName="pp", policyDocument=DOC)
    arns = sorted(iot.create_keys_and_certificate(setAsActive=True)["certificateArn"] for _ in range(3))
    for arn in arns:
        iot.attach_policy(policyName="pp", target=arn)
    pages = list(iot.get_paginator("list_policy_principals").paginate(
        policyName="pp", PaginationConfig={"PageSize": 2}))
    check("ListPolicyPrincipals pages through every principal",
          len(pages) == 2 and sorted(p for page in pages for p in page["principals"]) == arns, pages)
    check("ListPolicyPrincipals of an unknown policy is ResourceNotFoundException",
          error_of(iot.list_policy_principals, policyName="nope")[0] == "ResourceNotFoundException")


def topic_rules(iot):
    payload = {"sql": "SELECT * FROM 'in/#'", "actions": [{"republish": {
        "topic": "out/x", "roleArn": "arn:aws:iam::123456789012:role/r"}}]}
    iot.create_topic_rule(ruleName="r1", topicRulePayload=payload)
    iot.disable_topic_rule(ruleName="r1")
    check("DisableTopicRule: GetTopicRule shows ruleDisabled",
          iot.get_topic_rule(ruleName="r1")["rule"]["ruleDisabled"] is True)
    check("DisableTopicRule: ListTopicRules(ruleDisabled=True) lists it",
          [r["ruleName"] for r in iot.list_topic_rules(ruleDisabled=True)["rules"]] == ["r1"])
    iot.enable_topic_rule(ruleName="r1")
    check("EnableTopicRule: enabled again", iot.get_topic_rule(ruleName="r1")["rule"]["ruleDisabled"] is False)
    check("EnableTopicRule of an unknown rule is AWS's UnauthorizedException",
          error_of(iot.enable_topic_rule, ruleName="nope")[0] == "UnauthorizedException")
    code, message, _ = error_of(iot.disable_topic_rule, ruleName="bad-name")
    check("a rule name off the pattern: AWS's validation wording",
          message.startswith("1 validation error detected: Value 'bad-name' at 'ruleName' failed to satisfy "
                             "constraint: Member must satisfy regular expression pattern"), (code, message))


def role_aliases(iot, iam, account, unchecked):
    """unchecked: a client without botocore's own parameter checks, to send what AWS must refuse."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Service": "credentials.iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role_arn = iam.create_role(RoleName="device-role", AssumeRolePolicyDocument=trust,
                               MaxSessionDuration=7200)["Role"]["Arn"]
    created = iot.create_role_alias(roleAlias="alias-a", roleArn=role_arn, credentialDurationSeconds=3600)
    check("CreateRoleAlias answers the alias and its ARN",
          created["roleAliasArn"] == "arn:aws:iot:us-east-1:%s:rolealias/alias-a" % account, created)
    described = iot.describe_role_alias(roleAlias="alias-a")["roleAliasDescription"]
    check("DescribeRoleAlias", described["roleArn"] == role_arn and described["credentialDurationSeconds"] == 3600
          and described["owner"] == account, described)
    check("a second alias of the same name is ResourceAlreadyExistsException",
          error_of(iot.create_role_alias, roleAlias="alias-a", roleArn=role_arn)[0]
          == "ResourceAlreadyExistsException")
    code, message, _ = error_of(iot.create_role_alias, roleAlias="alias-x",
                                roleArn="arn:aws:iam::%s:role/missing" % account)
    check("a role that does not exist is refused", code == "InvalidRequestException" and "missing" in message,
          (code, message))
    code, message, _ = error_of(unchecked.create_role_alias, roleAlias="alias-x", roleArn=role_arn,
                                credentialDurationSeconds=899)
    check("credentialDurationSeconds below 900 is refused in AWS's wording",
          code == "InvalidRequestException" and "Member must have value greater than or equal to 900" in message,
          (code, message))
    code, message, _ = error_of(unchecked.create_role_alias, roleAlias="alias-x", roleArn=role_arn,
                                credentialDurationSeconds=43201)
    check("credentialDurationSeconds above 43200 is refused",
          code == "InvalidRequestException" and "less than or equal to 43200" in message, (code, message))
    code, message, _ = error_of(iot.create_role_alias, roleAlias="alias-x", roleArn=role_arn,
                                credentialDurationSeconds=10800)
    check("credentialDurationSeconds above the role's maximum session duration is refused",
          code == "InvalidRequestException" and "maximum session duration" in message, (code, message))
    for name in ("alias-b", "alias-c"):
        iot.create_role_alias(roleAlias=name, roleArn=role_arn)
    pages = list(iot.get_paginator("list_role_aliases").paginate(PaginationConfig={"PageSize": 2}))
    check("ListRoleAliases pages through every alias",
          [a for p in pages for a in p["roleAliases"]] == ["alias-a", "alias-b", "alias-c"] and len(pages) == 2,
          pages)
    descending = iot.list_role_aliases(ascendingOrder=False)["roleAliases"]
    check("ListRoleAliases ascendingOrder=false", descending == ["alias-c", "alias-b", "alias-a"], descending)
    iot.update_role_alias(roleAlias="alias-b", credentialDurationSeconds=7200)
    check("UpdateRoleAlias changes the duration",
          iot.describe_role_alias(roleAlias="alias-b")["roleAliasDescription"]["credentialDurationSeconds"] == 7200)
    iot.delete_role_alias(roleAlias="alias-b")
    check("a deleted alias is ResourceNotFoundException",
          error_of(iot.describe_role_alias, roleAlias="alias-b")[0] == "ResourceNotFoundException")
    check("DeleteRoleAlias of an unknown alias is ResourceNotFoundException",
          error_of(iot.delete_role_alias, roleAlias="alias-b")[0] == "ResourceNotFoundException")
    check("UpdateRoleAlias of an unknown alias is ResourceNotFoundException",
          error_of(iot.update_role_alias, roleAlias="alias-z", roleArn=role_arn)[0] == "ResourceNotFoundException")
    check("an alias name off the pattern is InvalidRequestException",
          error_of(iot.describe_role_alias, roleAlias="bad alias!")[0] == "InvalidRequestException")


def domain_configurations(iot, account):
    created = iot.create_domain_configuration(domainConfigurationName="custom", domainName="IoT.Example.Test",
                                              serviceType="DATA")
    check("CreateDomainConfiguration answers name and ARN",
          created["domainConfigurationArn"].startswith(
              "arn:aws:iot:us-east-1:%s:domainconfiguration/custom/" % account), created)
    described = iot.describe_domain_configuration(domainConfigurationName="custom")
    check("DescribeDomainConfiguration: the domain (lowercase), ENABLED, CUSTOMER_MANAGED",
          described["domainName"] == "iot.example.test" and described["domainConfigurationStatus"] == "ENABLED"
          and described["domainType"] == "CUSTOMER_MANAGED" and described["serviceType"] == "DATA", described)
    iot.create_domain_configuration(domainConfigurationName="managed")
    described = iot.describe_domain_configuration(domainConfigurationName="managed")
    check("without domainName: AWS_MANAGED, a name of the account's endpoint domain",
          described["domainType"] == "AWS_MANAGED" and described["domainName"].endswith(".localhost")
          and "-ats.iot.us-east-1." in described["domainName"], described)
    iot.create_domain_configuration(domainConfigurationName="jobs", domainName="jobs.example.test",
                                    serviceType="JOBS")
    pages = list(iot.get_paginator("list_domain_configurations").paginate(PaginationConfig={"PageSize": 2}))
    names = [d["domainConfigurationName"] for p in pages for d in p["domainConfigurations"]]
    check("ListDomainConfigurations pages through every one", names == ["custom", "jobs", "managed"], pages)
    only_jobs = iot.list_domain_configurations(serviceType="JOBS")["domainConfigurations"]
    check("ListDomainConfigurations serviceType filter",
          [d["domainConfigurationName"] for d in only_jobs] == ["jobs"], only_jobs)
    check("a second configuration of the same name is ResourceAlreadyExistsException",
          error_of(iot.create_domain_configuration, domainConfigurationName="custom",
                   domainName="other.example.test")[0] == "ResourceAlreadyExistsException")
    check("a domain name another configuration has is InvalidRequestException",
          error_of(iot.create_domain_configuration, domainConfigurationName="again",
                   domainName="iot.example.test")[0] == "InvalidRequestException")
    check("a domain name that is not a DNS name is InvalidRequestException",
          error_of(iot.create_domain_configuration, domainConfigurationName="bad",
                   domainName="not a name")[0] == "InvalidRequestException")
    check("a configuration name off the pattern is InvalidRequestException",
          error_of(iot.create_domain_configuration, domainConfigurationName="iot:Data-ATS")[0]
          == "InvalidRequestException")
    iot.update_domain_configuration(domainConfigurationName="custom", domainConfigurationStatus="DISABLED")
    check("UpdateDomainConfiguration DISABLED",
          iot.describe_domain_configuration(domainConfigurationName="custom")["domainConfigurationStatus"]
          == "DISABLED")
    iot.delete_domain_configuration(domainConfigurationName="managed")
    check("a deleted configuration is ResourceNotFoundException",
          error_of(iot.describe_domain_configuration, domainConfigurationName="managed")[0]
          == "ResourceNotFoundException")
    check("UpdateDomainConfiguration of an unknown one is ResourceNotFoundException",
          error_of(iot.update_domain_configuration, domainConfigurationName="nope",
                   domainConfigurationStatus="ENABLED")[0] == "ResourceNotFoundException")


def wording_and_protocol(cloud, iot):
    code, message, _ = error_of(iot.describe_thing, thingName="bad name!")
    check("a thing name off the pattern: AWS's validation wording",
          (code, message) == ("InvalidRequestException", "1 validation error detected: Value 'bad name!' at "
                              "'thingName' failed to satisfy constraint: Member must satisfy regular expression "
                              "pattern: [a-zA-Z0-9:_-]+"), (code, message))
    code, message, _ = error_of(iot.list_thing_principals, thingName="ghost")
    check("ListThingPrincipals of an unknown thing in AWS's words",
          (code, message) == ("ResourceNotFoundException", "Failed to list principals for thing ghost because "
                              "the thing does not exist in your account"), (code, message))
    # An operation we do not have: a correctly signed request to a path no route knows.
    credentials = boto3.session.Session().get_credentials()
    request = botocore.awsrequest.AWSRequest(method="GET", url=cloud.url + "/no-such-operation/x")
    botocore.auth.SigV4Auth(credentials, "iot", "us-east-1").add_auth(request)
    try:
        urllib.request.urlopen(urllib.request.Request(request.url, headers=dict(request.headers.items())))
        check("an unknown operation is refused", False)
    except urllib.error.HTTPError as e:
        check("an unknown operation is 400 UnknownOperationException, not ResourceNotFoundException",
              e.code == 400 and e.headers.get("x-amzn-ErrorType") == "UnknownOperationException",
              (e.code, dict(e.headers)))
    session = boto3.session.Session()
    elsewhere = session.client("iot", endpoint_url=cloud.url, region_name="eu-west-1")
    code, message, status = error_of(elsewhere.list_things)
    check("a call signed for another region is refused (the cloud's resources are regional)",
          status == 403 and code == "InvalidSignatureException"
          and "Credential should be scoped to a valid region" in message, (code, message, status))


def things_and_certificates(iot, tmp):
    iot.create_thing(thingName="t1", attributePayload={"attributes": {"a": "1", "b": "2"}})
    iot.update_thing(thingName="t1", attributePayload={"attributes": {"a": "", "c": "3"}, "merge": False})
    check("UpdateThing merge:false keeps no attribute with an empty value",
          iot.describe_thing(thingName="t1")["attributes"] == {"c": "3"}, iot.describe_thing(thingName="t1"))
    keys = iot.create_keys_and_certificate(setAsActive=True)
    private = serialization.load_pem_private_key(keys["keyPair"]["PrivateKey"].encode(), password=None)
    check("CreateKeysAndCertificate: a 2048-bit RSA key pair, PKCS#1 PEM as AWS's",
          isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
          and keys["keyPair"]["PrivateKey"].startswith("-----BEGIN RSA PRIVATE KEY-----"), keys["keyPair"]["PublicKey"])

    def csr(name, *keygen):
        key = os.path.join(tmp, name + ".key")
        subprocess.run(["openssl", "genpkey", "-out", key, *keygen], check=True, capture_output=True)
        return subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=" + name],
                              check=True, capture_output=True, text=True).stdout

    accepted = {"rsa2048": ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"),
                "rsa3072": ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"),
                "p256": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"),
                "p384": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"),
                "p521": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521")}
    for name, keygen in accepted.items():
        created = iot.create_certificate_from_csr(certificateSigningRequest=csr(name, *keygen), setAsActive=True)
        check("CreateCertificateFromCsr accepts a %s CSR" % name, len(created["certificateId"]) == 64, created)
    refused = {"rsa1024": ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"),
               "secp256k1": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"),
               "ed25519": ("-algorithm", "ED25519")}
    for name, keygen in refused.items():
        code, message, _ = error_of(iot.create_certificate_from_csr, certificateSigningRequest=csr(name, *keygen))
        check("CreateCertificateFromCsr refuses a %s CSR, naming the key" % name,
              code == "InvalidRequestException" and ("1024 bits" in message if name == "rsa1024" else
                                                     "P-256, P-384 or P-521" in message), (code, message))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cloud = Cloud(os.path.join(tmp, "state")).start()
        try:
            iot = cloud.client()
            iam = boto3.session.Session().client("iam", endpoint_url=cloud.url, region_name="us-east-1")
            policy_versions(iot)
            topic_rules(iot)
            role_aliases(iot, iam, cloud.account, cloud.client(parameter_validation=False))
            domain_configurations(iot, cloud.account)
            wording_and_protocol(cloud, iot)
            things_and_certificates(iot, tmp)
        finally:
            cloud.stop()
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
