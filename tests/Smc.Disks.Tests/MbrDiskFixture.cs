using Smc.Disks.Tests.Support;
using Smc.Wire.Inventory;
using static Smc.Disks.Tests.Support.Images;

namespace Smc.Disks.Tests;

/// <summary>
/// A 64 MiB MBR image made by sfdisk: 1 ext4 (bootable, with files), 2 FAT16, 3 extended holding 5 NTFS (with a file),
/// 6 swap, 7 ext2, 8 ext3, 9 FAT12, and primary 4 an LVM2 PV after the extended partition.
/// </summary>
public sealed class MbrDiskFixture : IDisposable
{
    public const long DiskSize = 64 * MiB;
    public const long Sector = 512;

    public MbrDiskFixture()
    {
        try
        {
            Disk = Dir.File("mbr.img");
            CreateSparse(Disk, DiskSize);
            Sfdisk(Disk, """
                label: dos
                label-id: 0x1234abcd
                start=2048, size=16384, type=83, bootable
                start=18432, size=32768, type=6
                start=51200, size=59392, type=5
                start=112640, size=8192, type=8e
                start=53248, size=20480, type=7
                start=75776, size=8192, type=82
                start=86016, size=8192, type=83
                start=96256, size=8192, type=83
                start=106496, size=4096, type=1
                """);
            string tree = MakeTree(Dir.Path);

            MkExt("ext4", Disk, 2048 * Sector, 16384 * Sector, "mbr-root", tree);
            MkVfat(Fat16Part, 32768 * Sector, 16, "FAT16VOL", "-s", "4");
            CopyInto(Fat16Part, Disk, 18432 * Sector);
            MkNtfs(NtfsPart, 20480 * Sector, "mbr-ntfs", Path.Combine(tree, "blob.bin"));
            CopyInto(NtfsPart, Disk, 53248 * Sector);
            MkSwap(SwapPart, 8192 * Sector, "mbr-swap");
            CopyInto(SwapPart, Disk, 75776 * Sector);
            MkExt("ext2", Disk, 86016 * Sector, 8192 * Sector, "mbr-ext2", tree);
            MkExt("ext3", Disk, 96256 * Sector, 8192 * Sector, "mbr-ext3", null);
            MkVfat(Fat12Part, 4096 * Sector, 12, "FAT12VOL");
            CopyInto(Fat12Part, Disk, 106496 * Sector);
            LvmLabel.Write(Disk, 112640 * Sector, 8192 * Sector);

            Table = SfdiskTable.Read(Disk);
            Info = DiskInspector.Inspect(Disk);
        }
        catch
        {
            Dir.Dispose(); // xUnit does not dispose a fixture whose constructor threw.
            throw;
        }
    }

    public TempDir Dir { get; } = new("mbr");

    public string Disk { get; }

    public string Fat16Part => Dir.File("fat16.img");

    public string Fat12Part => Dir.File("fat12.img");

    public string NtfsPart => Dir.File("ntfs.img");

    public string SwapPart => Dir.File("swap.img");

    public SfdiskTable Table { get; }

    public DiskInfo Info { get; }

    public PartitionInfo Part(int number) => Info.Parts.Single(p => p.Number == number);

    public void Dispose() => Dir.Dispose();
}
