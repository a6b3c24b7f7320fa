#!/usr/bin/env bash
# Benchmark (not a test): the control plane's peak memory while it assembles one committed round, for a round of
# 262,144 and one of 2,097,152 chunks (scripts/bench-rounds.cs; docs/performance.md: "the memory of 262k- and 2M-chunk
# rounds"). For each size, a private Azurite (on disk under .artifacts/bench-rounds, free loopback ports) is
# prepared with the round by one process, then another assembles it as the orchestration's activities would
# (VerifyRound, every AssembleSlice, FinalizeImage) and prints its peak RSS per phase. Prints each size's two JSON
# lines (prepare, assemble) and the ratio of the peak RSS. SMC_BENCH_CHUNKS changes the sizes (default
# "262144 2097152").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WORK="$ROOT/.artifacts/bench-rounds"
SIZES="${SMC_BENCH_CHUNKS:-262144 2097152}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ ! -x node_modules/.bin/azurite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

azurite_pid=""
stop_azurite() { if [ -n "$azurite_pid" ]; then kill "$azurite_pid" 2>/dev/null || true; wait "$azurite_pid" 2>/dev/null || true; azurite_pid=""; fi; }
trap stop_azurite EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

rm -rf "$WORK"; mkdir -p "$WORK"
dotnet build -c Release scripts/bench-rounds.cs -v quiet -nologo | grep -E " error |rror CS" && exit 1
export SMC_SECURITY__MASTERKEY="$(head -c 32 /dev/urandom | base64)"
results=()
for n in $SIZES; do
  data="$WORK/azurite-$n"; mkdir -p "$data"
  blob=$(free_port); queue=$(free_port); table=$(free_port)
  node_modules/.bin/azurite --location "$data" --skipApiVersionCheck --disableProductStyleUrl --loose \
    --blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue" --tableHost 127.0.0.1 --tablePort "$table" \
    > "$WORK/azurite-$n.log" 2>&1 &
  azurite_pid=$!
  for _ in $(seq 1 120); do grep -q "Table service is successfully listening" "$WORK/azurite-$n.log" && break; sleep 0.5; done
  grep -q "Table service is successfully listening" "$WORK/azurite-$n.log" || { cat "$WORK/azurite-$n.log"; exit 1; }
  CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"

  echo "== $n chunks: prepare"
  start=$(date +%s.%N)
  prepared=$(dotnet run -c Release --no-build scripts/bench-rounds.cs -- prepare "$CONN" "$n" | tail -1)
  echo "$prepared"
  echo "prepare wall $(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$start" "$(date +%s.%N)") s"
  echo "== $n chunks: assemble"
  start=$(date +%s.%N)
  assembled=$(dotnet run -c Release --no-build scripts/bench-rounds.cs -- assemble "$CONN" "$(field "$prepared" jobId)" "$(field "$prepared" manifestSha256)" | tail -1)
  echo "$assembled"
  echo "assemble wall $(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$start" "$(date +%s.%N)") s"
  results+=("$assembled")
  stop_azurite
  rm -rf "$data"
done

python3 - "${results[@]}" <<'PY'
import json, sys
runs = [json.loads(a) for a in sys.argv[1:]]
for r in runs:
    p = r["phases"]
    print("%9d chunks, manifest %7.1f MiB: peak RSS %6d MiB (verify %d, slices %d, finalize %d within each phase), %5.1f s, %d MiB allocated"
          % (r["chunks"], r["manifestMiB"], r["peakRssMiB"], p["verify"]["phasePeakRssMiB"] or 0, p["slices"]["phasePeakRssMiB"] or 0,
             p["finalize"]["phasePeakRssMiB"] or 0, r["seconds"], r["allocatedMiB"]))
if len(runs) >= 2:
    print("peak RSS ratio %d / %d chunks: %.2f" % (runs[-1]["chunks"], runs[0]["chunks"], runs[-1]["peakRssMiB"] / runs[0]["peakRssMiB"]))
PY
