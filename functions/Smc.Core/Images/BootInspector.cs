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

        List<BootVolume> volumes = DiskTrees.Read(disk, info, "the image", checks);
        string mode = uefi ? "UEFI" : "BIOS";
        if (DiskTrees.Root(volumes)?.Tree is not { } rootTree)
        {
            checks.Add(DiskTrees.NoRoot([info], "the image"));
            DiskTrees.SoftenLoader(checks);
            return new BootReadiness { Checks = checks, BootMode = mode };
        }

        // /boot on its own file system: that file system's root.
        BootFiles files = BootRules.CheckTree(rootTree, volumes, spec => BootVolume.Resolve(spec, volumes)?.Tree is { } t ? (t, "/") : null, checks);
        (string? osId, string? osName) = OsRelease.Read(rootTree);
        return new BootReadiness { Checks = checks, BootMode = mode, Kernel = files.Kernel, Initramfs = files.Initramfs, OsName = osName, Platform = OsRelease.EcsPlatform(osId) };
    }
}
