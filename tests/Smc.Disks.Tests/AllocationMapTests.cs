using System.Buffers.Binary;
using Smc.Disks.Tests.Support;
using Smc.Wire.Inventory;

namespace Smc.Disks.Tests;

/// <summary>
/// <see cref="AllocationMaps.UsedExtents"/> on real file systems. The key property: a copy of the partition holding only
/// the used extents (every other byte zero, or garbage) is still a consistent file system with the same files, according
/// to the file systems' own tools.
/// </summary>
public sealed class AllocationMapTests(AllocationFixture fixture) : IClassFixture<AllocationFixture>
{
    private const byte Garbage = 0xE5;

    [Fact]
    public void UsedExtents_Ext4WithUninitGroups_FixtureHasFlexBgAndUninitGroups()
    {
        PartitionInfo part = fixture.Part(1);
        string output = Dumpe2fs.Read(fixture.Disk, part.StartBytes).Output;
        Assert.Contains("flex_bg", output, StringComparison.Ordinal);
        Assert.True(output.Split("BLOCK_UNINIT").Length > 3, "expected several BLOCK_UNINIT groups");
        Assert.Contains("Block bitmap at 130 (bg #0 + 130)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void UsedExtents_Ext4WithUninitGroups_ZeroedCopyPassesE2fsckAndKeepsFiles()
    {
        PartitionInfo part = fixture.Part(1);
        IReadOnlyList<ByteExtent> extents = UsedExtents(part);
        AssertWellFormed(extents, part.SizeBytes);

        string copy = fixture.Dir.File("ext4-used.img");
        ExtentCopy.CopyUsed(fixture.Disk, part.StartBytes, part.SizeBytes, extents, copy);
        Tool.Run("e2fsck", "-fn", copy);
        AssertExtFiles(copy, "ext4-used");
    }

    [Fact]
    public void UsedExtents_Ext4WithUninitGroups_EqualsUsedBlocksOfE2fsprogs()
    {
        PartitionInfo part = fixture.Part(1);
        IReadOnlyList<ByteExtent> extents = UsedExtents(part);
        Dumpe2fs dump = Dumpe2fs.Read(fixture.Disk, part.StartBytes);
        AssertSameBlocks(dump, extents);
        long total = extents.Sum(e => e.Length);
        Assert.InRange(total, (dump.BlockCount - dump.FreeBlocks) * dump.BlockSize, part.SizeBytes);
        Assert.True(total < part.SizeBytes / 10, $"{total} bytes used of {part.SizeBytes}: the free space should be skipped.");
    }

    [Theory]
    [MemberData(nameof(ExtVariantNames))]
    public void UsedExtents_ExtVariant_GarbageFilledCopyPassesE2fsckAndKeepsFiles(string variant)
    {
        string image = fixture.Variant(variant);
        long size = new FileInfo(image).Length;
        using DiskReader reader = DiskReader.Open(image);
        PartitionInfo part = Assert.Single(DiskInspector.Inspect(reader, image).Parts);
        IReadOnlyList<ByteExtent>? extents = AllocationMaps.UsedExtents(reader, 0, size, part.FileSystem);
        Assert.NotNull(extents);
        AssertWellFormed(extents, size);

        Dumpe2fs dump = Dumpe2fs.Read(image);
        AssertSameBlocks(dump, extents);

        string copy = fixture.Dir.File($"{variant}-used.img");
        ExtentCopy.CopyUsed(image, 0, size, extents, copy, Garbage);
        Tool.Run("e2fsck", "-fn", copy);
        AssertExtFiles(copy, variant);
    }

    public static TheoryData<string> ExtVariantNames() => [.. AllocationFixture.ExtVariants.Keys];

    [Fact]
    public void UsedExtents_Ext4MetaBg_HasSeveralMetaGroups()
    {
        string output = Dumpe2fs.Read(fixture.Variant("ext4-meta-bg")).Output;
        Assert.Contains("meta_bg", output, StringComparison.Ordinal);
        Assert.True(output.Split("Group descriptor at").Length > 4, "expected meta_bg descriptor blocks in several groups");
    }

    [Fact]
    public void UsedExtents_Ntfs_ZeroedCopyKeepsVolumeAndFiles()
    {
        PartitionInfo part = fixture.Part(2);
        Assert.Equal("ntfs", part.FileSystem);
        IReadOnlyList<ByteExtent> extents = UsedExtents(part);
        AssertWellFormed(extents, part.SizeBytes);
        Assert.Equal(new ByteExtent(part.SizeBytes - 512, 512), extents[^1]); // the backup boot sector
        Assert.Equal(0, extents[0].Start);
        Assert.InRange(extents.Sum(e => e.Length), Images.NtfsUsedBytes(fixture.Part("ntfs")), part.SizeBytes / 2);

        string copy = fixture.Dir.File("ntfs-used.img");
        ExtentCopy.CopyUsed(fixture.Disk, part.StartBytes, part.SizeBytes, extents, copy);
        Tool.Run("ntfsfix", "-n", copy);
        Tool.Run("ntfsinfo", "-m", copy);
        Tool.Run("ntfscmp", fixture.Part("ntfs"), copy);
        foreach (string name in new[] { "blob.bin", "big.bin" })
        {
            string extracted = fixture.Dir.File($"ntfs-{name}");
            Tool.Run("sh", "-c", $"ntfscat \"$0\" \"$1\" > \"$2\"", copy, name, extracted);
            Assert.Equal(File.ReadAllBytes(Path.Combine(fixture.Tree, name)), File.ReadAllBytes(extracted));
        }
    }

    [Fact]
    public void UsedExtents_NtfsFlaggedDirty_ReturnsNull()
    {
        byte[] image = File.ReadAllBytes(fixture.Part("ntfs"));
        Assert.NotNull(MapWholeImage(image, "ntfs"));

        // $Volume (MFT record 3) → $VOLUME_INFORMATION (0x70) → flags at byte 10 of its value: set VOLUME_IS_DIRTY.
        long clusterSize = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(0x0B)) * image[0x0D];
        int record = (int)((BinaryPrimitives.ReadInt64LittleEndian(image.AsSpan(0x30)) * clusterSize) + (3 * 1024));
        int pos = record + BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(record + 0x14));
        while (BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(pos)) != 0x70)
        {
            pos += (int)BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(pos + 4));
        }

        int flags = pos + BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(pos + 0x14)) + 10;
        Assert.True((flags - record) % 512 < 510, "the flags must not sit in a fixup slot");
        image[flags] |= 0x01;
        Assert.Null(MapWholeImage(image, "ntfs"));
    }

    [Theory]
    [InlineData(3, "fat32")]
    [InlineData(4, "fat16")]
    [InlineData(5, "fat12")]
    public void UsedExtents_Fat_ZeroedCopyPassesFsckAndKeepsFiles(int number, string name)
    {
        PartitionInfo part = fixture.Part(number);
        Assert.Equal("vfat", part.FileSystem);
        IReadOnlyList<ByteExtent> extents = UsedExtents(part);
        AssertWellFormed(extents, part.SizeBytes);
        Assert.InRange(extents.Sum(e => e.Length), Images.FatUsedBytes(fixture.Part(name)), part.SizeBytes / 2);

        // The cluster left free inside the fragmented file is not copied.
        (IReadOnlyList<long> fragmented, IReadOnlyList<long> small) = fixture.FatClusters[name];
        long gapCluster = Enumerable.Range(0, fragmented.Count - 1).Select(i => fragmented[i] + 1).First(c => !fragmented.Contains(c));
        long gapOffset = FatFiles.ClusterOffset(fixture.Part(name), gapCluster);
        Assert.DoesNotContain(extents, e => gapOffset >= e.Start && gapOffset < e.End);

        string copy = fixture.Dir.File($"{name}-used.img");
        ExtentCopy.CopyUsed(fixture.Disk, part.StartBytes, part.SizeBytes, extents, copy);
        string fsck = Tool.Run("fsck.vfat", "-n", "-v", "-l", copy);
        Assert.Contains("FRAG.BIN", fsck, StringComparison.Ordinal);
        Assert.Contains("HELLO.TXT", fsck, StringComparison.Ordinal);
        Assert.Equal(fixture.FragmentedFile, ReadClusters(copy, fragmented, fixture.FragmentedFile.Length));
        Assert.Equal(fixture.SmallFile, ReadClusters(copy, small, fixture.SmallFile.Length));
    }

    [Fact]
    public void UsedExtents_Swap_IsOnlyTheHeaderPage()
    {
        PartitionInfo part = fixture.Part(6);
        Assert.Equal("swap", part.FileSystem);
        Assert.Equal([new ByteExtent(0, 4096)], UsedExtents(part));
    }

    [Theory]
    [InlineData("xfs")]
    [InlineData("lvm2")]
    [InlineData("btrfs")]
    [InlineData(null)]
    [InlineData("ntfs")]
    [InlineData("vfat")]
    [InlineData("swap")]
    public void UsedExtents_UnsupportedOrMismatchedFileSystem_ReturnsNull(string? fileSystem)
    {
        PartitionInfo ext4 = fixture.Part(1);
        using DiskReader reader = DiskReader.Open(fixture.Disk);
        Assert.Null(AllocationMaps.UsedExtents(reader, ext4.StartBytes, ext4.SizeBytes, fileSystem));
    }

    [Fact]
    public void UsedExtents_PartitionPastTheDiskEnd_ThrowsTruncated()
    {
        using DiskReader reader = DiskReader.Open(fixture.Disk);
        var e = Assert.Throws<DiskFormatException>(() => AllocationMaps.UsedExtents(reader, AllocationFixture.DiskSize - 4096, 8192, "ext4"));
        Assert.Equal(DiskErrorCodes.Truncated, e.Code);
    }

    [Fact]
    public void UsedExtents_FileSystemLargerThanThePartition_ReturnsNull()
    {
        PartitionInfo part = fixture.Part(1);
        using DiskReader reader = DiskReader.Open(fixture.Disk);
        Assert.Null(AllocationMaps.UsedExtents(reader, part.StartBytes, part.SizeBytes - 4096, "ext4"));
    }

    [Theory]
    [InlineData("needs_recovery")]
    [InlineData("state not clean")]
    [InlineData("errors")]
    [InlineData("bigalloc")]
    public void UsedExtents_ExtNotSafeToMap_ReturnsNull(string condition)
    {
        byte[] image = File.ReadAllBytes(fixture.Variant("ext4-sparse-super2"));
        Assert.NotNull(MapExt4(image));
        byte[] intact = (byte[])image.Clone();
        FixSuperblockChecksum(intact);
        Assert.Equal(image, intact); // the checksum is recomputed the way mkfs computed it

        Span<byte> sb = image.AsSpan(1024, 1024);
        switch (condition)
        {
            case "needs_recovery":
                sb[0x60] |= 0x04; // s_feature_incompat: RECOVER
                break;
            case "state not clean":
                sb[0x3A] &= 0xFE; // s_state: not VALID_FS
                break;
            case "errors":
                sb[0x3A] |= 0x02; // s_state: ERROR_FS
                break;
            default:
                sb[0x65] |= 0x02; // s_feature_ro_compat: BIGALLOC (0x200)
                break;
        }

        FixSuperblockChecksum(image);
        Assert.Null(MapExt4(image));
    }

    [Theory]
    [InlineData(0x00, 0, true)] // block bitmap of group 0 beyond the file system, checksum repaired
    [InlineData(0x04, 3, true)] // inode bitmap of group 3 beyond the file system
    [InlineData(0x08, 0, true)] // inode table of group 0 beyond the file system
    [InlineData(0x00, 1, false)] // a location changed without the checksum
    [InlineData(0x12, 2, false)] // flags changed without the checksum (BLOCK_UNINIT cleared or set)
    public void UsedExtents_CorruptGroupDescriptor_ReturnsNull(int field, int group, bool checksumRepaired)
    {
        byte[] image = File.ReadAllBytes(fixture.Variant("ext4-gdt-csum-crc16"));
        Assert.NotNull(MapExt4(image));
        Span<byte> desc = image.AsSpan(4096 + (group * 64), 64);
        Assert.Equal(BinaryPrimitives.ReadUInt16LittleEndian(desc[0x1E..]), GdtCsum(image, group)); // the repair computes what mkfs wrote
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(desc[field..]);
        BinaryPrimitives.WriteUInt32LittleEndian(desc[field..], checksumRepaired ? 0x7FFFFFFF : value ^ 0x2);
        if (checksumRepaired)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(desc[0x1E..], GdtCsum(image, group));
        }

        Assert.Null(MapExt4(image));
    }

    /// <summary>gdt_csum: crc16 over the UUID, the group number and the 64-byte descriptor without its checksum field.</summary>
    private static ushort GdtCsum(byte[] image, int group)
    {
        ReadOnlySpan<byte> desc = image.AsSpan(4096 + (group * 64), 64);
        ushort crc = Crc16.Update(ushort.MaxValue, image.AsSpan(1024 + 0x68, 16));
        crc = Crc16.Update(crc, BitConverter.GetBytes((uint)group));
        crc = Crc16.Update(crc, desc[..0x1E]);
        return Crc16.Update(crc, desc[0x20..]);
    }

    private static IReadOnlyList<ByteExtent>? MapExt4(byte[] image) => MapWholeImage(image, "ext4");

    private static IReadOnlyList<ByteExtent>? MapWholeImage(byte[] image, string fileSystem)
    {
        using var reader = new DiskReader(new MemoryStream(image, writable: false));
        return AllocationMaps.UsedExtents(reader, 0, image.Length, fileSystem);
    }

    private static void FixSuperblockChecksum(byte[] image) =>
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(1024 + 0x3FC), Crc32C.Update(uint.MaxValue, image.AsSpan(1024, 0x3FC)));

    private IReadOnlyList<ByteExtent> UsedExtents(PartitionInfo part)
    {
        using DiskReader reader = DiskReader.Open(fixture.Disk);
        IReadOnlyList<ByteExtent>? extents = AllocationMaps.UsedExtents(reader, part.StartBytes, part.SizeBytes, part.FileSystem);
        Assert.NotNull(extents);
        return extents;
    }

    /// <summary>Sorted, merged (no two touch), positive lengths, inside the partition.</summary>
    internal static void AssertWellFormed(IReadOnlyList<ByteExtent> extents, long partitionSize)
    {
        Assert.NotEmpty(extents);
        for (int i = 0; i < extents.Count; i++)
        {
            Assert.True(extents[i].Length > 0 && extents[i].Start >= 0 && extents[i].End <= partitionSize, $"extent {extents[i]} of a {partitionSize}-byte partition");
            if (i > 0)
            {
                Assert.True(extents[i].Start > extents[i - 1].End, $"extents {extents[i - 1]} and {extents[i]} are not sorted and merged");
            }
        }
    }

    /// <summary>The extents cover exactly the blocks e2fsprogs counts as used (which it computes itself for BLOCK_UNINIT groups), plus the boot block.</summary>
    private static void AssertSameBlocks(Dumpe2fs dump, IReadOnlyList<ByteExtent> extents)
    {
        long blockSize = dump.BlockSize;
        var expected = dump.UsedRanges().Select(r => new ByteExtent(r.Start * blockSize, r.Count * blockSize)).ToList();
        if (dump.FirstBlock == 1)
        {
            expected.Insert(0, new ByteExtent(0, blockSize)); // The boot block belongs to no group.
        }

        var merged = new List<ByteExtent>();
        foreach (ByteExtent e in expected)
        {
            if (merged.Count > 0 && merged[^1].End == e.Start)
            {
                merged[^1] = new ByteExtent(merged[^1].Start, merged[^1].Length + e.Length);
            }
            else
            {
                merged.Add(e);
            }
        }

        Assert.Equal(merged, extents);
    }

    private void AssertExtFiles(string image, string name)
    {
        string dump = fixture.Dir.File(name + "-rdump");
        Directory.CreateDirectory(dump);
        Tool.Run("debugfs", "-R", $"rdump / {dump}", image);
        Trees.AssertEqual(fixture.Tree, dump);
    }

    private static byte[] ReadClusters(string image, IReadOnlyList<long> clusters, int length)
    {
        var content = new byte[length];
        using var file = new FileStream(image, FileMode.Open, FileAccess.Read);
        long clusterSize = clusters.Count > 1 ? FatFiles.ClusterOffset(image, 3) - FatFiles.ClusterOffset(image, 2) : length;
        for (int i = 0, done = 0; done < length; i++)
        {
            int n = (int)Math.Min(clusterSize, length - done);
            file.Position = FatFiles.ClusterOffset(image, clusters[i]);
            file.ReadExactly(content, done, n);
            done += n;
        }

        return content;
    }
}
