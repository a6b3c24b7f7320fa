#!/usr/bin/env bash
# A bootable Debian 12 system disk for the boot tests, made with the real tools and cached:
#   debian-boot-image.sh OUT.img [virtio|no-virtio|no-loader|fstab-devname|uefi]
# debootstrap (minbase + linux-image-amd64, systemd-sysv, initramfs-tools) into a tree; fstab and GRUB by UUID, the
# console on ttyS0; the tree as ext4 (mkfs.ext4 -d) in partition 2 of a GPT disk, a small ext4 data file system in
# partition 3 mounted at /srv. BIOS: partition 1 is a BIOS boot partition holding GRUB's core image
# (grub-mkimage -O i386-pc), with boot.img's code in the MBR pointing at it. grub-install is not used: it probes the
# host's devices. "no-virtio" rebuilds the initramfs with only the modules listed (none of virtio): a system that can't
# find its disk on a KVM/virtio target. "no-loader" leaves GRUB's boot code out of the first sector and the BIOS boot
# partition: the firmware has nothing to start. "fstab-devname" names / and /srv in fstab by /dev/sda2 and /dev/sda3, as
# older installers did: on a virtio target they are /dev/vda2 and /dev/vda3. "uefi" has an EFI system partition
# (FAT, written with mtools) as partition 1, mounted at /boot/efi, with GRUB for x86_64-efi (grub-mkimage -O x86_64-efi)
# at the removable-media path EFI/BOOT/BOOTX64.EFI that firmware without boot entries starts.
# The result is cached under /var/cache/smc-tests by this script's hash and the variant; OUT is a sparse copy ("-": only
# build the cache, as scripts/test.sh does in the background while the solution builds).
set -euo pipefail
OUT=${1:?usage: debian-boot-image.sh OUT.img|- [virtio|no-virtio|no-loader|fstab-devname|uefi]}
VARIANT=${2:-virtio}
ROOT_UUID=5e0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
DATA_UUID=da7a0003-3c4d-4e5f-8a9b-0c1d2e3f4a5b
ESP_ID=5EC0B007
CACHE=${SMC_TEST_CACHE:-/var/cache/smc-tests}
KEY=$(sha256sum "$0" | cut -c1-16)
CACHED="$CACHE/debian12-$KEY-$VARIANT.img"
mkdir -p "$CACHE"
deliver() { [ "$OUT" = - ] || cp --sparse=always "$CACHED" "$OUT"; }
if [ -f "$CACHED" ]; then
  deliver
  exit 0
fi

exec 9>"$CACHE/.lock"
flock 9
if [ -f "$CACHED" ]; then
  deliver
  exit 0
fi

# What an earlier version of this script built is of no further use.
find "$CACHE" -maxdepth 1 -name 'debian12-*' ! -name "debian12-$KEY-*" -exec rm -rf {} +
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'umount -R "$WORK/root/proc" "$WORK/tree/proc" 2>/dev/null || true; rm -rf "$WORK"' EXIT
TREE="$CACHE/debian12-$KEY-tree"
# The newest kernel of a tree (e.g. 6.1.0-50-amd64), and its initramfs made again in a chroot (update-initramfs reads /proc).
kernel_version() { basename "$(ls "$1"/boot/vmlinuz-* | sort | tail -1)" | sed 's/^vmlinuz-//'; }
rebuild_initramfs() {
  mount -t proc proc "$1/proc"
  chroot "$1" update-initramfs -u -k "$(kernel_version "$1")" >/dev/null 2>&1
  umount "$1/proc"
}
# The Debian mirror this machine's apt uses (the one its network allows), else deb.debian.org.
MIRROR=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | grep '/debian$' | head -1 || true)
MIRROR=${MIRROR:-$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep '/debian$' | head -1 || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
if [ ! -d "$TREE" ]; then
  debootstrap --variant=minbase --include=linux-image-amd64,systemd-sysv,initramfs-tools,udev,kmod \
    bookworm "$WORK/tree" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
  rm -rf "$WORK/tree/var/cache/apt/archives/"*.deb "$WORK/tree/usr/share/doc" "$WORK/tree/usr/share/man" "$WORK/tree/usr/share/locale"
  # Modules for hardware no virtual machine of the boot tests has (sound, graphics, cameras, Wi-Fi and Ethernet cards —
  # virtio_net is not among them —, Bluetooth, InfiniBand, sensors, staging): ~200 MB of the tree's ~610 that every boot
  # test would migrate again. The module index and the initramfs (MODULES=most) are rebuilt without them.
  TREE_VERSION=$(kernel_version "$WORK/tree")
  for dir in sound drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet drivers/bluetooth drivers/infiniband \
    drivers/iio drivers/staging net/wireless net/mac80211 net/bluetooth; do
    rm -rf "$WORK/tree/usr/lib/modules/$TREE_VERSION/kernel/$dir"
  done
  chroot "$WORK/tree" depmod -a "$TREE_VERSION"
  rebuild_initramfs "$WORK/tree"
  mv "$WORK/tree" "$TREE"
fi
cp -a "$TREE" "$WORK/root"
ROOT="$WORK/root"
VERSION=$(kernel_version "$ROOT")

echo "smc-boot" > "$ROOT/etc/hostname"
mkdir -p "$ROOT/srv" "$ROOT/boot/efi"
case "$VARIANT" in
  fstab-devname) printf '/dev/sda2 / ext4 errors=remount-ro 0 1\n/dev/sda3 /srv ext4 defaults 0 2\n' > "$ROOT/etc/fstab" ;;
  *) printf 'UUID=%s / ext4 errors=remount-ro 0 1\nUUID=%s /srv ext4 defaults 0 2\n' "$ROOT_UUID" "$DATA_UUID" > "$ROOT/etc/fstab" ;;
esac
[ "$VARIANT" != uefi ] || printf 'UUID=%s-%s /boot/efi vfat umask=0077 0 1\n' "${ESP_ID:0:4}" "${ESP_ID:4:4}" >> "$ROOT/etc/fstab"
printf 'proc /proc proc defaults 0 0\n' >> "$ROOT/etc/fstab"
# No password on root: the serial console's login prompt is what a boot from the disk's own sectors is judged by.
sed -i 's/^root:[^:]*:/root::/' "$ROOT/etc/shadow"
if [ "$VARIANT" = no-virtio ]; then
  sed -i 's/^MODULES=.*/MODULES=list/' "$ROOT/etc/initramfs-tools/initramfs.conf"
  : > "$ROOT/etc/initramfs-tools/modules"
  rebuild_initramfs "$ROOT"
fi

GRUB_TARGET=i386-pc
[ "$VARIANT" != uefi ] || GRUB_TARGET=x86_64-efi
mkdir -p "$ROOT/boot/grub/$GRUB_TARGET"
cp /usr/lib/grub/$GRUB_TARGET/*.mod /usr/lib/grub/$GRUB_TARGET/*.lst "$ROOT/boot/grub/$GRUB_TARGET/"
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

# The disk: partition 1 from 1 MiB (BIOS boot, 1 MiB; or the ESP, 32 MiB), the root file system after it, 16 MiB of
# data file system at the end.
ROOT_MIB=1400
P1_SECTORS=2048; P1_TYPE=21686148-6449-6E6F-744E-656564454649
[ "$VARIANT" != uefi ] || { P1_SECTORS=65536; P1_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B; }
ROOT_START=$((2048 + P1_SECTORS)); DATA_START=$((ROOT_START + ROOT_MIB * 2048))
truncate -s $(((DATA_START + 32768 + 2048) * 512)) "$WORK/disk.img"
printf 'label: gpt\nstart=2048, size=%s, type=%s\nstart=%s, size=%s, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\nstart=%s, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' \
  "$P1_SECTORS" "$P1_TYPE" "$ROOT_START" $((ROOT_MIB * 2048)) "$DATA_START" | sfdisk -q "$WORK/disk.img"
truncate -s "${ROOT_MIB}M" "$WORK/root.fs"
mkfs.ext4 -q -F -U "$ROOT_UUID" -L debian-root -d "$ROOT" "$WORK/root.fs"
dd if="$WORK/root.fs" of="$WORK/disk.img" bs=1M seek=$((ROOT_START * 512)) oflag=seek_bytes conv=notrunc,sparse status=none
mkdir -p "$WORK/data"; echo "data of smc-boot" > "$WORK/data/README"
truncate -s 16M "$WORK/data.fs"
mkfs.ext4 -q -F -U "$DATA_UUID" -L debian-data -d "$WORK/data" "$WORK/data.fs"
dd if="$WORK/data.fs" of="$WORK/disk.img" bs=1M seek=$((DATA_START * 512)) oflag=seek_bytes conv=notrunc,sparse status=none

if [ "$VARIANT" = uefi ]; then
  # GRUB for UEFI at the removable-media path of a FAT ESP, its prefix the root file system's /boot/grub.
  grub-mkimage -O x86_64-efi -o "$WORK/BOOTX64.EFI" -p "(hd0,gpt2)/boot/grub" part_gpt ext2 fat search_fs_uuid
  truncate -s 32M "$WORK/esp.fs"
  mkfs.vfat -n EFI -i "$ESP_ID" "$WORK/esp.fs" >/dev/null
  mmd -i "$WORK/esp.fs" ::/EFI ::/EFI/BOOT
  mcopy -i "$WORK/esp.fs" "$WORK/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
  dd if="$WORK/esp.fs" of="$WORK/disk.img" bs=1M seek=1 conv=notrunc,sparse status=none
  mv "$WORK/disk.img" "$CACHED.part" && mv "$CACHED.part" "$CACHED"
  deliver
  exit 0
fi

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
deliver
