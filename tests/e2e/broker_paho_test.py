"""The broker against a paho-mqtt (Debian python3-paho-mqtt 1.6) subscriber over mutual TLS: SUBACK
codes (AWS limit of 8 filters per SUBSCRIBE), QoS 1 delivery with PUBACK, and AWS's topic-matching
deviations seen from a real client: `a/#` does not match `a`, `#` does not receive `$aws/...`; and the
rate quotas of reference/aws-iot.md §6.3: 1 CONNECT per second per client id, 100 publishes per second
per connection."""
import os
import queue
import ssl
import sys
import time

import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.dirname(__file__))
from broker_common import check, expect, main  # noqa: E402


def client(pki, client_id):
    c = mqtt.Client(client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311)
    c.tls_set(ca_certs=f"{pki}/root.crt", certfile=f"{pki}/device.crt", keyfile=f"{pki}/device.key",
              tls_version=ssl.PROTOCOL_TLS_CLIENT)
    events = queue.Queue()
    c.on_connect = lambda _c, _u, _f, rc: events.put(("connack", rc))
    c.on_subscribe = lambda _c, _u, mid, granted: events.put(("suback", list(granted)))
    c.on_message = lambda _c, _u, msg: events.put(("message", (msg.topic, msg.payload.decode(), msg.qos)))
    c.on_disconnect = lambda _c, _u, rc: events.put(("disconnect", rc))
    return c, events


def drain_messages(events, wait=0.5):
    time.sleep(wait)
    messages = []
    while not events.empty():
        kind, value = events.get_nowait()
        if kind == "message":
            messages.append(value)
    return messages


def run(pki, port, clients):
    sub, sub_events = client(pki, "paho-sub")
    clients.append(sub)
    sub.connect("127.0.0.1", port, keepalive=30)
    sub.loop_start()
    check("paho connects (CONNACK 0)", expect(sub_events, "connack") == 0)
    sub.subscribe([("zt/paho/#", 1), ("#", 0)])
    check("SUBACK grants QoS 1 and 0", expect(sub_events, "suback") == [1, 0])
    nine = [(f"zt/many/{i}", 0) for i in range(9)]
    sub.subscribe(nine)
    check("9th filter of one SUBSCRIBE refused (AWS limit 8)", expect(sub_events, "suback") == [0] * 8 + [128])

    pub, pub_events = client(pki, "paho-pub")
    clients.append(pub)
    pub.connect("127.0.0.1", port, keepalive=30)
    pub.loop_start()
    expect(pub_events, "connack")
    pub.publish("zt/paho", "parent", qos=1).wait_for_publish()
    pub.publish("zt/paho/a", "child", qos=1).wait_for_publish()
    pub.publish("$aws/things/t1/shadow/update", "{}", qos=0).wait_for_publish()
    messages = drain_messages(sub_events)
    check("QoS 1 delivered at QoS 1 through zt/paho/#", ("zt/paho/a", "child", 1) in messages)
    check("zt/paho/# does not match zt/paho (AWS), only # delivers it",
          [m for m in messages if m[0] == "zt/paho"] == [("zt/paho", "parent", 0)])
    check("# does not receive $aws/... topics", not [m for m in messages if m[0].startswith("$aws")])

    # 100 publishes per second per connection; the excess is discarded. 300 QoS 0 messages in one
    # burst from a fresh connection span at most two one-second windows: 100..200 get through.
    flooder, flooder_events = client(pki, "paho-flood")
    clients.append(flooder)
    flooder.connect("127.0.0.1", port, keepalive=30)
    flooder.loop_start()
    expect(flooder_events, "connack")
    for i in range(300):
        flooder.publish("zt/flood", str(i), qos=0)
    flood = [m for m in drain_messages(sub_events, 1.5) if m[0] == "zt/flood"]
    check(f"a burst of 300 publishes is cut to the quota of 100/s ({len(flood)} delivered)",
          100 <= len(flood) <= 200)
    check("the quota keeps the first messages", [m[1] for m in flood[:100]] == [str(i) for i in range(100)])

    # 1 CONNECT per second per client id: a second CONNECT right after the first is hung up on
    # without CONNACK and takes nothing over; paho's automatic reconnect a second later gets in.
    first, first_events = client(pki, "paho-twice")
    clients.append(first)
    first.connect("127.0.0.1", port, keepalive=30)
    first.loop_start()
    check("first CONNECT of paho-twice accepted", expect(first_events, "connack") == 0)
    second, second_events = client(pki, "paho-twice")
    clients.append(second)
    second.reconnect_delay_set(min_delay=1, max_delay=1)
    second.connect("127.0.0.1", port, keepalive=30)
    second.loop_start()
    try:
        kind, _ = second_events.get(timeout=5.0)
    except queue.Empty:
        kind = None
    check("a second CONNECT within 1 s is closed without CONNACK", kind == "disconnect")
    check("the throttled CONNECT did not take the first connection over", first_events.empty())
    check("after a second the same client id connects (CONNACK 0)", expect(second_events, "connack") == 0)
    check("... and takes the first connection over", expect(first_events, "disconnect") is not None)

    bad, bad_events = client(pki, "paho-qos2")
    clients.append(bad)
    bad.connect("127.0.0.1", port, keepalive=30)
    bad.loop_start()
    expect(bad_events, "connack")
    bad.subscribe("zt/x", 2)
    check("SUBSCRIBE with QoS 2 closes the connection (AWS)", expect(bad_events, "disconnect") is not None)


if __name__ == "__main__":
    main(run)
