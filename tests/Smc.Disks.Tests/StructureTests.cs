using System.Text;
using Smc.Disks.Tests.Support;

namespace Smc.Disks.Tests;

/// <summary>The on-disk structures: CRC32, and ReadFrom/WriteTo of MBR, EBR, GPT header and entries against tables the real tools wrote and read.</summary>
public sealed class StructureTests(TempDirFixture fixture) : IClassFixture<TempDirFixture>
{
    private const int Sector = 512;

    [Fact]
    public void Crc32_StandardCheckInput_GivesIeeeCheckValue()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, Crc32.Compute([]));
    }

    [Theory]
    [InlineData(0, 0x000100)] // C/H/S 0/0/1
    [InlineData(2048, 0x002120)] // 0/32/33
    [InlineData(16065, 0x010100)] // 1/0/1
    [InlineData(1023L * 16065, 0xFFC100)] // cylinder 1023: high bits in the sector byte
    [InlineData(1024L * 16065, MbrPartitionEntry.ChsOverflow)]
    public void LbaToChs_KnownAddresses_PacksCylinderHeadSector(long lba, int expected)
    {
        Assert.Equal(expected, MbrPartitionEntry.LbaToChs(lba));
    }

    [Fact]
    public void MasterBootRecord_SfdiskMbrAndEbrs_RoundTripByteForByte()
    {
        string disk = fixture.Dir.File("rt-mbr.img");
        Images.CreateSparse(disk, 16 * Images.MiB);
        Images.Sfdisk(disk, """
            label: dos
            label-id: 0xdeadbeef
            start=2048, size=4096, type=83, bootable
            start=6144, size=16384, type=f
            start=8192, size=4096, type=83
            start=14336, size=4096, type=82
            """);
        using DiskReader reader = DiskReader.Open(disk);
        DiskLayout layout = DiskInspector.ReadLayout(reader);
        var sectors = new List<long> { 0, 6144 };
        TablePartition second = layout.Partitions.Single(p => p.Number == 6);
        sectors.Add(second.FirstLba - second.MbrEntry!.FirstLba); // the second EBR

        foreach (long lba in sectors)
        {
            byte[] original = reader.ReadBytes(lba * Sector, Sector);
            var written = new byte[Sector];
            MasterBootRecord.ReadFrom(original).WriteTo(written);
            Assert.Equal(original, written);
        }

        Assert.Equal(0xdeadbeefu, layout.Mbr!.DiskSignature);
        Assert.Equal("0f", layout.Partitions.Single(p => p.Number == 2).TypeId);
    }

    [Fact]
    public void MbrPartitionEntry_Create_MatchesWhatSfdiskWrites()
    {
        string disk = fixture.Dir.File("chs.img");
        Images.CreateSparse(disk, 16 * Images.MiB);
        Images.Sfdisk(disk, "label: dos\nstart=2048, size=8192, type=83, bootable\nstart=10240, size=20480, type=7\n");
        using DiskReader reader = DiskReader.Open(disk);
        byte[] mbr = reader.ReadBytes(0, Sector);

        var expected = new byte[2 * MbrPartitionEntry.Size];
        MbrPartitionEntry.Create(0x83, 2048, 8192, active: true).WriteTo(expected);
        MbrPartitionEntry.Create(0x07, 10240, 20480).WriteTo(expected.AsSpan(MbrPartitionEntry.Size));
        Assert.Equal(expected, mbr.AsSpan(MasterBootRecord.PartitionTableOffset, expected.Length).ToArray());
    }

    [Fact]
    public void GptStructures_SfdiskTable_RoundTripByteForByte()
    {
        string disk = fixture.Dir.File("rt-gpt.img");
        Images.CreateSparse(disk, 16 * Images.MiB);
        Images.Sfdisk(disk, """
            label: gpt
            start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name="bios", attrs="LegacyBIOSBootable RequiredPartition GUID:60"
            start=4096, size=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="ünïcødé name"
            """);
        using DiskReader reader = DiskReader.Open(disk);
        long lastLba = reader.SectorCount - 1;
        byte[] primarySector = reader.ReadBytes(Sector, Sector);
        byte[] backupSector = reader.ReadBytes(lastLba * Sector, Sector);
        GptHeader primary = GptHeader.ReadFrom(primarySector);

        var written = new byte[Sector];
        primary.WriteTo(written);
        Assert.Equal(primarySector, written);

        GptHeader backup = GptHeader.ReadFrom(backupSector);
        primary.ToBackup(backup.PartitionEntryLba).WriteTo(written);
        Assert.Equal(backupSector, written);

        int arrayBytes = (int)(primary.PartitionEntryCount * primary.PartitionEntrySize);
        byte[] entries = reader.ReadBytes((long)primary.PartitionEntryLba * Sector, arrayBytes);
        var rewritten = new byte[arrayBytes];
        for (int i = 0; i < primary.PartitionEntryCount; i++)
        {
            int at = i * (int)primary.PartitionEntrySize;
            GptPartitionEntry.ReadFrom(entries.AsSpan(at)).WriteTo(rewritten.AsSpan(at, (int)primary.PartitionEntrySize));
        }

        Assert.Equal(entries, rewritten);
        Assert.Equal(primary.PartitionEntryArrayCrc32, GptHeader.ComputeEntryArrayCrc32(rewritten));

        GptPartitionEntry bios = GptPartitionEntry.ReadFrom(entries);
        Assert.Equal("bios", bios.Name);
        Assert.True(bios.IsLegacyBiosBootable);
        Assert.Equal((1UL << 60) | GptPartitionEntry.LegacyBiosBootableAttribute | GptPartitionEntry.RequiredPartitionAttribute, bios.Attributes);
        Assert.Equal("ünïcødé name", GptPartitionEntry.ReadFrom(entries.AsSpan(128)).Name);
    }

    [Fact]
    public void WriteTo_NewGptOnBlankImage_IsAcceptedBySgdiskAndSfdisk()
    {
        const long DiskSectors = 32768; // 16 MiB
        string disk = fixture.Dir.File("new-gpt.img");
        var image = new byte[DiskSectors * Sector];
        var diskGuid = Guid.Parse("5a0d2c4e-7b1f-4c3a-9e21-0123456789ab");
        GptPartitionEntry[] parts =
        [
            new() { TypeGuid = Guid.Parse("c12a7328-f81f-11d2-ba4b-00a0c93ec93b"), UniqueGuid = Guid.Parse("11111111-2222-3333-4444-555555555555"), FirstLba = 2048, LastLba = 6143, Name = "EFI System" },
            new() { TypeGuid = Guid.Parse("0fc63daf-8483-4772-8e79-3d69d8477de4"), UniqueGuid = Guid.Parse("66666666-7777-8888-9999-aaaaaaaaaaaa"), FirstLba = 6144, LastLba = 30719, Attributes = GptPartitionEntry.LegacyBiosBootableAttribute, Name = "root" },
        ];

        var mbr = new MasterBootRecord
        {
            Partitions = [MbrPartitionEntry.Create(MbrPartitionEntry.TypeGptProtective, 1, (uint)(DiskSectors - 1)), new(), new(), new()],
        };
        mbr.WriteTo(image);

        var entries = new byte[128 * 128];
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i].WriteTo(entries.AsSpan(i * 128, 128));
        }

        var primary = new GptHeader
        {
            MyLba = 1,
            AlternateLba = DiskSectors - 1,
            FirstUsableLba = 34,
            LastUsableLba = DiskSectors - 34,
            DiskGuid = diskGuid,
            PartitionEntryLba = 2,
            PartitionEntryArrayCrc32 = GptHeader.ComputeEntryArrayCrc32(entries),
        };
        primary.WriteTo(image.AsSpan(Sector, Sector));
        entries.CopyTo(image, 2 * Sector);
        ulong backupEntriesLba = DiskSectors - 33;
        entries.CopyTo(image, (long)backupEntriesLba * Sector);
        primary.ToBackup(backupEntriesLba).WriteTo(image.AsSpan((int)((DiskSectors - 1) * Sector), Sector));
        File.WriteAllBytes(disk, image);

        Assert.Contains("No problems found", Tool.Run("sgdisk", "-v", disk), StringComparison.Ordinal);
        SfdiskTable table = SfdiskTable.Read(disk);
        Assert.Equal(diskGuid.ToString().ToUpperInvariant(), table.Id);
        Assert.Equal(
            parts.Select((p, i) => (i + 1, (long)p.FirstLba, (long)(p.LastLba - p.FirstLba + 1), p.TypeGuid.ToString().ToUpperInvariant(), p.UniqueGuid.ToString().ToUpperInvariant(), p.Name)),
            table.Partitions.Select(p => (p.Number, p.Start, p.Size, p.Type, p.Uuid!, p.Name!)));
        Assert.Equal("LegacyBIOSBootable", table.Partitions[1].Attrs);

        var info = DiskInspector.Inspect(disk);
        Assert.Equal(diskGuid.ToString(), info.DiskId);
        Assert.Equal(["EFI System", "root"], info.Parts.Select(p => p.Label));
    }

    [Fact]
    public void WriteTo_NewMbrOnBlankImage_IsReadBySfdisk()
    {
        string disk = fixture.Dir.File("new-mbr.img");
        var image = new byte[8 * Images.MiB];
        new MasterBootRecord
        {
            DiskSignature = 0x0badf00d,
            Partitions = [MbrPartitionEntry.Create(0x83, 2048, 4096, active: true), MbrPartitionEntry.Create(0x0c, 6144, 8192), new(), new()],
        }.WriteTo(image);
        File.WriteAllBytes(disk, image);

        SfdiskTable table = SfdiskTable.Read(disk);
        Assert.Equal("0x0badf00d", table.Id);
        Assert.Equal(
            [(1, 2048L, 4096L, "83", true), (2, 6144L, 8192L, "c", false)],
            table.Partitions.Select(p => (p.Number, p.Start, p.Size, p.Type, p.Bootable)));
    }

    [Theory]
    [InlineData("/dev/sda", 1, true, "/dev/sda1")]
    [InlineData("/dev/vdb", 12, true, "/dev/vdb12")]
    [InlineData("/dev/nvme0n1", 2, true, "/dev/nvme0n1p2")]
    [InlineData("/dev/mmcblk0", 1, true, "/dev/mmcblk0p1")]
    [InlineData("/dev/loop0", 5, true, "/dev/loop0p5")]
    [InlineData("/tmp/disk.img", 3, false, "/tmp/disk.img#3")]
    public void PartitionDevice_DiskName_FollowsLinuxNaming(string disk, int number, bool isBlockDevice, string expected)
    {
        Assert.Equal(expected, PartitionNaming.PartitionDevice(disk, number, isBlockDevice));
    }
}
