"""kill -9 of `ztp cloud run` during 1,000 concurrent API calls: after a restart every change the
client saw acknowledged (2xx) is there, complete, and the registry is intact."""
import concurrent.futures
import os
import sqlite3
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import Cloud  # noqa: E402

CALLS = 1000
KILL_AFTER = 300  # acknowledgements before the kill
WORKERS = 32  # concurrent writers: their commits share fsyncs (group commit, issue 19)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state")
        cloud = Cloud(state).start()
        acked = set()
        lock = threading.Lock()
        killed = threading.Event()
        local = threading.local()

        def client():
            if not hasattr(local, "iot"):
                local.iot = cloud.client(retries={"max_attempts": 1, "mode": "standard"},
                                         connect_timeout=2, read_timeout=10)
            return local.iot

        def call(i):
            if killed.is_set():
                return
            name = "crash-%04d" % i
            try:
                # Each thing carries attributes derived from its name: a partial write would show.
                client().create_thing(thingName=name, attributePayload={
                    "attributes": {"index": str(i), "check": name[::-1]}})
            except Exception:
                return
            with lock:
                acked.add(name)
                if len(acked) >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    cloud.kill9()

        try:
            with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
                list(pool.map(call, range(CALLS)))
            assert killed.is_set(), "server was never killed (%d acks)" % len(acked)
            print("acknowledged before kill -9: %d" % len(acked))

            db = sqlite3.connect(os.path.join(state, "registry.db"))
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            db.close()

            cloud = Cloud(state).start()
            iot = cloud.client()
            stored = {}
            for page in iot.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 250}):
                for thing in page["things"]:
                    stored[thing["thingName"]] = thing
            missing = acked - set(stored)
            assert not missing, "acknowledged but lost: %s" % sorted(missing)[:10]
            for name, thing in stored.items():
                i = int(name.split("-")[1])
                assert thing["attributes"] == {"index": str(i), "check": name[::-1]}, thing
                assert thing["version"] == 1, thing
            print("after restart: %d things, all %d acknowledged present and complete" % (len(stored), len(acked)))
            print("PASS cloud_crash_test")
        finally:
            cloud.stop()


if __name__ == "__main__":
    main()
