using Smc.Boot;
using Smc.Core.Domain;
using Smc.Disks;
using Smc.Wire.Boot;
using Smc.Wire.Inventory;

namespace Smc.Core.Images;

/// <summary>
/// Whether an image will boot on the target, read from the image's own bytes (no mount, no root): its boot mode and
/// loader from its partition table and first sector (<see cref="BootDisk"/>), then <see cref="BootRules"/> on its root file
/// system — <c>/etc/fstab</c> and the boot loader's <c>root=</c> against this image's own partitions, the kernel and
/// initramfs, the virtio drivers. ext2/3/4 file systems are read (<see cref="ExtFileSystem"/>); others are reported
/// as not inspected, never guessed.
/// </summary>
public static class BootInspector
{
    public static BootReadiness Inspect(DiskReader disk)
    {
        var checks = new List<BootCheck>();
        DiskInfo info = DiskInspector.Inspect(disk, "image");
        bool uefi = BootDisk.IsUefi(info);
        checks.Add(BootRules.Pass("boot.mode", uefi ? "UEFI: the image has an EFI system partition." : "BIOS: the image has no EFI system partition."));
        checks.Add(BootDisk.Loader(disk, info, uefi));

        var volumes = new List<BootVolume>();
        foreach (PartitionInfo part in info.Parts)
        {
            IFileTree? tree = null;
            if (part.FileSystem is "ext2" or "ext3" or "ext4")
            {
                try
                {
                    tree = new ExtFileTree(ExtFileSystem.Open(disk, part.StartBytes, part.SizeBytes));
                }
                catch (DiskFormatException e)
                {
                    checks.Add(BootRules.Warn("filesystem.read", $"Partition {part.Number} ({part.FileSystem}) can't be read: {e.Message}", null));
                }
            }

            string? label = tree is ExtFileTree ext ? ext.FileSystem.Label ?? part.Label : part.Label;
            volumes.Add(new BootVolume($"partition {part.Number}", part.FileSystem, part.FileSystemId, label, part.PartitionGuid, tree));
        }

        string mode = uefi ? "UEFI" : "BIOS";
        BootVolume? root = volumes.FirstOrDefault(v => v.Tree?.IsFile("/etc/fstab") == true);
        if (root?.Tree is not { } rootTree)
        {
            string others = string.Join(", ", info.Parts.Where(p => p.FileSystem is not null).Select(p => $"{p.Number}: {p.FileSystem}"));
            checks.Add(BootRules.Warn("boot.root", $"No ext2/3/4 file system of the image holds /etc/fstab (file systems: {(others.Length == 0 ? "none" : others)}); the root file system was not inspected.", null));
            return new BootReadiness { Checks = checks, BootMode = mode };
        }

        // /boot on its own file system: that file system's root.
        BootFiles files = BootRules.CheckTree(rootTree, volumes, spec => BootVolume.Resolve(spec, volumes)?.Tree is { } t ? (t, "/") : null, checks);
        return new BootReadiness { Checks = checks, BootMode = mode, Kernel = files.Kernel, Initramfs = files.Initramfs };
    }
}
