"""Issue 12, the broker and functions as an attacker uses them, against the real `ztp cloud run` with
real clients (paho, raw TLS sockets from Python's ssl module, boto3): each attack is refused and the
cloud keeps answering; writes made before and after the attacks survive kill -9 and a restart on
the same ports.

  1. Reserved topics: a device and an iot:* client publishing to .../shadow/update/documents,
     .../accepted, $aws/events/... (PUBLISH, will, RETAIN) are disconnected / refused at CONNECT,
     and subscribers receive nothing forged.
  2. A REVOKED certificate whose registration event is forged (will through Basic Ingest, Basic
     Ingest PUBLISH) stays REVOKED and cannot connect.
  3. A PENDING_ACTIVATION certificate's handshake flood (300 handshakes) emits about one
     registration event per second, keeps the device timeline and the function queue bounded,
     and another rule's function still runs.
  4. A SUBSCRIBE refused for a QoS 2 filter leaves a persistent session without the filters before
     it.
  5. A PINGREQ flood from a client that never reads leaves the broker's RSS bounded.
  6. A function that closes stdout/stderr and sleeps is killed at its (2 s) timeout.
  7. A function child left running (setsid) holds none of the cloud's sockets: the cloud restarts
     on the same ports.
Bounded loops, 127.0.0.1 only, everything started is stopped."""
import concurrent.futures
import json
import os
import queue
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import MqttCloud, wait_until  # noqa: E402

ZTP = os.environ.get("ZTP", os.path.join(os.environ.get("ZT_BINARY_DIR", "build"), "bin", "ztp"))
JITR_RULE = "ZeroTouchJustInTimeRegistration"
failures = []


def check(description, condition, detail=""):
    print(("ok   - " if condition else "FAIL - ") + description + ("" if condition else ": " + str(detail)))
    if not condition:
        failures.append(description)


def run(*args, **kwargs):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kwargs).stdout


# --- raw MQTT 3.1.1 over TLS -------------------------------------------------------------------------
def mqtt_string(text):
    data = text.encode() if isinstance(text, str) else text
    return len(data).to_bytes(2, "big") + data


def remaining_length(n):
    out = bytearray()
    while True:
        digit, n = n % 128, n // 128
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def connect_packet(client_id, clean=True, will=None, keepalive=60):
    flags = 0x02 if clean else 0
    payload = mqtt_string(client_id)
    if will:
        topic, message, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += mqtt_string(topic) + mqtt_string(message)
    variable = mqtt_string("MQTT") + bytes([4, flags]) + keepalive.to_bytes(2, "big")
    return b"\x10" + remaining_length(len(variable) + len(payload)) + variable + payload


def publish_packet(topic, payload, qos=0, retain=False, packet_id=1):
    body = mqtt_string(topic) + (packet_id.to_bytes(2, "big") if qos else b"") + payload.encode()
    return bytes([0x30 | (qos << 1) | (1 if retain else 0)]) + remaining_length(len(body)) + body


def subscribe_packet(packet_id, filters):
    body = packet_id.to_bytes(2, "big") + b"".join(mqtt_string(f) + bytes([q]) for f, q in filters)
    return b"\x82" + remaining_length(len(body)) + body


class Identity:
    def __init__(self, cert, key, client_id):
        self.cert, self.key, self.client_id = cert, key, client_id


class Raw:
    """A TLS connection with a client certificate; the server is verified against the cloud's CA."""

    def __init__(self, cloud, identity, timeout=5.0):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.load_verify_locations(os.path.join(cloud.state, "server-ca.crt"))
        context.load_cert_chain(identity.cert, identity.key)
        sock = socket.create_connection(("127.0.0.1", cloud.mqtt_port), timeout=timeout)
        self.sock = context.wrap_socket(sock)  # IP literal: no SNI, as the cloud allows
        self.sock.settimeout(timeout)

    def send(self, data):
        self.sock.sendall(data)

    def read_packet(self):
        """The next packet's first byte, or None when the server closed the connection (or on a
        timeout: 'timeout')."""
        try:
            first = self.sock.recv(1)
            if not first:
                return None
            length, shift = 0, 0
            while True:
                byte = self.sock.recv(1)
                if not byte:
                    return None
                length |= (byte[0] & 0x7F) << shift
                shift += 7
                if not byte[0] & 0x80:
                    break
            body = b""
            while len(body) < length:
                chunk = self.sock.recv(length - len(body))
                if not chunk:
                    return None
                body += chunk
            return first[0], body
        except socket.timeout:
            return "timeout"
        except (ConnectionError, ssl.SSLError, OSError):
            return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def connect_raw(cloud, identity, **kwargs):
    """(Raw, CONNACK packet or None if the server hung up)."""
    raw = Raw(cloud, identity)
    raw.send(connect_packet(identity.client_id, **kwargs))
    packet = raw.read_packet()
    return raw, (packet if isinstance(packet, tuple) and packet[0] == 0x20 else None)


def closed_after(raw, data):
    """Sends `data`; True when the server then closes the connection (within 5 s)."""
    try:
        raw.send(data)
    except OSError:
        return True
    while True:
        packet = raw.read_packet()
        if packet is None:
            return True
        if packet == "timeout":
            return False


# --- paho subscribers --------------------------------------------------------------------------------
def subscriber(cloud, identity, topics):
    c = mqtt.Client(client_id=identity.client_id, clean_session=True, protocol=mqtt.MQTTv311)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.load_verify_locations(os.path.join(cloud.state, "server-ca.crt"))
    context.load_cert_chain(identity.cert, identity.key)
    c.tls_set_context(context)
    messages = queue.Queue()
    subscribed = threading.Event()
    c.on_connect = lambda client, _u, _f, rc: client.subscribe([(t, 1) for t in topics]) if rc == 0 else None
    c.on_subscribe = lambda *_: subscribed.set()
    c.on_message = lambda _c, _u, msg: messages.put((msg.topic, msg.payload.decode(errors="replace")))
    c.connect("127.0.0.1", cloud.mqtt_port, keepalive=60)
    c.loop_start()
    if not subscribed.wait(10):
        raise RuntimeError("subscriber %s: no SUBACK" % identity.client_id)
    return c, messages


def drain(messages, wait=1.0):
    time.sleep(wait)
    out = []
    while not messages.empty():
        out.append(messages.get_nowait())
    return out


# --- the PKI: factory CA (JITR) and devices ----------------------------------------------------------
def device(work, name):
    key, csr, crt, chain = (os.path.join(work, name + ext) for ext in (".key", ".csr", ".crt", "-chain.crt"))
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    run("openssl", "req", "-new", "-key", key, "-subj", "/O=Abuse Inc/CN=" + name, "-out", csr)
    run(ZTP, "ca", "issue-device", "--dir", os.path.join(work, "pki"), "--csr", csr, "--out", crt)
    with open(chain, "w") as out:
        out.write(open(crt).read() + open(os.path.join(work, "pki", "signer-ca.crt")).read())
    cert_id = subprocess.run(["sh", "-c", "openssl x509 -in '%s' -outform DER | sha256sum" % crt],
                             check=True, capture_output=True, text=True).stdout.split()[0]
    ski = run("openssl", "x509", "-in", crt, "-noout", "-ext", "subjectKeyIdentifier").splitlines()[-1]
    thing = ski.strip().replace(":", "").lower()
    return Identity(chain, key, thing), cert_id


def status_of(iot, cert_id):
    return iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"]


def function_log(state, limit=500):
    out = run(ZTP, "cloud", "function", "log", "--state-dir", state, "--limit", str(limit))
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def add_function(state, name, command, timeout=None):
    args = [ZTP, "cloud", "function", "add", name, "--exec", command, "--state-dir", state]
    if timeout:
        args += ["--timeout", str(timeout)]
    run(*args)


def add_lambda_rule(iot, account, rule, topic_filter, function):
    arn = "arn:aws:lambda:us-east-1:%s:function:%s" % (account, function)
    iot.create_topic_rule(ruleName=rule, topicRulePayload={
        "sql": "SELECT * FROM '%s'" % topic_filter, "ruleDisabled": False, "awsIotSqlVersion": "2016-03-23",
        "actions": [{"lambda": {"functionArn": arn}}]})


def registration_event(cert_id, ca_id, account):
    return json.dumps({"certificateId": cert_id, "caCertificateId": ca_id, "timestamp": int(time.time() * 1000),
                       "certificateStatus": "PENDING_ACTIVATION", "awsAccountId": account,
                       "certificateRegistrationTimestamp": "1", "sourceIp": "127.0.0.1"})


def jitr_connect(cloud, identity):
    """A device's first connect: TLS, CONNECT, and the hang-up of JITR."""
    raw = Raw(cloud, identity)
    raw.send(connect_packet(identity.client_id))
    packet = raw.read_packet()
    raw.close()
    return packet


def main():
    work = tempfile.mkdtemp(prefix="zt-abuse-broker-e2e.")
    state = os.path.join(work, "state")
    cloud = MqttCloud(work, state)
    clients, orphans = [], []
    try:
        cloud.start()
        iot = cloud.iot()
        # The account id is in the ARNs the API returns.
        admin = iot.create_keys_and_certificate(setAsActive=True)
        account = admin["certificateArn"].split(":")[4]
        for name, text in (("admin.crt", admin["certificatePem"]), ("admin.key", admin["keyPair"]["PrivateKey"])):
            with open(os.path.join(work, name), "w") as f:
                f.write(text)
        os.chmod(os.path.join(work, "admin.key"), 0o600)
        iot.create_policy(policyName="AdminAll", policyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}))
        iot.attach_policy(policyName="AdminAll", target=admin["certificateArn"])

        def admin_as(client_id):
            return Identity(os.path.join(work, "admin.crt"), os.path.join(work, "admin.key"), client_id)

        iot.create_thing(thingName="before-attack")

        os.makedirs(os.path.join(work, "pki"))
        for step in ("create-root", "create-signer-csr", "create-signer"):
            run(ZTP, "ca", step, "--dir", os.path.join(work, "pki"))
        run(ZTP, "ca", "register", "--dir", os.path.join(work, "pki"), "--endpoint-url", "http://127.0.0.1:%d" % cloud.http_port)
        ca_id = subprocess.run(["sh", "-c", "openssl x509 -in '%s' -outform DER | sha256sum" %
                                os.path.join(work, "pki", "signer-ca.crt")],
                               check=True, capture_output=True, text=True).stdout.split()[0]
        run(ZTP, "cloud", "setup-jitr", "--state-dir", state)

        # Devices A (stays ACTIVE) and B (revoked later) registered by the built-in JITR function.
        device_a, id_a = device(work, "dev-a")
        device_b, id_b = device(work, "dev-b")
        for identity, cert_id in ((device_a, id_a), (device_b, id_b)):
            check("first connect of %s is refused without CONNACK (JITR)" % identity.client_id[:8],
                  jitr_connect(cloud, identity) is None)
            check("JITR activates %s" % identity.client_id[:8],
                  wait_until(lambda: status_of(iot, cert_id) == "ACTIVE", 20), status_of(iot, cert_id))

        watcher, seen = subscriber(cloud, admin_as("watcher"), [
            "$aws/things/%s/shadow/update/documents" % device_a.client_id,
            "$aws/things/%s/shadow/update/accepted" % device_a.client_id,
            "$aws/things/%s/shadow/update" % device_a.client_id,
            "$aws/events/presence/connected/+", "$aws/events/certificates/registered/+"])
        clients.append(watcher)

        # --- 1. reserved topics -----------------------------------------------------------------
        time.sleep(1.1)  # 1 CONNECT per second per client id
        raw, connack = connect_raw(cloud, device_a)
        check("device A connects", connack is not None)
        forged = '{"current":1,"forged":true}'
        check("device A publishing to its own .../shadow/update/documents is disconnected",
              closed_after(raw, publish_packet("$aws/things/%s/shadow/update/documents" % device_a.client_id, forged, 1)))
        raw.close()
        attacks = [
            ("PUBLISH to .../shadow/update/accepted", {}, publish_packet(
                "$aws/things/%s/shadow/update/accepted" % device_a.client_id, forged, 1)),
            ("PUBLISH to $aws/events/presence/connected/...", {}, publish_packet(
                "$aws/events/presence/connected/" + device_a.client_id, forged, 0)),
            ("PUBLISH to $aws/events/certificates/registered/<ca>", {}, publish_packet(
                "$aws/events/certificates/registered/" + ca_id, registration_event(id_a, ca_id, account), 1)),
            ("retained PUBLISH to .../shadow/update", {}, publish_packet(
                "$aws/things/%s/shadow/update" % device_a.client_id, forged, 1, retain=True)),
        ]
        for n, (what, _, packet) in enumerate(attacks):
            raw, connack = connect_raw(cloud, admin_as("attacker-%d" % n))
            check("iot:* client connects (%s)" % what, connack is not None)
            check("iot:* client: %s is disconnected" % what, closed_after(raw, packet))
            raw.close()
        wills = [
            ("will to .../shadow/update/documents", ("$aws/things/%s/shadow/update/documents" % device_a.client_id, forged, 1, False)),
            ("will to $aws/events/certificates/registered/<ca>",
             ("$aws/events/certificates/registered/" + ca_id, registration_event(id_a, ca_id, account), 0, False)),
            ("retained will to .../shadow/update", ("$aws/things/%s/shadow/update" % device_a.client_id, forged, 1, True)),
        ]
        for n, (what, will) in enumerate(wills):
            raw, connack = connect_raw(cloud, admin_as("will-attacker-%d" % n), will=will)
            check("CONNECT with a %s is refused without CONNACK" % what, connack is None)
            raw.close()
        got = [m for m in drain(seen, 1.5) if "forged" in m[1] or "certificates/registered" in m[0]]
        check("subscribers received nothing forged", not got, got)
        check("the cloud is still running after the reserved-topic attacks", cloud.proc.poll() is None)

        # --- 2. a REVOKED certificate and forged registration events ---------------------------------
        iot.update_certificate(certificateId=id_b, newStatus="REVOKED")
        forged_b = registration_event(id_b, ca_id, account)
        ingest = "$aws/rules/%s/$aws/events/certificates/registered/%s" % (JITR_RULE, ca_id)
        raw, connack = connect_raw(cloud, admin_as("forger-will"), will=(ingest, forged_b, 0, False))
        check("a will to Basic Ingest is accepted at CONNECT (clients may publish there)", connack is not None)
        raw.close()  # no DISCONNECT: the will is published
        raw, connack = connect_raw(cloud, admin_as("forger-ingest"))
        raw.send(publish_packet(ingest, forged_b, 1, packet_id=7))
        packet = raw.read_packet()
        check("Basic Ingest PUBLISH of a forged registration event is acknowledged", isinstance(packet, tuple) and packet[0] == 0x40, packet)
        raw.close()

        def refused_jitr_attempts():
            return [a for a in function_log(state) if a["functionName"] == "ZTLambdaJITR" and not a["succeeded"]
                    and "not emitted by the broker" in a["detail"]]
        check("both forged events were refused by the JITR function (logged failures)",
              wait_until(lambda: len(refused_jitr_attempts()) >= 2, 20), function_log(state, 10))
        check("the revoked certificate stays REVOKED", status_of(iot, id_b) == "REVOKED", status_of(iot, id_b))
        time.sleep(1.1)
        raw, connack = connect_raw(cloud, device_b)
        check("the revoked certificate cannot connect", connack is None)
        raw.close()

        # --- 3. a PENDING certificate's handshake flood ----------------------------------------------
        add_function(state, "SlowFn", "cat >/dev/null; sleep 2")
        run(ZTP, "cloud", "setup-jitr", "--state-dir", state, "--function", "SlowFn")  # C stays PENDING
        marker = os.path.join(work, "other-ran")
        add_function(state, "OtherFn", "cat > '%s'" % marker)
        add_lambda_rule(iot, account, "OtherRule", "abuse/other", "OtherFn")
        device_c, id_c = device(work, "dev-c")
        drain(seen, 0.2)
        flood_start = time.monotonic()

        def handshake(_):
            try:
                Raw(cloud, device_c).close()
                return 1
            except OSError:
                return 0
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            handshakes = sum(pool.map(handshake, range(300)))
        flood_seconds = time.monotonic() - flood_start
        check("the certificate is PENDING_ACTIVATION", status_of(iot, id_c) == "PENDING_ACTIVATION")
        raw, connack = connect_raw(cloud, admin_as("other-trigger"))
        raw.send(publish_packet("abuse/other", '{"other":1}', 1))
        raw.read_packet()
        raw.close()
        other_ran = wait_until(lambda: os.path.exists(marker), 30)
        events = [m for m in drain(seen, 1.0) if m[0].startswith("$aws/events/certificates/registered/")
                  and id_c in m[1]]
        bound = int(flood_seconds) + 3
        print("handshake flood: %d handshakes in %.1f s -> %d registration events (load %s)" %
              (handshakes, flood_seconds, len(events), os.getloadavg()[0]))
        check("%d handshakes of a PENDING certificate made at most %d registration events" % (handshakes, bound),
              handshakes >= 250 and 1 <= len(events) <= bound, len(events))
        check("another rule's function still runs during and after the flood", other_ran)
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(state, "registry.db"), uri=True, timeout=10)
        time.sleep(1.5)  # the device-event recorder writes in batches
        rows = db.execute("SELECT COUNT(*) FROM device_events WHERE certificate_id = ?", (id_c,)).fetchone()[0]
        check("device_events for the flooding certificate stay bounded (%d rows)" % rows, rows <= 8 * bound, rows)
        slow = [a for a in function_log(state, 2000) if a["functionName"] == "SlowFn"]
        check("SlowFn invocations stay bounded (%d attempts and drops logged)" % len(slow), len(slow) <= 2 * bound, len(slow))
        db.close()

        # --- 4. SUBSCRIBE with a QoS 2 filter on a persistent session ----------------------------------
        persistent = admin_as("persistent-1")
        raw, connack = connect_raw(cloud, persistent, clean=False)
        check("persistent session connects", connack is not None)
        check("SUBSCRIBE [abuse/q/a QoS 1, abuse/q/b QoS 2] ends the connection",
              closed_after(raw, subscribe_packet(1, [("abuse/q/a", 1), ("abuse/q/b", 2)])))
        raw.close()
        time.sleep(1.1)
        raw, connack = connect_raw(cloud, persistent, clean=False)
        check("persistent session resumes", connack is not None and connack[1][0] == 1, connack)
        publisher, _ = connect_raw(cloud, admin_as("q-publisher"))
        publisher.send(publish_packet("abuse/q/a", "should not arrive", 1))
        publisher.read_packet()
        publisher.close()
        raw.sock.settimeout(1.5)
        packet = raw.read_packet()
        check("the refused SUBSCRIBE applied none of its filters", packet == "timeout", packet)
        raw.close()

        # --- 5. PINGREQ flood from a client that never reads -------------------------------------------
        flooder, connack = connect_raw(cloud, admin_as("pinger"))
        check("flooder connects", connack is not None)
        before = cloud.rss_kib()
        flooder.sock.settimeout(3)
        chunk, sent, limit = b"\xc0\x00" * 32768, 0, 256 << 20
        try:
            while sent < limit:
                flooder.sock.sendall(chunk)
                sent += len(chunk)
        except (socket.timeout, OSError):
            pass
        after = cloud.rss_kib()
        print("PINGREQ flood: %d MiB sent before the broker stopped reading; broker RSS %d -> %d MiB" %
              (sent >> 20, before >> 10, after >> 10))
        check("the broker stopped reading a client that does not read its PINGRESPs", sent < limit, sent)
        check("broker RSS stays bounded under a PINGREQ flood (+%d MiB)" % ((after - before) >> 10),
              after - before < 64 * 1024, (before, after))
        flooder.close()
        check("the cloud is still running after the floods", cloud.proc.poll() is None)

        # --- 6. a function that closes its output and sleeps is killed at its timeout ---------------
        add_function(state, "SleeperFn", "exec >&- 2>&-; sleep 40", timeout=2)
        add_lambda_rule(iot, account, "SleeperRule", "abuse/sleep", "SleeperFn")
        raw, _ = connect_raw(cloud, admin_as("sleep-trigger"))
        raw.send(publish_packet("abuse/sleep", "{}", 1))
        raw.read_packet()
        raw.close()

        def sleeper_timed_out():
            return [a for a in function_log(state, 50) if a["functionName"] == "SleeperFn" and "timed out" in a["detail"]]
        check("a function that closed stdout/stderr is killed at its 2 s timeout",
              wait_until(lambda: sleeper_timed_out(), 30),
              [a for a in function_log(state, 20) if a["functionName"] == "SleeperFn"])

        # --- 7. a leftover function child does not hold the cloud's sockets ---------------------------
        pid_file = os.path.join(work, "orphan.pid")
        add_function(state, "OrphanFn",
                     "cat >/dev/null; setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! > '%s'" % pid_file)
        add_lambda_rule(iot, account, "OrphanRule", "abuse/orphan", "OrphanFn")
        raw, _ = connect_raw(cloud, admin_as("orphan-trigger"))
        raw.send(publish_packet("abuse/orphan", "{}", 1))
        raw.read_packet()
        raw.close()
        check("the function left a child running",
              wait_until(lambda: os.path.exists(pid_file) and open(pid_file).read().strip(), 20))
        orphan = int(open(pid_file).read().strip())
        orphans.append(orphan)
        fds = [os.readlink("/proc/%d/fd/%s" % (orphan, fd)) for fd in os.listdir("/proc/%d/fd" % orphan)]
        check("the leftover child holds no socket of the cloud", not [f for f in fds if f.startswith("socket:")], fds)

        # --- after the attacks: the cloud answers; writes survive kill -9 and a restart -------------
        iot.create_thing(thingName="after-attack")
        http_port, mqtt_port = cloud.http_port, cloud.mqtt_port
        cloud.kill9()
        try:
            cloud.start(http_port, mqtt_port)
            restarted = True
        except RuntimeError as error:
            restarted = False
            print(error)
        check("the cloud restarts on the same ports while a function child is still running", restarted)
        if restarted:
            iot = cloud.iot()
            names = {t["thingName"] for t in iot.list_things()["things"]}
            check("writes made before and after the attacks survive kill -9",
                  {"before-attack", "after-attack"} <= names, names)
            check("the revoked certificate is still REVOKED after the restart", status_of(iot, id_b) == "REVOKED")
            raw, connack = connect_raw(cloud, device_a)
            check("MQTT answers after the restart (device A connects)", connack is not None)
            raw.close()
    finally:
        for client in clients:
            client.loop_stop()
            client.disconnect()
        cloud.stop()
        for pid in orphans:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if failures:
            for path in sorted(os.listdir(work)):
                if path.startswith("cloud-"):
                    print("--- %s (tail)" % path)
                    print(open(os.path.join(work, path)).read()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("PASS abuse_broker_test")


if __name__ == "__main__":
    main()
