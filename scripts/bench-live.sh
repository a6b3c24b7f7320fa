#!/usr/bin/env bash
# Benchmark (not a test), step (g) of scripts/bench.sh, runnable alone (as root): a live source.
# An ext4 on a loop device with 200 MiB of files and a service writing to it (tests/.../Tools/livewriter.py: SQLite in
# WAL mode with synchronous=FULL committing rows, 256 KiB files rewritten with fsync) is migrated by smc-agent while
# it writes. Prints the service's commit latency p50/p99 idle against during the round, the round's freeze window,
# catch-up passes, bytes read and sent against the bytes in use (targets, issue 15: freeze ≤ 1 s; sent ≤ 1.1 × in use).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
bash scripts/setup.sh
WORK="$ROOT/.artifacts/bench-live"
source scripts/lib.sh
LOOP=""; MNT="$WORK/mnt"
live_cleanup() {
  [ -f "$WORK/stop" ] || touch "$WORK/stop" 2>/dev/null || true
  fsfreeze -u "$MNT" 2>/dev/null || true
  umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
  [ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null || true
}
trap 'live_cleanup; cleanup' EXIT
build_and_start

step "(g) live source: ext4 on a loop device, 200 MiB of files, a service committing rows while the round runs"
head -c $((512 << 20)) /dev/urandom > "$WORK/live.fs"   # old data in what becomes free space
LOOP=$(losetup -f --show "$WORK/live.fs")
mkfs.ext4 -q -F "$LOOP"
mkdir -p "$MNT" "$WORK/tree"
for i in $(seq -w 0 49); do head -c $((4 << 20)) /dev/urandom > "$WORK/tree/file-$i.bin"; done
mount "$LOOP" "$MNT"
cp -a "$WORK/tree" "$MNT/data"; sync -f "$MNT"; rm -rf "$WORK/tree"
python3 tests/Smc.Integration.Tests/Tools/livewriter.py "$MNT" "$WORK/rows.log" "$WORK/stop" & pids+=($!)
sleep 8   # the idle sample: the service alone, for its latency without a round
IDLE_END=$(date +%s%N)
CODE=$(curl -fsS -X POST -H "$K" -d '{"name":"bench-live","count":1}' "$API/access-tokens" | json 'd["accessTokenCode"]')
ROUND_START=$(date +%s%N)
"$AGENT_BIN" migrate --server "$SERVER" --code "$CODE" --disk "$LOOP" --config "$WORK/agent.json" --json > "$WORK/job.json" 2> "$WORK/agent.log"
ROUND_END=$(date +%s%N)
IN_USE=$(( $(stat -c %s "$WORK/live.fs") - $(xfs_io -c fsmap "$MNT" | awk '/free space/ {s += $NF} END {print s * 512}') ))
touch "$WORK/stop"
python3 - "$WORK/rows.log" "$IDLE_END" "$ROUND_START" "$ROUND_END" "$WORK/job.json" "$IN_USE" <<'PY'
import json, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 3]
idle_end, start, end, in_use = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[6])
job = json.load(open(sys.argv[5]))
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] / 1e6 if xs else float("nan")
idle = [lat for _, t, lat in rows if t < idle_end]
during = [lat for _, t, lat in rows if start <= t <= end]
c = job["replicationJobRuns"][-1]["consistency"]
print(f"status {job['status']}, round {(end - start) / 1e9:.1f} s end to end (migrate: register, create, copy, image)")
print(f"(g) commit latency idle:         p50 {pct(idle, 50):7.2f} ms, p99 {pct(idle, 99):7.2f} ms ({len(idle)} commits)")
print(f"(g) commit latency during round: p50 {pct(during, 50):7.2f} ms, p99 {pct(during, 99):7.2f} ms ({len(during)} commits)")
print(f"(g) consistency {c['mode']}, freeze window {c.get('freezeWindowMs')} ms (target ≤ 1000), catch-up passes {c['catchUpPasses']}, retries {c['freezeRetries']}")
print(f"(g) read {c['bytesRead'] / 2**20:.1f} MiB, sent {c['bytesSent'] / 2**20:.1f} MiB for {in_use / 2**20:.1f} MiB in use: {c['bytesSent'] / in_use:.2f} × (target ≤ 1.1)")
PY
