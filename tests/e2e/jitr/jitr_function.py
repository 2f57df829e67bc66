"""An external JITR "Lambda" for the local cloud, written as for AWS: botocore against the endpoint
and credentials in AWS_* variables, the registration event on stdin. Thing name = certificate CN
(the AWS device-management workshop's convention); the policy uses thing policy variables.
"""
import json
import os
import subprocess
import sys

import botocore.session

event = json.load(sys.stdin)
session = botocore.session.get_session()
iot = session.create_client("iot", region_name=os.environ["AWS_DEFAULT_REGION"],
                            endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                            aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
cert_id = event["certificateId"]
account = event["awsAccountId"]
region = os.environ["AWS_DEFAULT_REGION"]
pem = iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["certificatePem"]
subject = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "multiline"], input=pem.encode(),
                         capture_output=True, check=True).stdout.decode()
thing = next(line.split("=", 1)[1].strip() for line in subject.splitlines() if "commonName" in line)
cert_arn = f"arn:aws:iot:{region}:{account}:cert/{cert_id}"
base = f"arn:aws:iot:{region}:{account}:"
policy = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": base + "client/${iot:Connection.Thing.ThingName}"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": base + "topic/dt/${iot:Connection.Thing.ThingName}/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": base + "topicfilter/dt/${iot:Connection.Thing.ThingName}/*"},
]}
try:
    iot.create_thing(thingName=thing)
except iot.exceptions.ResourceAlreadyExistsException:
    pass
try:
    iot.create_policy(policyName="jitr_Policy", policyDocument=json.dumps(policy))
except iot.exceptions.ResourceAlreadyExistsException:
    pass
iot.attach_policy(policyName="jitr_Policy", target=cert_arn)
iot.attach_thing_principal(thingName=thing, principal=cert_arn)
iot.update_certificate(certificateId=cert_id, newStatus="ACTIVE")
print(f"activated {cert_id} as thing {thing}")
