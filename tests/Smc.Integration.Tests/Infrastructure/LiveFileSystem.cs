using System.Security.Cryptography;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>
/// A real mounted file system for live-source tests: an image file whose bytes start as random data (old data in what
/// becomes free space), attached to a loop device, made with the real mkfs, mounted, and filled from a tree kept in
/// the sandbox. Disposal thaws, unmounts and detaches on every path (a frozen file system left behind hangs writers).
/// This kernel creates no partition devices for loop devices, so the file system is on the whole device.
/// </summary>
internal sealed class LiveFileSystem : IDisposable
{
    private LiveFileSystem(string image, string device, string mount, string tree, string type)
    {
        Image = image;
        Device = device;
        Mount = mount;
        Tree = tree;
        Type = type;
    }

    public string Image { get; }

    public string Device { get; }

    public string Mount { get; }

    /// <summary>The files copied in before the migration (and never touched after): each image must hold them as they are here.</summary>
    public string Tree { get; }

    public string Type { get; }

    public static LiveFileSystem Create(Sandbox box, string name, string type, int sizeMiB, int fileCount, int fileMiB)
    {
        string image = box.File($"{name}.fs");
        using (FileStream f = File.Create(image))
        {
            byte[] block = new byte[1 << 20];
            for (int i = 0; i < sizeMiB; i++)
            {
                RandomNumberGenerator.Fill(block);
                f.Write(block);
            }
        }

        string tree = box.File($"{name}.tree");
        Directory.CreateDirectory(Path.Combine(tree, "data"));
        byte[] content = new byte[fileMiB << 20];
        for (int i = 0; i < fileCount; i++)
        {
            RandomNumberGenerator.Fill(content);
            File.WriteAllBytes(Path.Combine(tree, "data", $"file-{i:D3}.bin"), content);
        }

        string device = Tool.Run("losetup", ["-f", "--show", image]).Stdout.Trim();
        string mount = box.File($"{name}.mnt");
        Directory.CreateDirectory(mount);
        var fs = new LiveFileSystem(image, device, mount, tree, type);
        try
        {
            Tool.Run(type == "xfs" ? "mkfs.xfs" : "mkfs.ext4", type == "xfs" ? ["-f", "-q", device] : ["-F", "-q", device]);
            Tool.Run("mount", [device, mount]);
            Tool.Run("cp", ["-a", Path.Combine(tree, "data"), mount]);
            Tool.Run("sync", ["-f", mount]);
        }
        catch
        {
            fs.Dispose();
            throw;
        }

        return fs;
    }

    /// <summary>Sectors written to the device since boot, as the kernel counts them (/sys/block/loopN/stat, field 7).</summary>
    public long SectorsWritten() =>
        long.Parse(File.ReadAllText($"/sys/block/{Path.GetFileName(Device)}/stat").Split(' ', StringSplitOptions.RemoveEmptyEntries)[6], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Samples <see cref="SectorsWritten"/> every 10 ms until disposed, each sample with the clock read before and after
    /// it, so a test can bound what the kernel wrote between two instants another process reported (a freeze).
    /// </summary>
    public SectorSampler SampleSectorsWritten() => new(this);

    /// <summary>
    /// Bytes in use as the kernel's space map says, read by xfs_io's own GETFSMAP: the size less what it reports free (ext4
    /// leaves ranges of file data out of its records, so adding up the other records would count too little).
    /// </summary>
    public long InUseBytes()
    {
        long free = 0;
        foreach (string line in Tool.Run("xfs_io", ["-c", "fsmap", Mount]).Stdout.Split('\n'))
        {
            // "	8: 7:0 [15974..16385]: free space 412" — lengths in 512-byte units, the last field.
            if (line.Contains("free space", StringComparison.Ordinal))
            {
                free += long.Parse(line.Trim().Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture) * 512;
            }
        }

        return new FileInfo(Image).Length - free;
    }

    public void Dispose()
    {
        Tool.Run("fsfreeze", ["-u", Mount], check: false);
        if (Tool.Run("umount", [Mount], check: false).ExitCode != 0)
        {
            Tool.Run("umount", ["-l", Mount], check: false);
        }

        Tool.Run("losetup", ["-d", Device], check: false);
    }
}

/// <summary>The kernel's count of sectors written to a device, sampled on a timer (<see cref="LiveFileSystem.SampleSectorsWritten"/>).</summary>
internal sealed class SectorSampler : IDisposable
{
    private readonly List<(DateTimeOffset Before, DateTimeOffset After, long Sectors)> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    internal SectorSampler(LiveFileSystem fs)
    {
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
            do
            {
                DateTimeOffset before = DateTimeOffset.UtcNow;
                long sectors = fs.SectorsWritten();
                DateTimeOffset after = DateTimeOffset.UtcNow;
                lock (_samples)
                {
                    _samples.Add((before, after, sectors));
                }
            }
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
        });
    }

    /// <summary>
    /// An upper bound of the bytes written to the device between <paramref name="from"/> and <paramref name="to"/>: the
    /// last sample read wholly before <paramref name="from"/> and the first begun after <paramref name="to"/>.
    /// </summary>
    public long BytesWrittenBetween(DateTimeOffset from, DateTimeOffset to)
    {
        lock (_samples)
        {
            var low = _samples.LastOrDefault(s => s.After <= from);
            var high = _samples.FirstOrDefault(s => s.Before >= to);
            if (low == default || high == default)
            {
                throw new InvalidOperationException($"no samples bracket {from:O} .. {to:O} ({_samples.Count} samples, {_samples[0].Before:O} .. {_samples[^1].After:O})");
            }

            return (high.Sectors - low.Sectors) * 512;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
