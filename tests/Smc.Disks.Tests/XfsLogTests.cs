using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using Smc.Disks.Tests.Support;

namespace Smc.Disks.Tests;

/// <summary>
/// A frozen XFS, copied under the freeze the way the agent copies it (O_DIRECT), has a covered log that xfs_repair -n
/// refuses as "metadata changes in a log"; with the unmount record <see cref="XfsLog.PlanSeal"/> builds put at the log's
/// head, the copy checks clean, mounts from a read-only device (no recovery) and holds the files. The record's checksum is checked against
/// the kernel's own records in the same log.
/// </summary>
public sealed partial class XfsLogTests : IDisposable
{
    private readonly TempDir _temp = new("xfslog");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(new string[0], "")] // the default: 32 KiB iclogs, no log stripe unit, 512-byte records
    [InlineData(new[] { "-l", "su=64k" }, "logbsize=256k")] // records padded to the 64 KiB log stripe unit; 256 KiB iclogs, 8 header blocks
    public void FrozenCopy_RefusedAsDirty_SealedCopyChecksCleanAndMountsWithoutRecovery(string[] mkfsOptions, string mountOptions)
    {
        string image = _temp.File("xfs.img");
        using (FileStream f = File.Create(image))
        {
            f.SetLength(400L << 20);
        }

        Tool.Run("mkfs.xfs", [.. new[] { "-q", "-f" }, .. mkfsOptions, image]);
        string copy = _temp.File("copy.img");
        byte[] payload = new byte[3 << 20];
        new Random(15).NextBytes(payload);
        FrozenCopy(_temp, image, mountOptions, copy, mount =>
        {
            Directory.CreateDirectory(Path.Combine(mount, "data"));
            File.WriteAllBytes(Path.Combine(mount, "data", "payload.bin"), payload);
            for (int i = 0; i < 40; i++)
            {
                File.WriteAllText(Path.Combine(mount, "data", $"small{i}.txt"), $"file {i}\n");
            }
        });

        string repair = Assert.Throws<InvalidOperationException>(() => Tool.Run("xfs_repair", "-n", "-f", copy)).Message;
        Assert.Contains("valuable metadata changes in a log", repair, StringComparison.Ordinal);
        string refused = _temp.File("refused");
        Directory.CreateDirectory(refused);
        Assert.Throws<InvalidOperationException>(() => Tool.Run("mount", "-o", "loop,ro", copy, refused));

        int unmountsBefore = UnmountRecords(copy);
        LogSeal seal = Seal(copy);
        Assert.True(seal.NotSealed is null, seal.NotSealed);
        (long logStart, long logLength) = LogPrintGeometry(copy);
        Assert.Equal(2, seal.Writes.Count);
        Assert.InRange(seal.Writes[0].Offset, logStart, logStart + logLength - seal.Writes[0].Bytes.Length);
        Assert.Equal(0, seal.Writes[1].Offset); // the superblock with exact counters
        using (FileStream f = new(copy, FileMode.Open, FileAccess.Write))
        {
            foreach (LogSealWrite w in seal.Writes)
            {
                f.Position = w.Offset;
                f.Write(w.Bytes);
            }
        }

        Tool.RunCombined("xfs_repair", "-n", "-f", copy); // exits non-zero (and the test fails) on a dirty log or any inconsistency
        Assert.Equal(unmountsBefore + 1, UnmountRecords(copy)); // xfs_logprint reads our record as an unmount record

        // A read-only loop device can't run log recovery ("recovery required on read-only device"): the unsealed copy
        // refuses such a mount (shown before the seal, below), the sealed one mounts and holds the files.
        string mnt = _temp.File("mnt");
        Directory.CreateDirectory(mnt);
        Tool.Run("mount", "-o", "loop,ro", copy, mnt);
        try
        {
            Assert.Equal(payload, File.ReadAllBytes(Path.Combine(mnt, "data", "payload.bin")));
            Assert.Equal("file 39\n", File.ReadAllText(Path.Combine(mnt, "data", "small39.txt")));
        }
        finally
        {
            Tool.Run("umount", mnt);
        }
    }

    [Fact]
    public void Checksum_MatchesTheKernelsRecords()
    {
        string image = _temp.File("xfs.img");
        using (FileStream f = File.Create(image))
        {
            f.SetLength(400L << 20);
        }

        Tool.Run("mkfs.xfs", "-q", "-f", image);
        string copy = _temp.File("copy.img");
        FrozenCopy(_temp, image, "", copy, mount => File.WriteAllText(Path.Combine(mount, "a.txt"), "a"));
        (long logStart, long logLength) = LogPrintGeometry(copy);
        byte[] log = ReadRange(copy, logStart, Math.Min(logLength, 1 << 20));
        int checkedRecords = 0;
        for (int block = 0; block < log.Length / 512; block++)
        {
            ReadOnlySpan<byte> b = log.AsSpan(block * 512);
            if (BinaryPrimitives.ReadUInt32BigEndian(b) != 0xFEEDBABE || BinaryPrimitives.ReadUInt32BigEndian(b[32..]) == 0)
            {
                continue; // not a header, or one mkfs wrote without a checksum
            }

            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(b[12..]);
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(b[32..]);
            Assert.Equal(stored, XfsLog.Checksum(b[..(512 + length)], 1, length));
            checkedRecords++;
        }

        Assert.True(checkedRecords >= 2, $"only {checkedRecords} kernel records with a checksum");
    }

    [Fact]
    public void CleanLog_IsLeftAlone()
    {
        string image = _temp.File("fresh.img");
        using (FileStream f = File.Create(image))
        {
            f.SetLength(300L << 20);
        }

        Tool.Run("mkfs.xfs", "-q", "-f", image);
        LogSeal seal = Seal(image);
        Assert.Empty(seal.Writes);
        Assert.Equal("the log is clean already", seal.NotSealed);
    }

    [Fact]
    public void NotXfs_IsLeftAlone()
    {
        string image = _temp.File("ext4.img");
        Tool.Run("mkfs.ext4", "-q", "-F", image, "32M");
        Assert.Equal("no XFS superblock", Seal(image).NotSealed);
    }

    private static LogSeal Seal(string image)
    {
        using FileStream f = File.OpenRead(image);
        return XfsLog.PlanSeal((offset, buffer) => RandomAccess.Read(f.SafeFileHandle, buffer, offset));
    }

    /// <summary>Mounts the image, lets <paramref name="write"/> change it, freezes it and copies it with O_DIRECT as the agent reads a device; thaws, unmounts and detaches on every path.</summary>
    internal static void FrozenCopy(TempDir temp, string image, string mountOptions, string copy, Action<string> write)
    {
        string mnt = temp.File("src");
        Directory.CreateDirectory(mnt);
        string device = Tool.Run("losetup", "-f", "--show", image).Trim();
        try
        {
            Tool.Run("mount", mountOptions.Length > 0 ? ["-o", mountOptions, device, mnt] : [device, mnt]);
            try
            {
                write(mnt);
                Tool.Run("sync", "-f", mnt);
                Tool.Run("fsfreeze", "-f", mnt);
                try
                {
                    Tool.Run("dd", $"if={device}", $"of={copy}", "bs=1M", "iflag=direct", "status=none");
                }
                finally
                {
                    Tool.Run("fsfreeze", "-u", mnt);
                }
            }
            finally
            {
                Tool.Run("umount", mnt);
            }
        }
        finally
        {
            Tool.Run("losetup", "-d", device);
        }
    }

    /// <summary>Where xfs_logprint (xfsprogs, not our parser) says the internal log is, in bytes.</summary>
    private static (long Start, long Length) LogPrintGeometry(string image)
    {
        Match m = LogPrintDevice().Match(Tool.Run("xfs_logprint", "-d", image));
        Assert.True(m.Success, "xfs_logprint printed no log geometry");
        return (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * 512, long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) * 512);
    }

    private static int UnmountRecords(string image) => Regex.Count(Tool.Run("xfs_logprint", image), @"flags: UNMOUNT");

    private static byte[] ReadRange(string path, long offset, long length)
    {
        byte[] buffer = new byte[length];
        using FileStream f = File.OpenRead(path);
        RandomAccess.Read(f.SafeFileHandle, buffer, offset);
        return buffer;
    }

    [GeneratedRegex(@"daddr:\s*(\d+)\s+length:\s*(\d+)")]
    private static partial Regex LogPrintDevice();
}
