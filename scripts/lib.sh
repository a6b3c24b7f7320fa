# Shared by scripts/demo.sh and scripts/bench.sh (sourced): build, start Azurite and smc-control on free
# loopback ports, stop everything on exit. Expects ROOT and WORK; sets SERVER, API, K, AGENT_BIN, CONN.
rm -rf "$WORK"; mkdir -p "$WORK"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

build_and_start() {
  step "Build the control plane and publish the single-file agent"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  # ReadyToRun, tiered compilation off: the host starts with its code compiled and keeps that code, instead of
  # JIT-compiling and re-compiling it under the first jobs' load (a fresh host spent a quarter of its CPU in the JIT
  # during scripts/load.sh; docs/performance.md).
  dotnet publish functions/Smc.Control -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -p:TieredCompilation=false \
    -o .artifacts/control -v quiet -nologo > "$WORK/publish-control.log" 2>&1 \
    || { grep -E " error " "$WORK/publish-control.log" | sort -u; echo "smc-control did not build (log: $WORK/publish-control.log)"; exit 1; }
  dotnet publish agent/Smc.Agent -c Release -r linux-x64 --self-contained -o .artifacts/agent/linux-x64 -v quiet -nologo > "$WORK/publish-agent.log" 2>&1 \
    || { grep -E " error " "$WORK/publish-agent.log" | sort -u; echo "smc-agent did not build (log: $WORK/publish-agent.log)"; exit 1; }
  AGENT_BIN="$ROOT/.artifacts/agent/linux-x64/smc-agent"
  ls -l "$AGENT_BIN"

  step "Start Azurite (storage emulator) and smc-control"
  local blob queue table
  blob=$(free_port); queue=$(free_port); table=$(free_port)
  node_modules/.bin/azurite --silent --inMemoryPersistence ${SMC_AZURITE_ARGS:-} --skipApiVersionCheck --loose \
    --blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue" --tableHost 127.0.0.1 --tablePort "$table" \
    > "$WORK/azurite.log" 2>&1 & pids+=($!)
  CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"
  export SMC_STORAGE__CONNECTIONSTRING="$CONN"
  export SMC_ADMIN_KEY="op.$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
  export SMC_CONTROL__HEARTBEATRATESECONDS=5
  export SMC_SECURITY__MASTERKEYFILE="$WORK/master.key"
  local port=7071
  (echo > /dev/tcp/127.0.0.1/7071) 2>/dev/null && port=$(free_port)
  SERVER="http://127.0.0.1:$port"
  start_control "$SERVER" smc-control "${SMC_CONTROL_CGROUP:-}"
  K="x-functions-key: $SMC_ADMIN_KEY"; API="$SERVER/api/v1"
}

# start_control URL NAME [CGROUP]: one more smc-control on the same storage account (the task hub's partitions are
# shared between the hosts); its log is $WORK/NAME.log and its pid the last of pids. CGROUP, a cgroup (v1 cpu) directory,
# is where it starts (so the runtime sizes itself to that cgroup's CPU quota).
start_control() {
  if [ -n "${3:-}" ]; then
    sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$3" dotnet .artifacts/control/smc-control.dll --urls "$1" > "$WORK/$2.log" 2>&1 & pids+=($!)
  else
    dotnet .artifacts/control/smc-control.dll --urls "$1" > "$WORK/$2.log" 2>&1 & pids+=($!)
  fi
  for _ in $(seq 1 120); do grep -q "smc-control listening" "$WORK/$2.log" && break; sleep 0.5; done
  grep -q "smc-control listening" "$WORK/$2.log" || { cat "$WORK/$2.log"; exit 1; }
  echo "$2 on $1 (log: $WORK/$2.log)"
}
