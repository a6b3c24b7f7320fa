using System.Text;
using Smc.Wire.Boot;

namespace Smc.Boot;

/// <summary>What <see cref="BootRules.CheckTree"/> found besides its checks.</summary>
public sealed record BootFiles(string? Kernel, string? Initramfs, string? KernelVersion);

/// <summary>
/// The checks on a root file system's tree that say whether it boots on the target, the same for an image (read from
/// its bytes by the control plane) and a source (read by <c>smc-agent check</c>): <c>/etc/fstab</c> and the boot
/// loader's <c>root=</c> name file systems that exist by names that survive the move (a device name like
/// <c>/dev/sda2</c> becomes <c>/dev/vda2</c>), the kernel and initramfs the loader boots exist, and the virtio drivers a
/// KVM guest on ECS needs are built in or inside that initramfs.
/// </summary>
public static class BootRules
{
    public const long MaxConfigBytes = 4L << 20;
    public const long MaxInitramfsBytes = 512L << 20;

    /// <summary>The drivers a KVM guest on ECS needs to reach its disk and network.</summary>
    public static readonly string[] VirtioDrivers = ["virtio_blk", "virtio_scsi", "virtio_net", "virtio_pci"];

    /// <summary>Where GRUB's configuration is, relative to the directory holding /boot's files.</summary>
    public static readonly string[] GrubConfigs = ["grub/grub.cfg", "grub2/grub.cfg"];

    /// <summary>
    /// Runs the tree checks on <paramref name="root"/> (a tree holding <c>/etc/fstab</c>), adding them to
    /// <paramref name="checks"/>. <paramref name="volumes"/> are the file systems a spec may name;
    /// <paramref name="bootTree"/> finds the tree and directory holding <c>/boot</c>'s files when fstab mounts <c>/boot</c>
    /// from <paramref name="bootSpec"/> (null: not readable).
    /// </summary>
    public static BootFiles CheckTree(IFileTree root, IReadOnlyList<BootVolume> volumes, Func<string, (IFileTree Tree, string Dir)?> bootTree, List<BootCheck> checks)
    {
        string fstab = Encoding.UTF8.GetString(root.ReadFile("/etc/fstab", MaxConfigBytes));
        checks.Add(Fstab(fstab, volumes));

        // /boot: on the root file system, or the file system fstab mounts there.
        IFileTree? boot = root;
        string bootDir = "/boot";
        string? bootSpec = FstabEntries(fstab).FirstOrDefault(e => e.MountPoint == "/boot").Spec;
        if (bootSpec is not null)
        {
            (boot, bootDir) = bootTree(bootSpec) is { } b ? (b.Tree, b.Dir) : ((IFileTree?)null, "/");
        }

        if (boot is null)
        {
            checks.Add(Fail("boot.kernel", $"/etc/fstab mounts /boot from {bootSpec}, whose files can't be read here.", "Name /boot's file system by UUID=, as blkid prints it, and make sure it is mounted."));
            return new BootFiles(null, null, null);
        }

        string? grubCfg = GrubConfigs.Select(c => Join(bootDir, c)).FirstOrDefault(boot.IsFile);
        string? config = grubCfg is null ? null : Encoding.UTF8.GetString(boot.ReadFile(grubCfg, MaxConfigBytes));
        checks.Add(RootArgument(config, volumes));

        // The kernel and initramfs: the first the loader's config names, else the newest in /boot.
        IReadOnlyList<string> bootFiles = boot.List(bootDir);
        string? kernel = FirstWord(config, "linux") is { } k ? Path.GetFileName(k) : bootFiles.Where(f => f.StartsWith("vmlinuz-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).LastOrDefault();
        string? version = kernel?.StartsWith("vmlinuz-", StringComparison.Ordinal) == true ? kernel["vmlinuz-".Length..] : null;
        string? initrd = FirstWord(config, "initrd") is { } i ? Path.GetFileName(i)
            : version is null ? null : bootFiles.FirstOrDefault(f => f == $"initrd.img-{version}" || f == $"initramfs-{version}.img");
        if (kernel is null || !boot.IsFile(Join(bootDir, kernel)))
        {
            checks.Add(Fail("boot.kernel", kernel is null ? "No kernel (vmlinuz-*) in /boot." : $"The boot loader boots /boot/{kernel}, which is not there.", "Install a kernel package (e.g. linux-image-amd64) and update the boot loader."));
            return new BootFiles(kernel, null, version);
        }

        if (initrd is null || !boot.IsFile(Join(bootDir, initrd)))
        {
            checks.Add(Fail("boot.kernel", $"The kernel /boot/{kernel} has no initramfs{(initrd is null ? "" : $" (/boot/{initrd} is missing)")}.", "Rebuild it: update-initramfs -u (Debian/Ubuntu) or dracut -f (RHEL, SUSE)."));
            return new BootFiles(kernel, null, version);
        }

        checks.Add(Pass("boot.kernel", $"Kernel /boot/{kernel} with initramfs /boot/{initrd}."));
        checks.Add(Virtio(root, version, boot.ReadFile(Join(bootDir, initrd), MaxInitramfsBytes), initrd));
        return new BootFiles(kernel, initrd, version);
    }

    /// <summary>The virtio drivers neither built into kernel <paramref name="version"/> nor in <paramref name="initramfs"/>; and the compression of a part not read.</summary>
    public static (string[] Missing, string? Unreadable, HashSet<string> Present) MissingVirtio(IFileTree root, string? version, byte[] initramfs)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        if (version is not null && root.IsFile($"/lib/modules/{version}/modules.builtin"))
        {
            foreach (string line in Encoding.UTF8.GetString(root.ReadFile($"/lib/modules/{version}/modules.builtin", MaxConfigBytes)).Split('\n'))
            {
                present.UnionWith(VirtioDrivers.Where(d => ModuleName(line) == d));
            }
        }

        (List<string> names, string? unreadable) = InitramfsReader.ListNames(initramfs);
        present.UnionWith(VirtioDrivers.Where(d => names.Any(n => ModuleName(n) == d)));
        return ([.. VirtioDrivers.Where(d => !present.Contains(d))], unreadable, present);
    }

    private static BootCheck Virtio(IFileTree root, string? version, byte[] initramfs, string initrd)
    {
        (string[] missing, string? unreadable, HashSet<string> present) = MissingVirtio(root, version, initramfs);
        if (missing.Length == 0)
        {
            return Pass("drivers.virtio", $"virtio drivers ({string.Join(", ", VirtioDrivers)}) are built in or in /boot/{initrd}.");
        }

        return unreadable is not null
            ? Warn("drivers.virtio", $"Part of /boot/{initrd} is compressed with {unreadable}, which is not read here; found {(present.Count == 0 ? "no virtio driver" : string.Join(", ", present))} in the rest.", null)
            : Fail("drivers.virtio", $"/boot/{initrd} lacks {string.Join(", ", missing)} (neither built into the kernel nor in the initramfs): the kernel won't find its disk on the target.",
                "Add them to the initramfs: smc-agent check --fix does it; by hand, echo virtio_blk virtio_scsi virtio_net virtio_pci >> /etc/initramfs-tools/modules && update-initramfs -u (Debian/Ubuntu), or dracut -f --add-drivers \"virtio_blk virtio_scsi virtio_net virtio_pci\" (RHEL, SUSE).");
    }

    public static BootCheck Fstab(string fstab, IReadOnlyList<BootVolume> volumes)
    {
        var problems = new List<string>();
        foreach ((string spec, string mountPoint, string type) in FstabEntries(fstab))
        {
            if (IsVirtual(spec, type))
            {
                continue;
            }

            if (BootVolume.IsDeviceName(spec))
            {
                // The root is found by the kernel's root= and remounted by its mount point, so a boot survives a root
                // entry by device name (slower, and a later mount -a or fsck still fails); any other entry stops it.
                problems.Add(mountPoint == "/"
                    ? $"/ is {spec}, a device name that changes on the target (virtio disks are /dev/vdX): the boot goes on from root=, but fsck and mount -a look for {spec}"
                    : $"{mountPoint} is {spec}, a device name that changes on the target (virtio disks are /dev/vdX): systemd waits for {spec}, then stops the boot in emergency mode");
            }
            else if (spec.Contains('=', StringComparison.Ordinal) && BootVolume.Resolve(spec, volumes) is null)
            {
                problems.Add($"{mountPoint} is {spec}, which no file system here has");
            }
        }

        return problems.Count == 0
            ? Pass("fstab.devices", "/etc/fstab names its file systems by UUID, LABEL or PARTUUID, and each exists.")
            : Fail("fstab.devices", "/etc/fstab: " + string.Join("; ", problems) + ".", "Name each file system by UUID= (as blkid prints it) in /etc/fstab; smc-agent check --fix does it.");
    }

    public static BootCheck RootArgument(string? config, IReadOnlyList<BootVolume> volumes)
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

        if (BootVolume.IsDeviceName(root))
        {
            return Fail("boot.root", $"The boot loader boots with root={root}, a device name that changes on the target.", "Make root= a UUID: smc-agent check --fix does it; by hand, set GRUB_DISABLE_LINUX_UUID=false in /etc/default/grub and run update-grub.");
        }

        return BootVolume.Resolve(root, volumes) is not null
            ? Pass("boot.root", $"The boot loader's root={root} is a file system here.")
            : Fail("boot.root", $"The boot loader's root={root} is no file system here.", "Run update-grub so root= names the root file system's UUID.");
    }

    /// <summary>Entries of an fstab: spec, mount point, type (comments and short lines skipped).</summary>
    public static IEnumerable<(string Spec, string MountPoint, string Type)> FstabEntries(string fstab) =>
        fstab.Split('\n').Select(l => l.Split('#')[0].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 3).Select(f => (f[0], f[1], f[2]));

    /// <summary>An fstab entry that names no disk: proc, tmpfs, network file systems.</summary>
    public static bool IsVirtual(string spec, string type) =>
        type is "proc" or "sysfs" or "tmpfs" or "devpts" or "nfs" or "nfs4" or "cifs" or "devtmpfs" || spec is "none" or "tmpfs" or "proc";

    /// <summary>From the first line of <paramref name="config"/> whose first word is <paramref name="command"/>: its second word, or the value of <paramref name="argument"/>.</summary>
    public static string? FirstWord(string? config, string command, string? argument = null)
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

    /// <summary>A module's name from a path like <c>kernel/drivers/block/virtio_blk.ko.zst</c>.</summary>
    public static string ModuleName(string path)
    {
        string file = Path.GetFileName(path.Trim());
        int ko = file.IndexOf(".ko", StringComparison.Ordinal);
        return (ko < 0 ? "" : file[..ko]).Replace('-', '_');
    }

    public static string Join(string dir, string name) => dir.TrimEnd('/') + "/" + name;

    public static BootCheck Pass(string id, string message) => new(id, BootCheck.Pass, message, null);

    public static BootCheck Warn(string id, string message, string? fix) => new(id, BootCheck.Warn, message, fix);

    public static BootCheck Fail(string id, string message, string fix) => new(id, BootCheck.Fail, message, fix);
}
