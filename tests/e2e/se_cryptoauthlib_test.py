#!/usr/bin/python3
"""cryptoauthlib's command sequences against `ztp se serve` (issue 13 items 6-10).

Plays the host through the server's socket, with packets, CRCs and SHA-256 formulas written here
from cryptoauthlib's public sources (calib_write_config_zone, calib_write_pubkey/read_pubkey,
atcacert_write_cert/read_cert, calib_counter, calib_write_enc/read_enc, atcah_mac), on a blank chip:

  write_config_zone (Write of bytes 16-127) + UpdateExtra(84) + UpdateExtra(85), unlocked
  Counter read/increment before the config lock, Lock(config, CRC)
  write_pubkey(11): three 32-byte Writes, block 2 of a 72-byte slot included
  write_enc(1) before the data lock: Nonce(random) + GenDig(data, 4, OtherData) + Write(enc + MAC)
  Lock(data, CRC of the data zone and OTP as written)
  atcacert_write_cert into slot 10 and read back, read_pubkey(11), read_enc(1), MAC(slot 8)

then restarts the server on the same state file (what these commands changed is there), and
kill -9's it while incrementing a counter, 10 rounds: the state file is whole and the counter is
the last acknowledged value or the one in flight.
"""
import hashlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading

from se_common import Bus, crc16, start_server

SLOT_SIZES = [36] * 8 + [416] + [72] * 7
# The kit's SlotConfig / KeyConfig (firmware ecc_configure.c aws_config, src/secure_element/kit_config.cpp).
SLOT_CONFIGS = [0x208F, 0x44C4, 0x2087, 0x2087, 0x0F8F, 0x36C4, 0x0F9F, 0x2082,
                0x0F0F, 0x44C4, 0x0F0F, 0x0F0F, 0x0F0F, 0x0F0F, 0x0F0F, 0x0F0F]
KEY_CONFIGS = [0x0033, 0x001C, 0x0013, 0x0013, 0x007C, 0x001C, 0x003C, 0x0033,
               0x003C, 0x003C, 0x003C, 0x0030, 0x003C, 0x003C, 0x003C, 0x0030]
OK = bytes([0x00])
EXECUTION_ERROR = bytes([0x0F])


def sha256(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def data_address(slot: int, block: int, word: int = 0) -> int:
    return (slot << 3) | (word & 7) | (block << 8)


def kit_config() -> bytearray:
    config = bytearray(128)
    config[16] = 0xB0  # I2C address
    config[18] = 0xAA  # OTP read-only
    for slot in range(16):
        config[20 + 2 * slot:22 + 2 * slot] = SLOT_CONFIGS[slot].to_bytes(2, "little")
        config[96 + 2 * slot:98 + 2 * slot] = KEY_CONFIGS[slot].to_bytes(2, "little")
    config[52:56] = b"\xff" * 4
    config[60:64] = b"\xff" * 4
    config[84] = 0x5A  # UserExtra, set by UpdateExtra
    config[88:90] = b"\xff\xff"
    return config


class Host:
    """The cryptoauthlib calls used here, one wake/idle session each."""

    def __init__(self, sock: str):
        self.bus = Bus(sock)
        self.serial = b""

    def call(self, opcode, param1, param2, data=b""):
        self.bus.wake()
        try:
            return self.bus.run(opcode, param1, param2, data)
        finally:
            self.bus.idle()

    def session(self, *commands):
        """Several commands without idle between them (TempKey survives idle anyway)."""
        self.bus.wake()
        try:
            return [self.bus.run(*c) for c in commands]
        finally:
            self.bus.idle()

    def read_config(self) -> bytes:
        return b"".join(self.call(0x02, 0x80, block << 3) for block in range(4))

    def write_config_zone(self, config: bytes):
        for block in range(4):
            if block in (1, 3):
                assert self.call(0x12, 0x80, block << 3, config[block * 32:block * 32 + 32]) == OK
                continue
            for word in range(8):
                if (block == 0 and word < 4) or (block == 2 and word == 5):
                    continue
                offset = block * 32 + word * 4
                assert self.call(0x12, 0x00, (block << 3) | word, config[offset:offset + 4]) == OK, offset
        # UpdateExtra(0, config[84]) and UpdateExtra(1, config[85]), exact packets.
        self.bus.wake()
        assert self.bus.raw(bytes.fromhex("0720005a000521")) == bytes.fromhex("04000340")
        assert self.bus.raw(bytes.fromhex("072001000003f7")) == bytes.fromhex("04000340")
        self.bus.idle()

    def counter(self, counter_id: int, increment: bool) -> int:
        return int.from_bytes(self.call(0x24, 1 if increment else 0, counter_id), "little")

    def gen_dig_session_key(self, parent_id: int, parent_key: bytes) -> bytes:
        """calib_write_enc / calib_read_enc: Nonce(random, NumIn zeros) + GenDig(data, parent,
        OtherData 15 02 id 00); returns the TempKey the host computes."""
        num_in = bytes(20)
        other_data = bytes([0x15, 0x02, parent_id, 0x00])
        rand_out, status = self.session((0x16, 0x00, 0, num_in), (0x15, 0x02, parent_id, other_data))
        assert len(rand_out) == 32 and status == OK, (rand_out.hex(), status.hex())
        temp_key = sha256(rand_out, num_in, bytes([0x16, 0x00, 0x00]))
        sn = self.serial
        return sha256(parent_key, other_data, bytes([sn[8], sn[0], sn[1]]), bytes(25), temp_key)


def check_sequences(sock: str, state_path: str):
    host = Host(sock)
    assert host.call(0x30, 0x00, 0) == bytes.fromhex("00005000"), "Info revision"
    config_before = host.read_config()
    assert config_before[87] == 0x55, "blank chip expected"
    host.serial = config_before[0:4] + config_before[8:13]
    sn = host.serial

    config = kit_config()
    host.write_config_zone(config)
    written = host.read_config()
    assert written[16:84] == bytes(config[16:84]) and written[88:] == bytes(config[88:]), "config"
    assert written[84] == 0x5A and written[85] == 0x00 and written[87] == 0x55, written[84:88].hex()

    # Counter before the config lock (cryptoauthlib's counter_test / counter_write_test).
    assert host.counter(1, False) == 0
    assert [host.counter(1, True) for _ in range(3)] == [1, 2, 3]

    counted = host.read_config()  # the counter changed config bytes 60-67
    assert counted[60:68] == bytes.fromhex("1fffffff00000000"), counted[60:68].hex()
    crc = crc16(counted)
    assert host.call(0x17, 0x00, crc[0] | crc[1] << 8) == OK, "Lock config with CRC"

    # write_pubkey(11): | 4 pad | X | 4 pad | Y | 24 bytes past the slot |, three 32-byte writes.
    public_key = os.urandom(64)
    formatted = bytes(4) + public_key[:32] + bytes(4) + public_key[32:] + bytes(24)
    for block in range(3):
        assert host.call(0x12, 0x82, data_address(11, block), formatted[block * 32:block * 32 + 32]) == OK

    # write_enc(slot 1, parent slot 4) before the data lock (write_enc_data_unlock).
    key4 = os.urandom(32)
    assert host.call(0x12, 0x82, data_address(4, 0), key4) == OK
    secret = os.urandom(32)
    session_key = host.gen_dig_session_key(4, key4)
    address = data_address(1, 0)
    mac = sha256(session_key, bytes([0x12, 0xC2, address & 0xFF, address >> 8, sn[8], sn[0], sn[1]]),
                 bytes(25), secret)
    cipher = bytes(a ^ b for a, b in zip(secret, session_key))
    assert host.call(0x12, 0xC2, address, cipher + mac) == OK, "encrypted write before the data lock"

    # Lock(data) with the CRC of what the host wrote: slots 0-15 in order, then OTP.
    slots = [bytearray(size) for size in SLOT_SIZES]
    slots[1][0:32] = secret
    slots[4][0:32] = key4
    slots[11][0:72] = formatted[:72]
    crc = crc16(b"".join(bytes(s) for s in slots) + bytes(64))
    assert host.call(0x17, 0x01, crc[0] | crc[1] << 8) == OK, "Lock data with CRC"

    # atcacert_write_cert / read_cert: whole 32-byte blocks of slot 10.
    certificate = os.urandom(72) + b"\xee" * 24
    for block in range(3):
        assert host.call(0x12, 0x82, data_address(10, block), certificate[block * 32:block * 32 + 32]) == OK
    read_back = b"".join(host.call(0x02, 0x82, data_address(10, block)) for block in range(3))
    assert read_back == certificate[:72] + bytes(24), read_back.hex()

    # read_pubkey(11): 28 + 4 + 24 + 8 bytes out of three 32-byte reads.
    blocks = [host.call(0x02, 0x82, data_address(11, block)) for block in range(3)]
    assert blocks[0][4:] + blocks[1][:4] + blocks[1][8:] + blocks[2][:8] == public_key

    # read_enc(1): the same GenDig, then Read; plain = data XOR TempKey.
    session_key = host.gen_dig_session_key(4, key4)
    encrypted = host.call(0x02, 0x82, address)
    assert bytes(a ^ b for a, b in zip(encrypted, session_key)) == secret, "encrypted read"

    # MAC(mode 0, slot 8) = SHA-256(key, challenge, 08 00 08 00, 11 zeros, SN8, 4 zeros, SN0 SN1, 2 zeros).
    challenge = os.urandom(32)
    expected = sha256(bytes(32), challenge, bytes([0x08, 0x00, 0x08, 0x00]), bytes(11), sn[8:9], bytes(4),
                      sn[0:2], bytes(2))
    assert host.call(0x08, 0x00, 8, challenge) == expected, "MAC"
    host.bus.close()

    with open(state_path) as f:
        doc = json.load(f)
    stored = bytes.fromhex(doc["config"])
    assert stored[84] == 0x5A and stored[86] == 0x00 and stored[87] == 0x00, stored[84:88].hex()
    assert bytes.fromhex(doc["slots"][1])[:32] == secret
    assert bytes.fromhex(doc["slots"][10]) == certificate[:72]
    assert bytes.fromhex(doc["slots"][11]) == formatted[:72]
    return public_key


def counter_in_state(state: str, sock: str, counter_id: int) -> int:
    """Starts a server on the state file, reads a counter, stops the server."""
    server = start_server(state, sock)
    try:
        host = Host(sock)
        value = host.counter(counter_id, False)
        host.bus.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    return value


def kill_rounds(state: str, sock: str, rounds: int) -> str:
    """kill -9 while incrementing counter 0; returns a summary."""
    acknowledged = counter_in_state(state, sock, 0)
    rng = random.Random(77)
    increments = 0
    for round_number in range(rounds):
        server = start_server(state, sock)
        bus = Bus(sock)
        killer = threading.Timer(rng.uniform(0.01, 0.12), lambda p=server: p.send_signal(signal.SIGKILL))
        killer.start()
        in_flight = False
        failure = None
        try:
            while True:
                bus.wake()
                in_flight = True
                value = int.from_bytes(bus.run(0x24, 0x01, 0), "little")
                if value != acknowledged + 1:
                    failure = f"increment answered {value} after {acknowledged}"
                    break
                acknowledged, in_flight = value, False
                increments += 1
                bus.idle()
        except (AssertionError, ConnectionError, OSError) as error:
            failure = error  # the server died under us, or a real fault: decided below
        finally:
            killer.join()
            bus.close()
            returncode = server.wait(timeout=10)
        assert returncode == -signal.SIGKILL and not isinstance(failure, str), (returncode, failure)
        with open(state) as f:
            json.load(f)  # whole JSON, never torn
        found = counter_in_state(state, sock, 0)
        allowed = {acknowledged, acknowledged + 1} if in_flight else {acknowledged}
        assert found in allowed, f"round {round_number}: counter {found}, expected one of {sorted(allowed)}"
        acknowledged = found
    return f"{rounds} kill -9 rounds, {increments} acknowledged counter increments"


def main() -> int:
    work = tempfile.mkdtemp(prefix="zt-se-calib-")
    server = None
    try:
        state = os.path.join(work, "chip.json")
        sock = os.path.join(work, "se.sock")
        server = start_server(state, sock)
        public_key = check_sequences(sock, state)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0
        server = None

        # The same chip after a restart: counter 1, the public key, UserExtra.
        server = start_server(state, sock)
        host = Host(sock)
        assert host.counter(1, False) == 3, "counter survives a restart"
        blocks = [host.call(0x02, 0x82, data_address(11, block)) for block in range(3)]
        assert blocks[0][4:] + blocks[1][:4] + blocks[1][8:] + blocks[2][:8] == public_key
        assert host.read_config()[84] == 0x5A
        host.bus.close()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0
        server = None

        summary = kill_rounds(state, sock, 10)
        print(f"ok: cryptoauthlib sequences over ztp se serve; {summary}; state file always whole")
        return 0
    finally:
        if server is not None:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
