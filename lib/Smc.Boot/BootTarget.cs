using System.Text;
using Smc.Disks;

namespace Smc.Boot;

/// <summary>
/// What a disk's GRUB configuration boots, read from the disk's own bytes: the kernel and initramfs files and the
/// kernel arguments of its first entry, the root file system's UUID, whether GRUB talks to the serial port (so a
/// boot from the disk's own sectors can be watched there) and whether the disk boots with UEFI (it has an ESP). What a boot test hands to a virtual machine.
/// </summary>
public sealed record BootTarget(string KernelName, byte[] Kernel, string? InitramfsName, byte[]? Initramfs, IReadOnlyList<string> Arguments, string? RootUuid, bool SerialConsole, bool Uefi = false)
{
    public const long MaxKernelBytes = 128L << 20;

    /// <summary>The target, or null with the reason when the disk has no Linux root, GRUB configuration or kernel that can be read.</summary>
    public static (BootTarget? Target, string? Reason) Find(DiskReader disk)
    {
        var checks = new List<Smc.Wire.Boot.BootCheck>();
        var info = DiskInspector.Inspect(disk, "image");
        List<BootVolume> volumes = DiskTrees.Read(disk, info, "the image", checks);
        BootVolume? root = DiskTrees.Root(volumes);
        if (root?.Tree is not { } tree)
        {
            return (null, "no ext2/3/4 file system holds /etc/fstab");
        }

        // /boot: on the root file system, or the file system fstab mounts there.
        IFileTree boot = tree;
        string bootDir = "/boot";
        string fstab = Encoding.UTF8.GetString(tree.ReadFile("/etc/fstab", BootRules.MaxConfigBytes));
        if (BootRules.FstabEntries(fstab).FirstOrDefault(e => e.MountPoint == "/boot").Spec is { } bootSpec)
        {
            if (BootVolume.Resolve(bootSpec, volumes)?.Tree is not { } bootTree)
            {
                return (null, $"/boot ({bootSpec}) can't be read");
            }

            (boot, bootDir) = (bootTree, "/");
        }

        string? cfg = BootRules.GrubConfigs.Select(c => BootRules.Join(bootDir, c)).FirstOrDefault(boot.IsFile);
        if (cfg is null)
        {
            return (null, "no GRUB configuration");
        }

        string config = Encoding.UTF8.GetString(boot.ReadFile(cfg, BootRules.MaxConfigBytes));
        string[]? linux = config.Split('\n').Select(l => l.Trim().Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(w => w.Length >= 2 && w[0] is "linux" or "linux16" or "linuxefi");
        if (linux is null)
        {
            return (null, "the GRUB configuration has no linux entry");
        }

        string kernelName = Path.GetFileName(linux[1]);
        string kernelPath = BootRules.Join(bootDir, kernelName);
        if (!boot.IsFile(kernelPath))
        {
            return (null, $"the kernel {kernelName} is not in /boot");
        }

        string? initrdName = (BootRules.FirstWord(config, "initrd") ?? BootRules.FirstWord(config, "initrdefi")) is { } named ? Path.GetFileName(named) : null;
        byte[]? initramfs = initrdName is not null && boot.IsFile(BootRules.Join(bootDir, initrdName)) ? boot.ReadFile(BootRules.Join(bootDir, initrdName), BootRules.MaxInitramfsBytes) : null;
        bool serial = config.Contains("serial", StringComparison.Ordinal) || config.Contains("console=ttyS", StringComparison.Ordinal);
        return (new BootTarget(kernelName, boot.ReadFile(kernelPath, MaxKernelBytes), initramfs is null ? null : initrdName, initramfs, linux[2..], root.Uuid, serial, BootDisk.IsUefi(info)), null);
    }
}
