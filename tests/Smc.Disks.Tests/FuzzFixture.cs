using Smc.Disks.Tests.Support;
using static Smc.Disks.Tests.Support.Images;

namespace Smc.Disks.Tests;

/// <summary>Small real images (made by sfdisk and the mkfs tools) loaded into memory for the fuzz tests.</summary>
public sealed class FuzzFixture : IDisposable
{
    public const long Sector = 512;

    public FuzzFixture()
    {
        try
        {
            string tree = MakeTree(Dir.Path);

            string mbr = Dir.File("mbr.img");
            CreateSparse(mbr, 12 * MiB);
            Sfdisk(mbr, """
                label: dos
                start=2048, size=2048, type=83, bootable
                start=4096, size=14336, type=5
                start=6144, size=4096, type=1
                start=12288, size=2048, type=82
                start=16384, size=2048, type=8e
                """);
            MkExt("ext2", mbr, 2048 * Sector, 2048 * Sector, "fuzz-ext2", null);
            MkVfat(Dir.File("fat12-part.img"), 4096 * Sector, 12, "FUZZFAT");
            CopyInto(Dir.File("fat12-part.img"), mbr, 6144 * Sector);
            MkSwap(Dir.File("swap-part.img"), 2048 * Sector, "fuzz-swap");
            CopyInto(Dir.File("swap-part.img"), mbr, 12288 * Sector);
            LvmLabel.Write(mbr, 16384 * Sector, 2048 * Sector);
            Mbr = File.ReadAllBytes(mbr);
            using (DiskReader reader = DiskReader.Open(mbr))
            {
                // The EBRs sit just before each logical partition (entry LBA is relative to the EBR).
                MbrEbrLbas = [.. DiskInspector.ReadLayout(reader).Partitions
                    .Where(p => p.Number >= 5)
                    .Select(p => p.FirstLba - p.MbrEntry!.FirstLba)];
            }

            string primary = Dir.File("mbr-primary.img");
            CreateSparse(primary, 8 * MiB);
            Sfdisk(primary, """
                label: dos
                start=2048, size=2048, type=83, bootable
                start=4096, size=4096, type=7
                start=10240, size=2048, type=82
                """);
            MbrPrimary = File.ReadAllBytes(primary);

            string gpt = Dir.File("gpt.img");
            CreateSparse(gpt, 8 * MiB);
            Sfdisk(gpt, """
                label: gpt
                start=2048, size=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
                start=6144, size=2048, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, name="swap"
                start=8192, size=4096, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="fat"
                """);
            MkExt("ext4", gpt, 2048 * Sector, 4096 * Sector, "fuzz-ext4", tree);
            CopyInto(Dir.File("swap-part.img"), gpt, 6144 * Sector);
            MkVfat(Dir.File("gptfat-part.img"), 4096 * Sector, 12, "FUZZGPT");
            CopyInto(Dir.File("gptfat-part.img"), gpt, 8192 * Sector);
            Gpt = File.ReadAllBytes(gpt);

            string ext4 = Dir.File("ext4.img");
            CreateSparse(ext4, 8 * MiB);
            MkExt("ext4", ext4, 0, 8 * MiB, "fuzz-ext4", tree);
            MkNtfs(Dir.File("ntfs.img"), 8 * MiB, "fuzz-ntfs", Path.Combine(tree, "blob.bin"));
            MkVfat(Dir.File("fat12.img"), 2 * MiB, 12, "FUZZ12");
            MkVfat(Dir.File("fat16.img"), 16 * MiB, 16, "FUZZ16", "-s", "4");
            MkVfat(Dir.File("fat32.img"), 34 * MiB, 32, "FUZZ32", "-s", "1", "-S", "512");
            MkSwap(Dir.File("swap.img"), 1 * MiB, "fuzz-swap");
            CreateSparse(Dir.File("lvm2.img"), 1 * MiB);
            LvmLabel.Write(Dir.File("lvm2.img"), 0, 1 * MiB);
            MkXfs(Dir.File("xfs.img"), 300 * MiB, "fuzz-xfs", null);

            // ext4 with 8 groups of 1024 4-KiB blocks (flex_bg: all bitmaps in group 0; most groups BLOCK_UNINIT).
            CreateSparse(Dir.File("ext4-groups.img"), 32 * MiB);
            MkExt("ext4", Dir.File("ext4-groups.img"), 0, 32 * MiB, "fuzz-groups", tree, "-b", "4096", "-g", "1024", "-N", "2048");
        }
        catch
        {
            Dir.Dispose(); // xUnit does not dispose a fixture whose constructor threw.
            throw;
        }
    }

    public TempDir Dir { get; } = new("fuzz");

    /// <summary>An MBR disk with an ext2 primary, an extended partition with FAT12 and swap logicals, and an LVM2 logical.</summary>
    public byte[] Mbr { get; }

    public IReadOnlyList<long> MbrEbrLbas { get; }

    /// <summary>An MBR disk with three primary partitions and an empty slot (no file systems).</summary>
    public byte[] MbrPrimary { get; }

    /// <summary>A GPT disk with ext4, swap and FAT partitions.</summary>
    public byte[] Gpt { get; }

    /// <summary>A whole-disk file system image: all of it, except XFS whose first MiB is returned (the rest is read as zeros).</summary>
    public byte[] FileSystemImage(string name, out long length)
    {
        string path = Dir.File(name + ".img");
        length = new FileInfo(path).Length;
        if (name != "xfs")
        {
            return File.ReadAllBytes(path);
        }

        var head = new byte[MiB];
        using var file = File.OpenRead(path);
        file.ReadExactly(head);
        return head;
    }

    public void Dispose() => Dir.Dispose();
}
