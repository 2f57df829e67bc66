#!/usr/bin/python3
"""Crash safety of the emulated secure element's state file.

Runs `ztp se serve`, drives Write commands for slot 8 through the Unix socket (raw I2C-framed
packets built here, independently of the C++ code), and kill -9's the server at a random moment,
30 rounds. After every kill the state file must load (our own loader, via `ztp se read --state`,
and Python's json) and slot 8 must hold either the last acknowledged write or the one in flight.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

from se_common import ZTP, command, crc16, start_server

ROUNDS = 30


def slot8_value(path: str) -> bytes:
    """Loads the state file with ztp (our loader) and returns the first 32 bytes of slot 8."""
    out = subprocess.run([ZTP, "se", "read", "--state", path, "--slot", "8", "--length", "32"],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError(f"state file does not load: {out.stderr.strip()}")
    with open(path) as f:
        doc = json.load(f)  # must be complete JSON, never torn
    assert doc["format"] == "zerotouch-atecc508a-state" and doc["version"] == 1
    assert bytes.fromhex(doc["slots"][8])[:32].hex() == out.stdout.strip()
    return bytes.fromhex(out.stdout.strip())


def main() -> int:
    work = tempfile.mkdtemp(prefix="zt-se-crash-")
    server = None
    try:
        state = os.path.join(work, "chip.json")
        sock = os.path.join(work, "se.sock")
        out = subprocess.run([ZTP, "se", "provision", "--state", state], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert os.stat(state).st_mode & 0o777 == 0o600
        acknowledged = slot8_value(state)
        rng = random.Random(1234)
        sequence = 0
        mid_write = 0
        for round_number in range(ROUNDS):
            server = start_server(state, sock)
            client = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            client.settimeout(10)
            client.connect(sock)
            killer = threading.Timer(rng.uniform(0.01, 0.15), lambda p=server: p.send_signal(signal.SIGKILL))
            killer.start()
            in_flight = None
            try:
                while True:
                    client.send(b"\xff")  # wake
                    if client.recv(16) != bytes.fromhex("04113343"):
                        break
                    sequence += 1
                    value = sequence.to_bytes(8, "big") * 4
                    in_flight = value
                    client.send(b"\x03" + command(0x12, 0x82, 8 << 3, value))
                    reply = client.recv(16)
                    if not reply:
                        break
                    assert reply == bytes.fromhex("0400") + crc16(b"\x04\x00"), reply.hex()
                    acknowledged, in_flight = value, None
                    client.send(b"\x02")  # idle
            except (ConnectionError, OSError):
                pass
            finally:
                killer.join()
                client.close()
                server.wait(timeout=10)
                server = None
            found = slot8_value(state)
            mid_write += in_flight is not None
            allowed = {acknowledged} | ({in_flight} if in_flight is not None else set())
            assert found in allowed, (f"round {round_number}: slot 8 holds {found.hex()[:16]}, expected "
                                      f"{acknowledged.hex()[:16]} or {in_flight.hex()[:16] if in_flight else '-'}")
            acknowledged = found
        print(f"ok: {ROUNDS} kill -9 rounds ({mid_write} with a write in flight), {sequence} writes; "
              "state file always whole and before/after")
        return 0
    finally:
        if server is not None:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
