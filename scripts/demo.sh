#!/usr/bin/env bash
# The main command: a local migration run on the embedded default (Azurite storage, local image store).
# It installs what it needs, starts Azurite and smc-control, builds a sample source disk with the real
# sfdisk/mkfs tools (or takes SMC_DEMO_DISK=/dev/… or an image file), installs the agent through the
# control plane's install script, runs `smc-agent migrate`, and checks the destination image against the source.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
bash scripts/setup.sh
WORK="$ROOT/.artifacts/demo"
source scripts/lib.sh
build_and_start
step "Build a sample source disk (GPT, 1 GiB: EFI vfat, root ext4 with ~250 MiB of mixed files, data ext4, swap)"
DISK="${SMC_DEMO_DISK:-}"
if [ -z "$DISK" ]; then
  DISK="$WORK/source-disk.img"
  truncate -s 1G "$DISK"
  printf 'label: gpt\nstart=2048, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI"\nstart=133120, size=1310720, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"\nstart=1443840, size=524288, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="data"\nstart=1968128, size=126976, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, name="swap"\n' | sfdisk -q "$DISK"
  python3 - "$WORK" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(42)
def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f: f.write(data)
words = [bytes(rnd.choice("abcdefghijklmnopqrstuvwxyz") * rnd.randint(1, 9), "ascii") for _ in range(5000)]
for i in range(600):   # ~120 MiB of web pages and logs (compressible)
    write(f"{root}/tree/var/www/site/page{i:04}.html", b"<html><body>" + b" ".join(rnd.choice(words) for _ in range(20000)) + b"</body></html>\n")
for i in range(12):    # ~96 MiB of binaries (incompressible)
    write(f"{root}/tree/usr/lib/app/blob{i:02}.bin", rnd.randbytes(8 << 20))
write(f"{root}/tree/var/lib/db/sparse-ish.dat", b"\0" * (16 << 20) + rnd.randbytes(1 << 20))
write(f"{root}/tree/etc/hostname", b"web-1\n")
os.symlink("/var/www/site/page0000.html", f"{root}/tree/var/www/index.html")
for i in range(40):    # ~40 MiB on the data partition
    write(f"{root}/data/backups/dump{i:02}.sql", b"INSERT INTO t VALUES " + b",".join(b"(%d,'%s')" % (k, rnd.choice(words)) for k in range(90000)) + b";\n")
PY
  mkfs.ext4 -q -F -d "$WORK/tree" -E offset=$((133120 * 512)) "$DISK" 640M
  mkfs.ext4 -q -F -d "$WORK/data" -E offset=$((1443840 * 512)) "$DISK" 256M
  truncate -s 64M "$WORK/efi.part" && mkfs.vfat "$WORK/efi.part" >/dev/null && dd if="$WORK/efi.part" of="$DISK" bs=512 seek=2048 conv=notrunc status=none
  truncate -s 62M "$WORK/swap.part" && chmod 600 "$WORK/swap.part" && mkswap "$WORK/swap.part" >/dev/null 2>&1 && dd if="$WORK/swap.part" of="$DISK" bs=512 seek=1968128 conv=notrunc status=none
fi
"$AGENT_BIN" inspect --disk "$DISK"

step "Upload the agent to the control plane, make an activation code, install the agent from install.sh"
curl -fsS -X PUT -H "$K" --data-binary @"$AGENT_BIN" "$API/agent-packages/linux-x64" | json '"agent package: %s bytes, sha256 %s" % (d["sizeBytes"], d["sha256"])'
CODE=$(curl -fsS -X POST -H "$K" -d '{"name":"demo","count":5,"timeToLiveInDays":1}' "$API/access-tokens" | json 'd["accessTokenCode"]')
echo "on a source: read -r CODE; printf 'Authorization: Bearer %s\\n' \"\$CODE\" | curl -fsS -H @- $SERVER/api/v1/agent/install.sh | sudo sh"
curl -fsS "$API/agent/install.sh?code=$CODE" | SMC_AGENT_DIR="$WORK/bin" SMC_AGENT_CONFIG="$WORK/agent.json" SMC_AGENT_DISKS="$DISK" SMC_NO_UNIT=1 sh
SOURCE_ID=$(json 'd["sourceId"]' < "$WORK/agent.json")
curl -fsS -H "$K" "$API/source-servers/$SOURCE_ID" | json '"source %s: %s, %s disk(s), %s" % (d["sourceId"], d["state"], len(d["disks"]), d["platform"])'

step "Migrate: smc-agent migrate (job → block copy → staging → assembly → local image)"
START=$(date +%s)
"$WORK/bin/smc-agent" migrate --server "$SERVER" --code "$CODE" --config "$WORK/agent.json" --name demo-migration --image-name web-1 --json > "$WORK/job.json"
END=$(date +%s)
IMAGE_ID=$(json 'd["replicationJobRuns"][-1]["imageId"]' < "$WORK/job.json")
json '"job %s: %s in %ss, image %s; uploaded %.1f MiB for %.1f MiB in use" % (d["jobId"], d["status"], '"$((END-START))"', d["replicationJobRuns"][-1]["imageId"], d["replicationJobRuns"][-1]["uploadedBytes"]/1048576, d["replicationJobRuns"][-1]["changedBytes"]/1048576)' < "$WORK/job.json"

step "Check the destination image against the source"
curl -fsS -H "$K" "$API/images/$IMAGE_ID" | json '"image %s (%s): %s" % (d["imageId"], d["status"], "; ".join("disk %d %d MiB %s [%s]" % (x["index"], x["sizeBytes"] >> 20, x["partitionTable"], ", ".join("%s %s" % (p["number"], p.get("fileSystem") or "?") for p in x["parts"])) for x in d["disks"]))'
curl -fsS -H "$K" -o "$WORK/dest-disk0.raw" "$API/images/$IMAGE_ID/disks/0"
# sgdisk -v exits 0 even when it reports problems: its report is what counts.
if sgdisk -v "$WORK/dest-disk0.raw" | grep -q "No problems found"; then
  echo "partition table: sgdisk -v finds no problems"
else
  sgdisk -v "$WORK/dest-disk0.raw"
  echo "RESULT: the destination's partition table has problems (sgdisk -v above)" >&2
  exit 1
fi
python3 - "$DISK" "$WORK/dest-disk0.raw" <<'PY'
import json, subprocess, sys
src, dst = sys.argv[1], sys.argv[2]
table = lambda p: json.loads(subprocess.check_output(["sfdisk", "--json", p]))["partitiontable"]
ts, td = table(src), table(dst)
ok = True
for i, (a, b) in enumerate(zip(ts["partitions"], td["partitions"]), 1):
    same = all(a.get(k) == b.get(k) for k in ("start", "size", "type", "uuid", "name"))
    with open(src, "rb") as fa, open(dst, "rb") as fb:
        fa.seek(a["start"] * 512); fb.seek(b["start"] * 512)
        left, equal = a["size"] * 512, True
        while left and equal:
            n = min(left, 4 << 20); equal = fa.read(n) == fb.read(n); left -= n
    print(f"partition {i}: {'same place and size' if same else 'MOVED'}, bytes {'identical' if equal else 'DIFFER'}")
    ok &= same and equal
sys.exit(0 if ok else 1)
PY
for p in 2 3; do
  start=$(sfdisk --json "$WORK/dest-disk0.raw" | json "d['partitiontable']['partitions'][$((p-1))]['start']")
  size=$(sfdisk --json "$WORK/dest-disk0.raw" | json "d['partitiontable']['partitions'][$((p-1))]['size']")
  dd if="$WORK/dest-disk0.raw" of="$WORK/dest-p$p.ext4" bs=512 skip="$start" count="$size" status=none
  e2fsck -fn "$WORK/dest-p$p.ext4" >/dev/null 2>&1 && echo "partition $p: e2fsck -fn clean"
done
mkdir -p "$WORK/restored" && debugfs -R "rdump / $WORK/restored" "$WORK/dest-p2.ext4" 2>/dev/null
if diff -r --no-dereference -x lost+found "$WORK/tree" "$WORK/restored/" >/dev/null 2>&1 || [ -n "${SMC_DEMO_DISK:-}" ]; then echo "root file system: every file equal to the source"; else echo "root file system differs"; exit 1; fi
echo
echo "RESULT: migrated $DISK to image $IMAGE_ID ($(json 'd["status"]' < "$WORK/job.json")); the destination disk reproduces the source."
