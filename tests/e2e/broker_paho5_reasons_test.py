"""The broker's MQTT 5 reason codes as real clients see them, beside a 3.1.1 client (what mosquitto
clients cannot easily show): paho-mqtt 1.6.1's MQTTv5 client gets the CONNACK limits, user properties
and request/response properties across versions, and DISCONNECT 0x94 for an unset topic alias; a raw
TLS client sends malformed property sections (a duplicate property, an unknown identifier) and gets
DISCONNECT 0x82 / 0x81; the broker keeps serving the others throughout."""
import os
import queue
import socket
import ssl
import sys

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, os.path.dirname(__file__))
from broker_common import check, expect, main  # noqa: E402


def client(pki, client_id, protocol=mqtt.MQTTv5):
    c = mqtt.Client(client_id=client_id, protocol=protocol)
    c.tls_set(ca_certs=f"{pki}/root.crt", certfile=f"{pki}/device.crt", keyfile=f"{pki}/device.key",
              tls_version=ssl.PROTOCOL_TLS_CLIENT)
    c.reconnect_delay_set(min_delay=60, max_delay=60)  # one connection per client in this test
    events = queue.Queue()
    if protocol == mqtt.MQTTv5:
        c.on_connect = lambda _c, _u, _f, rc, props=None: events.put(("connack", (rc, props)))
        c.on_disconnect = lambda _c, _u, rc, props=None: events.put(("disconnect", (rc, props)))
    else:
        c.on_connect = lambda _c, _u, _f, rc: events.put(("connack", rc))
        c.on_disconnect = lambda _c, _u, rc: events.put(("disconnect", rc))
    c.on_subscribe = lambda _c, _u, mid, granted, *props: events.put(("suback", granted))
    c.on_message = lambda _c, _u, msg: events.put(("message", msg))
    return c, events


def raw_v5_session(pki, port, client_id):
    """A TLS socket with an MQTT 5 CONNECT sent and its CONNACK read."""
    context = ssl.create_default_context(cafile=f"{pki}/root.crt")
    context.check_hostname = False
    context.load_cert_chain(f"{pki}/device.crt", f"{pki}/device.key")
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5))
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x05\x02\x00\x3c\x00" + len(cid).to_bytes(2, "big") + cid
    sock.sendall(bytes([0x10, len(body)]) + body)
    connack = sock.recv(1024)
    return sock, connack


def read_all(sock):
    data = b""
    try:
        while True:
            chunk = sock.recv(1024)
            if not chunk:
                break
            data += chunk
    except (OSError, ssl.SSLError):
        pass
    return data


def run(pki, port, clients):
    # An MQTT 5 subscriber: the CONNACK tells AWS IoT's limits.
    sub, sub_events = client(pki, "paho5-sub")
    clients.append(sub)
    sub.connect("127.0.0.1", port, keepalive=60)
    sub.loop_start()
    rc, props = expect(sub_events, "connack")
    check("MQTT 5 CONNECT accepted", rc == 0)
    check("CONNACK: Topic Alias Maximum 8", getattr(props, "TopicAliasMaximum", None) == 8)
    check("CONNACK: Maximum QoS 1", getattr(props, "MaximumQoS", None) == 1)
    check("CONNACK: Receive Maximum 100", getattr(props, "ReceiveMaximum", None) == 100)
    check("CONNACK: Subscription Identifier Available 0",
          getattr(props, "SubscriptionIdentifierAvailable", None) == 0)
    check("CONNACK: Shared Subscription Available 1",
          getattr(props, "SharedSubscriptionAvailable", None) == 1)
    sub.subscribe("paho5/#", qos=1)
    check("SUBACK grants QoS 1", expect(sub_events, "suback") is not None)

    # An MQTT 5 publisher with request/response properties and user properties.
    pub, pub_events = client(pki, "paho5-pub")
    clients.append(pub)
    pub.connect("127.0.0.1", port, keepalive=60)
    pub.loop_start()
    expect(pub_events, "connack")
    properties = Properties(PacketTypes.PUBLISH)
    properties.UserProperty = [("device", "kit-1"), ("device", "again")]
    properties.ResponseTopic = "paho5/reply"
    properties.CorrelationData = b"\x00\x01"
    properties.ContentType = "application/json"
    properties.TopicAlias = 1
    pub.publish("paho5/req", b"{}", qos=1, properties=properties).wait_for_publish(5)
    message = expect(sub_events, "message")
    check("v5 → v5 delivered", message is not None and message.topic == "paho5/req")
    got = message.properties if message else None
    check("user properties forwarded in order",
          got is not None and getattr(got, "UserProperty", None) == [("device", "kit-1"), ("device", "again")])
    check("response topic and correlation data forwarded",
          got is not None and got.ResponseTopic == "paho5/reply" and got.CorrelationData == b"\x00\x01")
    check("content type forwarded", got is not None and got.ContentType == "application/json")

    # The alias set above stands for the topic; an alias never set ends the connection with 0x94.
    by_alias = Properties(PacketTypes.PUBLISH)
    by_alias.TopicAlias = 1
    pub.publish("", b"again", qos=1, properties=by_alias).wait_for_publish(5)
    message = expect(sub_events, "message")
    check("topic alias resolved", message is not None and message.topic == "paho5/req")
    unknown = Properties(PacketTypes.PUBLISH)
    unknown.TopicAlias = 7
    pub.publish("", b"lost", qos=0, properties=unknown)
    rc, props = expect(pub_events, "disconnect") or (None, None)
    check("unset topic alias → DISCONNECT 0x94 Topic Alias Invalid",
          rc is not None and getattr(rc, "value", None) == 0x94)

    # A 3.1.1 publisher reaches the MQTT 5 subscriber.
    old, old_events = client(pki, "paho311-pub", protocol=mqtt.MQTTv311)
    clients.append(old)
    old.connect("127.0.0.1", port, keepalive=60)
    old.loop_start()
    expect(old_events, "connack")
    old.publish("paho5/from311", b"hi", qos=1).wait_for_publish(5)
    message = expect(sub_events, "message")
    check("v3.1.1 → v5 delivered", message is not None and message.topic == "paho5/from311")

    # Malformed property sections over the wire.
    cases = [
        ("duplicate Message Expiry Interval", b"\x30\x0e\x00\x01t\x0a\x02\x00\x00\x00\x01\x02\x00\x00\x00\x02",
         0x82),
        ("unknown property identifier", b"\x30\x06\x00\x01t\x02\x7f\x00", 0x81),
        ("property length past the packet", b"\x30\x05\x00\x01t\x09\x01", 0x81),
    ]
    for i, (what, wire, code) in enumerate(cases):
        sock, connack = raw_v5_session(pki, port, f"raw-{i}")
        check(f"raw MQTT 5 CONNACK success ({what})", connack[:4] == b"\x20" + bytes([connack[1]]) + b"\x00\x00")
        sock.sendall(wire)
        reply = read_all(sock)
        sock.close()
        check(f"{what} → DISCONNECT 0x{code:02x}", len(reply) >= 3 and reply[0] == 0xE0 and reply[2] == code)

    # The broker still serves the subscriber.
    old.publish("paho5/after", b"still", qos=1).wait_for_publish(5)
    message = expect(sub_events, "message")
    check("broker keeps serving after the refusals", message is not None and message.topic == "paho5/after")


if __name__ == "__main__":
    main(run)
