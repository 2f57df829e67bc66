"""Device side of the shadow check in cloud_jitr_test.sh (Debian's python3-paho-mqtt).

Connects as the thing over mutual TLS, subscribes to its shadow topics, then asks the real AWS CLI
(`aws iot-data update-thing-shadow`) to change `desired`; the delta must reach this client. It then
reports the value over MQTT and prints what it saw as one JSON line. Every wait is bounded.
usage: shadow_device.py HOST PORT CAFILE CERT KEY THING AWS_ENDPOINT_URL
"""
import json
import queue
import subprocess
import sys

import paho.mqtt.client as mqtt

host, port, cafile, cert, key, thing, endpoint = sys.argv[1:8]
prefix = f"$aws/things/{thing}/shadow"
messages = queue.Queue()
subscribed = queue.Queue()

try:  # paho 2.x needs the callback API version; 1.x has no such argument
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=thing)
except AttributeError:
    client = mqtt.Client(client_id=thing)
client.tls_set(ca_certs=cafile, certfile=cert, keyfile=key)
client.on_message = lambda c, u, m: messages.put((m.topic, json.loads(m.payload)))
client.on_subscribe = lambda c, u, mid, granted: subscribed.put(granted)
client.connect(host, int(port), keepalive=60)
client.loop_start()


def wait_for(topic, timeout=15):
    while True:
        got_topic, payload = messages.get(timeout=timeout)
        if got_topic == topic:
            return payload


client.subscribe([(prefix + "/update/delta", 1), (prefix + "/update/accepted", 1), (prefix + "/get/accepted", 1)])
granted = subscribed.get(timeout=15)
if any(code == 128 for code in granted):
    sys.exit(f"subscription refused: {granted}")

subprocess.run(["/usr/bin/aws", "iot-data", "update-thing-shadow", "--endpoint-url", endpoint, "--thing-name", thing,
                "--cli-binary-format", "raw-in-base64-out", "--payload",
                json.dumps({"state": {"desired": {"color": "red", "interval": 30}}}), "/dev/null"], check=True,
               stdout=subprocess.DEVNULL)
delta = wait_for(prefix + "/update/delta")
client.publish(prefix + "/update", json.dumps({"state": {"reported": {"color": "red"}}, "clientToken": "dev-1"}), qos=1)
accepted = wait_for(prefix + "/update/accepted")
while accepted.get("clientToken") != "dev-1":  # the CLI's own update was accepted first
    accepted = wait_for(prefix + "/update/accepted")
client.publish(prefix + "/get", "", qos=1)
document = wait_for(prefix + "/get/accepted")
client.loop_stop()
client.disconnect()
print(json.dumps({"delta": delta, "accepted": accepted, "get": document}))
