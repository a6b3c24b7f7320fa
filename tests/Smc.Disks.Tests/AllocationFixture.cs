using Smc.Disks.Tests.Support;
using Smc.Wire.Inventory;
using static Smc.Disks.Tests.Support.Images;

namespace Smc.Disks.Tests;

/// <summary>
/// Real file systems with files in them, for the allocation map tests. A 1124 MiB sparse GPT image made by sfdisk:
/// 1 ext4 of 1 GiB (mkfs.ext4 -d, default options: flex_bg, metadata_csum, 64bit, lazy_itable_init, so groups 1–3 and
/// 5–6 are BLOCK_UNINIT with their bitmaps in group 0; stale garbage in its free space, kept by -E nodiscard),
/// 2 NTFS (two files by ntfscp), 3 FAT32, 4 FAT16, 5 FAT12 (a fragmented and a small file each), 6 swap.
/// Plus whole-disk ext images of other layouts (see <see cref="ExtVariants"/>).
/// </summary>
public sealed class AllocationFixture : IDisposable
{
    public const long Sector = 512;
    public const long DiskSize = 1124 * MiB;

    /// <summary>Whole-disk ext variants: name → mkfs type, size and options. Each gets <see cref="Tree"/>.</summary>
    public static readonly IReadOnlyDictionary<string, (string Type, long Size, string[] Options)> ExtVariants =
        new Dictionary<string, (string, long, string[])>
        {
            ["ext2"] = ("ext2", 64 * MiB, []),
            ["ext3"] = ("ext3", 64 * MiB, []),
            ["ext4-1k-blocks"] = ("ext4", 64 * MiB, ["-b", "1024"]),
            ["ext4-32bit-descriptors"] = ("ext4", 128 * MiB, ["-b", "4096", "-g", "4096", "-O", "^64bit"]),
            ["ext4-gdt-csum-crc16"] = ("ext4", 128 * MiB, ["-b", "4096", "-g", "4096", "-O", "^metadata_csum,uninit_bg"]),
            ["ext4-no-flex-bg"] = ("ext4", 128 * MiB, ["-b", "4096", "-g", "4096", "-O", "^flex_bg"]),
            ["ext4-meta-bg"] = ("ext4", 64 * MiB, ["-b", "1024", "-g", "1024", "-O", "meta_bg,^resize_inode"]),
            ["ext4-sparse-super2"] = ("ext4", 128 * MiB, ["-b", "4096", "-g", "4096", "-O", "sparse_super2"]),
            ["ext4-csum-seed"] = ("ext4", 128 * MiB, ["-b", "4096", "-g", "4096", "-O", "metadata_csum_seed"]),
        };

    public AllocationFixture()
    {
        try
        {
            Tree = MakeLargerTree(Dir.Path);
            SmallFile = File.ReadAllBytes(Path.Combine(Tree, "sub", "hello.txt"));
            FragmentedFile = File.ReadAllBytes(Path.Combine(Tree, "blob.bin"));
            Disk = Dir.File("alloc.img");
            CreateSparse(Disk, DiskSize);
            Sfdisk(Disk, """
                label: gpt
                start=2048, size=2097152, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="ext4"
                start=2099200, size=65536, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="ntfs"
                start=2164736, size=81920, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="fat32"
                start=2246656, size=32768, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="fat16"
                start=2279424, size=4096, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="fat12"
                start=2283520, size=16384, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, name="swap"
                """);

            for (int i = 0; i < 8; i++)
            {
                WriteGarbage(Disk, (2048 * Sector) + (i * 128 * MiB) + (3 * MiB), (int)(4 * MiB), seed: i);
            }

            MkExt("ext4", Disk, 2048 * Sector, 2097152 * Sector, "alloc-ext4", Tree, "-E", "nodiscard");

            MkNtfs(Part("ntfs"), 65536 * Sector, "alloc-ntfs", Path.Combine(Tree, "blob.bin"), Path.Combine(Tree, "big.bin"));
            CopyInto(Part("ntfs"), Disk, 2099200 * Sector);
            foreach ((string name, int bits, long start, long sectors, string[] options) in new[]
            {
                ("fat32", 32, 2164736L, 81920L, new[] { "-s", "1", "-S", "512" }),
                ("fat16", 16, 2246656L, 32768L, new[] { "-s", "4" }),
                ("fat12", 12, 2279424L, 4096L, Array.Empty<string>()),
            })
            {
                MkVfat(Part(name), sectors * Sector, bits, name.ToUpperInvariant(), options);
                IReadOnlyList<long> small = FatFiles.AddFile(Part(name), "HELLO", "TXT", SmallFile);
                FatClusters[name] = (FatFiles.AddFile(Part(name), "FRAG", "BIN", FragmentedFile), small);
                CopyInto(Part(name), Disk, start * Sector);
            }

            MkSwap(Part("swap"), 16384 * Sector, "alloc-swap");
            CopyInto(Part("swap"), Disk, 2283520 * Sector);
            Info = DiskInspector.Inspect(Disk);

            foreach ((string name, (string type, long size, string[] options)) in ExtVariants)
            {
                CreateSparse(Variant(name), size);
                MkExt(type, Variant(name), 0, size, name, Tree, options);
            }
        }
        catch
        {
            Dir.Dispose(); // xUnit does not dispose a fixture whose constructor threw.
            throw;
        }
    }

    public TempDir Dir { get; } = new("alloc");

    public string Disk { get; }

    /// <summary>The files put into the ext file systems (and, some of them, into NTFS).</summary>
    public string Tree { get; }

    public byte[] SmallFile { get; }

    /// <summary>Put into each FAT volume with a free cluster in the middle of its chain.</summary>
    public byte[] FragmentedFile { get; }

    /// <summary>The clusters of the two files written into each FAT volume.</summary>
    public Dictionary<string, (IReadOnlyList<long> Fragmented, IReadOnlyList<long> Small)> FatClusters { get; } = [];

    public DiskInfo Info { get; }

    public PartitionInfo Part(int number) => Info.Parts.Single(p => p.Number == number);

    /// <summary>The separate image a partition's file system was made in (NTFS, FAT, swap).</summary>
    public string Part(string name) => Dir.File(name + "-part.img");

    public string Variant(string name) => Dir.File(name + ".img");

    public void Dispose() => Dir.Dispose();
}
