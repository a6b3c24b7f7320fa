#!/usr/bin/env bash
# The test command: installs what it needs, builds with warnings as errors, checks formatting, runs every
# test project. Tests start their own Azurite, smc-control and smc-agent processes on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The boot tests' Debian disks (debootstrap once, then a disk per variant, cached in /var/cache/smc-tests) are built in
# the background from here, beside the build and the other tests, instead of inside the first boot tests on a fresh
# machine (~9 minutes there). A boot test that needs a disk not built yet waits on the script's own lock.
mkdir -p .artifacts
( for variant in no-virtio virtio fstab-devname no-loader uefi; do
    bash tests/Smc.Integration.Tests/Tools/debian-boot-image.sh - "$variant" || echo "building the $variant disk failed: the boot tests will try again"
  done ) < /dev/null > .artifacts/boot-disks.log 2>&1 &

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet restore SmcServerless.sln
dotnet build SmcServerless.sln -c Release --no-restore
dotnet format SmcServerless.sln --verify-no-changes --no-restore
bash infra/build.sh

results=".artifacts/test-results"
rm -rf "$results"
status=0
# A test that hangs fails after 10 minutes and the blame data names it (no test takes more than ~2 minutes here).
dotnet test SmcServerless.sln -c Release --no-build --logger "trx" --results-directory "$results" \
  --blame-hang --blame-hang-timeout 10m --blame-hang-dump-type none || status=$?
python3 scripts/summarize-trx.py "$results"
exit $status
