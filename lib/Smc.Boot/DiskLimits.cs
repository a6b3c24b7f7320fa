using Smc.Wire.Boot;
using Smc.Wire.Inventory;

namespace Smc.Boot;

/// <summary>
/// <c>disk.limits</c>: the source's disks against what ECS imports — a system disk of at most 2048 GiB
/// (<c>ImportImage</c>'s <c>DiskImageSize</c> and a job's <c>systemDiskSize</c>), data disks of at most 32768 GiB, no MBR
/// disk beyond 2 TiB (MBR can't address it), and file systems the target boots and mounts.
/// </summary>
public static class DiskLimits
{
    public const long MaxSystemDiskBytes = 2048L << 30;
    public const long MaxDataDiskBytes = 32768L << 30;
    public const long MaxMbrBytes = 2L << 40;

    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal) { "ext2", "ext3", "ext4", "xfs", "vfat", "swap", "ntfs", "lvm2" };

    /// <param name="disks">The system disk first.</param>
    public static BootCheck Check(IReadOnlyList<DiskInfo> disks)
    {
        if (disks.Count == 0)
        {
            return BootRules.Warn("disk.limits", "No disk was read, so sizes and file systems were not checked.", "Pass the source's disks with --disk (or run on the source as root).");
        }

        var fails = new List<string>();
        var warns = new List<string>();
        for (int i = 0; i < disks.Count; i++)
        {
            DiskInfo d = disks[i];
            long max = i == 0 ? MaxSystemDiskBytes : MaxDataDiskBytes;
            if (d.SizeBytes > max)
            {
                fails.Add($"{d.Device} ({Gib(d.SizeBytes)} GiB) is over the {Gib(max)} GiB a {(i == 0 ? "system" : "data")} disk may have");
            }

            if (d.PartitionTable == "mbr" && d.SizeBytes > MaxMbrBytes)
            {
                fails.Add($"{d.Device} has an MBR partition table on {Gib(d.SizeBytes)} GiB; MBR addresses 2 TiB");
            }

            foreach (PartitionInfo p in d.Parts.Where(p => p.FileSystem is not null && !Supported.Contains(p.FileSystem)))
            {
                warns.Add($"{p.Device} is {p.FileSystem}, which ECS images are not checked with");
            }
        }

        string sizes = string.Join(", ", disks.Select(d => $"{d.Device} {Gib(d.SizeBytes)} GiB {d.PartitionTable}"));
        return fails.Count > 0
            ? BootRules.Fail("disk.limits", string.Join("; ", fails) + ".", "Shrink the file systems and partitions below the limit, or move data to a data disk (up to 32768 GiB); convert a disk over 2 TiB to GPT.")
            : warns.Count > 0
                ? BootRules.Warn("disk.limits", string.Join("; ", warns) + $". Disks: {sizes}.", "Use ext4 or XFS for file systems the target must mount at boot.")
                : BootRules.Pass("disk.limits", $"Within ECS's limits: {sizes}.");
    }

    private static long Gib(long bytes) => (bytes + (1L << 30) - 1) >> 30;
}
