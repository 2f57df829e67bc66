"""One device bursting shadow updates for its thing against a real `ztp cloud run` (MQTT over mutual TLS,
paho): the per-thing quota of 20 shadow requests a second (reference/aws-iot.md §4.5, AWS IoT Device Shadow
service quotas; a token bucket one second deep, src/broker/rate_limit.hpp) admits one second's worth of the
burst and answers the rest at once with 429 "Too Many Requests" on update/rejected, in AWS's error document
`{"code", "message", "timestamp", "clientToken"}` (§4.4, "Device Shadow error messages"). Every request gets
exactly one answer, matched by its clientToken; a refused request writes nothing; the cloud logs the refused
thing once a second, not once per refused request; and once the burst is over an update (retried a second
later on 429, as a device would) is accepted.

The burst is 80 updates: more than four seconds' quota, sent well within a second, and under the broker's
100 publishes a second per connection (§6.3), beyond which a publish would be discarded without an answer.
127.0.0.1 and ephemeral ports; the cloud is stopped at the end."""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import ALLOW_ALL, MqttCloud, wait_until  # noqa: E402

THING = "quota-lamp"
BURST = 80
QUOTA = 20  # shadow requests per second per thing (ShadowStore::kRequestsPerThingPerSecond)
UPDATE = "$aws/things/%s/shadow/update" % THING
REFUSAL_LOG = "shadow %s: more than %d requests/s" % (THING, QUOTA)


def main():
    with MqttCloud.running() as cloud:
        run(cloud)


def run(cloud):
    cert, key = cloud.device_with_policy(cloud.work, ALLOW_ALL)
    lock = threading.Lock()
    answers = {}  # clientToken -> [(accepted?, document), ...]
    subscribed = threading.Event()

    def on_answer(client, userdata, message):
        document = json.loads(message.payload)
        with lock:
            answers.setdefault(document.get("clientToken"), []).append(
                (message.topic.endswith("/accepted"), document))

    device = cloud.connect_device(cert, key, "quota-device", on_answer)
    try:
        device.on_subscribe = lambda *args: subscribed.set()
        device.max_inflight_messages_set(BURST)  # paho holds back QoS 1 publishes beyond 20 by default
        device.subscribe([(UPDATE + "/accepted", 1), (UPDATE + "/rejected", 1)])
        assert subscribed.wait(20), "no SUBACK"
        accepted = check_burst(cloud, device, lock, answers)
        check_alive_after(cloud, device, lock, answers, accepted)
    finally:
        device.loop_stop()
        device.disconnect()
    print("ok   - a burst of shadow updates for one thing gets one second's quota, 429 for the rest, each request "
          "one answer, the refusal logged once a second, and the cloud goes on")


def check_burst(cloud, device, lock, answers):
    tokens = ["burst-%d" % i for i in range(BURST)]
    started = time.monotonic()
    for i, token in enumerate(tokens):
        device.publish(UPDATE, json.dumps({"state": {"reported": {"n": i}}, "clientToken": token}), qos=1)

    def all_answered():
        with lock:
            return all(token in answers for token in tokens)
    assert wait_until(all_answered, 60), "unanswered: %s" % [t for t in tokens if t not in answers]
    elapsed = time.monotonic() - started
    time.sleep(1)  # an answer sent twice would arrive meanwhile
    with open(cloud.log_path) as log:
        refusal_lines = sum(REFUSAL_LOG in line for line in log)

    with lock:
        seen = {token: list(found) for token, found in answers.items()}
    assert set(seen) == set(tokens), "answers for tokens never sent: %s" % (set(seen) - set(tokens))
    twice = {token: found for token, found in seen.items() if len(found) != 1}
    assert not twice, "requests answered more than once: %s" % twice
    accepted = [seen[token][0][1] for token in tokens if seen[token][0][0]]
    rejected = [(token, seen[token][0][1]) for token in tokens if not seen[token][0][0]]
    print("burst of %d in %.2f s: %d accepted, %d rejected; %d refusal log line(s)"
          % (BURST, elapsed, len(accepted), len(rejected), refusal_lines))

    # One second's quota at least (the bucket starts full and refills during the burst), and not all.
    assert len(accepted) >= QUOTA, "only %d of the burst accepted" % len(accepted)
    assert rejected, "a burst of %d updates in %.2f s was never throttled" % (BURST, elapsed)
    for token, document in rejected:
        # Device Shadow error messages (aws-iot.md §4.4): code, message, timestamp, the request's clientToken.
        assert set(document) == {"code", "message", "timestamp", "clientToken"}, document
        assert document["code"] == 429 and document["message"] == "Too Many Requests", document
        assert isinstance(document["timestamp"], int) and document["clientToken"] == token, document
    # A refused update wrote nothing: the accepted ones took the versions 1, 2, … in turn.
    assert sorted(d["version"] for d in accepted) == list(range(1, len(accepted) + 1)), accepted

    # Logged once a second per refused thing (RateWindow/KeyedRateLimit's log_refusal), not per refusal: no
    # more lines than seconds the burst's refusals can have spanned, plus the first.
    assert refusal_lines >= 1, "the refusals were never logged"
    assert refusal_lines <= int(elapsed) + 1, "%d refusal lines for %d refusals in %.2f s" % (
        refusal_lines, len(rejected), elapsed)
    return len(accepted)


# `burst_accepted`: updates of the burst accepted, so the shadow's version before this one.
def check_alive_after(cloud, device, lock, answers, burst_accepted):
    assert cloud.proc.poll() is None, "the cloud died under the burst"

    def answer(token):
        with lock:
            return answers.get(token, [None])[0]
    # The burst is over: a device retries a 429 a second later (the bucket refills at 20/s).
    final = None
    for attempt in range(20):
        token = "after-%d" % attempt
        device.publish(UPDATE, json.dumps({"state": {"reported": {"n": "after"}}, "clientToken": token}), qos=1)
        assert wait_until(lambda: answer(token) is not None, 20), "no answer to %s" % token
        found = answer(token)
        if found[0]:
            final = found[1]
            break
        assert found[1]["code"] == 429, found
        time.sleep(1)
    assert final is not None, "no update accepted after the burst"
    assert final["version"] == burst_accepted + 1, final

    cloud.client()  # points boto3 at the state directory's credentials
    import boto3
    iot_data = boto3.session.Session().client("iot-data", endpoint_url=cloud.url)
    document = json.loads(iot_data.get_thing_shadow(thingName=THING)["payload"].read())
    assert document["state"]["reported"]["n"] == "after", document
    assert document["version"] == final["version"], document


if __name__ == "__main__":
    main()
