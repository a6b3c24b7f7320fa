using Smc.Agent.Platform.Live;
using Smc.Boot;
using Smc.Disks;
using Smc.Wire.Inventory;

namespace Smc.Agent.Check;

/// <summary>A file system mounted at or under the checked root: its mount point, device and what its superblock says.</summary>
internal sealed record MountedVolume(string MountPoint, string Device, string Type, BootVolume Volume);

/// <summary>
/// The file systems a source's fstab and boot loader may name, seen from this machine: those mounted under the
/// checked root (read through their mount point, identified by their own superblock), the partitions of the disks
/// being migrated, and — when the root is this machine's own <c>/</c> — every name under <c>/dev/disk/by-*</c>.
/// </summary>
internal static class SourceVolumes
{
    public static List<MountedVolume> Mounted(string root)
    {
        string prefix = root.TrimEnd('/');
        var result = new List<MountedVolume>();
        foreach (BlockDevices.MountEntry m in BlockDevices.MountEntries())
        {
            if (m.Root != "/" || !(m.MountPoint == root || prefix.Length == 0 || m.MountPoint.StartsWith(prefix + "/", StringComparison.Ordinal) || m.MountPoint == prefix))
            {
                continue;
            }

            (string? uuid, string? label) = m.Source.StartsWith("/dev/", StringComparison.Ordinal) ? Probe(m.Source) : (null, null);
            string inTree = prefix.Length == 0 ? m.MountPoint : m.MountPoint[prefix.Length..] is { Length: > 0 } rel ? rel : "/";
            result.RemoveAll(v => v.MountPoint == inTree); // a later mount on the same point hides the earlier one
            result.Add(new MountedVolume(inTree, m.Source, m.Type, new BootVolume(m.Source, m.Type, uuid, label, null, new DirectoryTree(m.MountPoint))));
        }

        return result;
    }

    /// <summary>The device this machine's <c>/</c> is mounted from, as mountinfo names it (the last mount on <c>/</c>); null when unknown.</summary>
    public static string? RootDevice() => BlockDevices.MountEntries().LastOrDefault(m => m.MountPoint == "/")?.Source;

    /// <summary>
    /// Whether one of <paramref name="disks"/> holds this machine's <c>/</c>: its device, or a partition of it. A root on
    /// a mapped or RAID device (<c>/dev/mapper</c>, <c>/dev/md</c>) can't be traced to its disk here; then any device of
    /// this machine given counts.
    /// </summary>
    public static bool HoldRoot(IReadOnlyList<string> disks)
    {
        string? root = RootDevice();
        if (root is null || !root.StartsWith("/dev/", StringComparison.Ordinal))
        {
            return false;
        }

        // A name under /dev/disk/by-* is a link: compare the device it ends at.
        string[] devices = [.. disks.Where(d => d.StartsWith("/dev/", StringComparison.Ordinal)).Select(d => File.ResolveLinkTarget(d, returnFinalTarget: true)?.FullName ?? d)];
        if (root.StartsWith("/dev/mapper/", StringComparison.Ordinal) || root.StartsWith("/dev/md", StringComparison.Ordinal) || root.StartsWith("/dev/dm-", StringComparison.Ordinal))
        {
            return devices.Length > 0;
        }

        return devices.Any(d => root == d || (root.StartsWith(d, StringComparison.Ordinal) && root.Length > d.Length && (char.IsDigit(root[d.Length]) || root[d.Length] == 'p')));
    }

    /// <summary>The partitions of <paramref name="disks"/> as volumes (names only: their files are read through mounts).</summary>
    public static IEnumerable<BootVolume> OfDisks(IEnumerable<DiskInfo> disks) =>
        disks.SelectMany(d => d.Parts).Select(p => new BootVolume(p.Device, p.FileSystem, p.FileSystemId, p.Label, p.PartitionGuid));

    /// <summary>This machine's <c>/dev/disk/by-uuid</c>, <c>by-label</c> and <c>by-partuuid</c> names.</summary>
    public static IEnumerable<BootVolume> ByNames()
    {
        foreach ((string dir, int kind) in new[] { ("/dev/disk/by-uuid", 0), ("/dev/disk/by-label", 1), ("/dev/disk/by-partuuid", 2) })
        {
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (string name in Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).OfType<string>())
            {
                yield return new BootVolume(Path.Combine(dir, name), null, kind == 0 ? name : null, kind == 1 ? name : null, kind == 2 ? name : null);
            }
        }
    }

    /// <summary>The UUID and label in the file system on <paramref name="device"/>'s own superblock; nulls when it can't be read.</summary>
    public static (string? Uuid, string? Label) Probe(string device)
    {
        try
        {
            DiskInfo info = DiskInspector.Inspect(device);
            PartitionInfo? whole = info.PartitionTable == "none" && info.Parts.Count == 1 ? info.Parts[0] : null;
            return (whole?.FileSystemId, whole?.Label);
        }
        catch (Exception e) when (e is DiskFormatException or IOException or UnauthorizedAccessException)
        {
            return (null, null);
        }
    }
}
