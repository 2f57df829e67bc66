"""`ztp broker run` at its limits (issue 19, bench_scale): started under a soft RLIMIT_NOFILE of 256
it raises the soft limit to the hard limit and says so ("limits open-files=<hard>
mqtt-connections=..."); with --max-connections 2 the third connection is closed at once (no TLS
handshake) while the two held ones stay open, and a freed slot takes the next connection — a mutually
authenticated MQTT client then connects (paho). Loopback only, bounded waits."""
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import wait_until  # noqa: E402
from broker_common import SOURCE, ZTP, check, failures  # noqa: E402

import paho.mqtt.client as mqtt  # noqa: E402


def lowered_soft_limit():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))


def closed_at_once(port):
    """True when the server closes a new TCP connection without waiting for a ClientHello."""
    probe = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        return probe.recv(1) == b""
    except socket.timeout:
        return False  # accepted: the server waits for the handshake
    except OSError:
        return True  # reset
    finally:
        probe.close()


def mqtt_connects(pki, port):
    client = mqtt.Client(client_id="limits-device", protocol=mqtt.MQTTv311)
    client.tls_set(ca_certs=f"{pki}/root.crt", certfile=f"{pki}/device.crt", keyfile=f"{pki}/device.key",
                   tls_version=ssl.PROTOCOL_TLS_CLIENT)
    try:
        client.connect("127.0.0.1", port, keepalive=30)
        client.loop_start()
        ok = wait_until(client.is_connected, 10)
        client.disconnect()
        client.loop_stop()
        return ok
    except OSError:
        return False


def main():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    work = tempfile.mkdtemp(prefix="zt-broker-limits.")
    pki = os.path.join(work, "pki")
    subprocess.run(["bash", os.path.join(SOURCE, "tools", "make-test-pki.sh"), pki], check=True,
                   stdout=subprocess.DEVNULL)
    proc = subprocess.Popen([ZTP, "broker", "run", "--cert", f"{pki}/server.crt", "--key",
                             f"{pki}/server.key", "--ca", f"{pki}/inter.crt", "--listen", "127.0.0.1:0",
                             "--max-connections", "2"],
                            stdout=subprocess.PIPE, text=True, preexec_fn=lowered_soft_limit)
    held = []
    try:
        line = proc.stdout.readline().strip()
        check("the broker starts", line.startswith("listening mqtts=127.0.0.1:"))
        port = int(line.rsplit(":", 1)[1])
        limits = proc.stdout.readline().strip()
        expected_files = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
        check(f"started under a soft limit of 256, it raised it to the hard limit: {limits}",
              limits.startswith("limits open-files=") and
              (hard == resource.RLIM_INFINITY or f"open-files={expected_files} " in limits))
        check("it prints its connection cap", "mqtt-connections=2 " in limits)
        soft_now = None
        with open(f"/proc/{proc.pid}/limits") as f:
            for row in f:
                if row.startswith("Max open files"):
                    soft_now = row.split()[3]
        check(f"/proc/<pid>/limits shows the raised soft limit ({soft_now})",
              soft_now == ("unlimited" if hard == resource.RLIM_INFINITY else str(hard)))

        for _ in range(2):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        check("over the cap a new connection is closed at once", wait_until(lambda: closed_at_once(port), 10))
        for s in held:
            s.settimeout(0.3)
            try:
                still_open = s.recv(1) != b""
            except socket.timeout:
                still_open = True
            except OSError:
                still_open = False
            check("a connection within the cap stays open", still_open)
        held.pop().close()
        check("a freed slot takes a mutually authenticated MQTT client",
              wait_until(lambda: mqtt_connects(pki, port), 15))
    finally:
        for s in held:
            s.close()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        raise SystemExit(f"{len(failures)} check(s) failed")
    print("all checks passed")


if __name__ == "__main__":
    main()
