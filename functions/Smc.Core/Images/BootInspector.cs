using System.Text;
using Smc.Core.Domain;
using Smc.Disks;
using Smc.Wire.Inventory;

namespace Smc.Core.Images;

/// <summary>
/// Whether an image will boot on the target, read from the image's own bytes (no mount, no root): its boot mode and
/// loader, the root file system's <c>/etc/fstab</c> and the boot loader's <c>root=</c> against this image's own
/// partitions (a device name like <c>/dev/sda2</c> changes on the target; a UUID that no partition of the image has
/// won't be found), the kernel and initramfs the loader boots, and the virtio drivers in that initramfs (or built into
/// the kernel). ext2/3/4 root and boot file systems are read (<see cref="ExtFileSystem"/>); others are reported as not
/// inspected, never guessed.
/// </summary>
public static class BootInspector
{
    private const string EfiSystemPartition = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
    private const string BiosBootPartition = "21686148-6449-6E6F-744E-656564454649";
    private const long MaxConfigBytes = 4L << 20;
    private const long MaxInitramfsBytes = 512L << 20;

    private static readonly string[] GrubConfigs = ["grub/grub.cfg", "grub2/grub.cfg"];

    /// <summary>The drivers a KVM guest on ECS needs to reach its disk and network.</summary>
    public static readonly string[] VirtioDrivers = ["virtio_blk", "virtio_scsi", "virtio_net", "virtio_pci"];

    public static BootReadiness Inspect(DiskReader disk)
    {
        var checks = new List<BootCheck>();
        DiskInfo info = DiskInspector.Inspect(disk, "image");
        bool uefi = info.Parts.Any(p => string.Equals(p.TypeId, EfiSystemPartition, StringComparison.OrdinalIgnoreCase) || p.TypeId == "ef");
        checks.Add(Pass("boot.mode", uefi ? "UEFI: the image has an EFI system partition." : "BIOS: the image has no EFI system partition."));
        checks.Add(Loader(disk, info, uefi));

        // The root file system: an ext file system with /etc/fstab; /boot may be its own.
        var ext = new List<(PartitionInfo Part, ExtFileSystem Fs)>();
        foreach (PartitionInfo part in info.Parts.Where(p => p.FileSystem is "ext2" or "ext3" or "ext4"))
        {
            try
            {
                ext.Add((part, ExtFileSystem.Open(disk, part.StartBytes, part.SizeBytes)));
            }
            catch (DiskFormatException e)
            {
                checks.Add(Warn("filesystem.read", $"Partition {part.Number} ({part.FileSystem}) can't be read: {e.Message}", null));
            }
        }

        (PartitionInfo Part, ExtFileSystem Fs)? root = ext.Cast<(PartitionInfo, ExtFileSystem)?>()
            .FirstOrDefault(x => x!.Value.Item2.Lookup("/etc/fstab") is { IsRegular: true });
        if (root is not { } r)
        {
            string others = string.Join(", ", info.Parts.Where(p => p.FileSystem is not null).Select(p => $"{p.Number}: {p.FileSystem}"));
            checks.Add(Warn("boot.root", $"No ext2/3/4 file system of the image holds /etc/fstab (file systems: {(others.Length == 0 ? "none" : others)}); the root file system was not inspected.", null));
            return new BootReadiness { Checks = checks, BootMode = uefi ? "UEFI" : "BIOS" };
        }

        string fstab = Encoding.UTF8.GetString(r.Fs.ReadFile(r.Fs.Lookup("/etc/fstab")!, MaxConfigBytes));
        checks.Add(Fstab(fstab, info, ext));

        // /boot: on the root file system, or the file system fstab mounts there.
        ExtFileSystem? bootFs = r.Fs;
        string bootDir = "/boot";
        string? bootSpec = FstabEntries(fstab).FirstOrDefault(e => e.MountPoint == "/boot").Spec;
        if (bootSpec is not null)
        {
            bootFs = Resolve(bootSpec, info, ext) is { } b ? ext.FirstOrDefault(x => x.Part == b).Fs : null;
            bootDir = "/";
        }

        if (bootFs is null)
        {
            checks.Add(Fail("boot.kernel", $"/etc/fstab mounts /boot from {bootSpec}, which is not an ext file system of this image.", "Name /boot's file system by UUID=, as blkid prints it."));
            return new BootReadiness { Checks = checks, BootMode = uefi ? "UEFI" : "BIOS" };
        }

        string? grubCfg = GrubConfigs.Select(c => Join(bootDir, c)).FirstOrDefault(c => bootFs.Lookup(c) is { IsRegular: true });
        string? config = grubCfg is null ? null : Encoding.UTF8.GetString(bootFs.ReadFile(bootFs.Lookup(grubCfg)!, MaxConfigBytes));
        checks.Add(RootArgument(config, info, ext));

        // The kernel and initramfs: the first the loader's config names, else the newest in /boot.
        List<string> bootFiles = bootFs.Lookup(bootDir) is { IsDirectory: true } bootInode ? [.. bootFs.ReadDirectory(bootInode).Select(e => e.Name)] : [];
        string? kernel = FirstWord(config, "linux") is { } k ? Path.GetFileName(k) : bootFiles.Where(f => f.StartsWith("vmlinuz-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).LastOrDefault();
        string? version = kernel?.StartsWith("vmlinuz-", StringComparison.Ordinal) == true ? kernel["vmlinuz-".Length..] : null;
        string? initrd = FirstWord(config, "initrd") is { } i ? Path.GetFileName(i)
            : version is null ? null : bootFiles.FirstOrDefault(f => f == $"initrd.img-{version}" || f == $"initramfs-{version}.img");
        if (kernel is null || bootFs.Lookup(Join(bootDir, kernel)) is not { IsRegular: true })
        {
            checks.Add(Fail("boot.kernel", kernel is null ? "No kernel (vmlinuz-*) in /boot." : $"The boot loader boots /boot/{kernel}, which this image doesn't have.", "Install a kernel package on the source (e.g. linux-image-amd64) and update the boot loader."));
            return new BootReadiness { Checks = checks, BootMode = uefi ? "UEFI" : "BIOS", Kernel = kernel };
        }

        if (initrd is null || bootFs.Lookup(Join(bootDir, initrd)) is not { IsRegular: true } initrdInode)
        {
            checks.Add(Fail("boot.kernel", $"The kernel /boot/{kernel} has no initramfs{(initrd is null ? "" : $" (/boot/{initrd} is missing)")}.", "Rebuild it on the source: update-initramfs -u (Debian/Ubuntu) or dracut -f (RHEL, SUSE)."));
            return new BootReadiness { Checks = checks, BootMode = uefi ? "UEFI" : "BIOS", Kernel = kernel };
        }

        checks.Add(Pass("boot.kernel", $"Kernel /boot/{kernel} with initramfs /boot/{initrd}."));
        checks.Add(Virtio(r.Fs, version, bootFs.ReadFile(initrdInode, MaxInitramfsBytes), initrd));
        return new BootReadiness { Checks = checks, BootMode = uefi ? "UEFI" : "BIOS", Kernel = kernel, Initramfs = initrd };
    }

    private static BootCheck Loader(DiskReader disk, DiskInfo info, bool uefi)
    {
        if (uefi)
        {
            return Pass("boot.loader", "UEFI: the firmware starts the loader on the EFI system partition.");
        }

        var mbr = new byte[512];
        disk.ReadAt(0, mbr);
        bool grub = mbr.AsSpan(0, 440).IndexOf("GRUB"u8) >= 0;
        bool biosBoot = info.Parts.Any(p => string.Equals(p.TypeId, BiosBootPartition, StringComparison.OrdinalIgnoreCase));
        if (!grub || mbr.AsSpan(0, 440).IndexOfAnyExcept((byte)0) < 0)
        {
            return Fail("boot.loader", "The image's first sector holds no boot loader (no GRUB boot code): the BIOS has nothing to start.",
                "Install GRUB on the source's boot disk: grub-install /dev/<disk> (on GPT with a BIOS boot partition), then update-grub.");
        }

        if (info.PartitionTable == "gpt" && !biosBoot)
        {
            return Fail("boot.loader", "GRUB boot code in the first sector, but a GPT disk without a BIOS boot partition: its core image has nowhere to live.",
                "Add a 1 MiB BIOS boot partition (type 21686148-…) and run grub-install again, or boot with UEFI.");
        }

        return Pass("boot.loader", info.PartitionTable == "gpt" ? "GRUB in the first sector with a BIOS boot partition." : "GRUB in the first sector (MBR).");
    }

    private static BootCheck Fstab(string fstab, DiskInfo info, List<(PartitionInfo Part, ExtFileSystem Fs)> ext)
    {
        var problems = new List<string>();
        foreach ((string spec, string mountPoint, string type) in FstabEntries(fstab))
        {
            if (type is "proc" or "sysfs" or "tmpfs" or "devpts" or "nfs" or "nfs4" or "cifs" || spec is "none" or "tmpfs" or "proc")
            {
                continue;
            }

            if (IsDeviceName(spec))
            {
                problems.Add($"{mountPoint} is {spec}, a device name that changes on the target");
            }
            else if (spec.Contains('=', StringComparison.Ordinal) && Resolve(spec, info, ext) is null)
            {
                problems.Add($"{mountPoint} is {spec}, which no file system of this image has");
            }
        }

        return problems.Count == 0
            ? Pass("fstab.devices", "/etc/fstab names its file systems by UUID, LABEL or PARTUUID, and each is in this image.")
            : Fail("fstab.devices", "/etc/fstab: " + string.Join("; ", problems) + ".", "Name each file system by UUID= (as blkid prints it) in /etc/fstab; smc-agent check --fix does it.");
    }

    private static BootCheck RootArgument(string? config, DiskInfo info, List<(PartitionInfo Part, ExtFileSystem Fs)> ext)
    {
        if (config is null)
        {
            return Warn("boot.root", "No GRUB configuration in /boot/grub or /boot/grub2; the kernel's root= was not checked.", null);
        }

        string? root = FirstWord(config, "linux", "root=");
        if (root is null)
        {
            return Warn("boot.root", "The boot loader's first kernel line has no root=.", null);
        }

        if (IsDeviceName(root))
        {
            return Fail("boot.root", $"The boot loader boots with root={root}, a device name that changes on the target.", "Set GRUB_DISABLE_LINUX_UUID=false (or remove it) in /etc/default/grub and run update-grub, so root= is a UUID.");
        }

        return Resolve(root, info, ext) is not null
            ? Pass("boot.root", $"The boot loader's root={root} is a file system of this image.")
            : Fail("boot.root", $"The boot loader's root={root} is no file system of this image.", "Run update-grub on the source so root= names the root file system's UUID.");
    }

    private static BootCheck Virtio(ExtFileSystem root, string? version, byte[] initramfs, string initrd)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        if (version is not null && root.Lookup($"/lib/modules/{version}/modules.builtin") is { IsRegular: true } builtin)
        {
            foreach (string line in Encoding.UTF8.GetString(root.ReadFile(builtin, MaxConfigBytes)).Split('\n'))
            {
                present.UnionWith(VirtioDrivers.Where(d => ModuleName(line) == d));
            }
        }

        (List<string> names, string? unreadable) = InitramfsReader.ListNames(initramfs);
        present.UnionWith(VirtioDrivers.Where(d => names.Any(n => ModuleName(n) == d)));
        string[] missing = [.. VirtioDrivers.Where(d => !present.Contains(d))];
        if (missing.Length == 0)
        {
            return Pass("drivers.virtio", $"virtio drivers ({string.Join(", ", VirtioDrivers)}) are built in or in /boot/{initrd}.");
        }

        return unreadable is not null
            ? Warn("drivers.virtio", $"Part of /boot/{initrd} is compressed with {unreadable}, which is not read here; found {(present.Count == 0 ? "no virtio driver" : string.Join(", ", present))} in the rest.", null)
            : Fail("drivers.virtio", $"/boot/{initrd} lacks {string.Join(", ", missing)} (neither built into the kernel nor in the initramfs): the kernel won't find its disk on the target.",
                "Add them to the initramfs on the source: echo virtio_blk virtio_scsi virtio_net virtio_pci >> /etc/initramfs-tools/modules && update-initramfs -u (Debian/Ubuntu), or dracut -f --add-drivers \"virtio_blk virtio_scsi virtio_net virtio_pci\" (RHEL, SUSE).");
    }

    /// <summary>A module's name from a path like <c>kernel/drivers/block/virtio_blk.ko.zst</c>.</summary>
    private static string ModuleName(string path)
    {
        string file = Path.GetFileName(path.Trim());
        int ko = file.IndexOf(".ko", StringComparison.Ordinal);
        return (ko < 0 ? "" : file[..ko]).Replace('-', '_');
    }

    private static IEnumerable<(string Spec, string MountPoint, string Type)> FstabEntries(string fstab) =>
        fstab.Split('\n').Select(l => l.Split('#')[0].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 3).Select(f => (f[0], f[1], f[2]));

    private static bool IsDeviceName(string spec) =>
        spec.StartsWith("/dev/", StringComparison.Ordinal) && !spec.StartsWith("/dev/disk/by-", StringComparison.Ordinal)
        && !spec.StartsWith("/dev/mapper/", StringComparison.Ordinal) && !spec.StartsWith("/dev/md", StringComparison.Ordinal);

    /// <summary>The partition a UUID=, LABEL=, PARTUUID= or /dev/disk/by-* spec names in this image, or null.</summary>
    private static PartitionInfo? Resolve(string spec, DiskInfo info, List<(PartitionInfo Part, ExtFileSystem Fs)> ext)
    {
        (string kind, string value) = spec switch
        {
            _ when spec.StartsWith("/dev/disk/by-uuid/", StringComparison.Ordinal) => ("UUID", spec[18..]),
            _ when spec.StartsWith("/dev/disk/by-label/", StringComparison.Ordinal) => ("LABEL", spec[19..]),
            _ when spec.StartsWith("/dev/disk/by-partuuid/", StringComparison.Ordinal) => ("PARTUUID", spec[22..]),
            _ when spec.Contains('=', StringComparison.Ordinal) => (spec[..spec.IndexOf('=', StringComparison.Ordinal)].ToUpperInvariant(), spec[(spec.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim('"')),
            _ => ("", ""),
        };
        return kind switch
        {
            "UUID" => info.Parts.FirstOrDefault(p => string.Equals(p.FileSystemId, value, StringComparison.OrdinalIgnoreCase)),
            "LABEL" => ext.FirstOrDefault(x => x.Fs.Label == value).Part ?? info.Parts.FirstOrDefault(p => p.Label == value),
            "PARTUUID" => info.Parts.FirstOrDefault(p => string.Equals(p.PartitionGuid, value, StringComparison.OrdinalIgnoreCase)),
            _ => null,
        };
    }

    /// <summary>From the first line of <paramref name="config"/> whose first word is <paramref name="command"/>: its second word, or the value of <paramref name="argument"/>.</summary>
    private static string? FirstWord(string? config, string command, string? argument = null)
    {
        foreach (string line in (config ?? "").Split('\n'))
        {
            string[] words = line.Trim().Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length >= 2 && words[0] == command)
            {
                return argument is null ? words[1] : words.FirstOrDefault(w => w.StartsWith(argument, StringComparison.Ordinal))?[argument.Length..];
            }
        }

        return null;
    }

    private static string Join(string dir, string name) => dir.TrimEnd('/') + "/" + name;

    private static BootCheck Pass(string id, string message) => new(id, BootCheck.Pass, message, null);

    private static BootCheck Warn(string id, string message, string? fix) => new(id, BootCheck.Warn, message, fix);

    private static BootCheck Fail(string id, string message, string fix) => new(id, BootCheck.Fail, message, fix);
}
