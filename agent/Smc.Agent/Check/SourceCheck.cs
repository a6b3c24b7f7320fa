using Smc.Boot;
using Smc.Disks;
using Smc.Wire.Boot;
using Smc.Wire.Inventory;

namespace Smc.Agent.Check;

/// <summary>
/// <c>smc-agent check</c>'s findings on a source: will it boot on the target? The root file system is read as a tree
/// (this machine's <c>/</c>, or a tree mounted elsewhere with <c>--root</c>); the boot disk, when given, for the boot
/// loader in its first sector. The tree checks are the control plane's own (<see cref="BootRules"/>), so the pre-flight
/// report and an image's boot readiness say the same things the same way.
/// </summary>
internal static class SourceCheck
{
    /// <summary>The checks; <paramref name="disks"/> are the source's disks as inspected (the boot disk first), possibly none.</summary>
    public static PreflightReport Run(string root, IReadOnlyList<DiskInfo> disks, IReadOnlyList<string> diskPaths, TimeProvider clock)
    {
        var checks = new List<BootCheck>();
        var tree = new DirectoryTree(root);
        bool live = tree.Root == "/";
        List<MountedVolume> mounted = SourceVolumes.Mounted(tree.Root);
        var volumes = new List<BootVolume>(mounted.Select(m => m.Volume));
        volumes.AddRange(SourceVolumes.OfDisks(disks));
        if (live)
        {
            volumes.AddRange(SourceVolumes.ByNames());
        }

        bool uefi = live ? Directory.Exists("/sys/firmware/efi")
            : disks.Count > 0 ? BootDisk.IsUefi(disks[0])
            : tree.IsDirectory("/boot/efi/EFI");
        checks.Add(BootRules.Pass("boot.mode", uefi ? (live ? "UEFI: this machine booted with UEFI firmware." : "UEFI: the boot disk has an EFI system partition.")
            : live ? "BIOS: this machine booted with BIOS (legacy) firmware." : "BIOS: the boot disk has no EFI system partition."));
        checks.Add(Loader(tree, disks, diskPaths, uefi));

        if (!tree.IsFile("/etc/fstab"))
        {
            checks.Add(BootRules.Fail("boot.root", $"{tree.Root} has no /etc/fstab: it is not a Linux root file system.", "Run the check on the source (or pass --root with its root file system mounted)."));
        }
        else
        {
            // /boot is read where it is mounted in the tree; a /boot fstab names but nobody mounted can't be read.
            BootRules.CheckTree(tree, volumes, spec => tree.List("/boot").Count > 0 ? (tree, "/boot") : BootVolume.Resolve(spec, volumes)?.Tree is { } t ? (t, "/") : null, checks);
        }

        checks.Add(NetworkRules.Check(tree));
        return Report(checks, disks, clock);
    }

    /// <summary>
    /// The checks on disk images (<c>--disk</c> naming image files, not this machine's disks): their root file system
    /// read from their own bytes, as the control plane reads an image. A disk with no Linux root warns; nothing fails
    /// for want of one (a data disk, or an operating system these checks don't read).
    /// </summary>
    public static PreflightReport RunOnImages(IReadOnlyList<DiskInfo> disks, IReadOnlyList<string> diskPaths, TimeProvider clock)
    {
        var checks = new List<BootCheck>();
        var readers = new List<DiskReader>();
        try
        {
            var volumes = new List<BootVolume>();
            for (int i = 0; i < diskPaths.Count; i++)
            {
                readers.Add(DiskReader.Open(diskPaths[i]));
                volumes.AddRange(DiskTrees.Read(readers[i], disks[i], diskPaths[i], checks));
            }

            bool uefi = BootDisk.IsUefi(disks[0]);
            checks.Insert(0, BootRules.Pass("boot.mode", uefi ? "UEFI: the boot disk has an EFI system partition." : "BIOS: the boot disk has no EFI system partition."));
            checks.Insert(1, BootDisk.Loader(readers[0], disks[0], uefi));
            if (DiskTrees.Root(volumes)?.Tree is not { } rootTree)
            {
                checks.Add(DiskTrees.NoRoot(disks, "the disks"));
                DiskTrees.SoftenLoader(checks);
            }
            else
            {
                BootRules.CheckTree(rootTree, volumes, spec => BootVolume.Resolve(spec, volumes)?.Tree is { } t ? (t, "/") : null, checks);
                checks.Add(NetworkRules.Check(rootTree));
            }

            return Report(checks, disks, clock);
        }
        finally
        {
            readers.ForEach(r => r.Dispose());
        }
    }

    private static PreflightReport Report(List<BootCheck> checks, IReadOnlyList<DiskInfo> disks, TimeProvider clock)
    {
        checks.Add(DiskLimits.Check(disks));
        return new PreflightReport
        {
            Checks = checks,
            CheckedAt = clock.GetUtcNow(),
            Estimate = new PreflightEstimate { InUseBytes = disks.SelectMany(d => d.Parts).Sum(p => p.UsedBytes ?? (p.CanBlock ? p.SizeBytes : 0)) },
        };
    }

    private static BootCheck Loader(DirectoryTree tree, IReadOnlyList<DiskInfo> disks, IReadOnlyList<string> diskPaths, bool uefi)
    {
        if (disks.Count > 0 && diskPaths.Count > 0)
        {
            try
            {
                using DiskReader reader = DiskReader.Open(diskPaths[0]);
                BootCheck fromDisk = BootDisk.Loader(reader, disks[0], uefi);
                if (!uefi || fromDisk.Status != BootCheck.Pass)
                {
                    return fromDisk;
                }
            }
            catch (Exception e) when (e is DiskFormatException or IOException or UnauthorizedAccessException)
            {
                return BootRules.Warn("boot.loader", $"The boot disk {diskPaths[0]} can't be read ({e.Message}); its boot loader was not checked.", "Run the check as root.");
            }
        }

        if (uefi)
        {
            return BootDisk.UefiLoader(tree, "/boot/efi");
        }

        if (disks.Count == 0)
        {
            return tree.IsDirectory("/boot/grub/i386-pc") || tree.IsDirectory("/boot/grub2/i386-pc")
                ? BootRules.Warn("boot.loader", "GRUB for BIOS is installed in /boot; the boot disk's first sector was not read (no disk given).", "Pass the boot disk with --disk to check its boot code.")
                : BootRules.Fail("boot.loader", "No BIOS boot loader: /boot/grub/i386-pc is missing and no boot disk was given to read.", "Install GRUB on the boot disk: grub-install /dev/<disk>, then update-grub.");
        }

        return BootRules.Pass("boot.loader", "GRUB boot code on the boot disk.");
    }
}
