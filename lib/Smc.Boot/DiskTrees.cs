using Smc.Disks;
using Smc.Wire.Boot;
using Smc.Wire.Inventory;

namespace Smc.Boot;

/// <summary>
/// The file systems of a disk read from its own bytes (no mount, no root): each partition as a <see cref="BootVolume"/>,
/// ext2/3/4 and FAT ones with their tree (<see cref="ExtFileSystem"/>, <see cref="FatFileSystem"/>); others are named but not read, never guessed at.
/// </summary>
public static class DiskTrees
{
    /// <summary>The volumes of <paramref name="disk"/>; a file system that can't be read adds a <c>filesystem.read</c> warning to <paramref name="checks"/>.</summary>
    public static List<BootVolume> Read(DiskReader disk, DiskInfo info, string name, List<BootCheck> checks)
    {
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
                    checks.Add(BootRules.Warn("filesystem.read", $"Partition {part.Number} of {name} ({part.FileSystem}) can't be read: {e.Message}", null));
                }
            }
            else if (part.FileSystem == "vfat")
            {
                try
                {
                    tree = new FatFileTree(FatFileSystem.Open(disk, part.StartBytes, part.SizeBytes));
                }
                catch (DiskFormatException e)
                {
                    checks.Add(BootRules.Warn("filesystem.read", $"Partition {part.Number} of {name} (vfat) can't be read: {e.Message}", null));
                }
            }

            string? label = tree is ExtFileTree ext ? ext.FileSystem.Label ?? part.Label : part.Label;
            volumes.Add(new BootVolume($"partition {part.Number} of {name}", part.FileSystem, part.FileSystemId, label, part.PartitionGuid, tree));
        }

        return volumes;
    }

    /// <summary>The volume holding a Linux root file system (<c>/etc/fstab</c>), if any.</summary>
    public static BootVolume? Root(IEnumerable<BootVolume> volumes) => volumes.FirstOrDefault(v => v.Tree?.IsFile("/etc/fstab") == true);

    /// <summary>The warning when no read file system is a Linux root.</summary>
    public static BootCheck NoRoot(IEnumerable<DiskInfo> disks, string what) =>
        BootRules.Warn("boot.root", $"No ext2/3/4 file system of {what} holds /etc/fstab (file systems: {Describe(disks)}); the root file system was not inspected.", null);

    /// <summary>
    /// A boot-loader failure on disks with no Linux root file system becomes a warning: the rules know Linux boot loaders,
    /// and such a disk may hold data or another operating system rather than fail to boot.
    /// </summary>
    public static void SoftenLoader(List<BootCheck> checks)
    {
        int i = checks.FindIndex(c => c.Id == "boot.loader" && c.Status == BootCheck.Fail);
        if (i >= 0)
        {
            checks[i] = checks[i] with { Status = BootCheck.Warn, Message = checks[i].Message + " No Linux root file system was found, so this may not be a disk that boots Linux." };
        }
    }

    private static string Describe(IEnumerable<DiskInfo> disks)
    {
        string all = string.Join(", ", disks.SelectMany(d => d.Parts).Where(p => p.FileSystem is not null).Select(p => $"{p.Number}: {p.FileSystem}"));
        return all.Length == 0 ? "none" : all;
    }
}
