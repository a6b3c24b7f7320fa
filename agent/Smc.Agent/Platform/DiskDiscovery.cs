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

    /// <summary>Inspects each disk and fills partition mount points from /proc/self/mounts.</summary>
    public static List<DiskInfo> Inspect(IReadOnlyList<string> paths)
    {
        Dictionary<string, string> mounts = MountPoints();
        var disks = new List<DiskInfo>();
        foreach (string path in paths.Count > 0 ? paths : WholeDisks())
        {
            DiskInfo disk;
            try
            {
                disk = DiskInspector.Inspect(path);
            }
            catch (DiskFormatException e)
            {
                throw new AgentException(ExitCodes.DiskError, $"{path}: {e.Message} ({e.Code})", e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new AgentException(ExitCodes.NeedsRoot, $"{path}: {e.Message}. Reading block devices needs root.", e);
            }
            catch (FileNotFoundException e)
            {
                throw new AgentException(ExitCodes.DiskError, $"{path}: no such disk or image file.", e);
            }
            catch (DirectoryNotFoundException e)
            {
                throw new AgentException(ExitCodes.DiskError, $"{path}: no such disk or image file.", e);
            }

            foreach (PartitionInfo part in disk.Parts)
            {
                part.Path ??= mounts.GetValueOrDefault(part.Device);
            }

            disks.Add(disk);
        }

        return disks;
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
