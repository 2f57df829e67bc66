"""Slow, silent clients cannot take the cloud down (issue 12, item 4), and secrets and state stay
private (item 8).

`ztp cloud run` (API + MQTT) under a 1,024-descriptor soft limit — once with the hard limit above it
(ztp raises its soft limit at start) and once with the hard limit at 1,024 too, so the connection
caps must hold on their own. 1,100 half-open HTTP connections from 127.0.0.1 (a few bytes of a
request line, then nothing). Then:
  - the API answers a SigV4-signed request (boto3) while they are held;
  - a device with a valid certificate connects over MQTT and publishes (mosquitto_pub);
  - the cloud's log did not flood (the unfixed cloud wrote 1.48 million lines in 35 s);
  - every half-open connection is closed by the server (header timeout, or evicted for newer ones);
  - a write made before the attack and one made after both survive kill -9 and a restart.
Then an emulated kit with a WPA2 access point and `ztp kit set-wifi`: the Wi-Fi password is in no
started process's /proc/<pid>/cmdline; the kit and cloud state directories are 0700, their
logs 0600 (a kit directory left 0755 by an older ztp is tightened).
Loopback only, bounded waits, every process stopped."""
import os
import re
import resource
import select
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import Cloud  # noqa: E402

ZTP = os.environ["ZTP"]
HALF_OPEN = 1100
HEADER_TIMEOUT = 3  # seconds; the default is 10
LOG_LINE_BOUND = 200  # generous: the refusals are logged at most once a second
WIFI_PASSWORD = "abuse-test-psk-7d1f"

checks = 0


def check(condition, description):
    global checks
    if not condition:
        raise AssertionError(description)
    checks += 1
    print("ok   - " + description, flush=True)


def wait_until(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("timed out after %d s: %s" % (seconds, what))


class CloudProcess(Cloud):
    """cloud_common.Cloud (client, kill9, stop) started with MQTT, limits and a descriptor limit."""

    def __init__(self, state, work, soft, hard, tag, extra=()):
        super().__init__(state)
        self.state, self.work, self.soft, self.hard, self.tag = state, work, soft, hard, tag
        self.extra = list(extra)

    def start(self):
        self.out = os.path.join(self.work, "cloud-%s.out" % self.tag)
        self.err = os.path.join(self.work, "cloud-%s.err" % self.tag)
        soft, hard = self.soft, self.hard

        def limit_descriptors():
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [ZTP, "cloud", "run", "--state-dir", self.state, "--http", "127.0.0.1:0",
                 "--mqtt", "127.0.0.1:0", "--http-header-timeout", str(HEADER_TIMEOUT)]
                + self.extra,
                stdout=out, stderr=err, preexec_fn=limit_descriptors)
        text = wait_until(lambda: self._ready(), 30, "cloud start (%s)" % self.tag)
        self.http_port = int(re.search(r"listening http=127\.0\.0\.1:(\d+)", text).group(1))
        self.port = self.http_port
        self.mqtt_port = int(re.search(r"listening mqtts=127\.0\.0\.1:(\d+)", text).group(1))
        self.limits = re.search(r"^limits .*$", text, re.M).group(0)
        print("cloud (%s): %s" % (self.tag, self.limits), flush=True)
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("ztp cloud run exited: " + open(self.err).read()[-2000:])
        text = open(self.out).read()
        return text if "console http" in text else None

    def log_lines(self):
        with open(self.err, errors="replace") as f:
            return sum(1 for _ in f)

    def client(self):
        os.environ.pop("AWS_ENDPOINT_URL", None)
        return super().client(retries={"max_attempts": 5, "mode": "standard"},
                              connect_timeout=5, read_timeout=20)


def open_half_open(port, count):
    """Connections that send the start of a request line and then nothing."""
    sockets = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            s.send(b"GET /thi")
        except OSError:
            pass  # already closed to make room for a newer one: still counts as an attempt
        s.setblocking(False)
        sockets.append(s)
    return sockets


def closed_by_server(s):
    try:
        return s.recv(1024) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset


def wait_all_closed(sockets, seconds):
    open_ones = {s.fileno(): s for s in sockets}
    poller = select.poll()
    for fd in open_ones:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    deadline = time.monotonic() + seconds
    while open_ones and time.monotonic() < deadline:
        for fd, _ in poller.poll(200):
            if fd in open_ones and closed_by_server(open_ones[fd]):
                poller.unregister(fd)
                del open_ones[fd]
    return len(open_ones)


def mqtt_device(cloud, iot, work, tag):
    """A certificate from the cloud with an allow-all policy; its path prefix."""
    keys = iot.create_keys_and_certificate(setAsActive=True)
    prefix = os.path.join(work, "device-" + tag)
    for suffix, text in ((".crt", keys["certificatePem"]), (".key", keys["keyPair"]["PrivateKey"])):
        fd = os.open(prefix + suffix, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    name = "AbuseAll" + tag
    iot.create_policy(policyName=name, policyDocument='{"Version":"2012-10-17","Statement":'
                      '[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}')
    iot.attach_policy(policyName=name, target=keys["certificateArn"])
    return prefix


def mqtt_publish(cloud, prefix, client_id):
    result = subprocess.run(
        ["timeout", "20", "mosquitto_pub", "-h", "localhost", "-p", str(cloud.mqtt_port),
         "--cafile", os.path.join(cloud.state, "server-ca.crt"), "--cert", prefix + ".crt",
         "--key", prefix + ".key", "-i", client_id, "-t", "abuse/" + client_id, "-m", "hello",
         "-q", "1"], capture_output=True, text=True)
    return result.returncode == 0, result.stderr


def attack_round(work, soft, hard, tag):
    state = os.path.join(work, "state-" + tag)
    cloud = CloudProcess(state, work, soft, hard, tag).start()
    try:
        iot = cloud.client()
        iot.create_thing(thingName="before-" + tag)
        device = mqtt_device(cloud, iot, work, tag)
        lines_before = cloud.log_lines()

        sockets = open_half_open(cloud.http_port, HALF_OPEN)
        try:
            # Signed API requests while the half-open connections are held.
            iot = cloud.client()
            names = {t["thingName"] for t in iot.list_things()["things"]}
            check("before-" + tag in names,
                  "[%s] the API answers a signed request during %d half-open connections"
                  % (tag, HALF_OPEN))
            ok, err = mqtt_publish(cloud, device, "abuse-device-" + tag)
            check(ok, "[%s] a device with a valid certificate connects and publishes over MQTT "
                  "meanwhile %s" % (tag, err.strip()[-300:]))
            still_open = wait_all_closed(sockets, HEADER_TIMEOUT + 30)
            check(still_open == 0, "[%s] the server closed every half-open connection "
                  "(header timeout %d s): %d still open" % (tag, HEADER_TIMEOUT, still_open))
        finally:
            for s in sockets:
                s.close()
        iot = cloud.client()
        iot.create_thing(thingName="after-" + tag)
        ok, err = mqtt_publish(cloud, device, "abuse-device-after-" + tag)
        check(ok, "[%s] MQTT still works after the attack %s" % (tag, err.strip()[-300:]))
        added = cloud.log_lines() - lines_before
        check(added < LOG_LINE_BOUND,
              "[%s] the log did not flood: %d lines during the attack" % (tag, added))
        check("Too many open files" not in open(cloud.err, errors="replace").read(),
              "[%s] no accept failed for want of descriptors" % tag)

        cloud.kill9()
        cloud = CloudProcess(state, work, soft, hard, tag + "-restarted").start()
        iot = cloud.client()
        for name in ("before-" + tag, "after-" + tag):
            check(iot.describe_thing(thingName=name)["thingName"] == name,
                  "[%s] %s survives kill -9 and a restart" % (tag, name))
        check(stat.S_IMODE(os.stat(state).st_mode) == 0o700,
              "[%s] the cloud's state directory is 0700" % tag)
        return cloud
    except BaseException:
        cloud.stop()
        raise


def mqtt_cap_round(work):
    """At the MQTT cap a new connection is closed at once (no TLS handshake): the client fails
    fast, and connects again once a slot is free."""
    state = os.path.join(work, "state-mqtt-cap")
    cloud = CloudProcess(state, work, 1024, 1024, "mqtt-cap", ["--mqtt-max-connections", "1"])
    cloud.start()
    try:
        device = mqtt_device(cloud, cloud.client(), work, "cap")
        holder = socket.create_connection(("127.0.0.1", cloud.mqtt_port), timeout=5)
        try:
            # The holder takes the only slot once accepted; wait until a second one is refused.
            def refused():
                probe = socket.create_connection(("127.0.0.1", cloud.mqtt_port), timeout=1)
                try:
                    return probe.recv(1) == b""
                except socket.timeout:
                    return False  # accepted: the server waits for a TLS ClientHello
                except OSError:
                    return True  # reset
                finally:
                    probe.close()
            wait_until(refused, 10, "a connection over the MQTT cap is closed")
            ok, _ = mqtt_publish(cloud, device, "over-the-cap")
            check(not ok, "over the MQTT cap a device's connection is closed at once")
        finally:
            holder.close()
        ok, err = wait_until(lambda: (lambda r: r if r[0] else None)(
            mqtt_publish(cloud, device, "under-the-cap")), 15, "MQTT after the slot is freed")
        check(ok, "a freed slot takes the next connection")
    finally:
        cloud.stop()


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def secrets_and_modes(work, cloud):
    password = WIFI_PASSWORD.encode()
    for pid in (cloud.proc.pid,):
        check(password not in cmdline(pid), "the cloud's cmdline holds no Wi-Fi password")
    kit_dir = os.path.join(work, "kit")
    os.mkdir(kit_dir, 0o755)
    os.chmod(kit_dir, 0o755)  # as an older ztp left it
    env = dict(os.environ, ZTP_WIFI_PASSWORD=WIFI_PASSWORD)
    argv = [ZTP, "kit", "run", "--dir", kit_dir, "--wifi-ap", "abuse-lab",
            "--server-ca", os.path.join(cloud.state, "server-ca.crt"),
            "--endpoint-override", "127.0.0.1:%d" % cloud.mqtt_port]
    out_path = os.path.join(work, "kit.out")
    with open(out_path, "w") as out, open(os.path.join(work, "kit.err"), "w") as err:
        kit = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
    try:
        wait_until(lambda: kit.poll() is None and "kit dir=" in open(out_path).read(), 20,
                   "the kit starts")
        check(password not in cmdline(kit.pid),
              "the kit's /proc/<pid>/cmdline holds no Wi-Fi password")
        check(stat.S_IMODE(os.stat(kit_dir).st_mode) == 0o700,
              "a kit directory left 0755 is tightened to 0700")
        check(stat.S_IMODE(os.stat(os.path.join(kit_dir, "console.log")).st_mode) == 0o600,
              "the kit's console.log is 0600")
        # set-wifi from a file and from standard input: the password never in argv either.
        secret_file = os.path.join(work, "wifi-password")
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, password + b"\n")
        os.close(fd)
        factory = os.path.join(work, "factory")
        for extra, stdin in ((["--password-file", secret_file], None),
                             (["--password-file", "-"], password + b"\n")):
            argv = [ZTP, "kit", "set-wifi", "--dir", factory, "--ssid", "abuse-lab"] + extra
            check(password not in "\0".join(argv).encode(), "set-wifi argv holds no password")
            feed = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
            subprocess.run(argv, check=True, capture_output=True, **feed)
        info = open(os.path.join(factory, "kit-info.json")).read()
        check(WIFI_PASSWORD not in info and "wifi_password_encrypted" in info,
              "kit-info.json holds the password encrypted only")
        check(stat.S_IMODE(os.stat(factory).st_mode) == 0o700,
              "set-wifi creates its working directory 0700")
        check(stat.S_IMODE(os.stat(os.path.join(factory, "kit-wifi.key")).st_mode) == 0o600,
              "kit-wifi.key is 0600")
        refused = subprocess.run([ZTP, "kit", "set-wifi", "--dir", factory, "--ssid", "x",
                                  "--password", "on-the-command-line"],
                                 capture_output=True, text=True, stdin=subprocess.DEVNULL)
        check(refused.returncode != 0 and "ZTP_WIFI_PASSWORD" in refused.stderr + refused.stdout,
              "set-wifi --password fails, naming the new ways")
    finally:
        kit.terminate()
        try:
            kit.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kit.kill()
            kit.wait()


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < HALF_OPEN + 200:
        print("SKIP: the hard open-file limit (%d) is too low for this test" % hard)
        return 0
    # This process holds the half-open connections.
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    cloud = None
    with tempfile.TemporaryDirectory(prefix="zt-abuse-") as work:
        try:
            # The soft limit of a default shell; ztp raises it to the hard limit.
            cloud = attack_round(work, 1024, hard, "raised")
            cloud.stop()
            # Hard limit 1,024 too: nothing to raise, the caps alone keep the descriptors.
            cloud = attack_round(work, 1024, 1024, "capped")
            secrets_and_modes(work, cloud)
            cloud.stop()
            mqtt_cap_round(work)
        except BaseException:
            for path in sorted(os.listdir(work)):
                if path.endswith(".err") or path.endswith(".out"):
                    text = open(os.path.join(work, path), errors="replace").read()
                    print("--- %s (last 1500 chars)\n%s" % (path, text[-1500:]), file=sys.stderr)
            raise
        finally:
            if cloud:
                cloud.stop()
    print("all %d checks passed" % checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
