"""Helpers for the broker e2e tests with paho-mqtt: the test PKI, `ztp broker run` on an ephemeral port,
check() and expect() over a client's event queue."""
import os
import queue
import shutil
import subprocess
import tempfile
import time

SOURCE = os.environ.get("ZT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
ZTP = os.environ.get("ZTP", os.path.join(os.environ.get("ZT_BINARY_DIR", "build"), "bin", "ztp"))
failures = []


def check(description, condition):
    print(("ok   - " if condition else "FAIL - ") + description)
    if not condition:
        failures.append(description)


def expect(events, kind, timeout=5.0):
    """The value of the next event of `kind` on the queue (others are dropped), None after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got, value = events.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if got == kind:
            return value
    return None


class Broker:
    """`ztp broker run` with the test PKI (anchor: the intermediate), in a temporary directory."""

    def __enter__(self):
        self.work = tempfile.mkdtemp(prefix="zt-broker-e2e.")
        self.pki = os.path.join(self.work, "pki")
        self.proc = None
        subprocess.run(["bash", os.path.join(SOURCE, "tools", "make-test-pki.sh"), self.pki], check=True,
                       stdout=subprocess.DEVNULL)
        self.proc = subprocess.Popen([ZTP, "broker", "run", "--cert", f"{self.pki}/server.crt",
                                      "--key", f"{self.pki}/server.key", "--ca", f"{self.pki}/inter.crt",
                                      "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening mqtts=127.0.0.1:"), line
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.work, ignore_errors=True)
        return False


def main(run):
    """Runs `run(pki, port, clients)` against a fresh broker; the paho clients it appends to `clients` are
    stopped afterwards. Exits non-zero when a check failed."""
    clients = []
    with Broker() as broker:
        try:
            run(broker.pki, broker.port, clients)
        finally:
            for c in clients:
                c.loop_stop()
                c.disconnect()
    if failures:
        raise SystemExit(f"{len(failures)} check(s) failed")
    print("all checks passed")
