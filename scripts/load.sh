#!/usr/bin/env bash
# The load exercise (issue 7; a command, not a test): 50 agents register and migrate small disks concurrently against one
# standalone smc-control on Azurite, while an operator script polls the API and the dashboard. Prints completions,
# failures, p50/p95 API latency (and while loaded vs idle), control-plane CPU and peak memory.
# SMC_LOAD_AGENTS changes the number of agents.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
bash scripts/setup.sh
WORK="$ROOT/.artifacts/load"
source scripts/lib.sh
AGENTS="${SMC_LOAD_AGENTS:-50}"
# Spare job key pairs made before the agents start, as an operator who plans a wave of N sets (README:
# SMC_SECURITY__JOBKEYSPARES); SMC_LOAD_SPARES=0 measures a cold burst, each job making its own RSA-3072 pair.
SPARES="${SMC_LOAD_SPARES:-$AGENTS}"
export SMC_SECURITY__JOBKEYSPARES="$SPARES"
build_and_start
AZURITE_PID="${pids[0]}"; CONTROL_PID="${pids[1]}"

step "Build one small source disk (GPT, 64 MiB: ext4 with 6 MiB of files) and copy it for each of $AGENTS agents"
TEMPLATE="$WORK/template.img"
truncate -s 64M "$TEMPLATE"
printf 'label: gpt\nstart=2048, size=126976, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"\n' | sfdisk -q "$TEMPLATE"
mkdir -p "$WORK/tree/etc" "$WORK/tree/srv"
echo "load" > "$WORK/tree/etc/hostname"
head -c $((4 << 20)) /dev/urandom > "$WORK/tree/srv/random.bin"
python3 -c "import sys; sys.stdout.write('log line for the load exercise\n' * 70000)" > "$WORK/tree/srv/app.log"
mkfs.ext4 -q -F -d "$WORK/tree" -E offset=$((2048 * 512)) "$TEMPLATE" 62M
for i in $(seq 1 "$AGENTS"); do cp --sparse=always "$TEMPLATE" "$WORK/disk-$i.img"; done
CODE=$(curl -fsS -X POST -H "$K" -d "{\"name\":\"load\",\"count\":$((AGENTS + 5)),\"timeToLiveInDays\":1}" "$API/access-tokens" | json 'd["accessTokenCode"]')

step "Wait for $SPARES spare job key pairs (smc-control makes them ahead on a nice-19 thread)"
T0=$(date +%s.%N)
until [ "$(curl -fsS -H "$K" "$API/overview" | json 'd["jobKeySpares"]')" -ge "$SPARES" ]; do sleep 1; done
echo "$SPARES spares ready after $(python3 -c "import time; print(round(time.time() - $T0, 1))") s"

step "Run $AGENTS agents (smc-agent migrate) at once; poll the API and the dashboard meanwhile"
python3 - "$SERVER" "$SMC_ADMIN_KEY" "$CODE" "$AGENT_BIN" "$WORK" "$AGENTS" "$CONTROL_PID" "$AZURITE_PID" <<'PY'
import json, os, resource, statistics, subprocess, sys, threading, time, urllib.request
server, key, code, agent, work, n, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
azurite = int(sys.argv[8])
tick = os.sysconf("SC_CLK_TCK")

def cpu_seconds(of=None):
    f = open(f"/proc/{of or pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

def memory(field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0

def get(path, operator=True):
    req = urllib.request.Request(server + path, headers={"x-functions-key": key} if operator else {})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
    return (time.perf_counter() - start) * 1000

def sample(seconds):
    out = []
    end = time.time() + seconds
    while time.time() < end:
        for path in ("/api/v1/overview", "/api/v1/replication-jobs?pageSize=50", "/api/v1/source-servers?pageSize=50"):
            out.append(get(path))
        time.sleep(0.2)
    return out

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

def machine():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(f) - f[3] - f[4]) / tick, sum(f) / tick  # busy (not idle, not iowait), all

idle = sample(3)
cpu0, az0, wall0, m0 = cpu_seconds(), cpu_seconds(azurite), time.time(), machine()
results = [None] * n
def run(i):
    cfg = f"{work}/agent-{i}.json"
    t = time.time()
    p = subprocess.run([agent, "migrate", "--server", server, "--code", code, "--config", cfg, "--disk", f"{work}/disk-{i}.img",
                        "--name", f"load-{i:02}", "--json"], capture_output=True, text=True)
    status = json.loads(p.stdout)["status"] if p.returncode == 0 and p.stdout.strip() else f"exit {p.returncode}"
    with open(f"{work}/agent-{i}.log", "w") as log:
        log.write(p.stderr)
    results[i - 1] = (status, time.time() - t, p.stderr)
threads = [threading.Thread(target=run, args=(i,)) for i in range(1, n + 1)]
for t in threads: t.start()
loaded, dashboard = [], []
while any(t.is_alive() for t in threads):
    loaded += sample(1)
    dashboard.append(get("/", operator=False))
for t in threads: t.join()
cpu1, az1, wall1, m1 = cpu_seconds(), cpu_seconds(azurite), time.time(), machine()
children = resource.getrusage(resource.RUSAGE_CHILDREN)

done = sum(1 for r in results if r[0] == "Finished")
failed = [(i + 1, r[0], r[2]) for i, r in enumerate(results) if r[0] != "Finished"]
print(f"agents: {n}; finished {done}/{n}; failures {len(failed)}")
for i, status, err in failed[:5]:
    last = [l for l in err.strip().splitlines() if l.strip()][-2:]
    print(f"  agent {i}: {status}: {' | '.join(last)} (log: {work}/agent-{i}.log)")
durations = sorted(r[1] for r in results)
print(f"wall time {wall1 - wall0:.1f} s; per migration p50 {pct(durations, 50):.1f} s, p95 {pct(durations, 95):.1f} s")
print(f"API latency idle    : p50 {pct(idle, 50):.0f} ms, p95 {pct(idle, 95):.0f} ms ({len(idle)} calls)")
print(f"API latency loaded  : p50 {pct(loaded, 50):.0f} ms, p95 {pct(loaded, 95):.0f} ms ({len(loaded)} calls: overview, jobs, sources)")
print(f"dashboard page      : p50 {pct(dashboard, 50):.0f} ms, p95 {pct(dashboard, 95):.0f} ms ({len(dashboard)} loads)")
print(f"Azurite (storage)   : CPU {100 * (az1 - az0) / (wall1 - wall0):.0f}% of one core on average (node, one thread)")
print(f"control plane       : CPU {100 * (cpu1 - cpu0) / (wall1 - wall0):.0f}% of one core on average, RSS now {memory('VmRSS:') >> 20} MiB, peak {memory('VmHWM:') >> 20} MiB")
print(f"agents ({n})         : CPU {children.ru_utime + children.ru_stime:.0f} s in all, {100 * (children.ru_utime + children.ru_stime) / (wall1 - wall0):.0f}% of one core on average")
print(f"machine             : {100 * (m1[0] - m0[0]) / (m1[1] - m0[1]):.0f}% of its {os.cpu_count()} cores busy on average")
sys.exit(0 if done == n else 1)
PY

step "Where the orchestrations' time went: each migration's history (issue 20), per step the mean and p95 over all"
JOBS=$(curl -fsS -H "$K" "$API/replication-jobs?pageSize=50" | json '" ".join(j["jobId"] for j in d["replicationJobs"])')
# shellcheck disable=SC2086 # one argument per job id
dotnet run -c Release scripts/round-breakdown.cs -- "$SMC_STORAGE__CONNECTIONSTRING" smchub $JOBS > "$WORK/breakdown.jsonl"
python3 - "$WORK/breakdown.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("summary"):
        print("\nper migration (%d): %d activity runs in all; span %.0f ms: dispatch + run %.0f ms, orchestrator pickup %.0f ms, timers %.0f ms"
              % (d["instances"], d["activities"], d["spanMs"], d["dispatchAndRunMs"], d["pickupMs"], d["timersMs"]))
    elif d["step"].startswith("event "):
        print("%-28s x%-4d at mean %7.0f ms, p95 %7.0f ms after the generation began" % (d["step"], d["count"], d["meanMs"], d["p95Ms"]))
    else:
        print("%-28s x%-4d dispatch+run mean %6.0f ms, p95 %6.0f ms   pickup mean %6.0f ms, p95 %6.0f ms"
              % (d["step"], d["count"], d["meanMs"], d["p95Ms"], d["meanPickupMs"], d["p95PickupMs"]))
PY
