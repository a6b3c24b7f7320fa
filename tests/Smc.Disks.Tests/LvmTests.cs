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
        (string pv, Dictionary<string, List<(long Pe, long Count)>> ranges, long firstExtent, _) = PhysicalVolume();

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

    /// <summary>
    /// Mounted LVs (a running source): the kernel's space map of each, in the LV's offsets and keyed by the uuid
    /// device-mapper knows the LV by (made here from the uuids lvs prints, not from our parser), is carried through the
    /// LV's segments onto the PV instead of its on-disk bitmaps — a range that crosses the segment boundary lands in both
    /// segments; an LV whose map is unknown is copied whole; the others keep their own maps.
    /// </summary>
    [Fact]
    public void PhysicalVolume_MountedLvsKernelMapsGoThroughTheirSegments()
    {
        (string pv, Dictionary<string, List<(long Pe, long Count)>> ranges, long firstExtent, Dictionary<string, (string Vg, string Lv)> uuids) = PhysicalVolume();
        static string DmUuid((string Vg, string Lv) u) => "LVM-" + u.Vg.Replace("-", "", StringComparison.Ordinal) + u.Lv.Replace("-", "", StringComparison.Ordinal);
        string swapImage = _temp.File("swap.img");
        using (FileStream f = File.Create(swapImage))
        {
            f.SetLength(32 * Mi);
        }

        Tool.Run("mkswap", "-q", swapImage);
        WriteLv(pv, swapImage, ranges["swap"], firstExtent);

        // root: 80 MiB in two segments (64 + 16); the kernel says [1 MiB, 2 MiB) and [62 MiB, 66 MiB) are used.
        var mounted = new Dictionary<string, IReadOnlyList<ByteExtent>?>
        {
            [DmUuid(uuids["root"])] = [new ByteExtent(Mi, Mi), new ByteExtent(62 * Mi, 4 * Mi)],
            [DmUuid(uuids["home"])] = null,
        };
        using DiskReader reader = DiskReader.Open(pv);
        LvmMetadata meta = LvmMetadata.Read(reader, 0, reader.Length)!;
        Assert.Equal(DmUuid(uuids["root"]), meta.DeviceMapperUuid(meta.Volumes.Single(v => v.Name == "root")));
        IReadOnlyList<ByteExtent> used = AllocationMaps.UsedExtents(reader, 0, reader.Length, "lvm2", mounted)!;

        long Pe(string lv, int run) => firstExtent + (ranges[lv][run].Pe * 4 * Mi);
        var expected = new List<ByteExtent>
        {
            new(0, firstExtent),
            new(Pe("root", 0) + Mi, Mi),
            new(Pe("root", 0) + (62 * Mi), 2 * Mi), // the first segment's last 2 MiB…
            new(Pe("root", 1), 2 * Mi), //            …and the second segment's first 2 MiB
            new(Pe("home", 0), 16 * Mi), // mounted, map unknown: whole
            new(Pe("swap", 0), 4096), // not mounted: its own map (the swap header)
        };
        Assert.Equal(Merge(expected), used);
    }

    /// <summary>
    /// XFS on LVM, the RHEL layout: a frozen XFS laid at the extents of an LV of two segments (its last AG and its log in
    /// the second), sealed through the LV's segment map as the agent does for a mounted LV, reads back clean.
    /// </summary>
    [Fact]
    public void FrozenXfsInAnLvOfTwoSegments_SealedThroughTheSegmentMap_ChecksClean()
    {
        (string pv, Dictionary<string, List<(long Pe, long Count)>> ranges, long firstExtent, _) = PhysicalVolume(pvMiB: 512, rootMiB: 256, extendMiB: 96);
        string xfs = _temp.File("root-xfs.img");
        using (FileStream f = File.Create(xfs))
        {
            f.SetLength(352 * Mi);
        }

        Tool.Run("mkfs.xfs", "-q", "-f", "-d", "agcount=4", "-l", "agnum=3", xfs); // 88 MiB AGs: AG 3 and its log past the first segment's 256 MiB
        string frozen = _temp.File("root-frozen.img");
        XfsLogTests.FrozenCopy(_temp, xfs, "", frozen, mount =>
        {
            for (int i = 0; i < 8; i++)
            {
                File.WriteAllText(Path.Combine(mount, $"f{i}.txt"), new string((char)('a' + i), 5000 * (i + 1)));
            }
        });
        WriteLv(pv, frozen, ranges["root"], firstExtent);

        using (DiskReader reader = DiskReader.Open(pv))
        {
            LvmVolume root = LvmMetadata.Read(reader, 0, reader.Length)!.Volumes.Single(v => v.Name == "root");
            long Pe(int run) => firstExtent + (ranges["root"][run].Pe * 4 * Mi);
            Assert.Equal([(Pe(0) + (256 * Mi) - 512, 0L, 512L), (Pe(1), 512L, 512L)], root.MapRange((256 * Mi) - 512, 1024)!);
            Assert.Null(root.MapRange(352 * Mi, 1));

            LogSeal seal = XfsLog.PlanSeal((offset, buffer) =>
            {
                foreach ((long pvOffset, long at, long length) in root.MapRange(offset, buffer.Length)!)
                {
                    reader.ReadAt(pvOffset, buffer.Slice((int)at, (int)length));
                }
            });
            Assert.True(seal.NotSealed is null, seal.NotSealed);
            Assert.Contains(seal.Writes, w => w.Offset >= 256 * Mi); // the unmount record lands in the second segment
            using FileStream target = new(pv, FileMode.Open, FileAccess.Write);
            foreach (LogSealWrite w in seal.Writes)
            {
                foreach ((long pvOffset, long at, long length) in root.MapRange(w.Offset, w.Bytes.Length)!)
                {
                    target.Position = pvOffset;
                    target.Write(w.Bytes, (int)at, (int)length);
                }
            }
        }

        Tool.RunCombined("xfs_repair", "-n", "-f", ReadLv(pv, ranges["root"], firstExtent, "root-back.img"));
    }

    private static List<ByteExtent> Merge(List<ByteExtent> extents)
    {
        var merged = new List<ByteExtent>();
        foreach (ByteExtent e in extents.OrderBy(e => e.Start))
        {
            if (merged.Count > 0 && merged[^1].End >= e.Start)
            {
                merged[^1] = new ByteExtent(merged[^1].Start, Math.Max(merged[^1].End, e.End) - merged[^1].Start);
            }
            else
            {
                merged.Add(e);
            }
        }

        return merged;
    }

    /// <summary>
    /// A PV image (256 MiB) with LVs root (64 MiB, then extended by 16 MiB: two segments), swap (32 MiB) and home (16 MiB),
    /// written by the LVM tools; with each LV's extent runs, the first extent's offset and the LVs' uuids as lvs prints them
    /// ("VG uuid;LV uuid", with dashes).
    /// </summary>
    private (string Pv, Dictionary<string, List<(long Pe, long Count)>> Ranges, long FirstExtent, Dictionary<string, (string Vg, string Lv)> Uuids) PhysicalVolume(
        int pvMiB = 256, int rootMiB = 64, int extendMiB = 16)
    {
        string pv = _temp.File("pv.img");
        using (FileStream f = File.Create(pv))
        {
            f.SetLength(pvMiB * Mi);
        }

        string vg = "smcvg" + Guid.NewGuid().ToString("N")[..6];
        string device = Tool.Run("losetup", "-f", "--show", pv).Trim();
        try
        {
            Lvm("pvcreate", "-q", device);
            Lvm("vgcreate", "-q", "-s", "4m", vg, device);
            Lvm("lvcreate", "--driverloaded", "n", "-an", "--zero", "n", "-q", "-L", $"{rootMiB}M", "-n", "root", vg);
            Lvm("lvcreate", "--driverloaded", "n", "-an", "--zero", "n", "-q", "-L", "32M", "-n", "swap", vg);
            Lvm("lvcreate", "--driverloaded", "n", "-an", "--zero", "n", "-q", "-L", "16M", "-n", "home", vg);
            Lvm("lvextend", "--driverloaded", "n", "-q", "-L", $"+{extendMiB}M", $"{vg}/root"); // root now has two segments
            var ranges = Ranges(Lvm("lvs", "--driverloaded", "n", "--noheadings", "--separator", ";", "-o", "lv_name,seg_start_pe,seg_pe_ranges", vg));
            long firstExtent = long.Parse(Lvm("pvs", "--driverloaded", "n", "--noheadings", "--units", "b", "--nosuffix", "-o", "pe_start", device).Trim(), CultureInfo.InvariantCulture);
            var uuids = Lvm("lvs", "--driverloaded", "n", "--noheadings", "--separator", ";", "-o", "lv_name,vg_uuid,lv_uuid", vg)
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim().Split(';')).ToDictionary(f => f[0], f => (f[1], f[2]));
            return (pv, ranges, firstExtent, uuids);
        }
        finally
        {
            // The metadata stays in the image; the loop device goes (LVM keeps no cache of it: it scans devices when asked).
            Tool.Run("losetup", "-d", device);
        }
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
