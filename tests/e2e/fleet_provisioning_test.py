"""Fleet provisioning by claim against `ztp cloud run` over mutual TLS (issue 15), with paho-mqtt
1.6.1, mosquitto_rr / mosquitto_sub and boto3; JSON and CBOR (python3-cbor2):

  1. A claim certificate whose policy allows only fleet provisioning's topics connects;
     CreateKeysAndCertificate (JSON and CBOR) answers certificateId, certificatePem, privateKey and
     certificateOwnershipToken on …/accepted; the certificate is PENDING_ACTIVATION; another client
     subscribed to the same accepted topic (mosquitto_sub) hears nothing: answers go to the asking
     connection only.
  2. CreateCertificateFromCsr with an openssl CSR through mosquitto_rr: the certificate carries the
     CSR's key, and no private key comes back.
  3. RegisterThing with the stored template: thingName and deviceConfiguration come back, the
     certificate is ACTIVE with the template's thing and policy; the device reconnects with its new
     certificate and uses its shadow.
  4. Abuse: the token used again, a token of another claim certificate, an unknown token, a missing
     one, malformed JSON and CBOR, wrong types, a huge payload, an unknown template: each answered on
     …/rejected with AWS's fields (statusCode, errorCode, errorMessage); the claim certificate may
     not publish elsewhere; the cloud keeps serving.
  5. By trusted user: CreateProvisioningClaim (boto3) answers a claim certificate that expires in
     five minutes (openssl verify -attime: valid before, refused after, as the broker's TLS
     verification refuses it); a device connects with it, gets its own certificate and registers.
(An expired token needs an hour: the unit tests drive that on a fake clock.)
127.0.0.1 and ephemeral ports only; the cloud and every client are stopped at the end."""
import json
import os
import queue
import shutil
import ssl
import subprocess
import sys
import tempfile

import boto3
import cbor2
import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import MqttCloud  # noqa: E402

os.environ.setdefault("ZTP", os.path.join(os.environ.get("ZT_BINARY_DIR", "build"), "bin", "ztp"))
failures = []
TEMPLATE = "FleetTemplate"
CREATE, CSR = "$aws/certificates/create", "$aws/certificates/create-from-csr"
PROVISION = "$aws/provisioning-templates/%s/provision" % TEMPLATE


def check(description, condition, detail=""):
    print(("ok   - " if condition else "FAIL - ") + description + ("" if condition else ": " + str(detail)))
    if not condition:
        failures.append(description)


def write_secret(path, text):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)


class Client:
    """A paho MQTT 3.1.1 client; messages and disconnects go to one queue."""

    def __init__(self, cloud, cert, key, client_id):
        self.events = queue.Queue()
        self.paho = mqtt.Client(client_id=client_id, clean_session=True)
        self.paho.tls_set(ca_certs=os.path.join(cloud.state, "server-ca.crt"), certfile=cert, keyfile=key,
                          tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.paho.on_connect = lambda _c, _u, _f, rc: self.events.put(("connack", rc))
        self.paho.on_disconnect = lambda _c, _u, rc: self.events.put(("disconnect", rc))
        self.paho.on_subscribe = lambda _c, _u, mid, qos: self.events.put(("suback", qos))
        self.paho.on_message = lambda _c, _u, m: self.events.put(("message", (m.topic, m.payload)))
        self.paho.connect("localhost", cloud.mqtt_port, keepalive=30)
        self.paho.loop_start()

    def next(self, kind, timeout=15):
        while True:
            got, value = self.events.get(timeout=timeout)
            if got == kind:
                return value
            if got == "disconnect" and kind != "disconnect":
                raise RuntimeError("disconnected while waiting for " + kind)

    def subscribe(self, *filters):
        for topic in filters:
            self.paho.subscribe(topic, qos=1)
            granted = self.next("suback")
            if 128 in granted:
                raise RuntimeError("subscription refused: " + topic)

    def request(self, topic, payload, decode=json.loads):
        """Publishes a request and returns (answer topic, decoded answer)."""
        self.paho.publish(topic, payload, qos=1)
        answer_topic, answer = self.next("message")
        return answer_topic, decode(answer)

    def stop(self):
        self.paho.disconnect()
        self.paho.loop_stop()


def claim_policy(account):
    topics = [CREATE + "/*", CSR + "/*", "$aws/provisioning-templates/*/provision/*"]
    arn = "arn:aws:iot:*:*:"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": arn + "client/*"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": [arn + "topic/" + t for t in topics]},
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": [arn + "topicfilter/" + t for t in topics]}]})


def device_template(account):
    """AWS's fleet provisioning example: a thing named from SerialNumber, an inline policy for the
    device's own shadow, the certificate activated."""
    device_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": "arn:aws:iot:*:*:topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"},
        {"Effect": "Allow", "Action": "iot:Subscribe",
         "Resource": "arn:aws:iot:*:*:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"}]})
    return json.dumps({
        "Parameters": {"SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
        "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": {
                "ThingName": {"Fn::Join": ["", ["device-", {"Ref": "SerialNumber"}]]},
                "AttributePayload": {"serial": {"Ref": "SerialNumber"}}}},
            "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
                "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "Active"}},
            "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": device_policy}}},
        "DeviceConfiguration": {"Fallback": "no"}})


def make_claim(iot, work, name, account):
    keys = iot.create_keys_and_certificate(setAsActive=True)
    if name == "claimA":
        iot.create_policy(policyName="ClaimPolicy", policyDocument=claim_policy(account))
    iot.attach_policy(policyName="ClaimPolicy", target=keys["certificateArn"])
    cert, key = os.path.join(work, name + ".crt"), os.path.join(work, name + ".key")
    with open(cert, "w") as f:
        f.write(keys["certificatePem"])
    write_secret(key, keys["keyPair"]["PrivateKey"])
    return cert, key


def mosquitto_tls(cloud, cert, key):
    return ["-h", "localhost", "-p", str(cloud.mqtt_port), "--cafile", os.path.join(cloud.state, "server-ca.crt"),
            "--cert", cert, "--key", key]


def create_keys(cloud, iot, claim, claim_a, eavesdropper):
    # The eavesdropper (allowed everything) listens on the accepted topic and a marker topic.
    # The admin listens for the eavesdropper's subscription event first: then its SUBSCRIBE landed.
    admin = Client(cloud, *eavesdropper, "admin")
    admin.next("connack")
    admin.subscribe("$aws/events/subscriptions/subscribed/eavesdropper")
    sub = subprocess.Popen(["mosquitto_sub", *mosquitto_tls(cloud, *eavesdropper), "-i", "eavesdropper", "-q", "1",
                            "-t", CREATE + "/json/accepted", "-t", "marker/done", "-C", "1", "-v", "-W", "30"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    admin.next("message")

    topic, created = claim.request(CREATE + "/json", "{}")
    check("CreateKeysAndCertificate (JSON) is accepted", topic == CREATE + "/json/accepted", (topic, created))
    check("… with certificateId, certificatePem, privateKey, certificateOwnershipToken",
          all(isinstance(created.get(k), str) and created[k] for k in
              ("certificateId", "certificatePem", "privateKey", "certificateOwnershipToken")), created.keys())
    status = iot.describe_certificate(certificateId=created["certificateId"])["certificateDescription"]["status"]
    check("the new certificate is PENDING_ACTIVATION", status == "PENDING_ACTIVATION", status)

    admin.paho.publish("marker/done", "1", qos=1)
    out, _ = sub.communicate(timeout=30)
    check("another connection subscribed to …/accepted hears nothing (the marker comes first)",
          out.startswith("marker/done"), out[:200])
    admin.stop()

    topic, cbor_created = claim.request(CREATE + "/cbor", cbor2.dumps({}), decode=cbor2.loads)
    check("CreateKeysAndCertificate (CBOR) is answered in CBOR on …/cbor/accepted",
          topic == CREATE + "/cbor/accepted" and "certificateOwnershipToken" in cbor_created, (topic, cbor_created))
    return created, cbor_created


def create_from_csr(cloud, work, claim_a):
    key, csr = os.path.join(work, "csr-device.key"), os.path.join(work, "csr-device.csr")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", csr, "-subj", "/CN=csr-device"], check=True, capture_output=True)
    with open(csr) as f:
        request = json.dumps({"certificateSigningRequest": f.read()})
    rr = subprocess.run(["mosquitto_rr", *mosquitto_tls(cloud, *claim_a), "-i", "csr-device", "-q", "1",
                         "-t", CSR + "/json", "-e", CSR + "/json/accepted", "-m", request, "-W", "30"],
                        capture_output=True, text=True, timeout=40)
    answer = json.loads(rr.stdout or "{}")
    check("CreateCertificateFromCsr through mosquitto_rr is accepted, without a private key",
          "certificatePem" in answer and "privateKey" not in answer, rr.stdout[:300] + rr.stderr[:300])
    cert = os.path.join(work, "csr-device.crt")
    with open(cert, "w") as f:
        f.write(answer.get("certificatePem", ""))
    modulus = [subprocess.run(command, capture_output=True, text=True).stdout
               for command in (["openssl", "x509", "-in", cert, "-noout", "-pubkey"],
                               ["openssl", "pkey", "-in", key, "-pubout"])]
    check("… its certificate carries the CSR's key", modulus[0] and modulus[0] == modulus[1], modulus)


def rejected(claim, topic, payload, code, decode=json.loads):
    answer_topic, answer = claim.request(topic, payload, decode=decode)
    ok = answer_topic == topic + "/rejected" and answer.get("errorCode") == code and \
        isinstance(answer.get("statusCode"), int) and isinstance(answer.get("errorMessage"), str)
    return ok, (answer_topic, answer)


def abuse(claim, claim_b, created, cbor_created):
    token = created["certificateOwnershipToken"]
    ok, got = rejected(claim, PROVISION + "/json", json.dumps({"certificateOwnershipToken": token}),
                       "InvalidCertificateOwnershipToken")
    check("RegisterThing with a used token: InvalidCertificateOwnershipToken", ok, got)
    ok, got = rejected(claim_b, PROVISION + "/cbor",
                       cbor2.dumps({"certificateOwnershipToken": cbor_created["certificateOwnershipToken"]}),
                       "InvalidCertificateOwnershipToken", decode=cbor2.loads)
    check("RegisterThing with another claim certificate's token (CBOR): rejected", ok, got)
    ok, got = rejected(claim, PROVISION + "/json", json.dumps({"certificateOwnershipToken": "A" * 64}),
                       "InvalidCertificateOwnershipToken")
    check("RegisterThing with an unknown token: rejected", ok, got)
    ok, got = rejected(claim, PROVISION + "/json", "{}", "InvalidCertificateOwnershipToken")
    check("RegisterThing without a token: AWS's 'cannot be empty'",
          ok and got[1]["errorMessage"] == "Certificate ownership token cannot be empty.", got)
    for description, topic, payload, decode in (
            ("malformed JSON", CREATE + "/json", "{", json.loads),
            ("a JSON array", CREATE + "/json", "[]", json.loads),
            ("wrong types", PROVISION + "/json", json.dumps({"certificateOwnershipToken": 7}), json.loads),
            ("parameters of the wrong type", PROVISION + "/json",
             json.dumps({"certificateOwnershipToken": "t", "parameters": {"a": [1]}}), json.loads),
            ("a CSR that is not one", CSR + "/json", json.dumps({"certificateSigningRequest": "x"}), json.loads),
            ("a huge payload (100 KB)", PROVISION + "/json", json.dumps({"certificateOwnershipToken": "t" * 100000}),
             json.loads),
            ("malformed CBOR", CREATE + "/cbor", b"\xbf\x61", cbor2.loads),
            ("CBOR nested 10,000 deep", CREATE + "/cbor", b"\x81" * 10000 + b"\x00", cbor2.loads),
            ("a CBOR string claiming 4 GB", CSR + "/cbor", b"\xa1\x7a\xff\xff\xff\xff", cbor2.loads)):
        ok, got = rejected(claim, topic, payload, "InvalidPayload", decode=decode)
        check("rejected with InvalidPayload: " + description, ok, got)
    ok, got = rejected(claim, "$aws/provisioning-templates/NoSuchTemplate/provision/json",
                       json.dumps({"certificateOwnershipToken": "t"}), "ResourceNotFound")
    check("an unknown template: ResourceNotFound (404)", ok and got[1]["statusCode"] == 404, got)


def register(cloud, iot, claim, work):
    topic, created = claim.request(CREATE + "/json", "{}")
    request = {"certificateOwnershipToken": created["certificateOwnershipToken"], "parameters": {"SerialNumber": "0042"}}
    topic, answer = claim.request(PROVISION + "/json", json.dumps(request))
    check("RegisterThing is accepted with thingName and deviceConfiguration",
          topic == PROVISION + "/json/accepted" and answer == {"thingName": "device-0042",
                                                               "deviceConfiguration": {"Fallback": "no"}},
          (topic, answer))
    description = iot.describe_certificate(certificateId=created["certificateId"])["certificateDescription"]
    check("the certificate is ACTIVE after RegisterThing", description["status"] == "ACTIVE", description["status"])
    principals = iot.list_thing_principals(thingName="device-0042")["principals"]
    check("the thing has the new certificate", [p.endswith(created["certificateId"]) for p in principals] == [True],
          principals)
    cert, key = os.path.join(work, "device.crt"), os.path.join(work, "device.key")
    with open(cert, "w") as f:
        f.write(created["certificatePem"])
    write_secret(key, created["privateKey"])
    device = Client(cloud, cert, key, "device-0042")
    check("the device reconnects with its new certificate", device.next("connack") == 0)
    shadow = "$aws/things/device-0042/shadow"
    device.subscribe(shadow + "/update/accepted")
    topic, answer = device.request(shadow + "/update", json.dumps({"state": {"reported": {"provisioned": True}}}))
    check("… and updates its shadow under the template's policy",
          topic == shadow + "/update/accepted" and answer["state"]["reported"]["provisioned"] is True, (topic, answer))
    device.stop()


def trusted_user(cloud, iot, work):
    claim = iot.create_provisioning_claim(templateName=TEMPLATE)
    expiration = int(claim["expiration"].timestamp())
    cert, key = os.path.join(work, "trusted.crt"), os.path.join(work, "trusted.key")
    with open(cert, "w") as f:
        f.write(claim["certificatePem"])
    write_secret(key, claim["keyPair"]["PrivateKey"])
    issuer = os.path.join(cloud.state, "issuer-ca.crt")

    def verifies(at):
        return subprocess.run(["openssl", "verify", "-attime", str(at), "-CAfile", issuer, cert],
                              capture_output=True).returncode == 0
    import time
    now = int(time.time())
    check("CreateProvisioningClaim: the claim expires in five minutes",
          abs(expiration - now - 300) <= 5, expiration - now)
    check("… its certificate verifies before the expiration and not after",
          verifies(expiration - 10) and not verifies(expiration + 1))
    try:
        iot.create_provisioning_claim(templateName="NoSuchTemplate")
        check("CreateProvisioningClaim for a missing template is refused", False)
    except iot.exceptions.ResourceNotFoundException:
        check("CreateProvisioningClaim for a missing template: ResourceNotFoundException", True)

    device = Client(cloud, cert, key, "trusted-device")
    check("a device connects with the temporary claim", device.next("connack") == 0)
    device.subscribe(CREATE + "/cbor/accepted", PROVISION + "/cbor/accepted", PROVISION + "/cbor/rejected")
    topic, created = device.request(CREATE + "/cbor", cbor2.dumps({}), decode=cbor2.loads)
    topic, answer = device.request(PROVISION + "/cbor", cbor2.dumps({
        "certificateOwnershipToken": created["certificateOwnershipToken"], "parameters": {"SerialNumber": "T1"}}),
        decode=cbor2.loads)
    check("… and registers thing device-T1 over CBOR",
          topic == PROVISION + "/cbor/accepted" and answer.get("thingName") == "device-T1", (topic, answer))
    device.stop()


def run(cloud, work):
    iot = cloud.iot()
    iam = boto3.session.Session().client("iam", endpoint_url=cloud.url)
    role = iam.create_role(RoleName="FleetProvisioningRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    iot.create_provisioning_template(templateName=TEMPLATE, templateBody=device_template(cloud.account),
                                     provisioningRoleArn=role, enabled=True)
    claim_a = make_claim(iot, work, "claimA", cloud.account)
    claim_b = make_claim(iot, work, "claimB", cloud.account)
    keys = iot.create_keys_and_certificate(setAsActive=True)
    iot.create_policy(policyName="AllowAll", policyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}))
    iot.attach_policy(policyName="AllowAll", target=keys["certificateArn"])
    eavesdropper = (os.path.join(work, "admin.crt"), os.path.join(work, "admin.key"))
    with open(eavesdropper[0], "w") as f:
        f.write(keys["certificatePem"])
    write_secret(eavesdropper[1], keys["keyPair"]["PrivateKey"])

    claim = Client(cloud, *claim_a, "claim-a")
    check("the claim certificate connects", claim.next("connack") == 0)
    claim.subscribe(*(base + "/" + fmt + "/" + answer for base in (CREATE, CSR, PROVISION)
                      for fmt in ("json", "cbor") for answer in ("accepted", "rejected")),
                    "$aws/provisioning-templates/NoSuchTemplate/provision/json/rejected")
    other = Client(cloud, *claim_b, "claim-b")
    other.next("connack")
    other.subscribe(PROVISION + "/cbor/accepted", PROVISION + "/cbor/rejected")

    created, cbor_created = create_keys(cloud, iot, claim, claim_a, eavesdropper)
    create_from_csr(cloud, work, claim_a)
    # The first token registers; abuse() then tries it again.
    request = {"certificateOwnershipToken": created["certificateOwnershipToken"], "parameters": {"SerialNumber": "7"}}
    topic, _ = claim.request(PROVISION + "/json", json.dumps(request))
    check("RegisterThing with a fresh token is accepted", topic == PROVISION + "/json/accepted", topic)
    abuse(claim, other, created, cbor_created)
    other.stop()
    register(cloud, iot, claim, work)
    trusted_user(cloud, iot, work)

    claim.paho.publish("$aws/things/device-0042/shadow/update", "{}", qos=1)
    check("the claim certificate may not publish elsewhere: the broker closes it",
          claim.next("disconnect") is not None)
    claim.paho.loop_stop()
    check("the cloud still answers the API", iot.describe_provisioning_template(templateName=TEMPLATE)["enabled"])


def main():
    work = tempfile.mkdtemp(prefix="zt-fleet-")
    cloud = MqttCloud(work, os.path.join(work, "state"))
    try:
        cloud.start()
        run(cloud, work)
    except Exception as e:  # noqa: BLE001 - report, then fail
        check("the test ran to the end", False, repr(e))
        print(open(cloud.log_path).read()[-3000:] if getattr(cloud, "log_path", None) else "")
    finally:
        cloud.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
