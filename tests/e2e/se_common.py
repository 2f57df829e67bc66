"""Helpers for process-level tests of `ztp se serve`: the ATECC508A packet framing and CRC written
here independently of the C++ code, and a client for the server's SOCK_SEQPACKET socket (one message
= one I2C transaction: 0xFF wake, 0x03 + command packet, 0x02 idle, 0x01 sleep)."""
import os
import socket
import subprocess
import time

ZTP = os.environ.get("ZTP", "ztp")


def crc16(data: bytes) -> bytes:
    # ATECC508A CRC-16: polynomial 0x8005, initial 0, data bits LSB first, sent little-endian.
    reg = 0
    for byte in data:
        for bit in range(8):
            data_bit = (byte >> bit) & 1
            top_bit = reg >> 15
            reg = (reg << 1) & 0xFFFF
            if data_bit != top_bit:
                reg ^= 0x8005
    return bytes([reg & 0xFF, reg >> 8])


def command(opcode: int, param1: int, param2: int, data: bytes = b"") -> bytes:
    body = bytes([7 + len(data), opcode, param1, param2 & 0xFF, param2 >> 8]) + data
    return body + crc16(body)


def response(data: bytes) -> bytes:
    body = bytes([3 + len(data)]) + data
    return body + crc16(body)


assert command(0x30, 0, 0).hex() == "07300000000" + "35d", "CRC known answer (Info)"
assert response(b"\x11").hex() == "04113343", "CRC known answer (wake)"


def start_server(state: str, sock: str) -> subprocess.Popen:
    server = subprocess.Popen([ZTP, "se", "serve", "--state", state, "--socket", sock],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            probe.connect(sock)
            probe.close()
            return server
        except OSError:
            time.sleep(0.02)
    server.kill()
    raise AssertionError("ztp se serve did not start listening")


class Bus:
    """One host on the chip's bus: wake, commands, idle, as cryptoauthlib's atcab_* calls do."""

    def __init__(self, sock: str):
        self.client = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.client.settimeout(10)
        self.client.connect(sock)

    def close(self):
        self.client.close()

    def wake(self):
        self.client.send(b"\xff")
        reply = self.client.recv(16)
        assert reply == bytes.fromhex("04113343"), f"wake answered {reply.hex()}"

    def idle(self):
        self.client.send(b"\x02")

    def raw(self, packet: bytes) -> bytes:
        self.client.send(b"\x03" + packet)
        return self.client.recv(256)

    def run(self, opcode: int, param1: int, param2: int, data: bytes = b"") -> bytes:
        """Sends one command, checks the response's count and CRC, returns its payload (a status
        byte or data)."""
        reply = self.raw(command(opcode, param1, param2, data))
        assert len(reply) >= 4 and reply[0] == len(reply), f"bad response {reply.hex()}"
        assert reply[-2:] == crc16(reply[:-2]), f"bad response CRC {reply.hex()}"
        return reply[1:-2]
