"""Helpers for the cloud e2e tests: start/stop `ztp cloud run` on an ephemeral port."""
import os
import re
import signal
import subprocess
import time


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
