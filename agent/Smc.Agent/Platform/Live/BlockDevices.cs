using System.Globalization;
using System.Text;

namespace Smc.Agent.Platform.Live;

/// <summary>A block device number.</summary>
internal readonly record struct DeviceNumber(int Major, int Minor)
{
    /// <summary>The kernel's internal dev_t (<c>MKDEV</c>: major &lt;&lt; 20 | minor), as the block tracepoints' <c>dev</c> field holds it.</summary>
    public uint Kernel => (uint)((Major << 20) | Minor);

    /// <summary>The user-space encoding (<c>new_encode_dev</c>), as <c>fmr_device</c> of GETFSMAP reports it.</summary>
    public uint Encoded => (uint)((Minor & 0xff) | (Major << 8) | ((Minor & ~0xff) << 12));

    public override string ToString() => $"{Major}:{Minor}";

    public static DeviceNumber? Parse(string text)
    {
        string[] parts = text.Trim().Split(':');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int major)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int minor) ? new DeviceNumber(major, minor) : null;
    }
}

/// <summary>A file system of a source disk that is mounted on this machine: it changes while it is read.</summary>
/// <param name="Start">Byte offset of the file system on the disk (its partition's start; 0 for a whole-disk file system).</param>
/// <param name="Stacked">
/// Mounted from a device stacked on the partition (a device-mapper holder: an LVM logical volume, dm-crypt), so its
/// offsets are not the partition's: it is frozen and its writes tracked (they reach the disk as the disk's own), but
/// the partition is planned from the PV's own metadata (<see cref="DmUuid"/>) or copied whole.
/// </param>
/// <param name="DmUuid">
/// For a device stacked directly on the partition: its device-mapper uuid (<c>dm/uuid</c>; an LVM logical volume's is
/// <c>LVM-</c> and the VG's and LV's uuids), by which the PV's metadata maps its offsets onto the partition. Null for
/// anything deeper (an LV inside dm-crypt: the partition holds ciphertext).
/// </param>
/// <param name="StackedBytes">The stacked device's own size (its file system's offsets run up to it).</param>
internal sealed record LiveVolume(long Start, long Length, DeviceNumber Device, string MountPoint, string FileSystem, bool Stacked = false, string? DmUuid = null, long StackedBytes = 0);

/// <summary>What sysfs and mountinfo say of a source disk: its device number and its mounted file systems.</summary>
internal sealed record LiveDisk(string Path, DeviceNumber Device, IReadOnlyList<LiveVolume> Volumes, int LogicalBlockSize);

/// <summary>Finds which file systems of a block device are mounted, from /sys/class/block and /proc/self/mountinfo.</summary>
internal static class BlockDevices
{
    /// <summary>sysfs's block class and the mount table (tests point them at a tree of their own).</summary>
    internal static string SysBlock { get; set; } = "/sys/class/block";

    internal static string MountInfo { get; set; } = "/proc/self/mountinfo";

    /// <summary>
    /// The disk's device number and mounted file systems (whole disk or partitions), or null for an image file or a
    /// device sysfs doesn't know. Partitions are matched by their start sector.
    /// </summary>
    public static LiveDisk? Discover(string path)
    {
        string resolved;
        try
        {
            resolved = File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
        }
        catch (IOException)
        {
            return null;
        }

        if (!resolved.StartsWith("/dev/", StringComparison.Ordinal))
        {
            return null;
        }

        string name = Path.GetFileName(resolved);
        string sys = Path.Combine(SysBlock, name);
        if (ReadDevice(sys) is not DeviceNumber disk)
        {
            return null;
        }

        Dictionary<DeviceNumber, (string MountPoint, string Type)> mounts = Mounts();
        var volumes = new List<LiveVolume>();
        long diskBytes = ReadLong(Path.Combine(sys, "size")) * 512;
        if (mounts.TryGetValue(disk, out var whole))
        {
            volumes.Add(new LiveVolume(0, diskBytes, disk, whole.MountPoint, whole.Type));
        }

        volumes.AddRange(Holders(sys, 0, diskBytes, mounts));
        foreach (string part in Directory.Exists(sys) ? Directory.GetDirectories(sys) : [])
        {
            if (!File.Exists(Path.Combine(part, "partition")) || ReadDevice(part) is not DeviceNumber dev)
            {
                continue;
            }

            long start = ReadLong(Path.Combine(part, "start")) * 512, size = ReadLong(Path.Combine(part, "size")) * 512;
            if (mounts.TryGetValue(dev, out var m))
            {
                volumes.Add(new LiveVolume(start, size, dev, m.MountPoint, m.Type));
            }

            volumes.AddRange(Holders(part, start, size, mounts));
        }

        long block = ReadLong(Path.Combine(sys, "queue", "logical_block_size"));
        return new LiveDisk(resolved, disk, [.. volumes.OrderBy(v => v.Start)], block is >= 512 and <= 65536 ? (int)block : 512);
    }

    /// <summary>
    /// Mounted devices stacked on a disk or partition (its <c>holders/</c>, and theirs: LVM over dm-crypt), as volumes at
    /// the partition's offset marked <see cref="LiveVolume.Stacked"/>.
    /// </summary>
    private static IEnumerable<LiveVolume> Holders(string sysDir, long start, long size, Dictionary<DeviceNumber, (string MountPoint, string Type)> mounts, int depth = 0)
    {
        string holders = Path.Combine(sysDir, "holders");
        if (depth > 4 || !Directory.Exists(holders))
        {
            yield break;
        }

        foreach (string holder in Directory.GetFileSystemEntries(holders))
        {
            string dir = Path.Combine(SysBlock, Path.GetFileName(holder));
            if (ReadDevice(dir) is DeviceNumber dev && mounts.TryGetValue(dev, out var m))
            {
                string? uuid = depth == 0 ? ReadText(Path.Combine(dir, "dm", "uuid")) : null;
                yield return new LiveVolume(start, size, dev, m.MountPoint, m.Type, Stacked: true, uuid is { Length: > 0 } ? uuid : null, ReadLong(Path.Combine(dir, "size")) * 512);
            }

            foreach (LiveVolume above in Holders(dir, start, size, mounts, depth + 1))
            {
                yield return above;
            }
        }
    }

    /// <summary>Mounted block devices by number: mount point and type, from /proc/self/mountinfo (a mount of the file system's root preferred).</summary>
    public static Dictionary<DeviceNumber, (string MountPoint, string Type)> Mounts()
    {
        var result = new Dictionary<DeviceNumber, (string, string)>();
        foreach (MountEntry m in MountEntries())
        {
            if (m.Device is { Major: not 0 } dev && (m.Root == "/" || !result.ContainsKey(dev)))
            {
                result[dev] = (m.MountPoint, m.Type);
            }
        }

        return result;
    }

    /// <summary>One line of /proc/self/mountinfo: device number, the root of the mount within its file system, mount point, type, source (unescaped).</summary>
    public sealed record MountEntry(DeviceNumber? Device, string Root, string MountPoint, string Type, string Source);

    /// <summary>Every mount, in mount order; none when mountinfo can't be read.</summary>
    public static List<MountEntry> MountEntries()
    {
        var result = new List<MountEntry>();
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
            if (f.Length >= 5 && dash >= 0 && dash + 2 < f.Length)
            {
                result.Add(new MountEntry(DeviceNumber.Parse(f[2]), Unescape(f[3]), Unescape(f[4]), f[dash + 1], Unescape(f[dash + 2])));
            }
        }

        return result;
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as three octal digits.</summary>
    internal static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var sb = new StringBuilder();
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                sb.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(field[i]);
            }
        }

        return sb.ToString();
    }

    private static bool IsOctal(string s, int at) => at + 3 <= s.Length && s.AsSpan(at, 3).IndexOfAnyExceptInRange('0', '7') < 0;

    private static DeviceNumber? ReadDevice(string sysDir)
    {
        try
        {
            return DeviceNumber.Parse(File.ReadAllText(Path.Combine(sysDir, "dev")));
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? ReadText(string file)
    {
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static long ReadLong(string file)
    {
        try
        {
            return long.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            return 0;
        }
    }
}
