using Smc.Disks.Tests.Support;
using Smc.Wire.Inventory;
using static Smc.Disks.Tests.Support.Images;

namespace Smc.Disks.Tests;

/// <summary>
/// A 400 MiB sparse GPT image made by sfdisk: 1 ext4 "root fs" (legacy BIOS bootable, with files), 2 XFS (300 MiB, the
/// mkfs.xfs minimum, with files), 3 NTFS "windows" (with a file), 4 FAT32 "EFI System", 5 swap (no GPT name),
/// 6 LVM2 PV "pv0", 7 unformatted.
/// </summary>
public sealed class GptDiskFixture : IDisposable
{
    public const long DiskSize = 400 * MiB;
    public const long Sector = 512;

    public GptDiskFixture()
    {
        try
        {
            Disk = Dir.File("gpt.img");
            CreateSparse(Disk, DiskSize);
            Sfdisk(Disk, """
                label: gpt
                start=2048, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root fs", attrs="LegacyBIOSBootable"
                start=34816, size=614400, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="data xfs"
                start=649216, size=32768, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="windows"
                start=681984, size=81920, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System"
                start=763904, size=16384, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
                start=780288, size=16384, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="pv0"
                start=796672, size=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
                """);
            string tree = MakeTree(Dir.Path);

            MkExt("ext4", Disk, 2048 * Sector, 32768 * Sector, "gpt-root", tree);
            MkXfs(XfsPart, 614400 * Sector, "gpt-xfs", XfsProto(Dir.Path, tree));
            CopyInto(XfsPart, Disk, 34816 * Sector);
            MkNtfs(NtfsPart, 32768 * Sector, "gpt-ntfs", Path.Combine(tree, "blob.bin"));
            CopyInto(NtfsPart, Disk, 649216 * Sector);
            MkVfat(FatPart, 81920 * Sector, 32, "ESP", "-s", "1", "-S", "512");
            CopyInto(FatPart, Disk, 681984 * Sector);
            MkSwap(SwapPart, 16384 * Sector, "gpt-swap");
            CopyInto(SwapPart, Disk, 763904 * Sector);
            LvmLabel.Write(Disk, 780288 * Sector, 16384 * Sector);

            Table = SfdiskTable.Read(Disk);
            Info = DiskInspector.Inspect(Disk);
        }
        catch
        {
            Dir.Dispose(); // xUnit does not dispose a fixture whose constructor threw.
            throw;
        }
    }

    public TempDir Dir { get; } = new("gpt");

    public string Disk { get; }

    public string XfsPart => Dir.File("xfs.img");

    public string NtfsPart => Dir.File("ntfs.img");

    public string FatPart => Dir.File("fat32.img");

    public string SwapPart => Dir.File("swap.img");

    public SfdiskTable Table { get; }

    public DiskInfo Info { get; }

    public PartitionInfo Part(int number) => Info.Parts.Single(p => p.Number == number);

    public void Dispose() => Dir.Dispose();
}
