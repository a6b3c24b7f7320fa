using System.Globalization;
using Smc.Agent.Platform.Live;
using Smc.Disks;
using Smc.Disks.Tests.Support;

namespace Smc.Agent.Tests;

/// <summary>
/// The live-source primitives on real parts (as root): a file system on a loop device, mounted; its space map from the
/// kernel compared with xfs_io's own reading of it; writes seen by the block tracepoints. Cleans up on every path.
/// </summary>
public sealed class LiveVolumeTests : IDisposable
{
    private readonly TempDir _temp = new("live");
    private readonly List<Action> _cleanup = [];

    public void Dispose()
    {
        for (int i = _cleanup.Count - 1; i >= 0; i--)
        {
            _cleanup[i]();
        }

        _temp.Dispose();
    }

    [Theory]
    [InlineData("ext4")]
    [InlineData("xfs")]
    public void FsMap_OfAMountedFileSystem_EqualsWhatXfsIoReads(string type)
    {
        (string device, string mount) = Mounted(type, 384);
        for (int i = 0; i < 40; i++)
        {
            byte[] content = new byte[(i + 1) * 65536];
            Random.Shared.NextBytes(content);
            File.WriteAllBytes(Path.Combine(mount, $"f{i}"), content);
        }

        Tool.Run("sync", "-f", mount);
        LiveDisk live = BlockDevices.Discover(device)!;
        LiveVolume volume = Assert.Single(live.Volumes);
        Assert.Equal(mount, volume.MountPoint);
        Assert.Equal(type, volume.FileSystem);

        List<ByteExtent> mine = FsMap.UsedExtents(volume.MountPoint, volume.Device, volume.Length)!;

        // xfs_io's own GETFSMAP reading: used is what it doesn't report free (ext4 leaves file data out of its records).
        var free = new List<(long Start, long End)>();
        foreach (string line in Tool.Run("xfs_io", "-c", "fsmap", mount).Split('\n'))
        {
            // "	8: 7:0 [15974..16385]: free space 412" (512-byte units)
            int open = line.IndexOf('[', StringComparison.Ordinal);
            if (open >= 0 && line.Contains("free space", StringComparison.Ordinal))
            {
                string[] range = line[(open + 1)..line.IndexOf(']', StringComparison.Ordinal)].Split("..");
                free.Add((long.Parse(range[0], CultureInfo.InvariantCulture) * 512, (long.Parse(range[1], CultureInfo.InvariantCulture) + 1) * 512));
            }
        }

        var theirs = new List<(long Start, long End)>();
        long at = 0;
        foreach ((long start, long end) in free.OrderBy(f => f.Start))
        {
            if (start > at)
            {
                theirs.Add((at, start));
            }

            at = Math.Max(at, end);
        }

        if (volume.Length > at)
        {
            theirs.Add((at, volume.Length));
        }

        Assert.Equal(theirs, mine.Select(e => (e.Start, e.Start + e.Length)));

        // At least what the file system itself counts as used (statfs: blocks minus free blocks, without its overhead).
        string[] df = Tool.Run("stat", "-f", "-c", "%b %f %S", mount).Trim().Split(' ');
        long counted = (long.Parse(df[0], CultureInfo.InvariantCulture) - long.Parse(df[1], CultureInfo.InvariantCulture)) * long.Parse(df[2], CultureInfo.InvariantCulture);
        Assert.True(mine.Sum(e => e.Length) >= counted, $"the map gives {mine.Sum(e => e.Length)} bytes used, statfs {counted}");
        Assert.True(counted > 40 * 41 / 2 * 65536L, $"statfs counts {counted} bytes used");
    }

    private static void TryRun(string tool, params string[] args)
    {
        try
        {
            Tool.Run(tool, args);
        }
        catch (InvalidOperationException)
        {
            // Not frozen, not mounted, already detached: nothing to undo.
        }
    }

    private (string Device, string Mount) Mounted(string type, int sizeMiB)
    {
        string image = _temp.File($"{type}.img");
        using (FileStream f = File.Create(image))
        {
            f.SetLength((long)sizeMiB << 20);
        }

        string device = Tool.Run("losetup", "-f", "--show", image).Trim();
        _cleanup.Add(() => TryRun("losetup", "-d", device));
        Tool.Run(type == "xfs" ? "mkfs.xfs" : "mkfs.ext4", type == "xfs" ? "-f" : "-F", "-q", device);
        string mount = _temp.File($"{type}.mnt");
        Directory.CreateDirectory(mount);
        Tool.Run("mount", device, mount);
        _cleanup.Add(() =>
        {
            TryRun("fsfreeze", "-u", mount);
            TryRun("umount", mount);
        });
        return (device, mount);
    }
}
