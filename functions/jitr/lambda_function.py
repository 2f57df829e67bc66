"""ZTLambdaJITR: the just-in-time registration function of the seed guide (§V), as an AWS Lambda.

AWS IoT's rule ZeroTouchJustInTimeRegistration (SELECT * FROM '$aws/events/certificates/registered/#')
invokes it with the registration event of a device certificate that an auto-registering CA signed
(AWS IoT Developer Guide, "Just-in-time registration"; reference/aws-iot.md §3):

    {"certificateId": "<64 hex>", "caCertificateId": "<64 hex>", "certificateStatus": "PENDING_ACTIVATION",
     "awsAccountId": "123456789012", "timestamp": 1695074220131, ...}

What it does, as the seed's ZTLambdaJITR and the local cloud's built-in function (src/cloud/jitr/):
DescribeCertificate → thing name = the lowercase hex SubjectKeyIdentifier of the certificate (the
kit uses it as its MQTT client id) → CreateThingType microchip-zero-touch-kit → CreateThing →
CreatePolicy ZTPolicy_<certificateId> (the kit's policy, with ${iot:ClientId} variables) →
AttachPrincipalPolicy → AttachThingPrincipal (the seed does not; it makes the thing policy
variables work) → UpdateCertificate ACTIVE. Each step tolerates a resource that already exists, so a
retried invocation completes a half-done registration. Only a certificate that is PENDING_ACTIVATION
is registered: an event is not a capability, and a revoked certificate stays revoked.

Standard library and boto3 only (what the Lambda python3.x runtimes provide). Also runs as a
command with the event on stdin and the answer on stdout (`python3 lambda_function.py < event.json`),
which is how an external function of the local cloud is run.
"""
import base64
import json
import os
import re
import sys

import boto3

THING_TYPE = "microchip-zero-touch-kit"
POLICY_PREFIX = "ZTPolicy_"
SKI_OID = bytes([0x55, 0x1D, 0x0E])  # 2.5.29.14 subjectKeyIdentifier (RFC 5280 §4.2.1.2)


class RegistrationError(Exception):
    pass


def _tlv(der, pos, end):
    """One DER element at der[pos:end]: (tag, value start, value end), bounds checked."""
    if pos + 2 > end:
        raise RegistrationError("certificate DER is truncated")
    tag, length = der[pos], der[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise RegistrationError("certificate DER has a bad length")
        length = int.from_bytes(der[pos:pos + count], "big")
        pos += count
    if pos + length > end:
        raise RegistrationError("certificate DER element runs past its container")
    return tag, pos, pos + length


def _children(der, start, end):
    pos = start
    while pos < end:
        tag, value_start, value_end = _tlv(der, pos, end)
        yield tag, value_start, value_end
        pos = value_end


def subject_key_identifier(der):
    """The SubjectKeyIdentifier extension's key identifier bytes, or None (RFC 5280 §4.1)."""
    tag, start, end = _tlv(der, 0, len(der))  # Certificate
    if tag != 0x30:
        raise RegistrationError("certificate is not a DER SEQUENCE")
    tag, tbs_start, tbs_end = _tlv(der, start, end)  # TBSCertificate
    for tag, start, end in _children(der, tbs_start, tbs_end):
        if tag != 0xA3:  # [3] EXPLICIT Extensions
            continue
        _, list_start, list_end = _tlv(der, start, end)
        for _, ext_start, ext_end in _children(der, list_start, list_end):
            parts = list(_children(der, ext_start, ext_end))
            if len(parts) < 2 or parts[0][0] != 0x06 or der[parts[0][1]:parts[0][2]] != SKI_OID:
                continue
            octets_tag, octets_start, octets_end = parts[-1]
            inner_tag, key_start, key_end = _tlv(der, octets_start, octets_end)
            if octets_tag != 0x04 or inner_tag != 0x04:
                raise RegistrationError("SubjectKeyIdentifier is not an OCTET STRING")
            return der[key_start:key_end]
    return None


def pem_to_der(pem):
    match = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)
    if not match:
        raise RegistrationError("certificatePem is not a PEM certificate")
    return base64.b64decode("".join(match.group(1).split()), validate=True)


def policy_document(region, account_id, thing_name):
    """The kit's policy (src/cloud/jitr/jitr_function.cpp zero_touch_policy_document), same bytes."""
    arn = f"arn:aws:iot:{region}:{account_id}:"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iot:Connect"], "Resource": [arn + "client/" + thing_name]},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": [arn + "topic/${iot:ClientId}/*", arn + "topic/$aws/things/${iot:ClientId}/shadow/*"]},
        {"Effect": "Allow", "Action": ["iot:Subscribe"],
         "Resource": [arn + "topicfilter/${iot:ClientId}/#",
                      arn + "topicfilter/$aws/things/${iot:ClientId}/shadow/*"]},
        {"Effect": "Allow", "Action": ["iot:UpdateThingShadow", "iot:GetThingShadow"],
         "Resource": [arn + "thing/${iot:ClientId}"]},
    ]}
    return json.dumps(policy, separators=(",", ":"), sort_keys=True)


def _tolerate_existing(iot, call, **kwargs):
    try:
        call(**kwargs)
    except iot.exceptions.ResourceAlreadyExistsException:
        pass


def register(event, iot, region):
    if not isinstance(event, dict):
        raise RegistrationError("JITR event is not a JSON object")
    certificate_id = event.get("certificateId")
    account_id = event.get("awsAccountId")
    if not isinstance(certificate_id, str) or not re.fullmatch(r"[0-9a-f]{64}", certificate_id):
        raise RegistrationError("JITR event has no valid certificateId (64 lowercase hex characters)")
    if not isinstance(account_id, str) or not account_id:
        raise RegistrationError("JITR event has no awsAccountId")

    description = iot.describe_certificate(certificateId=certificate_id)["certificateDescription"]
    status = description.get("status")
    if status != "PENDING_ACTIVATION":
        raise RegistrationError(f"certificate {certificate_id} is {status}, not PENDING_ACTIVATION: "
                                "nothing to register")
    ski = subject_key_identifier(pem_to_der(description["certificatePem"]))
    if not ski:
        raise RegistrationError(f"certificate {certificate_id} has no SubjectKeyIdentifier; "
                                "the thing name is derived from it")
    thing_name = ski.hex()
    policy_name = POLICY_PREFIX + certificate_id
    principal = f"arn:aws:iot:{region}:{account_id}:cert/{certificate_id}"

    _tolerate_existing(iot, iot.create_thing_type, thingTypeName=THING_TYPE)
    _tolerate_existing(iot, iot.create_thing, thingName=thing_name, thingTypeName=THING_TYPE)
    _tolerate_existing(iot, iot.create_policy, policyName=policy_name,
                       policyDocument=policy_document(region, account_id, thing_name))
    iot.attach_principal_policy(policyName=policy_name, principal=principal)
    iot.attach_thing_principal(thingName=thing_name, principal=principal)
    iot.update_certificate(certificateId=certificate_id, newStatus="ACTIVE")
    return {"certificateId": certificate_id, "thingName": thing_name, "policyName": policy_name}


def lambda_handler(event, context):
    # Lambda sets AWS_REGION (and AWS_DEFAULT_REGION) to the function's region. AWS_ENDPOINT_URL is
    # unset on AWS; the local cloud sets it (boto3 before 1.28 does not read it by itself).
    region = os.environ.get("AWS_REGION") or os.environ["AWS_DEFAULT_REGION"]
    iot = boto3.client("iot", region_name=region, endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    registration = register(event, iot, region)
    print(f"registered certificate {registration['certificateId']} as thing {registration['thingName']} "
          f"with policy {registration['policyName']}")
    return registration


if __name__ == "__main__":
    print(json.dumps(lambda_handler(json.load(sys.stdin), None)))
