"""Helpers for the cloud e2e tests: start/stop `ztp cloud run` on an ephemeral port."""
import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time

# An IoT policy allowing every action on every resource (tests whose subject is not the policy).
ALLOW_ALL = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})


# Polls `predicate` every 0.1 s for up to `seconds`; its last answer.
def wait_until(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


class Cloud:
    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.proc = None
        self.port = None
        self.account = None

    def start(self):
        self.proc = subprocess.Popen(
            [os.environ["ZTP"], "cloud", "run", "--state-dir", self.state_dir, "--http", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("ztp cloud run exited")
            m = re.match(r"account=(\d+) ", line)
            if m:
                self.account = m.group(1)
            m = re.match(r"listening http=127\.0\.0\.1:(\d+)$", line.strip())
            if m:
                self.port = int(m.group(1))
                return self
        raise RuntimeError("no listening line")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def client(self, **config):
        import boto3
        import botocore.config
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(self.state_dir, "credentials")
        os.environ["AWS_CONFIG_FILE"] = os.path.join(self.state_dir, "config")
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            os.environ.pop(var, None)
        session = boto3.session.Session()
        return session.client("iot", endpoint_url=self.url,
                              config=botocore.config.Config(**config) if config else None)


class MqttCloud(Cloud):
    """cloud_common.Cloud with the MQTT port too, the log in a file, and restarts on given ports."""

    def __init__(self, work, state):
        super().__init__(state)
        self.work = work
        self.http_port = self.mqtt_port = None
        self.starts = 0

    def start(self, http_port=0, mqtt_port=0, extra_args=()):
        self.starts += 1
        self.log_path = os.path.join(self.work, "cloud-%d.log" % self.starts)
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [os.environ["ZTP"], "--log-level", "info", "cloud", "run", "--state-dir", self.state_dir,
             "--http", "127.0.0.1:%d" % http_port, "--mqtt", "127.0.0.1:%d" % mqtt_port, *extra_args],
            stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        deadline = time.monotonic() + 30
        ports = {}
        while time.monotonic() < deadline and len(ports) < 2:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("ztp cloud run exited: " + open(self.log_path).read()[-2000:])
            m = re.match(r"listening (http|mqtts)=127\.0\.0\.1:(\d+)$", line.strip())
            if m:
                ports[m.group(1)] = int(m.group(2))
        if len(ports) < 2:
            raise RuntimeError("no listening lines")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()  # keep stdout drained
        self.http_port, self.mqtt_port = ports["http"], ports["mqtts"]
        self.port = self.http_port
        return self

    @classmethod
    @contextlib.contextmanager
    def running(cls, extra_args=()):
        """`ztp cloud run` in a fresh temporary directory (its state in <dir>/state, its logs beside),
        stopped and the directory removed when the block ends, however it ends:
        `with MqttCloud.running() as cloud: ...` (cloud.work is the directory)."""
        with tempfile.TemporaryDirectory() as work:
            cloud = cls(work, os.path.join(work, "state"))
            try:
                yield cloud.start(extra_args=extra_args)
            finally:
                cloud.stop()

    @property
    def state(self):
        return self.state_dir

    def iot(self):
        return self.client()

    def device_with_policy(self, directory, policy_document, policy_name="all"):
        """CreateKeysAndCertificate (ACTIVE) with `policy_document` attached as `policy_name`; the
        certificate and key (0600) written to `directory`. Returns (cert path, key path)."""
        iot = self.iot()
        created = iot.create_keys_and_certificate(setAsActive=True)
        cert, key = os.path.join(directory, "device.crt"), os.path.join(directory, "device.key")
        with open(cert, "w") as f:
            f.write(created["certificatePem"])
        with open(key, "w") as f:
            f.write(created["keyPair"]["PrivateKey"])
        os.chmod(key, 0o600)
        iot.create_policy(policyName=policy_name, policyDocument=policy_document)
        iot.attach_policy(policyName=policy_name, target=created["certificateArn"])
        return cert, key

    def connect_device(self, cert, key, client_id, on_message=None):
        """A paho MQTT 3.1.1 client connected over mutual TLS with `cert`/`key`, its network loop
        started (the caller stops it: loop_stop() and disconnect())."""
        import paho.mqtt.client as mqtt
        client = mqtt.Client(client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311)
        client.tls_set(ca_certs=os.path.join(self.state_dir, "server-ca.crt"), certfile=cert, keyfile=key)
        if on_message is not None:
            client.on_message = on_message
        client.connect("127.0.0.1", self.mqtt_port)
        client.loop_start()
        return client

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as status:
            return int(re.search(r"VmRSS:\s+(\d+) kB", status.read()).group(1))
