using Smc.Disks.Tests.Support;
using static Smc.Disks.Tests.Support.Images;

namespace Smc.Disks.Tests;

/// <summary>
/// Source disks for the destination layout tests, made by sfdisk with ext4 (mkfs.ext4 -d … -E offset=) in partitions:
/// a 48 MiB GPT disk (1 "boot" ext4, legacy BIOS bootable; 2 "middle" ext4; 3 "last" ext4, Linux home type; a 7 MiB gap;
/// 4 "tail" swap with the required-partition attribute), a 48 MiB MBR disk (1 ext4 bootable, 2 and 3 ext4, slot 4 empty)
/// — both with fake boot code in the MBR — a GPT disk whose entry 1 lies after entry 2, and an MBR disk with a logical partition.
/// </summary>
public sealed class LayoutFixture : IDisposable
{
    public const long Sector = 512;
    public const long SourceSize = 48 * MiB;
    public const string DiskGuid = "5A4D0C1E-3B2A-4C5D-8E9F-0A1B2C3D4E5F";
    public const string MbrId = "0x5eed1234";

    public LayoutFixture()
    {
        try
        {
            Tree = MakeTree(Dir.Path);
            BootCode = new byte[MasterBootRecord.BootCodeSize];
            new Random(99).NextBytes(BootCode);

            Gpt = Dir.File("gpt.img");
            CreateSparse(Gpt, SourceSize);
            Sfdisk(Gpt, $"""
                label: gpt
                label-id: {DiskGuid}
                start=2048, size=16384, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=11111111-2222-4333-8444-555555555501, name="boot", attrs="LegacyBIOSBootable"
                start=18432, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=11111111-2222-4333-8444-555555555502, name="middle"
                start=51200, size=16384, type=933AC7E1-2EB4-4F13-B844-0E14E2AEF915, uuid=11111111-2222-4333-8444-555555555503, name="last"
                start=81920, size=8192, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, uuid=11111111-2222-4333-8444-555555555504, name="tail", attrs="RequiredPartition"
                """);
            MkExt("ext4", Gpt, 2048 * Sector, 16384 * Sector, "gpt-boot", Tree);
            MkExt("ext4", Gpt, 18432 * Sector, 32768 * Sector, "gpt-middle", Tree);
            MkExt("ext4", Gpt, 51200 * Sector, 16384 * Sector, "gpt-last", Tree);
            MkSwap(Dir.File("swap.img"), 8192 * Sector, "gpt-tail");
            CopyInto(Dir.File("swap.img"), Gpt, 81920 * Sector);
            CorruptDiskFixture.Patch(Gpt, 0, BootCode);

            Mbr = Dir.File("mbr.img");
            CreateSparse(Mbr, SourceSize);
            Sfdisk(Mbr, $"""
                label: dos
                label-id: {MbrId}
                start=2048, size=16384, type=83, bootable
                start=18432, size=32768, type=83
                start=51200, size=16384, type=83
                """);
            MkExt("ext4", Mbr, 2048 * Sector, 16384 * Sector, "mbr-one", Tree);
            MkExt("ext4", Mbr, 18432 * Sector, 32768 * Sector, "mbr-two", Tree);
            MkExt("ext4", Mbr, 51200 * Sector, 16384 * Sector, "mbr-three", Tree);
            CorruptDiskFixture.Patch(Mbr, 0, BootCode);

            UnorderedGpt = Dir.File("gpt-unordered.img");
            CreateSparse(UnorderedGpt, 32 * MiB);
            Sfdisk(UnorderedGpt, """
                label: gpt
                start=34816, size=16384, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="second on disk"
                start=2048, size=16384, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="first on disk"
                """);

            Logical = Dir.File("logical.img");
            CreateSparse(Logical, 16 * MiB);
            Sfdisk(Logical, """
                label: dos
                start=2048, size=4096, type=83
                start=6144, size=8192, type=5
                start=8192, size=2048, type=83
                """);
        }
        catch
        {
            Dir.Dispose(); // xUnit does not dispose a fixture whose constructor threw.
            throw;
        }
    }

    public TempDir Dir { get; } = new("layout");

    public string Tree { get; }

    public byte[] BootCode { get; }

    public string Gpt { get; }

    public string Mbr { get; }

    public string UnorderedGpt { get; }

    public string Logical { get; }

    /// <summary>The first 34 and the last 33 sectors of an image, as the agent reads them from the source disk.</summary>
    public static (byte[] Head, byte[] Tail) HeadAndTail(string image)
    {
        long length = new FileInfo(image).Length;
        return (CorruptDiskFixture.ReadBytes(image, 0, (int)(34 * Sector)), CorruptDiskFixture.ReadBytes(image, length - (33 * Sector), (int)(33 * Sector)));
    }

    public void Dispose() => Dir.Dispose();
}
