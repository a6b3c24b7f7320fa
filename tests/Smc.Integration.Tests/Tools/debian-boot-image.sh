#!/usr/bin/env bash
# A bootable Debian 12 system disk for the boot tests, made with the real tools and cached:
#   debian-boot-image.sh OUT.img [virtio|no-virtio|no-loader]
# debootstrap (minbase + linux-image-amd64, systemd-sysv, initramfs-tools) into a tree; fstab and GRUB by UUID, the
# console on ttyS0; the tree as ext4 (mkfs.ext4 -d) in partition 2 of a GPT disk whose partition 1 is a BIOS boot
# partition holding GRUB's core image (grub-mkimage -O i386-pc), with boot.img's code in the MBR pointing at it.
# grub-install is not used: it probes the host's devices. "no-virtio" rebuilds the initramfs with only the modules
# listed (none of virtio): a system that can't find its disk on a KVM/virtio target. "no-loader" leaves GRUB's boot code
# out of the first sector and the BIOS boot partition: the firmware has nothing to start.
# The result is cached under /var/cache/smc-tests by this script's hash and the variant; OUT is a sparse copy.
set -euo pipefail
OUT=${1:?usage: debian-boot-image.sh OUT.img [virtio|no-virtio]}
VARIANT=${2:-virtio}
ROOT_UUID=5e0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
CACHE=${SMC_TEST_CACHE:-/var/cache/smc-tests}
KEY=$(sha256sum "$0" | cut -c1-16)
CACHED="$CACHE/debian12-$KEY-$VARIANT.img"
mkdir -p "$CACHE"
if [ -f "$CACHED" ]; then
  cp --sparse=always "$CACHED" "$OUT"
  exit 0
fi

exec 9>"$CACHE/.lock"
flock 9
if [ -f "$CACHED" ]; then
  cp --sparse=always "$CACHED" "$OUT"
  exit 0
fi

# What an earlier version of this script built is of no further use.
find "$CACHE" -maxdepth 1 -name 'debian12-*' ! -name "debian12-$KEY-*" -exec rm -rf {} +
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'umount -R "$WORK/root/proc" 2>/dev/null || true; rm -rf "$WORK"' EXIT
TREE="$CACHE/debian12-$KEY-tree"
# The Debian mirror this machine's apt uses (the one its network allows), else deb.debian.org.
MIRROR=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | grep '/debian$' | head -1 || true)
MIRROR=${MIRROR:-$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep '/debian$' | head -1 || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
if [ ! -d "$TREE" ]; then
  debootstrap --variant=minbase --include=linux-image-amd64,systemd-sysv,initramfs-tools,udev,kmod \
    bookworm "$WORK/tree" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
  rm -rf "$WORK/tree/var/cache/apt/archives/"*.deb "$WORK/tree/usr/share/doc" "$WORK/tree/usr/share/man" "$WORK/tree/usr/share/locale"
  mv "$WORK/tree" "$TREE"
fi
cp -a "$TREE" "$WORK/root"
ROOT="$WORK/root"
VERSION=$(basename "$(ls "$ROOT"/boot/vmlinuz-* | sort | tail -1)" | sed 's/^vmlinuz-//')

echo "smc-boot" > "$ROOT/etc/hostname"
printf 'UUID=%s / ext4 errors=remount-ro 0 1\nproc /proc proc defaults 0 0\n' "$ROOT_UUID" > "$ROOT/etc/fstab"
# No password on root: the serial console's login prompt is what a boot from the disk's own sectors is judged by.
sed -i 's/^root:[^:]*:/root::/' "$ROOT/etc/shadow"
if [ "$VARIANT" = no-virtio ]; then
  sed -i 's/^MODULES=.*/MODULES=list/' "$ROOT/etc/initramfs-tools/initramfs.conf"
  : > "$ROOT/etc/initramfs-tools/modules"
  mount -t proc proc "$ROOT/proc"
  chroot "$ROOT" update-initramfs -u -k "$VERSION" >/dev/null 2>&1
  umount "$ROOT/proc"
fi

mkdir -p "$ROOT/boot/grub/i386-pc"
cp /usr/lib/grub/i386-pc/*.mod /usr/lib/grub/i386-pc/*.lst "$ROOT/boot/grub/i386-pc/"
cat > "$ROOT/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
menuentry 'Debian GNU/Linux' {
	insmod part_gpt
	insmod ext2
	search --no-floppy --fs-uuid --set=root $ROOT_UUID
	linux	/boot/vmlinuz-$VERSION root=UUID=$ROOT_UUID ro console=ttyS0
	initrd	/boot/initrd.img-$VERSION
}
EOF
printf 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=0\nGRUB_CMDLINE_LINUX="console=ttyS0"\nGRUB_TERMINAL=serial\n' > "$ROOT/etc/default/grub"

# The disk: 1 MiB BIOS boot partition at 1 MiB, the root file system from 2 MiB.
ROOT_MIB=1400
truncate -s $(((ROOT_MIB + 3) * 1024 * 1024)) "$WORK/disk.img"
printf 'label: gpt\nstart=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649\nstart=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' | sfdisk -q "$WORK/disk.img"
truncate -s "${ROOT_MIB}M" "$WORK/root.fs"
mkfs.ext4 -q -F -U "$ROOT_UUID" -L debian-root -d "$ROOT" "$WORK/root.fs"
dd if="$WORK/root.fs" of="$WORK/disk.img" bs=1M seek=2 conv=notrunc,sparse status=none

# GRUB for BIOS: core.img in the BIOS boot partition, its first sector (diskboot) told where the rest is; boot.img's
# code in the MBR (not the partition table) told where core.img starts.
grub-mkimage -O i386-pc -o "$WORK/core.img" -p "(hd0,gpt2)/boot/grub" biosdisk part_gpt ext2 search_fs_uuid
[ "$VARIANT" = no-loader ] || python3 - "$WORK/disk.img" "$WORK/core.img" /usr/lib/grub/i386-pc/boot.img <<'PY'
import struct, sys
disk, core, boot = sys.argv[1], bytearray(open(sys.argv[2], "rb").read()), open(sys.argv[3], "rb").read()
sectors = (len(core) + 511) // 512
assert sectors <= 2048, "core.img must fit the BIOS boot partition"
# diskboot.img's last blocklist entry (12 bytes at the end of its sector): start sector, count, segment.
struct.pack_into("<QH", core, 0x200 - 12, 2049, sectors - 1)
with open(disk, "r+b") as f:
    f.seek(2048 * 512); f.write(core)
    f.seek(0); mbr = bytearray(f.read(512))
    mbr[0:440] = boot[0:440]
    struct.pack_into("<Q", mbr, 0x5C, 2048)   # GRUB_BOOT_MACHINE_KERNEL_SECTOR
    f.seek(0); f.write(mbr)
PY

mv "$WORK/disk.img" "$CACHED.part" && mv "$CACHED.part" "$CACHED"
cp --sparse=always "$CACHED" "$OUT"
