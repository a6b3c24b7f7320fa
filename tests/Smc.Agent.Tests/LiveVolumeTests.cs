using System.Globalization;
using Smc.Agent.Platform.Live;
using Smc.Agent.Replication;
using Smc.Disks;

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

    [Fact]
    public void Discover_FindsFileSystemsMountedOnTheDiskItsPartitionsAndDevicesStackedOnThem()
    {
        // A sysfs and mount table as the kernel shows them for /dev/sdz: sdz1 mounted on /boot, sdz2 an LVM PV whose
        // logical volume dm-7 is mounted on /, sdz3 unmounted.
        string sys = _temp.File("sys");
        void Dev(string dir, string dev, params (string File, string Text)[] files)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "dev"), dev + "\n");
            foreach ((string file, string text) in files)
            {
                File.WriteAllText(Path.Combine(dir, file), text + "\n");
            }
        }

        Dev(Path.Combine(sys, "sdz"), "8:240", ("size", "2097152"));
        Directory.CreateDirectory(Path.Combine(sys, "sdz", "queue"));
        File.WriteAllText(Path.Combine(sys, "sdz", "queue", "logical_block_size"), "4096\n");
        Dev(Path.Combine(sys, "sdz", "sdz1"), "8:241", ("partition", "1"), ("start", "2048"), ("size", "1048576"));
        Dev(Path.Combine(sys, "sdz", "sdz2"), "8:242", ("partition", "2"), ("start", "1050624"), ("size", "524288"));
        Dev(Path.Combine(sys, "sdz", "sdz3"), "8:243", ("partition", "3"), ("start", "1574912"), ("size", "4096"));
        Directory.CreateDirectory(Path.Combine(sys, "sdz", "sdz2", "holders", "dm-7"));
        Dev(Path.Combine(sys, "dm-7"), "253:7", ("size", "409600"));
        Directory.CreateDirectory(Path.Combine(sys, "dm-7", "dm"));
        File.WriteAllText(Path.Combine(sys, "dm-7", "dm", "uuid"), "LVM-Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8L9z0X1c2V3b4N5m6Q7w8E9r0T1y2\n");
        string mountinfo = _temp.File("mountinfo");
        File.WriteAllLines(mountinfo,
        [
            "22 1 253:7 / / rw,relatime shared:1 - xfs /dev/mapper/rhel-root rw",
            "23 22 8:241 / /boot rw,relatime shared:2 - ext4 /dev/sdz1 rw",
            "24 22 8:241 /sub /mnt/with\\040space rw,relatime shared:2 - ext4 /dev/sdz1 rw",
            "25 22 0:22 / /proc rw - proc proc rw",
        ]);
        string device = _temp.File("sdz");
        File.CreateSymbolicLink(device, "/dev/sdz");
        (string oldSys, string oldMounts) = (BlockDevices.SysBlock, BlockDevices.MountInfo);
        try
        {
            BlockDevices.SysBlock = sys;
            BlockDevices.MountInfo = mountinfo;
            LiveDisk disk = BlockDevices.Discover(device)!;
            Assert.Equal(new DeviceNumber(8, 240), disk.Device);
            Assert.Equal(4096, disk.LogicalBlockSize);
            Assert.Equal(
                [(2048L * 512, "/boot", "ext4", false), (1050624L * 512, "/", "xfs", true)],
                disk.Volumes.Select(v => (v.Start, v.MountPoint, v.FileSystem, v.Stacked)));

            // The LV: by the uuid the PV's metadata maps it with, and its own size (its file system's offsets).
            LiveVolume lv = disk.Volumes.Single(v => v.Stacked);
            Assert.Equal("LVM-Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8L9z0X1c2V3b4N5m6Q7w8E9r0T1y2", lv.DmUuid);
            Assert.Equal(409600L * 512, lv.StackedBytes);
        }
        finally
        {
            (BlockDevices.SysBlock, BlockDevices.MountInfo) = (oldSys, oldMounts);
        }
    }

    /// <summary>
    /// An LVM PV (metadata by the LVM tools) whose logical volume is mounted, with old data in the LV's free space. This
    /// kernel has no device-mapper, so the LV is put up as dm-linear would map it — a loop device at the LV's offset and
    /// size — and mounted; the volume is described as the sysfs holder would be (its dm uuid made from the uuids lvs
    /// prints). The plan takes the LV's used blocks from the kernel's map through its segment: it reads the PV's metadata
    /// and what the file system uses, not the LV's free space, and the LV read back from only the planned bytes checks clean.
    /// </summary>
    [Fact]
    public void DiskPlan_PvWithAMountedLv_PlansWhatTheLvsFileSystemUsesThroughItsSegment()
    {
        const long Mi = 1 << 20;
        (string pv, long firstExtent, long lvStart, string mount, LiveVolume volume) = MountedLv("ext4", 128, 64);
        var files = new Dictionary<string, byte[]>();
        for (int i = 0; i < 6; i++)
        {
            byte[] content = new byte[Mi + (i * 4096)];
            new Random(i).NextBytes(content);
            files[$"f{i}"] = content;
            File.WriteAllBytes(Path.Combine(mount, $"f{i}"), content);
        }

        Tool.Run("sync", "-f", mount);
        var live = new LiveDisk(pv, new DeviceNumber(7, 255), [volume], 512);

        var plan = DiskPlan.Build(0, pv, (int)Mi, live);
        Assert.Contains(mount, plan.KernelMapped);
        Assert.Contains(plan.Notes, n => n.Contains("through the volume's segments", StringComparison.Ordinal));
        long inUse = files.Values.Sum(c => (long)c.Length);
        Assert.InRange(plan.PlannedBytes, inUse, inUse + firstExtent + (12 * Mi)); // metadata, ext4's own, chunk rounding — not 64 MiB

        // The planned bytes alone, on a fresh PV image: the LV's file system checks clean and holds the files.
        Tool.Run("umount", mount);
        string copy = _temp.File("copy.img");
        using (FileStream source = File.OpenRead(pv))
        using (FileStream target = File.Create(copy))
        {
            target.SetLength(source.Length);
            foreach (ChunkRange c in plan.Chunks)
            {
                byte[] buffer = new byte[c.Length];
                source.Position = target.Position = c.Offset;
                source.ReadExactly(buffer);
                target.Write(buffer);
            }
        }

        string lvBack = _temp.File("lv-back.img");
        Tool.Run("dd", $"if={copy}", $"of={lvBack}", "bs=1M", $"skip={lvStart}", "count=64", "iflag=skip_bytes", "status=none");
        Tool.Run("e2fsck", "-fn", lvBack);
        foreach ((string name, byte[] content) in files)
        {
            string back = _temp.File("back-" + name);
            Tool.Run("debugfs", "-R", $"dump /{name} {back}", lvBack);
            Assert.Equal(content, File.ReadAllBytes(back));
        }
    }

    [Fact]
    public void WriteTracker_MarksWritesToTheDeviceSeenBeforeABarrier_AndRemovesItsInstance()
    {
        (string device, string mount) = Mounted("ext4", 64);
        LiveDisk disk = BlockDevices.Discover(device)!;
        string instance;
        using (WriteTracker tracker = WriteTracker.TryStart([disk.Device], 1 << 20, out string? whyNot) ?? throw new InvalidOperationException(whyNot))
        {
            instance = Assert.Single(Directory.GetDirectories(Path.Combine(WriteTracker.TraceRoot, "instances"), $"{WriteTracker.InstancePrefix}{Environment.ProcessId}-*"));
            tracker.Take();

            // 2 MiB straight to the device at 40 MiB (under the mounted file system: the tracker sees the device, not files).
            Tool.Run("dd", "if=/dev/urandom", $"of={device}", "bs=1M", "count=2", "seek=40", "oflag=direct", "conv=notrunc", "status=none");
            Assert.True(tracker.Barrier(TimeSpan.FromSeconds(5)));
            IReadOnlyDictionary<long, (int Lo, int Hi)> cells = tracker.Take().Of(0);
            Assert.Equal((0, 1 << 20), cells[40]);
            Assert.Equal((0, 1 << 20), cells[41]);
            Assert.False(tracker.IsLost);
            Assert.Empty(tracker.Take().Of(0)); // taken marks are gone
        }

        Assert.False(Directory.Exists(instance));
        Assert.NotNull(mount);
    }

    [Theory]
    [InlineData("  ksoftirqd/0-14  [000] ..s..  445.465937: block_rq_complete: 7,0 WSM () 2 + 2 be,0,4 [0]", 7340032u, 1024L, 1024L)]
    [InlineData("  dd-4588  [000] .....  444.9: block_bio_queue: 7,0 WS 32770 + 2560 [dd]", 7340032u, 32770L * 512, 2560L * 512)]
    [InlineData("  x-1 [001] .....  1.0: block_bio_queue: 8,16 D 2048 + 8 [fstrim]", 8388624u, 2048L * 512, 4096L)]
    public void WriteTracker_ParsesWritesAndDiscards(string line, uint dev, long start, long length) =>
        Assert.Equal((dev, start, length), WriteTracker.ParseWrite(line));

    [Theory]
    [InlineData("  dd-4588  [000] .....  444.9: block_bio_queue: 7,0 RM 15944 + 2 [dd]")] // a read
    [InlineData("  k-24  [001] ..s..  445.46: block_rq_complete: 7,0 FF () 18446744073709551615 + 0 none,0,0 [0]")] // a flush
    [InlineData("  bash-1  [000] ...1.  445.46: tracing_mark_write: smc-barrier-2")]
    public void WriteTracker_IgnoresReadsFlushesAndMarkers(string line) => Assert.Null(WriteTracker.ParseWrite(line));

    [Fact]
    public void DeviceNumbers_InTheKernelsAndUserSpacesEncodings()
    {
        Assert.Equal(7340032u, new DeviceNumber(7, 0).Kernel); // the value the block tracepoints' filter takes for loop0
        Assert.Equal(0x0700u, new DeviceNumber(7, 0).Encoded);
        Assert.Equal(0x10_0803u, new DeviceNumber(8, 259).Encoded); // new_encode_dev: minor's high bits above the major
        Assert.Equal(new DeviceNumber(259, 3), DeviceNumber.Parse("259:3\n"));
        Assert.Equal("/mnt/with space", BlockDevices.Unescape("/mnt/with\\040space"));
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

    /// <summary>
    /// A PV image of <paramref name="pvMiB"/> with one LV "root" of <paramref name="lvMiB"/> (metadata by the LVM tools),
    /// old data in the LV's extents, and a <paramref name="type"/> file system made and mounted on a loop device at the
    /// LV's offset and size — what dm-linear would show, on a kernel without device-mapper; the volume as the agent's
    /// discovery describes a mounted LV (stacked, with its dm uuid made from the uuids lvs prints).
    /// </summary>
    private (string Pv, long FirstExtent, long LvStart, string Mount, LiveVolume Volume) MountedLv(string type, int pvMiB, int lvMiB)
    {
        const long Mi = 1 << 20;
        string pv = _temp.File($"pv-{type}.img");
        using (FileStream f = File.Create(pv))
        {
            f.SetLength(pvMiB * Mi);
        }

        string vg = "smclv" + Guid.NewGuid().ToString("N")[..6];
        string pvDevice = Tool.Run("losetup", "-f", "--show", pv).Trim();
        string[] lv;
        long firstExtent;
        try
        {
            Tool.Run("lvm", "pvcreate", "-q", pvDevice);
            Tool.Run("lvm", "vgcreate", "-q", "-s", "4m", vg, pvDevice);
            Tool.Run("lvm", "lvcreate", "--driverloaded", "n", "-an", "--zero", "n", "-q", "-L", $"{lvMiB}M", "-n", "root", vg);
            lv = Tool.Run("lvm", "lvs", "--driverloaded", "n", "--noheadings", "--separator", ";", "-o", "vg_uuid,lv_uuid,seg_pe_ranges", vg).Trim().Split(';');
            firstExtent = long.Parse(Tool.Run("lvm", "pvs", "--driverloaded", "n", "--noheadings", "--units", "b", "--nosuffix", "-o", "pe_start", pvDevice).Trim(), CultureInfo.InvariantCulture);
        }
        finally
        {
            Tool.Run("losetup", "-d", pvDevice);
        }

        long pe = long.Parse(lv[2].Split(':')[1].Split('-')[0], CultureInfo.InvariantCulture);
        long lvStart = firstExtent + (pe * 4 * Mi);
        using (FileStream f = new(pv, FileMode.Open, FileAccess.Write))
        {
            byte[] junk = new byte[lvMiB * Mi];
            new Random(7).NextBytes(junk); // old data where the LV's free space will be
            f.Position = lvStart;
            f.Write(junk);
        }

        string lvDevice = Tool.Run("losetup", "-f", "--show", "--offset", lvStart.ToString(CultureInfo.InvariantCulture), "--sizelimit", (lvMiB * Mi).ToString(CultureInfo.InvariantCulture), pv).Trim();
        _cleanup.Add(() => TryRun("losetup", "-d", lvDevice));
        Tool.Run(type == "xfs" ? "mkfs.xfs" : "mkfs.ext4", type == "xfs" ? "-f" : "-F", "-q", type == "xfs" ? "-K" : "-Enodiscard", lvDevice);
        string mount = _temp.File($"lv-{type}.mnt");
        Directory.CreateDirectory(mount);
        Tool.Run("mount", lvDevice, mount);
        _cleanup.Add(() =>
        {
            TryRun("fsfreeze", "-u", mount);
            TryRun("umount", mount);
        });
        DeviceNumber dev = DeviceNumber.Parse(Tool.Run("lsblk", "-dno", "MAJ:MIN", lvDevice))!.Value;
        string dmUuid = "LVM-" + lv[0].Replace("-", "", StringComparison.Ordinal) + lv[1].Replace("-", "", StringComparison.Ordinal);
        return (pv, firstExtent, lvStart, mount, new LiveVolume(0, pvMiB * Mi, dev, mount, type, Stacked: true, DmUuid: dmUuid, StackedBytes: lvMiB * Mi));
    }

    /// <summary>
    /// XFS in a mounted LV (the RHEL layout): under a real freeze, the agent's seal is planned through the LV's segment from
    /// the PV device with O_DIRECT; laid into a copy taken under the same freeze, the LV's XFS checks clean — and without
    /// the seal it doesn't.
    /// </summary>
    [Fact]
    public void FrozenXfsInAMountedLv_SealedThroughTheLvsSegment_ChecksClean()
    {
        const long Mi = 1 << 20;
        (string pv, _, long lvStart, string mount, LiveVolume volume) = MountedLv("xfs", 512, 320);
        File.WriteAllText(Path.Combine(mount, "a.txt"), "written before the freeze");
        Tool.Run("sync", "-f", mount);
        string pvDevice = Tool.Run("losetup", "-f", "--show", pv).Trim(); // the disk the agent reads: the PV's device
        _cleanup.Add(() => TryRun("losetup", "-d", pvDevice));
        var plan = DiskPlan.Build(0, pvDevice, (int)Mi, new LiveDisk(pvDevice, new DeviceNumber(7, 254), [volume], 512));
        Assert.True(plan.LogicalVolumes.ContainsKey(volume.DmUuid!));
        string copy = _temp.File("frozen-lv.img");
        List<LogSealPlan> seals;
        using (var readers = new SourceReaders([plan], (int)Mi))
        {
            Tool.Run("fsfreeze", "-f", mount);
            try
            {
                seals = LogSealPlanner.Plan([plan], [volume], readers);
                Tool.Run("dd", $"if={pvDevice}", $"of={copy}", "bs=1M", $"skip={lvStart}", "count=320", "iflag=direct,skip_bytes", "status=none");
            }
            finally
            {
                Tool.Run("fsfreeze", "-u", mount);
            }
        }

        LogSealPlan seal = Assert.Single(seals);
        Assert.True(seal.NotSealed is null, seal.NotSealed);
        Assert.Throws<InvalidOperationException>(() => Tool.Run("xfs_repair", "-n", "-f", copy)); // the covered log, unsealed
        using (FileStream f = new(copy, FileMode.Open, FileAccess.Write))
        {
            foreach (LogSealWrite w in seal.Writes)
            {
                Assert.InRange(w.Offset, lvStart, lvStart + (320 * Mi) - w.Bytes.Length); // disk offsets, inside the LV's extents
                f.Position = w.Offset - lvStart;
                f.Write(w.Bytes);
            }
        }

        Tool.Run("xfs_repair", "-n", "-f", copy);
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
