"""The broker side of issue 17's AWS behaviours, with real clients (mosquitto_pub, paho, Python's ssl) against
`ztp cloud run` over mutual TLS:

  1. Device certificates with RSA keys (CreateKeysAndCertificate's 2048-bit pair, a 3072-bit CSR) and ECDSA
     P-384 / P-521 keys (CSRs signed by CreateCertificateFromCsr) connect and publish with mosquitto_pub.
  2. The broker enforces a policy's DEFAULT version: a new default without iot:Connect refuses the device,
     setting the old one back admits it again.
  3. A disabled topic rule does not fire: published while disabled, nothing is republished; enabled again,
     the next message is.
  4. Domain configurations: the broker accepts the configuration's name by SNI and presents its own server
     certificate (verified against server-ca.crt with hostname checking); a DISABLED configuration's name and
     an unknown name fail the handshake with the alert unrecognized_name.
127.0.0.1 and ephemeral ports; every client and the cloud are stopped at the end."""
import json
import os
import queue
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import MqttCloud  # noqa: E402

failures = []
ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})


def check(description, condition, detail=""):
    print(("ok   - " if condition else "FAIL - ") + description + ("" if condition else ": " + str(detail)))
    if not condition:
        failures.append(description)


class Device:
    """A certificate and key on disk, registered and ACTIVE in the cloud."""

    def __init__(self, tmp, name, cert_pem, key_pem, arn):
        self.cert = os.path.join(tmp, name + ".crt")
        self.key = os.path.join(tmp, name + ".key")
        self.arn = arn
        with open(self.cert, "w") as f:
            f.write(cert_pem)
        if key_pem is not None:
            with open(self.key, "w") as f:
                f.write(key_pem)
        os.chmod(self.key, 0o600)


def csr_device(iot, tmp, name, *keygen):
    key = os.path.join(tmp, name + ".key")
    subprocess.run(["openssl", "genpkey", "-out", key, *keygen], check=True, capture_output=True)
    csr = subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=" + name], check=True,
                         capture_output=True, text=True).stdout
    created = iot.create_certificate_from_csr(certificateSigningRequest=csr, setAsActive=True)
    return Device(tmp, name, created["certificatePem"], None, created["certificateArn"])


def mosquitto_pub(cloud, device, client_id, topic="t/x", message="hi"):
    """mosquitto_pub's exit code: 0 when it connected and its QoS 1 message was acknowledged."""
    run = subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(cloud.mqtt_port), "--cafile",
         os.path.join(cloud.state, "server-ca.crt"), "--cert", device.cert, "--key", device.key, "-i", client_id,
         "-t", topic, "-m", message, "-q", "1", "-V", "mqttv311"], capture_output=True, text=True, timeout=20)
    return run.returncode, run.stderr


def eventually(predicate, timeout=10.0):
    """Polls `predicate` until true (the broker caches policy decisions for a second) or the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def tls_handshake(cloud, device, server_name):
    """Handshake with SNI `server_name`, the server certificate checked against server-ca.crt for that name:
    the server certificate's subject alternative names, or the ssl error's text."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(os.path.join(cloud.state, "server-ca.crt"))
    context.load_cert_chain(device.cert, device.key)
    with socket.create_connection(("127.0.0.1", cloud.mqtt_port), timeout=10) as raw:
        try:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                return [value for kind, value in tls.getpeercert().get("subjectAltName", ()) if kind == "DNS"]
        except (ssl.SSLError, OSError) as e:
            return str(e)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cloud = MqttCloud(tmp, os.path.join(tmp, "state")).start()
        subscriber = None
        try:
            iot = cloud.iot()
            iot.create_policy(policyName="All", policyDocument=ALL)

            # 1. RSA and P-384/P-521 device certificates.
            keys = iot.create_keys_and_certificate(setAsActive=True)
            devices = {"rsa2048 (CreateKeysAndCertificate)": Device(
                tmp, "rsa2048", keys["certificatePem"], keys["keyPair"]["PrivateKey"], keys["certificateArn"])}
            devices["rsa3072 (CSR)"] = csr_device(iot, tmp, "rsa3072", "-algorithm", "RSA", "-pkeyopt",
                                                  "rsa_keygen_bits:3072")
            devices["P-384 (CSR)"] = csr_device(iot, tmp, "p384", "-algorithm", "EC", "-pkeyopt",
                                                "ec_paramgen_curve:P-384")
            devices["P-521 (CSR)"] = csr_device(iot, tmp, "p521", "-algorithm", "EC", "-pkeyopt",
                                                "ec_paramgen_curve:P-521")
            for n, (label, device) in enumerate(devices.items()):
                iot.attach_policy(policyName="All", target=device.arn)
                rc, err = mosquitto_pub(cloud, device, "dev-%d" % n)
                check("mosquitto_pub connects and publishes with a %s device certificate" % label, rc == 0, err)

            # 2. The default version is what the broker enforces.
            gated = csr_device(iot, tmp, "gated", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
            iot.create_policy(policyName="Gate", policyDocument=ALL)
            iot.attach_policy(policyName="Gate", target=gated.arn)
            check("version 1 (iot:*) admits the device", mosquitto_pub(cloud, gated, "gated")[0] == 0)
            iot.create_policy_version(policyName="Gate", setAsDefault=True, policyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Publish",
                                                         "Resource": "*"}]}))
            check("a new default version without iot:Connect refuses it",
                  eventually(lambda: mosquitto_pub(cloud, gated, "gated")[0] != 0))
            iot.set_default_policy_version(policyName="Gate", policyVersionId="1")
            check("version 1 as the default again admits it",
                  eventually(lambda: mosquitto_pub(cloud, gated, "gated")[0] == 0))

            # 3. A disabled rule does not fire.
            account = cloud.account
            iot.create_topic_rule(ruleName="relay", topicRulePayload={
                "sql": "SELECT * FROM 'in/relay'", "actions": [{"republish": {
                    "topic": "out/relay", "qos": 1, "roleArn": "arn:aws:iam::%s:role/republish" % account}}]})
            events = queue.Queue()
            subscriber = mqtt.Client(client_id="watcher", protocol=mqtt.MQTTv311)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.load_verify_locations(os.path.join(cloud.state, "server-ca.crt"))
            watcher = devices["rsa2048 (CreateKeysAndCertificate)"]
            context.load_cert_chain(watcher.cert, watcher.key)
            subscriber.tls_set_context(context)
            subscriber.on_subscribe = lambda *_: events.put(("suback", None))
            subscriber.on_message = lambda _c, _u, msg: events.put(("message", msg.payload.decode()))
            subscriber.connect("127.0.0.1", cloud.mqtt_port, keepalive=30)
            subscriber.loop_start()
            subscriber.subscribe("out/relay", qos=1)
            kind, _ = events.get(timeout=10)
            check("the watcher subscribed", kind == "suback", kind)
            iot.disable_topic_rule(ruleName="relay")
            check("published while the rule is disabled", mosquitto_pub(cloud, watcher, "p1", "in/relay", "one")[0] == 0)
            iot.enable_topic_rule(ruleName="relay")
            check("published after it is enabled", mosquitto_pub(cloud, watcher, "p2", "in/relay", "two")[0] == 0)
            kind, payload = events.get(timeout=10)
            check("the disabled rule did not fire; the enabled one did (first republished message is the second)",
                  (kind, payload) == ("message", "two"), (kind, payload))

            # 4. Domain configurations by SNI.
            iot.create_domain_configuration(domainConfigurationName="custom", domainName="iot.example.test")
            names = tls_handshake(cloud, watcher, "iot.example.test")
            check("the configuration's name is accepted with its own server certificate (hostname verified)",
                  names == ["iot.example.test"], names)
            refused = tls_handshake(cloud, watcher, "unknown.example.test")
            check("an unknown name fails the handshake with unrecognized_name",
                  isinstance(refused, str) and "UNRECOGNIZED_NAME" in refused.upper(), refused)
            iot.update_domain_configuration(domainConfigurationName="custom", domainConfigurationStatus="DISABLED")
            disabled = tls_handshake(cloud, watcher, "iot.example.test")
            check("a DISABLED configuration's name fails the handshake with unrecognized_name",
                  isinstance(disabled, str) and "UNRECOGNIZED_NAME" in disabled.upper(), disabled)
            iot.update_domain_configuration(domainConfigurationName="custom", domainConfigurationStatus="ENABLED")
            check("ENABLED again, accepted again", tls_handshake(cloud, watcher, "iot.example.test")
                  == ["iot.example.test"])
        finally:
            if subscriber is not None:
                subscriber.loop_stop()
                subscriber.disconnect()
            cloud.stop()
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
