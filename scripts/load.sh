#!/usr/bin/env bash
# The load exercise (issue 7; a command, not a test): 50 agents register and migrate small disks concurrently against one
# standalone smc-control on Azurite, while an operator script polls the API and the dashboard. Prints completions,
# failures, p50/p95 API latency (and while loaded vs idle), control-plane CPU and peak memory.
# SMC_LOAD_AGENTS changes the number of agents; SMC_LOAD_HOSTS=N runs N smc-control processes on the one storage account
# (agent i talks to host i mod N, as a load balancer would spread them) and prints each host's CPU and work.
# SMC_LOAD_HOST_CPU=P gives each host P % of one core (a cgroup v1 CPU quota, as a Functions instance has a fixed
# slice): the control plane, not the shared machine, is then what one more host adds to.
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
HOSTS="${SMC_LOAD_HOSTS:-1}"
HOST_CPU="${SMC_LOAD_HOST_CPU:-}"
host_cgroup() { # the CPU cgroup of host $1 (none without SMC_LOAD_HOST_CPU); removed on exit
  [ -n "$HOST_CPU" ] || return 0
  local dir="/sys/fs/cgroup/cpu/smc-load-$$-$1"
  mkdir -p "$dir" && echo $((HOST_CPU * 1000)) > "$dir/cpu.cfs_quota_us" && echo 100000 > "$dir/cpu.cfs_period_us"
  echo "$dir"
}
trap 'cleanup; rmdir /sys/fs/cgroup/cpu/smc-load-$$-* 2>/dev/null || true' EXIT
SMC_CONTROL_CGROUP=$(host_cgroup 1)
build_and_start
AZURITE_PID="${pids[0]}"; CONTROL_PID="${pids[1]}"
SERVERS="$SERVER"; CONTROL_PIDS="$CONTROL_PID"; LOGS="$WORK/smc-control.log"
for h in $(seq 2 "$HOSTS"); do
  url="http://127.0.0.1:$(free_port)"
  start_control "$url" "smc-control-$h" "$(host_cgroup "$h")"
  SERVERS="$SERVERS,$url"; CONTROL_PIDS="$CONTROL_PIDS,${pids[-1]}"; LOGS="$LOGS,$WORK/smc-control-$h.log"
done

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
python3 - "$SERVERS" "$SMC_ADMIN_KEY" "$CODE" "$AGENT_BIN" "$WORK" "$AGENTS" "$CONTROL_PIDS" "$AZURITE_PID" "$LOGS" <<'PY'
import json, os, resource, statistics, subprocess, sys, threading, time, urllib.request
servers, key, code, agent, work, n = sys.argv[1].split(","), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
pids, azurite, logs = [int(p) for p in sys.argv[7].split(",")], int(sys.argv[8]), sys.argv[9].split(",")
server, pid = servers[0], pids[0]
tick = os.sysconf("SC_CLK_TCK")

def cpu_seconds(of=None):
    f = open(f"/proc/{of or pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

def memory(field, of=None):
    for line in open(f"/proc/{of or pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0

calls = 0
def get(path, operator=True):
    global calls
    calls += 1
    req = urllib.request.Request(servers[calls % len(servers)] + path, headers={"x-functions-key": key} if operator else {})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
    return (time.perf_counter() - start) * 1000

ROUTES = ("/api/v1/overview", "/api/v1/replication-jobs?pageSize=50", "/api/v1/source-servers?pageSize=50")
by_route = {r: [] for r in ROUTES}
def sample(seconds, record=False):
    out = []
    end = time.time() + seconds
    while time.time() < end:
        for path in ROUTES:
            ms = get(path)
            out.append(ms)
            if record:
                by_route[path].append(ms)
        time.sleep(0.2)
    return out

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

def machine():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(f) - f[3] - f[4]) / tick, sum(f) / tick  # busy (not idle, not iowait), all

idle = sample(3)
cpu0, az0, wall0, m0 = [cpu_seconds(p) for p in pids], cpu_seconds(azurite), time.time(), machine()
results = [None] * n
def run(i):
    cfg = f"{work}/agent-{i}.json"
    t = time.time()
    p = subprocess.run([agent, "migrate", "--server", servers[i % len(servers)], "--code", code, "--config", cfg, "--disk", f"{work}/disk-{i}.img",
                        "--name", f"load-{i:02}", "--json"], capture_output=True, text=True)
    status = json.loads(p.stdout)["status"] if p.returncode == 0 and p.stdout.strip() else f"exit {p.returncode}"
    with open(f"{work}/agent-{i}.log", "w") as log:
        log.write(p.stderr)
    results[i - 1] = (status, time.time() - t, p.stderr)
threads = [threading.Thread(target=run, args=(i,)) for i in range(1, n + 1)]
for t in threads: t.start()
loaded, dashboard = [], []
while any(t.is_alive() for t in threads):
    loaded += sample(1, record=True)
    dashboard.append(get("/", operator=False))
for t in threads: t.join()
cpu1, az1, wall1, m1 = [cpu_seconds(p) for p in pids], cpu_seconds(azurite), time.time(), machine()
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
for path, values in by_route.items():
    print(f"  {path.split('?')[0][8:]:<18}: p50 {pct(values, 50):.0f} ms, p95 {pct(values, 95):.0f} ms ({len(values)} calls)")
print(f"dashboard page      : p50 {pct(dashboard, 50):.0f} ms, p95 {pct(dashboard, 95):.0f} ms ({len(dashboard)} loads)")
print(f"Azurite (storage)   : CPU {100 * (az1 - az0) / (wall1 - wall0):.0f}% of one core on average (node, one thread)")
for h, p in enumerate(pids):
    activities = sum(1 for line in open(logs[h]) if "Activity " in line and " on host " in line and line.rstrip().endswith(f"/{p}"))
    print(f"control plane{'' if len(pids) == 1 else f' {h + 1}/{len(pids)}'}     : CPU {100 * (cpu1[h] - cpu0[h]) / (wall1 - wall0):.0f}% of one core on average, "
          f"RSS now {memory('VmRSS:', p) >> 20} MiB, peak {memory('VmHWM:', p) >> 20} MiB; activities run {activities}")
print(f"agents ({n})         : CPU {children.ru_utime + children.ru_stime:.0f} s in all, {100 * (children.ru_utime + children.ru_stime) / (wall1 - wall0):.0f}% of one core on average")
print(f"machine             : {100 * (m1[0] - m0[0]) / (m1[1] - m0[1]):.0f}% of its {os.cpu_count()} cores busy on average")
sys.exit(0 if done == n else 1)
PY

if [ "$HOSTS" -gt 1 ]; then
  step "Which host holds each control-queue partition now (the task hub's partition table)"
  dotnet run -c Release scripts/partitions.cs -- "$SMC_STORAGE__CONNECTIONSTRING" smchub | python3 -c '
import json, sys
pids = sys.argv[1].split(",")
for line in sys.stdin:
    d = json.loads(line)
    pid = (d["owner"] or "").rsplit("/", 1)[-1]
    print("%-22s host %s" % (d["partition"], f"{pids.index(pid) + 1}/{len(pids)} (pid {pid})" if pid in pids else d["owner"] or "none"))
' "$CONTROL_PIDS"
fi

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
