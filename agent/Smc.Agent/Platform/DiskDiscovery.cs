using Smc.Disks;
using Smc.Wire.Inventory;

namespace Smc.Agent.Platform;

/// <summary>Finds the machine's disks (when no <c>--disk</c> is given) and where their partitions are mounted.</summary>
internal static class DiskDiscovery
{
    private static readonly string[] WholeDiskPrefixes = ["sd", "vd", "xvd", "hd", "nvme", "mmcblk"];

    /// <summary>Whole disks from /sys/block: sd*, vd*, xvd*, hd*, nvme*n*, mmcblk* (not partitions, loops, RAM or optical drives).</summary>
    public static List<string> WholeDisks()
    {
        if (!Directory.Exists("/sys/block"))
        {
            return [];
        }

        return Directory.GetDirectories("/sys/block")
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(n => WholeDiskPrefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal)
            .Select(n => "/dev/" + n)
            .ToList();
    }

    /// <summary>Inspects each disk and fills partition mount points from /proc/self/mounts; any disk that can't be read ends it.</summary>
    public static List<DiskInfo> Inspect(IReadOnlyList<string> paths)
    {
        (List<DiskInfo> disks, List<SkippedDisk> skipped) = InspectAll(paths);
        return skipped.Count == 0 ? disks : throw new AgentException(skipped[0].ExitCode, skipped[0].Reason);
    }

    /// <summary>
    /// The disks to register or show: the named ones (<paramref name="paths"/>; one that can't be read is an error — a
    /// typo must not pass unnoticed), or every whole disk found, where one that can't be opened (a card reader with no
    /// card, a device another tool holds, no root) is reported in <c>Skipped</c> and the others are still inspected — a
    /// ContainerImage job needs no block device at all.
    /// </summary>
    public static (List<DiskInfo> Disks, List<SkippedDisk> Skipped) InspectDiscovered(IReadOnlyList<string> paths)
    {
        if (paths.Count > 0)
        {
            return (Inspect(paths), []);
        }

        return InspectAll(WholeDisks());
    }

    /// <summary>Inspects each path, setting aside (with why) those that can't be read.</summary>
    internal static (List<DiskInfo> Disks, List<SkippedDisk> Skipped) InspectAll(IReadOnlyList<string> paths)
    {
        Dictionary<string, string> mounts = MountPoints();
        var disks = new List<DiskInfo>();
        var skipped = new List<SkippedDisk>();
        foreach (string path in paths)
        {
            DiskInfo disk;
            try
            {
                disk = DiskInspector.Inspect(path);
            }
            catch (DiskFormatException e)
            {
                skipped.Add(new SkippedDisk(path, $"{path}: {e.Message} ({e.Code})", ExitCodes.DiskError));
                continue;
            }
            catch (UnauthorizedAccessException e)
            {
                skipped.Add(new SkippedDisk(path, $"{path}: {e.Message}. Reading block devices needs root.", ExitCodes.NeedsRoot));
                continue;
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                skipped.Add(new SkippedDisk(path, $"{path}: no such disk or image file.", ExitCodes.DiskError));
                continue;
            }
            catch (IOException e)
            {
                // ENOMEDIUM (a reader with no card), EBUSY, EIO: this disk, not the others.
                skipped.Add(new SkippedDisk(path, $"{path}: can't be read ({e.Message}).", ExitCodes.DiskError));
                continue;
            }

            foreach (PartitionInfo part in disk.Parts)
            {
                part.Path ??= mounts.GetValueOrDefault(part.Device);
            }

            disks.Add(disk);
        }

        return (disks, skipped);
    }

    private static Dictionary<string, string> MountPoints()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (string line in File.ReadLines("/proc/self/mounts"))
            {
                string[] f = line.Split(' ');
                if (f.Length >= 2 && f[0].StartsWith("/dev/", StringComparison.Ordinal))
                {
                    result.TryAdd(f[0], f[1].Replace("\\040", " ", StringComparison.Ordinal));
                }
            }
        }
        catch (IOException)
        {
        }

        return result;
    }
}

/// <summary>A disk that could not be inspected: why, and the exit code it ends a command with when it was named.</summary>
internal sealed record SkippedDisk(string Path, string Reason, int ExitCode);
