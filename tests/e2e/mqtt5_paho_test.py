"""MQTT 5 against `ztp cloud run` with paho-mqtt 1.6.1's MQTT 5 client (protocol=MQTTv5) over mutual
TLS (issue 18), each check one that fails without the feature:

  1. CONNACK properties tell the client AWS IoT's limits (topic alias maximum 8).
  2. Topic aliases: a PUBLISH that sets alias 1 with its topic, then PUBLISHes with only the alias,
     reach a subscriber on the real topic; an alias above the maximum ends the connection with
     DISCONNECT 0x94 (Topic Alias invalid), and its message goes nowhere.
  3. User properties through a rule: `get_user_properties('site')` in the rule's SQL sees both
     values of a repeated name, the republished message keeps the publisher's user properties (in
     order) and carries the republish action's headers (content type, its own user property); the
     same for the user properties of a boto3 iot-data Publish.
  4. 3.1.1 and 5 clients on the same topics at once: each version's PUBLISH reaches both versions'
     subscribers; the 3.1.1 subscriber gets the payload without properties.
  5. Request/response: the requester's response topic and correlation data reach the responder,
     whose reply to that topic carries the same correlation data back; and a rule as the responder
     (get_mqtt_property() in the SQL and the republish's templates).
127.0.0.1 and ephemeral ports only; the cloud and every client are stopped at the end."""
import json
import os
import queue
import shutil
import ssl
import sys
import tempfile
import time

import boto3
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import MqttCloud  # noqa: E402

os.environ.setdefault("ZTP", os.path.join(os.environ.get("ZT_BINARY_DIR", "build"), "bin", "ztp"))
failures = []


def check(description, condition, detail=""):
    print(("ok   - " if condition else "FAIL - ") + description + ("" if condition else ": " + str(detail)))
    if not condition:
        failures.append(description)


class Client:
    """A paho client (MQTT 5 or 3.1.1) whose callbacks feed one queue of (kind, value) events."""

    def __init__(self, cloud, cert, key, client_id, version=mqtt.MQTTv5):
        self.version = version
        if version == mqtt.MQTTv5:
            self.paho = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5)
            self.paho.on_connect = lambda _c, _u, _f, rc, props: self.events.put(("connack", (rc.value, props)))
            # paho 1.6.1 reads a DISCONNECT's reason code only when properties follow it
            # (remaining length > 2); without, rc is None.
            self.paho.on_disconnect = lambda _c, _u, rc, props=None: self.events.put(
                ("disconnect", "closed" if rc is None else getattr(rc, "value", rc)))
        else:
            self.paho = mqtt.Client(client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311)
            self.paho.on_connect = lambda _c, _u, _f, rc: self.events.put(("connack", (rc, None)))
            self.paho.on_disconnect = lambda _c, _u, rc: self.events.put(("disconnect", rc))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.load_verify_locations(os.path.join(cloud.state, "server-ca.crt"))
        context.load_cert_chain(cert, key)
        self.paho.tls_set_context(context)
        self.paho.reconnect_delay_set(min_delay=30, max_delay=30)  # no surprise reconnects
        self.events = queue.Queue()
        self.log = []
        self.paho.on_log = lambda _c, _u, _level, text: self.log.append(text)  # shown on a failure
        self.paho.on_subscribe = lambda _c, _u, mid, granted, *_: self.events.put(("suback", granted))
        self.paho.on_message = lambda _c, _u, msg: self.events.put(("message", msg))
        self.paho.connect("127.0.0.1", cloud.mqtt_port, keepalive=60)
        self.paho.loop_start()
        self.connack = self.expect("connack")

    def expect(self, kind, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got, value = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if got == kind:
                return value
        return None

    def subscribe(self, topic, qos=1):
        self.paho.subscribe(topic, qos)
        return self.expect("suback")

    def messages(self, count, timeout=5.0):
        out = []
        while len(out) < count:
            msg = self.expect("message", timeout)
            if msg is None:
                break
            out.append(msg)
        return out

    def stop(self):
        self.paho.loop_stop()
        try:
            self.paho.disconnect()
        except Exception:
            pass


def publish_properties(**fields):
    props = Properties(PacketTypes.PUBLISH)
    for name, value in fields.items():
        if name == "UserProperty":
            for pair in value:
                props.UserProperty = pair  # paho appends each pair
        else:
            setattr(props, name, value)
    return props


def user_properties(msg):
    return list(getattr(msg.properties, "UserProperty", []) or [])


def main():
    work = tempfile.mkdtemp(prefix="zt-mqtt5-paho-e2e.")
    cloud = MqttCloud(work, os.path.join(work, "state"))
    clients = []

    def connect(client_id, version=mqtt.MQTTv5):
        c = Client(cloud, cert, key, client_id, version)
        clients.append(c)
        return c

    try:
        cloud.start()
        iot = cloud.iot()
        created = iot.create_keys_and_certificate(setAsActive=True)
        cert, key = os.path.join(work, "device.crt"), os.path.join(work, "device.key")
        with open(cert, "w") as f:
            f.write(created["certificatePem"])
        with open(key, "w") as f:
            f.write(created["keyPair"]["PrivateKey"])
        os.chmod(key, 0o600)
        iot.create_policy(policyName="All", policyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}))
        iot.attach_policy(policyName="All", target=created["certificateArn"])
        account = created["certificateArn"].split(":")[4]

        def republish_rule(name, sql, topic, headers):
            iot.create_topic_rule(ruleName=name, topicRulePayload={
                "sql": sql, "awsIotSqlVersion": "2016-03-23",
                "actions": [{"republish": {"topic": topic, "qos": 1, "headers": headers,
                                           "roleArn": "arn:aws:iam::%s:role/republish" % account}}]})

        # 1. CONNACK properties.
        sub5 = connect("sub5")
        rc, props = sub5.connack or (None, None)
        check("MQTT 5 CONNECT accepted (CONNACK 0)", rc == 0, rc)
        check("CONNACK tells the topic alias maximum (AWS: 8)",
              getattr(props, "TopicAliasMaximum", None) == 8, props)

        # 2. Topic aliases.
        check("subscribe zt5/alias/#", sub5.subscribe("zt5/alias/#") is not None)
        pub5 = connect("pub5")
        pub5.paho.publish("zt5/alias/a", "first", qos=1, properties=publish_properties(TopicAlias=1))
        pub5.paho.publish("", "second", qos=1, properties=publish_properties(TopicAlias=1))
        got = [(m.topic, m.payload.decode()) for m in sub5.messages(2)]
        check("a PUBLISH by topic alias alone arrives on the aliased topic",
              got == [("zt5/alias/a", "first"), ("zt5/alias/a", "second")], got)
        rogue = connect("rogue5")
        rogue.paho.publish("zt5/alias/b", "x", qos=1, properties=publish_properties(TopicAlias=9))
        closed = rogue.expect("disconnect")
        check("a topic alias above the maximum: DISCONNECT 0x94 (Topic Alias invalid)", closed == 0x94,
              (closed, rogue.log[-3:]))
        check("... and the message is not delivered", sub5.messages(1, timeout=0.5) == [])

        # 3. User properties through a rule's republish.
        republish_rule("tag_site", "SELECT *, get_user_properties('site') AS sites FROM 'zt5/in/+'",
                       "zt5/out/${topic(3)}",
                       {"contentType": "application/json",
                        "userProperties": [{"key": "via", "value": "rule-${topic(3)}"}]})
        check("subscribe zt5/out/#", sub5.subscribe("zt5/out/#") is not None)
        sub3 = connect("sub3", mqtt.MQTTv311)
        check("subscribe zt5/out/# (3.1.1)", sub3.subscribe("zt5/out/#") is not None)
        sent = [("site", "north"), ("batch", "7"), ("site", "south")]
        pub5.paho.publish("zt5/in/d1", json.dumps({"t": 21}), qos=1, properties=publish_properties(UserProperty=sent))
        got = sub5.messages(1)
        body = json.loads(got[0].payload) if got else None
        check("the rule saw both values of the repeated name (get_user_properties)",
              body == {"t": 21, "sites": ["north", "south"]}, body)
        check("the republished message keeps the publisher's user properties, then the header's",
              got and user_properties(got[0]) == sent + [("via", "rule-d1")], got and user_properties(got[0]))
        check("the republish header's content type reaches the MQTT 5 subscriber",
              got and getattr(got[0].properties, "ContentType", None) == "application/json")
        got3 = sub3.messages(1)
        check("a 3.1.1 subscriber gets the same republished payload",
              got3 and json.loads(got3[0].payload) == body, got3)
        # The same through boto3's iot-data Publish (userProperties: a JSON string, as AWS documents).
        data = boto3.session.Session().client("iot-data", endpoint_url=cloud.url)
        data.publish(topic="zt5/in/http", qos=1, payload=b'{"t": 5}',
                     userProperties=json.dumps([{"site": "east"}]))
        got = sub5.messages(1)
        check("an HTTP Publish's user properties reach the rule and the republished message",
              got and json.loads(got[0].payload) == {"t": 5, "sites": ["east"]} and
              user_properties(got[0]) == [("site", "east"), ("via", "rule-http")],
              got and (got[0].payload, user_properties(got[0])))
        sub3.messages(1)

        # 4. 3.1.1 and 5 on the same topics at once.
        check("both subscribe zt5/mixed", sub5.subscribe("zt5/mixed") is not None and
              sub3.subscribe("zt5/mixed") is not None)
        pub3 = connect("pub3", mqtt.MQTTv311)
        pub3.paho.publish("zt5/mixed", "from-3.1.1", qos=1)
        pub5.paho.publish("zt5/mixed", "from-5", qos=1, properties=publish_properties(UserProperty=[("k", "v")]))
        got5 = sorted((m.payload.decode(), tuple(user_properties(m))) for m in sub5.messages(2))
        got3 = sorted(m.payload.decode() for m in sub3.messages(2))
        check("the MQTT 5 subscriber gets both, the v5 one with its user property",
              got5 == [("from-3.1.1", ()), ("from-5", (("k", "v"),))], got5)
        check("the 3.1.1 subscriber gets both", got3 == ["from-3.1.1", "from-5"], got3)

        # 5. Request/response.
        responder = connect("responder5")
        check("responder subscribes zt5/requests", responder.subscribe("zt5/requests") is not None)
        check("requester subscribes its response topic", pub5.subscribe("zt5/replies/pub5") is not None)
        pub5.paho.publish("zt5/requests", "ping", qos=1, properties=publish_properties(
            ResponseTopic="zt5/replies/pub5", CorrelationData=b"\x00req-42\xff"))
        request = responder.messages(1)
        response_topic = getattr(request[0].properties, "ResponseTopic", None) if request else None
        correlation = getattr(request[0].properties, "CorrelationData", None) if request else None
        check("the responder gets the response topic and the (binary) correlation data",
              (response_topic, correlation) == ("zt5/replies/pub5", b"\x00req-42\xff"), (response_topic, correlation))
        if response_topic:
            responder.paho.publish(response_topic, "pong", qos=1,
                                   properties=publish_properties(CorrelationData=correlation))
        reply = pub5.messages(1)
        check("the reply reaches the requester with its correlation data",
              reply and (reply[0].payload, getattr(reply[0].properties, "CorrelationData", None)) ==
              (b"pong", b"\x00req-42\xff"), reply)
        # A rule as the responder: get_mqtt_property() reads the request's response topic and
        # correlation data, the republish answers there with the same correlation data.
        republish_rule("echo", "SELECT get_mqtt_property('content_type') AS asked_as FROM 'zt5/rpc'",
                       "${get_mqtt_property('response_topic')}",
                       {"correlationData": "${get_mqtt_property('correlation_data')}"})
        pub5.paho.publish("zt5/rpc", "{}", qos=1, properties=publish_properties(
            ResponseTopic="zt5/replies/pub5", CorrelationData=b"\x01rule", ContentType="text/x-request"))
        reply = pub5.messages(1)
        check("a rule answers on the request's response topic with its correlation data (get_mqtt_property)",
              reply and (json.loads(reply[0].payload), getattr(reply[0].properties, "CorrelationData", None)) ==
              ({"asked_as": "text/x-request"}, b"\x01rule"), reply and (reply[0].payload, reply[0].properties))
    finally:
        for c in clients:
            c.stop()
        cloud.stop()
        if failures:
            print("cloud log:\n" + open(cloud.log_path).read()[-3000:] if getattr(cloud, "log_path", None) else "")
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("PASS mqtt5_paho_test")


if __name__ == "__main__":
    main()
