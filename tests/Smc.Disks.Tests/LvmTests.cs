using System.Globalization;
using Smc.Disks.Tests.Support;

namespace Smc.Disks.Tests;

/// <summary>
/// LVM2 physical volumes written by the real LVM tools (lvm2; this kernel has no device-mapper, so LVs are created
/// inactive with --driverloaded n and their file systems are made at the extents lvs reports): the PV is copied as what
/// its logical volumes use, and the LVs read back from only those bytes check clean and hold their files.
/// </summary>
public sealed class LvmTests : IDisposable
{
    private const long Mi = 1 << 20;
    private readonly TempDir _temp = new("lvm");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void PhysicalVolume_UsedIsMetadataAndWhatEachLvsFileSystemUses_LvsReadBackCleanFromThoseBytesAlone()
    {
        string pv = _temp.File("pv.img");
        using (FileStream f = File.Create(pv))
        {
            f.SetLength(256 * Mi);
        }

        string vg = "smcvg" + Guid.NewGuid().ToString("N")[..6];
        string device = Tool.Run("losetup", "-f", "--show", pv).Trim();
        Dictionary<string, List<(long Pe, long Count)>> ranges;
        long firstExtent;
        try
        {
            Lvm("pvcreate", "-q", device);
            Lvm("vgcreate", "-q", "-s", "4m", vg, device);
            Lvm("lvcreate", "--driverloaded", "n", "-an", "--zero", "n", "-q", "-L", "64M", "-n", "root", vg);
            Lvm("lvcreate", "--driverloaded", "n", "-an", "--zero", "n", "-q", "-L", "32M", "-n", "swap", vg);
            Lvm("lvcreate", "--driverloaded", "n", "-an", "--zero", "n", "-q", "-L", "16M", "-n", "home", vg);
            Lvm("lvextend", "--driverloaded", "n", "-q", "-L", "+16M", $"{vg}/root"); // root now has two segments
            ranges = Ranges(Lvm("lvs", "--driverloaded", "n", "--noheadings", "--separator", ";", "-o", "lv_name,seg_start_pe,seg_pe_ranges", vg));
            firstExtent = long.Parse(Lvm("pvs", "--driverloaded", "n", "--noheadings", "--units", "b", "--nosuffix", "-o", "pe_start", device).Trim(), CultureInfo.InvariantCulture);
        }
        finally
        {
            // The metadata stays in the image; the loop device goes (LVM keeps no cache of it: it scans devices when asked).
            Tool.Run("losetup", "-d", device);
        }

        // File systems made at the LVs' extents: root (two segments) built in a file and laid into place, home in place.
        string tree = _temp.File("tree");
        Directory.CreateDirectory(tree);
        var rng = new Random(5);
        for (int i = 0; i < 6; i++)
        {
            byte[] content = new byte[3 * Mi];
            rng.NextBytes(content);
            File.WriteAllBytes(Path.Combine(tree, $"f{i}.bin"), content);
        }

        string root = _temp.File("root.img");
        Tool.Run("mkfs.ext4", "-q", "-F", "-d", tree, root, "80M");
        WriteLv(pv, root, ranges["root"], firstExtent);
        string home = _temp.File("home.img");
        Tool.Run("mkfs.ext4", "-q", "-F", home, "16M");
        WriteLv(pv, home, ranges["home"], firstExtent);
        string swap = _temp.File("swap.img");
        using (FileStream f = File.Create(swap))
        {
            f.SetLength(32 * Mi);
        }

        Tool.Run("mkswap", "-q", swap);
        WriteLv(pv, swap, ranges["swap"], firstExtent);

        using DiskReader reader = DiskReader.Open(pv);
        Assert.Equal("lvm2", DiskInspector.Inspect(reader, pv).Parts.Single().FileSystem);
        LvmMetadata meta = LvmMetadata.Read(reader, 0, reader.Length)!;
        Assert.Equal(4 * Mi, meta.ExtentBytes);
        Assert.Equal(firstExtent, meta.FirstExtentBytes);
        Assert.Equal([("home", 1), ("root", 2), ("swap", 1)], meta.Volumes.Select(v => (v.Name, v.Segments.Count)).Order());
        Assert.All(meta.Volumes, v => Assert.True(v.Mapped));
        IReadOnlyList<ByteExtent> used = AllocationMaps.UsedExtents(reader, 0, reader.Length, "lvm2")!;
        long total = used.Sum(e => e.Length);

        // Label and metadata; root's 18 MiB of files and its metadata; home's metadata; swap's header — not 256 MiB.
        Assert.Contains(used, e => e.Start == 0 && e.Length >= firstExtent);
        Assert.InRange(total, 18 * Mi, 60 * Mi);
        long swapStart = firstExtent + (ranges["swap"][0].Pe * 4 * Mi);
        Assert.DoesNotContain(used, e => e.Start < swapStart + (32 * Mi) && e.Start + e.Length > swapStart + (64 << 10));

        // Only the used bytes, on a fresh PV image: each LV read back through its extents checks clean and holds its files.
        string copy = _temp.File("copy.img");
        using (FileStream source = File.OpenRead(pv))
        using (FileStream target = File.Create(copy))
        {
            target.SetLength(reader.Length);
            byte[] buffer = new byte[Mi];
            foreach (ByteExtent e in used)
            {
                for (long at = e.Start; at < e.Start + e.Length; at += buffer.Length)
                {
                    int n = (int)Math.Min(buffer.Length, e.Start + e.Length - at);
                    source.Position = target.Position = at;
                    source.ReadExactly(buffer, 0, n);
                    target.Write(buffer, 0, n);
                }
            }
        }

        string rootBack = ReadLv(copy, ranges["root"], firstExtent, "root-back.img");
        Tool.Run("e2fsck", "-fn", rootBack);
        foreach (string file in Directory.GetFiles(tree))
        {
            string back = _temp.File("back-" + Path.GetFileName(file));
            Tool.Run("debugfs", "-R", $"dump /{Path.GetFileName(file)} {back}", rootBack);
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(back));
        }

        Tool.Run("e2fsck", "-fn", ReadLv(copy, ranges["home"], firstExtent, "home-back.img"));
        Assert.Equal("swap", Tool.Run("blkid", "-p", "-o", "value", "-s", "TYPE", ReadLv(copy, ranges["swap"], firstExtent, "swap-back.img")).Trim());
    }

    private static string Lvm(params string[] args) => Tool.Run("lvm", args);

    /// <summary>lvs lines "name;segStartPe;/dev/loopN:a-b" → each LV's physical extent runs in segment order.</summary>
    private static Dictionary<string, List<(long Pe, long Count)>> Ranges(string lvs)
    {
        var result = new Dictionary<string, List<(long, long, long)>>();
        foreach (string line in lvs.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Trim().Split(';');
            string[] pe = f[2][(f[2].LastIndexOf(':') + 1)..].Split('-');
            long a = long.Parse(pe[0], CultureInfo.InvariantCulture), b = long.Parse(pe[1], CultureInfo.InvariantCulture);
            if (!result.TryGetValue(f[0], out var list))
            {
                result[f[0]] = list = [];
            }

            list.Add((long.Parse(f[1], CultureInfo.InvariantCulture), a, b - a + 1));
        }

        return result.ToDictionary(kv => kv.Key, kv => kv.Value.OrderBy(s => s.Item1).Select(s => (s.Item2, s.Item3)).ToList());
    }

    private static void WriteLv(string pv, string content, List<(long Pe, long Count)> runs, long firstExtent)
    {
        using FileStream source = File.OpenRead(content);
        using FileStream target = File.OpenWrite(pv);
        foreach ((long pe, long count) in runs)
        {
            byte[] buffer = new byte[count * 4 * Mi];
            int n = source.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            target.Position = firstExtent + (pe * 4 * Mi);
            target.Write(buffer, 0, n);
        }
    }

    private string ReadLv(string pv, List<(long Pe, long Count)> runs, long firstExtent, string name)
    {
        string path = _temp.File(name);
        using FileStream source = File.OpenRead(pv);
        using FileStream target = File.Create(path);
        foreach ((long pe, long count) in runs)
        {
            byte[] buffer = new byte[count * 4 * Mi];
            source.Position = firstExtent + (pe * 4 * Mi);
            source.ReadExactly(buffer);
            target.Write(buffer);
        }

        return path;
    }
}
