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
    internal static string MountInfo { get; set; } = "/proc/self/mountinfo";

    public static List<MountedVolume> Mounted(string root)
    {
        string prefix = root.TrimEnd('/');
        var result = new List<MountedVolume>();
        IEnumerable<string> lines;
        try
        {
            lines = File.ReadAllLines(MountInfo);
        }
        catch (IOException)
        {
            return result;
        }

        foreach (string line in lines)
        {
            // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
            string[] f = line.Split(' ');
            int dash = Array.IndexOf(f, "-");
            if (f.Length < 5 || dash < 0 || dash + 2 >= f.Length || f[3] != "/")
            {
                continue;
            }

            string mountPoint = BlockDevices.Unescape(f[4]);
            if (!(mountPoint == root || prefix.Length == 0 || mountPoint.StartsWith(prefix + "/", StringComparison.Ordinal) || mountPoint == prefix))
            {
                continue;
            }

            string device = BlockDevices.Unescape(f[dash + 2]);
            string type = f[dash + 1];
            (string? uuid, string? label) = device.StartsWith("/dev/", StringComparison.Ordinal) ? Probe(device) : (null, null);
            string inTree = prefix.Length == 0 ? mountPoint : mountPoint[prefix.Length..] is { Length: > 0 } rel ? rel : "/";
            result.RemoveAll(m => m.MountPoint == inTree); // a later mount on the same point hides the earlier one
            result.Add(new MountedVolume(inTree, device, type, new BootVolume(device, type, uuid, label, null, new DirectoryTree(mountPoint))));
        }

        return result;
    }

    /// <summary>The device this machine's <c>/</c> is mounted from, as mountinfo names it (the last mount on <c>/</c>); null when unknown.</summary>
    public static string? RootDevice()
    {
        string? device = null;
        try
        {
            foreach (string line in File.ReadLines(MountInfo))
            {
                string[] f = line.Split(' ');
                int dash = Array.IndexOf(f, "-");
                if (f.Length >= 5 && dash > 0 && dash + 2 < f.Length && f[4] == "/")
                {
                    device = BlockDevices.Unescape(f[dash + 2]);
                }
            }
        }
        catch (IOException)
        {
            return null;
        }

        return device;
    }

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

        string[] devices = [.. disks.Where(d => d.StartsWith("/dev/", StringComparison.Ordinal)).Select(d => new FileInfo(d).LinkTarget is { } t ? Path.GetFullPath(t, "/dev") : d)];
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
