#!/usr/bin/env bash
# Installs what the project needs on a fresh machine (idempotent): the Linux tools that make and check
# disk images, and the pinned Azurite from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in sfdisk:fdisk sgdisk:gdisk mkfs.ext4:e2fsprogs mkfs.xfs:xfsprogs mkntfs:ntfs-3g mkfs.vfat:dosfstools \
            blkid:util-linux mkswap:util-linux curl:curl python3:python3 sha256sum:coreutils rsync:rsync \
            docker-registry:docker-registry skopeo:skopeo htpasswd:apache2-utils setfattr:attr chromium:chromium \
            lvm:lvm2 xfs_io:xfsprogs fsfreeze:util-linux losetup:mount cpio:cpio zstd:zstd debootstrap:debootstrap \
            qemu-system-x86_64:qemu-system-x86 grub-mkimage:grub-common mcopy:mtools; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair##*:}")
done
# The EIO test serves a disk image through a small FUSE file system (python3-fusepy, which pulls libfuse2) and
# the incremental-round benchmark compares with rsync. The registry tests push to Debian's docker-registry (started by
# the tests on loopback from their own config; htpasswd makes its bcrypt logins) and read back with skopeo; the tree
# capture test sets extended attributes with setfattr. The dashboard test drives Debian's Chromium with Playwright
# (never a downloaded browser). The live-source tests (root) use loop devices, mount, fsfreeze and xfs_io's GETFSMAP; the
# LVM test writes real metadata with lvm2 (without device-mapper). The boot-readiness tests pack initramfs images with cpio
# and zstd, as distributions do. The boot tests build a Debian system with debootstrap (from the Debian mirror), put
# GRUB for BIOS on its disk (grub-pc-bin's modules and boot.img) or for UEFI on its ESP (grub-efi-amd64-bin's modules,
# the FAT file system written with mtools, no mount) and boot it in qemu (TCG; OVMF is the UEFI firmware).
[ -f /usr/lib/python3/dist-packages/fusepy.py ] || need+=(python3-fusepy)
[ -f /usr/lib/grub/i386-pc/boot.img ] || need+=(grub-pc-bin)
[ -d /usr/lib/grub/x86_64-efi ] || need+=(grub-efi-amd64-bin)
[ -f /usr/share/ovmf/OVMF.fd ] || need+=(ovmf)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "setup: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/azurite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci (Azurite, the OpenAPI validator, Alibaba's official clients)"
  npm ci --no-audit --no-fund --loglevel=error
fi
