#!/usr/bin/env bash
# Measurement (issue 20; a command, not a test): how long an unchanged incremental round takes end to end (start →
# the job Waiting again with its new image) against one standalone smc-control on Azurite, and where that time goes,
# step by step, read from the Durable Task history (scripts/round-breakdown.cs). SMC_ROUNDS changes the number of
# unchanged rounds measured (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
bash scripts/setup.sh
WORK="$ROOT/.artifacts/round-breakdown"
rm -rf "$WORK"; mkdir -p "$WORK"
source scripts/lib.sh
build_and_start
ROUNDS="${SMC_ROUNDS:-5}"

step "One source: a 64 MiB GPT disk (ext4 with 4 MiB of files), an incremental job, its full round"
DISK="$WORK/disk.img"
truncate -s 64M "$DISK"
printf 'label: gpt\nstart=2048, size=126976, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"\n' | sfdisk -q "$DISK"
mkdir -p "$WORK/tree/srv"; head -c $((4 << 20)) /dev/urandom > "$WORK/tree/srv/random.bin"
mkfs.ext4 -q -F -d "$WORK/tree" -E offset=$((2048 * 512)) "$DISK" 62M
CODE=$(curl -fsS -X POST -H "$K" -d '{"name":"breakdown","count":1,"timeToLiveInDays":1}' "$API/access-tokens" | json 'd["accessTokenCode"]')
"$AGENT_BIN" register --server "$SERVER" --code "$CODE" --disk "$DISK" --config "$WORK/agent.json" > /dev/null
SOURCE=$(json 'd["sourceId"]' < "$WORK/agent.json")
"$AGENT_BIN" run --config "$WORK/agent.json" > "$WORK/agent.log" 2>&1 & pids+=($!)
JOB=$(curl -fsS -X POST -H "$K" -H 'content-type: application/json' -d "{\"sourceId\":\"$SOURCE\",\"name\":\"breakdown\",\"runOnce\":false,\"syncInterval\":\"P1D\"}" "$API/replication-jobs" | json 'd["jobId"]')
echo "job $JOB on $SOURCE"

python3 - "$API" "$SMC_ADMIN_KEY" "$JOB" "$ROUNDS" <<'PY'
import json, sys, time, urllib.request
api, key, job, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def call(method, path):
    req = urllib.request.Request(api + path, method=method, headers={"x-functions-key": key, "content-type": "application/json"}, data=b"{}" if method == "POST" else None)
    with urllib.request.urlopen(req) as r:
        body = r.read()
        return json.loads(body) if body else None
def until(round_, limit=300):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        j = call("GET", f"/replication-jobs/{job}")
        if j["status"] == "InError":
            sys.exit(f"job InError: {j['statusInfo']}")
        if j["status"] == "Waiting" and j["currentRound"] >= round_:
            return j
        time.sleep(0.02)
    sys.exit(f"round {round_} did not end in {limit} s")
t = time.monotonic(); call("POST", f"/replication-jobs/{job}/start"); until(0)
print(f"full round 0: {time.monotonic() - t:.2f} s")
times = []
for r in range(1, rounds + 1):
    t = time.monotonic(); call("POST", f"/replication-jobs/{job}/start"); j = until(r)
    times.append(time.monotonic() - t)
    run = j["replicationJobRuns"][-1]
    print(f"unchanged round {r}: {times[-1]:.2f} s end to end (agent: {run.get('consistency', {}).get('bytesSent', 'n/a')} bytes sent)")
times.sort()
print(f"unchanged rounds: median {times[len(times) // 2]:.2f} s, min {times[0]:.2f} s, max {times[-1]:.2f} s (target ≤ 1.0 s)")
PY

step "Where the last unchanged round's time went (the orchestration's history: scheduled → completed → next orchestrator run)"
dotnet run -c Release scripts/round-breakdown.cs -- "$SMC_STORAGE__CONNECTIONSTRING" smchub "$JOB" > "$WORK/breakdown.jsonl"
python3 - "$WORK/breakdown.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("summary"):
        print("\n%d activities over %.0f ms: dispatch + run %.0f ms, orchestrator pickup %.0f ms, timers %.0f ms"
              % (d["activities"], d["spanMs"], d["dispatchAndRunMs"], d["pickupMs"], d["timersMs"]))
    elif "atMs" in d:
        print("%-28s at %6.0f ms after the round's generation started" % (d["step"], d["atMs"]))
    else:
        print("%-28s dispatch+run %6.0f ms   pickup %6.0f ms" % (d["step"], d["dispatchAndRunMs"], d["pickupMs"]))
PY
cleanup
