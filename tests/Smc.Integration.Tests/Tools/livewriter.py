#!/usr/bin/env python3
"""A service that keeps writing while its file system is migrated (LiveSourceTests).

Commits rows to an SQLite database in WAL mode with synchronous=FULL, and after each commit appends
"<id> <CLOCK_REALTIME ns> <commit latency ns>" to a log outside the file system: a logged row was durable before the
logged time (scripts/bench-live.sh reads the latencies).
Every few commits it rewrites one of its files in place and fsyncs it. Stops when the stop file exists.

usage: livewriter.py MOUNT LOG STOPFILE [PAUSE_SECONDS]
"""
import os
import sqlite3
import sys
import time

mount, log_path, stop_path = sys.argv[1], sys.argv[2], sys.argv[3]
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.01
os.makedirs(os.path.join(mount, "app"), exist_ok=True)
db = sqlite3.connect(os.path.join(mount, "app", "rows.db"), isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
churn = [os.path.join(mount, "app", f"churn-{i}.bin") for i in range(8)]
for path in churn:
    with open(path, "wb") as f:
        f.write(os.urandom(256 * 1024))
        f.flush()
        os.fsync(f.fileno())

with open(log_path, "a", buffering=1) as log:
    n = 0
    while not os.path.exists(stop_path):
        began = time.monotonic_ns()
        db.execute("BEGIN")
        cur = db.execute("INSERT INTO rows (payload) VALUES (?)", (os.urandom(2048),))
        db.execute("COMMIT")
        latency = time.monotonic_ns() - began
        log.write(f"{cur.lastrowid} {time.time_ns()} {latency}\n")
        n += 1
        if n % 5 == 0:
            with open(churn[n % len(churn)], "r+b") as f:
                f.write(os.urandom(256 * 1024))
                f.flush()
                os.fsync(f.fileno())
        time.sleep(pause)
db.close()
