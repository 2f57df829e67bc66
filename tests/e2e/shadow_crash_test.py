"""kill -9 of `ztp cloud run` while devices update their shadows over MQTT (mutual TLS): after a restart
every update the devices saw acknowledged (/accepted) is there (issue 19: shadow updates share commits,
group commit, and /accepted leaves only once the update's commit is durable).

Each of 8 device connections updates its own things in turn, reported {"seq": i} with i rising per thing
and QoS 1 (the broker hands a connection's messages to the cloud in order, and the cloud handles a thing's
updates in order), so a thing's stored seq must be at least the highest seq acknowledged for it. Updates
keep flowing when the server is killed; the kill comes once 300 were acknowledged.
127.0.0.1 and ephemeral ports; the cloud is stopped at the end."""
import json
import os
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import ALLOW_ALL, MqttCloud  # noqa: E402

DEVICES = 8
THINGS_PER_DEVICE = 10
KILL_AFTER = 300


def main():
    with MqttCloud.running() as cloud:
        run(cloud)


def run(cloud):
    iot = cloud.iot()
    cert, key = cloud.device_with_policy(cloud.work, ALLOW_ALL)
    things = [["crash-%d-%d" % (d, t) for t in range(THINGS_PER_DEVICE)] for d in range(DEVICES)]
    for names in things:
        for name in names:
            iot.create_thing(thingName=name)

    acked = {}  # thing -> highest acknowledged seq
    lock = threading.Lock()
    killed = threading.Event()
    clients = []
    total_acks = [0]

    def on_message(client, userdata, message):
        thing = message.topic.split("/")[2]
        seq = json.loads(message.payload)["state"]["reported"]["seq"]
        with lock:
            acked[thing] = max(acked.get(thing, -1), seq)
            total_acks[0] += 1
            if total_acks[0] >= KILL_AFTER and not killed.is_set():
                killed.set()
                cloud.kill9()

    for d in range(DEVICES):
        c = cloud.connect_device(cert, key, "crash-device-%d" % d, on_message)
        c.subscribe("$aws/things/+/shadow/update/accepted", qos=1)
        clients.append(c)
    time.sleep(0.5)

    def device(d):
        c = clients[d]
        seq = 0
        while not killed.is_set():
            for name in things[d]:
                # Under AWS's 20 updates/s per thing: 10 things per connection, one round each 0.5 s.
                c.publish("$aws/things/%s/shadow/update" % name,
                          json.dumps({"state": {"reported": {"seq": seq}}}), qos=1)
            seq += 1
            time.sleep(0.5)

    workers = [threading.Thread(target=device, args=(d,)) for d in range(DEVICES)]
    for w in workers:
        w.start()
    killed.wait(60)
    for w in workers:
        w.join()
    for c in clients:
        c.loop_stop()
        try:
            c.disconnect()  # the server is gone: paho may still try to write DISCONNECT
        except OSError:  # ssl.SSLEOFError among them
            pass
    assert killed.is_set(), "server was never killed (%d acks)" % total_acks[0]
    with lock:
        snapshot = dict(acked)
    print("acknowledged before kill -9: %d updates of %d things" % (total_acks[0], len(snapshot)))

    db = sqlite3.connect(os.path.join(cloud.state, "registry.db"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    cloud.start()
    cloud.client()  # points boto3 at the state directory's credentials
    import boto3
    iot_data = boto3.session.Session().client("iot-data", endpoint_url=cloud.url)
    lost = []
    for thing, seq in sorted(snapshot.items()):
        document = json.loads(iot_data.get_thing_shadow(thingName=thing)["payload"].read())
        stored = document["state"]["reported"]["seq"]
        if stored < seq:
            lost.append((thing, seq, stored))
    assert not lost, "acknowledged shadow updates lost after kill -9: %s" % lost[:10]
    print("ok   - every acknowledged shadow update survived kill -9 (%d things)" % len(snapshot))


if __name__ == "__main__":
    main()
