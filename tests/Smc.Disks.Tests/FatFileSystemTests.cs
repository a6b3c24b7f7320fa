using System.Text;
using Smc.Testing;

namespace Smc.Disks.Tests;

/// <summary>
/// EFI system partitions as distributions make them: <c>mkfs.vfat</c> (FAT12, FAT16 and FAT32), filled with mtools'
/// <c>mcopy</c> (long names, lower-case 8.3 names, subdirectories, a directory of many clusters), read back with
/// <see cref="FatFileSystem"/> and compared with the tree they were made from; then seeded mutations of the boot sector,
/// the FAT and the directories end only in success or <see cref="DiskFormatException"/>, within a time limit.
/// </summary>
public sealed class FatFileSystemTests : IClassFixture<FatFileSystemTests.Volumes>
{
    private readonly Volumes _volumes;

    public FatFileSystemTests(Volumes volumes) => _volumes = volumes;

    [Theory]
    [InlineData(12)]
    [InlineData(16)]
    [InlineData(32)]
    public void EveryFileAndDirectory_ReadsAsTheTreeItWasMadeFrom(int bits)
    {
        using DiskReader reader = DiskReader.Open(_volumes.Image(bits));
        FatFileSystem fs = FatFileSystem.Open(reader, 0, reader.Length);
        Assert.Equal(bits, fs.Boot.FatBits);
        int files = 0, directories = 0;
        foreach (string path in Directory.EnumerateFileSystemEntries(_volumes.Source, "*", SearchOption.AllDirectories))
        {
            string inFs = "/" + Path.GetRelativePath(_volumes.Source, path);
            FatEntry entry = fs.Lookup(inFs) ?? throw new Xunit.Sdk.XunitException($"FAT{bits}: {inFs} not found");
            if (Directory.Exists(path))
            {
                Assert.True(entry.IsDirectory, inFs);
                Assert.Equal(
                    Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).Order(StringComparer.Ordinal),
                    fs.ReadDirectory(entry).Select(e => e.Name).Order(StringComparer.Ordinal));
                directories++;
            }
            else
            {
                Assert.False(entry.IsDirectory, inFs);
                Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(fs.ReadFile(entry, 16 << 20)), $"FAT{bits}: {inFs} differs");
                files++;
            }
        }

        Assert.True(files > 300 && directories >= 5, $"{files} files, {directories} directories");
        Assert.Equal(["EFI", "startup.nsh"], fs.ReadDirectory(null).Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Null(fs.Lookup("/EFI/BOOT/missing.efi"));
        Assert.Null(fs.Lookup("/startup.nsh/below"));
        Assert.NotNull(fs.Lookup("/efi/boot/bootx64.efi")); // FAT names match without regard to case
    }

    [Fact]
    public void AFileOverTheLimit_IsRefused_NotRead()
    {
        using DiskReader reader = DiskReader.Open(_volumes.Image(16));
        FatFileSystem fs = FatFileSystem.Open(reader, 0, reader.Length);
        FatEntry loader = fs.Lookup("/EFI/BOOT/BOOTX64.EFI")!;
        DiskFormatException e = Assert.Throws<DiskFormatException>(() => fs.ReadFile(loader, 1024));
        Assert.Equal(DiskErrorCodes.CorruptFileSystem, e.Code);
        Assert.Throws<DiskFormatException>(() => FatFileSystem.Open(reader, 0, 1 << 20)); // a partition smaller than the volume
    }

    [Theory]
    [InlineData(12, 7101)]
    [InlineData(16, 7102)]
    [InlineData(32, 7103)]
    public async Task MutatedMetadata_OnlyReadsOrThrowsDiskFormatException(int bits, int seed)
    {
        byte[] pristine = File.ReadAllBytes(_volumes.Image(bits));
        using var clean = new DiskReader(new MemoryStream(pristine, writable: false));
        FatBootSector boot = FatFileSystem.Open(clean, 0, pristine.Length).Boot;
        // The boot sector, the first FAT's first 4 KiB, the root directory and the first data clusters (EFI/, EFI/BOOT/, the big directory).
        long data = boot.FirstDataSector * boot.BytesPerSector, fat = boot.FirstFatSector * boot.BytesPerSector;
        long root = boot.FatBits == 32 ? data : (boot.FirstFatSector + (boot.FatCount * boot.FatSize)) * boot.BytesPerSector;
        (long Start, int Length)[] regions = [(0, 512), (0, 90), (fat, 4096), (root, 1024), (data, 16 * boot.ClusterSize)];
        int reads = 0, refusals = 0;
        await Task.Run(() =>
        {
            var random = new Random(seed);
            for (int i = 0; i < 1500; i++)
            {
                // Mutated in place and put back after (a copy of a 40 MiB volume per iteration would cost more than the reads).
                byte[] image = pristine;
                var undo = new List<(int At, byte Was)>();
                for (int m = random.Next(1, 6); m > 0; m--)
                {
                    (long start, int length) = regions[random.Next(regions.Length)];
                    int at = (int)start + random.Next(length);
                    undo.Add((at, image[at]));
                    image[at] = random.Next(3) == 0 ? (byte)(image[at] ^ (1 << random.Next(8))) : (byte)random.Next(256);
                }

                try
                {
                    using var reader = new DiskReader(new MemoryStream(image, writable: false));
                    Walk(FatFileSystem.Open(reader, 0, image.Length), null, 0);
                    reads++;
                }
                catch (DiskFormatException)
                {
                    refusals++;
                }

                for (int u = undo.Count - 1; u >= 0; u--)
                {
                    image[undo[u].At] = undo[u].Was;
                }
            }
        }).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(reads > 100 && refusals > 10, $"{reads} read whole, {refusals} refused");
    }

    /// <summary>Every directory and file below <paramref name="directory"/>, to a depth that a loop of directories can't exceed.</summary>
    private static void Walk(FatFileSystem fs, FatEntry? directory, int depth)
    {
        if (depth > 8)
        {
            return;
        }

        foreach (FatEntry entry in fs.ReadDirectory(directory))
        {
            if (entry.IsDirectory)
            {
                Walk(fs, entry, depth + 1);
            }
            else
            {
                fs.ReadFile(entry, 1 << 20);
            }
        }
    }

    /// <summary>One tree, made into a FAT12, a FAT16 and a FAT32 volume by mkfs.vfat and mcopy.</summary>
    public sealed class Volumes : IDisposable
    {
        private readonly TempDir _dir = new("fat");

        public Volumes()
        {
            Source = _dir.File("tree");
            var random = new Random(42);
            void Write(string relative, int size)
            {
                string path = Path.Combine(Source, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                byte[] bytes = new byte[size];
                random.NextBytes(bytes);
                File.WriteAllBytes(path, bytes);
            }

            Write("EFI/BOOT/BOOTX64.EFI", 150_000);
            Write("EFI/debian/grubx64.efi", 90_000);
            Write("EFI/debian/shimx64.efi", 40_000);
            Write("EFI/systemd/systemd-bootx64.efi", 20_000); // a long name
            Write("EFI/Linux/a long name with spaces.conf", 300);
            File.WriteAllText(Path.Combine(Source, "startup.nsh"), "FS0:\\EFI\\BOOT\\BOOTX64.EFI\n", Encoding.ASCII);
            Directory.CreateDirectory(Path.Combine(Source, "EFI", "empty"));
            for (int i = 0; i < 300; i++)
            {
                Write($"EFI/many/file-{i:D3}.bin", i * 7); // a directory of many clusters, and empty files
            }

            foreach (int bits in new[] { 12, 16, 32 })
            {
                string image = Image(bits);
                long size = bits switch { 12 => 4, 16 => 24, _ => 40 } << 20;
                using (var file = new FileStream(image, FileMode.Create))
                {
                    file.SetLength(size);
                }

                Tool.Run("mkfs.vfat", "-F", $"{bits}", "-s", bits == 32 ? "1" : "2", "-n", $"ESP{bits}", image);
                Tool.Run("mcopy", "-s", "-i", image, Path.Combine(Source, "EFI"), Path.Combine(Source, "startup.nsh"), "::/");
            }
        }

        public string Source { get; }

        public string Image(int bits) => _dir.File($"fat{bits}.img");

        public void Dispose() => _dir.Dispose();
    }
}
