using Smc.Disks.Tests.Support;
using Smc.Wire.Inventory;
using static Smc.Disks.Tests.Support.Images;

namespace Smc.Disks.Tests;

/// <summary>
/// <see cref="DestinationLayout.Plan"/>: destination images are built the way the migration does it (truncate, copy the
/// head region and each partition with dd, write the table sectors) and checked with sgdisk -v, sfdisk --verify,
/// sfdisk --json, e2fsck on the partitions and DiskInspector.
/// </summary>
public sealed class LayoutTests(LayoutFixture fixture) : IClassFixture<LayoutFixture>
{
    private const long Sector = LayoutFixture.Sector;
    private static readonly Dictionary<int, long> SameSizes = [];

    [Fact]
    public void Plan_GptOnLargerDisk_KeepsEveryStartAndMovesTheBackup()
    {
        LayoutPlan plan = PlanFor(fixture.Gpt, 64 * MiB, SameSizes);
        Assert.Equal(PartitionTableKind.Gpt, plan.Kind);
        Assert.Equal(LayoutFixture.SourceSize, plan.SourceDiskSize);
        Assert.Equal(64 * MiB, plan.DestinationDiskSize);
        Assert.All(plan.Partitions, p => Assert.Equal((p.SourceStart, p.SourceSize), (p.DestinationStart, p.DestinationSize)));
        string destination = BuildAndVerify(fixture.Gpt, plan, "gpt-larger");
        Assert.Contains("last-lba: 131038", Tool.Run("sfdisk", "--dump", destination), StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_GptGrownMiddlePartition_PushesLaterPartitionsAndKeepsTheirData()
    {
        LayoutPlan plan = PlanFor(fixture.Gpt, 64 * MiB, new Dictionary<int, long> { [2] = 24 * MiB });
        Assert.Equal([1, 2, 3, 4], plan.Partitions.Select(p => p.Number));
        Assert.Equal(new PartitionPlacement(1, 1 * MiB, 8 * MiB, 1 * MiB, 8 * MiB), plan.Partitions[0]);
        Assert.Equal(new PartitionPlacement(2, 9 * MiB, 16 * MiB, 9 * MiB, 24 * MiB), plan.Partitions[1]);
        Assert.Equal(new PartitionPlacement(3, 25 * MiB, 8 * MiB, 33 * MiB, 8 * MiB), plan.Partitions[2]);
        Assert.Equal(new PartitionPlacement(4, 40 * MiB, 4 * MiB, 41 * MiB, 4 * MiB), plan.Partitions[3]);

        string destination = BuildAndVerify(fixture.Gpt, plan, "gpt-grown");
        AssertExtFiles(destination, plan.Partitions[2], "gpt-grown-3");
        Assert.Equal(CorruptDiskFixture.ReadBytes(fixture.Gpt, 40 * MiB, 4096), CorruptDiskFixture.ReadBytes(destination, 41 * MiB, 4096)); // swap header
    }

    [Fact]
    public void Plan_GptGrowthThatFitsTheGap_MovesNothing()
    {
        LayoutPlan plan = PlanFor(fixture.Gpt, LayoutFixture.SourceSize, new Dictionary<int, long> { [3] = 15 * MiB });
        Assert.Equal([1 * MiB, 9 * MiB, 25 * MiB, 40 * MiB], plan.Partitions.Select(p => p.DestinationStart));
        Assert.Equal(15 * MiB, plan.Partitions[2].DestinationSize);
        BuildAndVerify(fixture.Gpt, plan, "gpt-gap");
    }

    [Fact]
    public void Plan_GptSameSizeDisk_IsTheIdentityAndRewritesTheSameTables()
    {
        LayoutPlan plan = PlanFor(fixture.Gpt, LayoutFixture.SourceSize, SameSizes);
        Assert.All(plan.Partitions, p => Assert.Equal((p.SourceStart, p.SourceSize), (p.DestinationStart, p.DestinationSize)));
        Assert.Equal(1 * MiB, plan.HeadRegionLength);

        // sfdisk wrote the same headers and entry arrays that the plan writes.
        foreach ((long offset, byte[] bytes) in plan.TableWrites.Skip(1))
        {
            Assert.Equal(CorruptDiskFixture.ReadBytes(fixture.Gpt, offset, bytes.Length), bytes);
        }

        BuildAndVerify(fixture.Gpt, plan, "gpt-identity");
    }

    [Fact]
    public void Plan_GptMapRange_MapsHeadAndPartitionsAndDropsTheBackupArea()
    {
        LayoutPlan plan = PlanFor(fixture.Gpt, 64 * MiB, new Dictionary<int, long> { [2] = 24 * MiB });
        Assert.Equal(0, plan.MapRange(0, 512));
        Assert.Equal(512 * 33, plan.MapRange(512 * 33, 4096));
        Assert.Equal((1 * MiB) - 512, plan.MapRange((1 * MiB) - 512, 512));
        Assert.Equal(33 * MiB, plan.MapRange(25 * MiB, 4096));
        Assert.Equal((41 * MiB) - 4096, plan.MapRange((33 * MiB) - 4096, 4096));
        Assert.Equal(9 * MiB, plan.MapRange(9 * MiB, (int)(16 * MiB)));
        Assert.Null(plan.MapRange(LayoutFixture.SourceSize - (33 * Sector), (int)(33 * Sector))); // backup entries + header
        Assert.Null(plan.MapRange(35 * MiB, 4096)); // the gap between partitions 3 and 4
        Assert.Throws<ArgumentException>(() => plan.MapRange((1 * MiB) - 512, 1024));
        Assert.Throws<ArgumentException>(() => plan.MapRange((9 * MiB) - 512, 1024));
        Assert.Throws<ArgumentException>(() => plan.MapRange((44 * MiB) - 512, 1024));
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.MapRange(LayoutFixture.SourceSize - 512, 1024));
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.MapRange(-1, 512));
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.MapRange(0, 0));
    }

    [Fact]
    public void Plan_GptWithInvalidPrimary_UsesTheBackupFromTheTailAndWritesAValidPrimary()
    {
        (byte[] head, byte[] tail) = LayoutFixture.HeadAndTail(fixture.Gpt);
        head[(int)Sector + GptHeader.HeaderCrcOffset] ^= 0xFF;
        LayoutPlan plan = DestinationLayout.Plan(head, tail, LayoutFixture.SourceSize, 64 * MiB, new Dictionary<int, long> { [2] = 24 * MiB });
        Assert.Equal(33 * MiB, plan.Partitions[2].DestinationStart);
        BuildAndVerify(fixture.Gpt, plan, "gpt-from-backup");
    }

    [Fact]
    public void Plan_GptEntriesNotInDiskOrder_KeepDiskOrderAndNumbers()
    {
        LayoutPlan plan = PlanFor(fixture.UnorderedGpt, 64 * MiB, new Dictionary<int, long> { [2] = 20 * MiB });
        Assert.Equal(new PartitionPlacement(1, 17 * MiB, 8 * MiB, 21 * MiB, 8 * MiB), plan.Partitions[0]);
        Assert.Equal(new PartitionPlacement(2, 1 * MiB, 8 * MiB, 1 * MiB, 20 * MiB), plan.Partitions[1]);
        BuildAndVerify(fixture.UnorderedGpt, plan, "gpt-unordered");
    }

    [Fact]
    public void Plan_MbrGrownFirstPartition_PushesTheOthersAndKeepsBootCodeAndFlags()
    {
        LayoutPlan plan = PlanFor(fixture.Mbr, 64 * MiB, new Dictionary<int, long> { [1] = 16 * MiB });
        Assert.Equal(PartitionTableKind.Mbr, plan.Kind);
        Assert.Equal([1 * MiB, 17 * MiB, 33 * MiB], plan.Partitions.Select(p => p.DestinationStart));
        (long offset, byte[] sector) = Assert.Single(plan.TableWrites);
        Assert.Equal(0, offset);
        Assert.Equal(fixture.BootCode, sector[..MasterBootRecord.BootCodeSize]);

        string destination = BuildAndVerify(fixture.Mbr, plan, "mbr-grown");
        AssertExtFiles(destination, plan.Partitions[1], "mbr-grown-2");
        AssertExtFiles(destination, plan.Partitions[2], "mbr-grown-3");
    }

    [Fact]
    public void Plan_MbrSameSizeDisk_IsTheIdentity()
    {
        LayoutPlan plan = DestinationLayout.Plan(
            CorruptDiskFixture.ReadBytes(fixture.Mbr, 0, 512), [], LayoutFixture.SourceSize, LayoutFixture.SourceSize, SameSizes);
        Assert.All(plan.Partitions, p => Assert.Equal((p.SourceStart, p.SourceSize), (p.DestinationStart, p.DestinationSize)));
        byte[] source = CorruptDiskFixture.ReadBytes(fixture.Mbr, 0, 512);
        MasterBootRecord before = MasterBootRecord.ReadFrom(source);
        MasterBootRecord after = MasterBootRecord.ReadFrom(plan.TableWrites[0].Bytes);
        Assert.Equal(source[..446], plan.TableWrites[0].Bytes[..446]);
        Assert.Equal(
            before.Partitions.Select(e => (e.Status, e.PartitionType, e.FirstLba, e.SectorCount)),
            after.Partitions.Select(e => (e.Status, e.PartitionType, e.FirstLba, e.SectorCount)));
        BuildAndVerify(fixture.Mbr, plan, "mbr-identity");
    }

    [Fact]
    public void Plan_DestinationTooSmall_ThrowsDiskTooSmall()
    {
        // GPT: partition 4 ends at 44 MiB; the backup needs 33 more sectors.
        AssertCode(DiskErrorCodes.LayoutDiskTooSmall, () => PlanFor(fixture.Gpt, (44 * MiB) + (32 * Sector), SameSizes));
        Assert.NotNull(PlanFor(fixture.Gpt, (44 * MiB) + (33 * Sector), SameSizes));
        AssertCode(DiskErrorCodes.LayoutDiskTooSmall, () => PlanFor(fixture.Gpt, LayoutFixture.SourceSize, new Dictionary<int, long> { [2] = 30 * MiB }));
        AssertCode(DiskErrorCodes.LayoutDiskTooSmall, () => PlanFor(fixture.Mbr, (33 * MiB) - Sector, SameSizes));
        Assert.NotNull(PlanFor(fixture.Mbr, 33 * MiB, SameSizes));
    }

    [Fact]
    public void Plan_SmallerPartition_ThrowsShrink()
    {
        AssertCode(DiskErrorCodes.LayoutShrink, () => PlanFor(fixture.Gpt, 64 * MiB, new Dictionary<int, long> { [2] = 8 * MiB }));
        AssertCode(DiskErrorCodes.LayoutShrink, () => PlanFor(fixture.Mbr, 64 * MiB, new Dictionary<int, long> { [3] = (8 * MiB) - Sector }));
    }

    [Fact]
    public void Plan_MbrWithLogicalPartitions_ThrowsUnsupported() =>
        AssertCode(DiskErrorCodes.LayoutUnsupported, () => PlanFor(fixture.Logical, 64 * MiB, SameSizes));

    [Fact]
    public void Plan_MbrPartitionBeyondTwoToThe32Sectors_ThrowsUnsupported() =>
        AssertCode(DiskErrorCodes.LayoutUnsupported, () => PlanFor(fixture.Mbr, 4L << 40, new Dictionary<int, long> { [3] = 3L << 40 }));

    [Fact]
    public void Plan_Gpt4KiBSectors_CountsEverythingInSectorsOfThatSize()
    {
        // A GPT for 4 KiB sectors, written with the library's own structures (sfdisk here cannot set an image's sector size).
        const int S = 4096;
        const long SourceSize = 64 * MiB;
        const long SourceSectors = SourceSize / S;
        var linux = Guid.Parse("0FC63DAF-8483-4772-8E79-3D69D8477DE4");
        var entries = new byte[128 * 128];
        new GptPartitionEntry { TypeGuid = linux, UniqueGuid = Guid.NewGuid(), FirstLba = 256, LastLba = 256 + 2048 - 1, Name = "a" }.WriteTo(entries.AsSpan(0, 128));
        new GptPartitionEntry { TypeGuid = linux, UniqueGuid = Guid.NewGuid(), FirstLba = 2304, LastLba = 2304 + 1024 - 1, Name = "b" }.WriteTo(entries.AsSpan(128, 128));
        var head = new byte[34 * S];
        new MasterBootRecord { Partitions = [MbrPartitionEntry.Create(0xEE, 1, (uint)(SourceSectors - 1)), new(), new(), new()] }.WriteTo(head);
        new GptHeader
        {
            MyLba = 1,
            AlternateLba = SourceSectors - 1,
            FirstUsableLba = 6,
            LastUsableLba = SourceSectors - 6,
            DiskGuid = Guid.NewGuid(),
            PartitionEntryLba = 2,
            PartitionEntryArrayCrc32 = GptHeader.ComputeEntryArrayCrc32(entries),
        }.WriteTo(head.AsSpan(S, S));
        entries.CopyTo(head, 2 * S);

        LayoutPlan plan = DestinationLayout.Plan(head, [], SourceSize, 128 * MiB, new Dictionary<int, long> { [1] = 16 * MiB }, sectorSize: S);
        Assert.Equal(new PartitionPlacement(2, 9 * MiB, 4 * MiB, 17 * MiB, 4 * MiB), plan.Partitions[1]);

        // Apply the writes to an empty 128 MiB disk (its first and last 64 KiB) and read the result back.
        var destinationHead = new byte[64 * 1024];
        var destinationTail = new byte[64 * 1024];
        foreach ((long offset, byte[] bytes) in plan.TableWrites)
        {
            bytes.CopyTo(offset < 64 * MiB ? destinationHead : destinationTail, offset < 64 * MiB ? offset : offset - ((128 * MiB) - destinationTail.Length));
        }

        using var reader = new DiskReader(new HeadTailStream(destinationHead, destinationTail, 128 * MiB), S);
        DiskLayout layout = DiskInspector.ReadLayout(reader);
        Assert.Equal([(1, 256L, 4096L), (2, 4352L, 1024L)], layout.Partitions.Select(p => (p.Number, p.FirstLba, p.SectorCount)));
        Assert.Equal(32767UL, layout.GptHeader!.AlternateLba);
        Assert.Equal(32767UL - 4 - 1, layout.GptHeader.LastUsableLba);
        GptHeader backup = GptHeader.ReadFrom(destinationTail.AsSpan(destinationTail.Length - S));
        Assert.Equal((32767UL, 1UL, 32763UL), (backup.MyLba, backup.AlternateLba, backup.PartitionEntryLba));
    }

    [Fact]
    public void Plan_BadArguments_ThrowArgumentExceptions()
    {
        Assert.Throws<ArgumentException>(() => PlanFor(fixture.Gpt, 64 * MiB, new Dictionary<int, long> { [5] = 16 * MiB }));
        Assert.Throws<ArgumentException>(() => PlanFor(fixture.Gpt, 64 * MiB, new Dictionary<int, long> { [1] = (16 * MiB) + 1 }));
        Assert.Throws<ArgumentException>(() => DestinationLayout.Plan(new byte[100], [], LayoutFixture.SourceSize, 64 * MiB, SameSizes));
        Assert.Throws<ArgumentOutOfRangeException>(() => DestinationLayout.Plan(new byte[1024], [], LayoutFixture.SourceSize, 64 * MiB, SameSizes, sectorSize: 1000));
    }

    [Fact]
    public void Plan_CorruptTable_ThrowsTheTableCode()
    {
        (byte[] head, byte[] tail) = LayoutFixture.HeadAndTail(fixture.Gpt);
        head[(int)Sector + GptHeader.HeaderCrcOffset] ^= 0xFF;
        tail[tail.Length - 512 + GptHeader.HeaderCrcOffset] ^= 0xFF;
        AssertCode(DiskErrorCodes.InvalidGpt, () => DestinationLayout.Plan(head, tail, LayoutFixture.SourceSize, 64 * MiB, SameSizes));

        byte[] mbr = CorruptDiskFixture.ReadBytes(fixture.Mbr, 0, 512);
        mbr[446] = 0x12; // status byte
        AssertCode(DiskErrorCodes.InvalidMbr, () => DestinationLayout.Plan(mbr, [], LayoutFixture.SourceSize, 64 * MiB, SameSizes));
    }

    [Fact]
    public void Plan_DiskWithoutPartitionTable_IsOneWholeDiskPlacement()
    {
        byte[] head = new byte[34 * 512];
        LayoutPlan plan = DestinationLayout.Plan(head, [], 16 * MiB, 32 * MiB, SameSizes);
        Assert.Equal(PartitionTableKind.None, plan.Kind);
        Assert.Equal([new PartitionPlacement(0, 0, 16 * MiB, 0, 16 * MiB)], plan.Partitions);
        Assert.Empty(plan.TableWrites);
        Assert.Equal(12345, plan.MapRange(12345, 4096));
        Assert.Equal(24 * MiB, DestinationLayout.Plan(head, [], 16 * MiB, 32 * MiB, new Dictionary<int, long> { [0] = 24 * MiB }).Partitions[0].DestinationSize);
        AssertCode(DiskErrorCodes.LayoutDiskTooSmall, () => DestinationLayout.Plan(head, [], 16 * MiB, 8 * MiB, SameSizes));
    }

    private static LayoutPlan PlanFor(string source, long destinationSize, Dictionary<int, long> sizes)
    {
        (byte[] head, byte[] tail) = LayoutFixture.HeadAndTail(source);
        return DestinationLayout.Plan(head, tail, new FileInfo(source).Length, destinationSize, sizes);
    }

    private static void AssertCode(string code, Func<LayoutPlan> plan) =>
        Assert.Equal(code, Assert.Throws<DiskFormatException>(() => plan()).Code);

    /// <summary>Builds the destination image from the plan and checks it with the partitioning tools, e2fsck and DiskInspector.</summary>
    private string BuildAndVerify(string source, LayoutPlan plan, string name)
    {
        string destination = fixture.Dir.File(name + ".img");
        CreateSparse(destination, plan.DestinationDiskSize);
        ExtentCopy.Dd(source, 0, destination, 0, plan.HeadRegionLength);
        foreach (PartitionPlacement p in plan.Partitions)
        {
            ExtentCopy.Dd(source, p.SourceStart, destination, p.DestinationStart, p.SourceSize);
        }

        using (var file = new FileStream(destination, FileMode.Open, FileAccess.Write))
        {
            foreach ((long offset, byte[] bytes) in plan.TableWrites)
            {
                file.Position = offset;
                file.Write(bytes);
            }
        }

        Assert.Equal(plan.DestinationDiskSize, new FileInfo(destination).Length);
        string verify = Tool.RunCombined("sfdisk", "--verify", destination);
        Assert.Contains("No errors detected", verify, StringComparison.Ordinal);
        Assert.DoesNotContain("mismatch", verify, StringComparison.OrdinalIgnoreCase);
        if (plan.Kind == PartitionTableKind.Gpt)
        {
            Assert.Contains("No problems found", Tool.RunCombined("sgdisk", "-v", destination), StringComparison.Ordinal);
        }

        // sfdisk --json: the source table with the planned starts and sizes.
        SfdiskTable before = SfdiskTable.Read(source);
        SfdiskTable after = SfdiskTable.Read(destination);
        Assert.Equal(before.Label, after.Label);
        Assert.Equal(before.Id, after.Id);
        Assert.Equal(before.Partitions.Count, after.Partitions.Count);
        foreach (PartitionPlacement p in plan.Partitions)
        {
            SfdiskPartition expected = before.Partitions.Single(x => x.Number == p.Number);
            SfdiskPartition actual = after.Partitions.Single(x => x.Number == p.Number);
            Assert.Equal(expected with { Start = p.DestinationStart / Sector, Size = p.DestinationSize / Sector }, actual);
        }

        // DiskInspector: the planned layout, and the same file systems.
        DiskInfo sourceInfo = DiskInspector.Inspect(source);
        DiskInfo info = DiskInspector.Inspect(destination);
        Assert.Equal(sourceInfo.DiskId, info.DiskId);
        Assert.Equal(plan.Partitions.Select(p => (p.Number, p.DestinationStart, p.DestinationSize)), info.Parts.Select(p => (p.Number, p.StartBytes, p.SizeBytes)));
        foreach (PartitionInfo part in info.Parts)
        {
            PartitionInfo original = sourceInfo.Parts.Single(p => p.Number == part.Number);
            Assert.Equal((original.FileSystem, original.FileSystemId, original.TypeId, original.PartitionGuid, original.Label, original.Bootable), (part.FileSystem, part.FileSystemId, part.TypeId, part.PartitionGuid, part.Label, part.Bootable));
            if (part.FileSystem == "ext4")
            {
                string extracted = fixture.Dir.File($"{name}-{part.Number}.img");
                ExtentCopy.Dd(destination, part.StartBytes, extracted, 0, part.SizeBytes);
                Tool.Run("e2fsck", "-fn", extracted);
            }
        }

        return destination;
    }

    private void AssertExtFiles(string disk, PartitionPlacement p, string name)
    {
        string dump = fixture.Dir.File(name + "-rdump");
        Directory.CreateDirectory(dump);
        Tool.Run("debugfs", "-R", $"rdump / {dump}", $"{disk}?offset={p.DestinationStart}");
        Trees.AssertEqual(fixture.Tree, dump);
    }
}
