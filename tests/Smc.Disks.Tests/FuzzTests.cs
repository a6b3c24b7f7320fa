using System.Buffers.Binary;
using Smc.Disks.Tests.Support;
using Smc.Wire.Inventory;
using Xunit.Abstractions;

namespace Smc.Disks.Tests;

/// <summary>
/// Deterministic fuzzing (seeded <see cref="Random"/>) of real images in memory: mutations of the partition table sectors
/// (and, for GPT, half of them with the CRCs repaired so deeper checks run), of file system metadata, and truncations.
/// The only acceptable outcomes are a result whose partitions lie inside the disk, or a <see cref="DiskFormatException"/>;
/// each run must also finish within its time limit (no hang).
/// </summary>
public sealed class FuzzTests(FuzzFixture fixture, ITestOutputHelper output) : IClassFixture<FuzzFixture>
{
    private const int Sector = 512;
    private const int Table = MasterBootRecord.PartitionTableOffset;
    private const int TableBytes = 512 - MasterBootRecord.PartitionTableOffset;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private static readonly long[] Interesting = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, long.MaxValue, -1];

    [Fact]
    public async Task Inspect_MutatedMbrImage_OnlySucceedsOrThrowsDiskFormatException()
    {
        byte[] image = (byte[])fixture.Mbr.Clone();
        // The first 34 sectors, weighted towards the partition entries of the MBR and of each EBR.
        var regions = new List<(int Start, int Length)> { (0, 34 * Sector), (Table, TableBytes), (Table, TableBytes) };
        regions.AddRange(fixture.MbrEbrLbas.Select(lba => (((int)lba * Sector) + Table, TableBytes)));

        Outcome outcome = await Task.Run(() => Fuzz(image, image.Length, regions, iterations: 3000, truncations: 500, seed: 1001, repair: null))
            .WaitAsync(Limit);

        output.WriteLine(outcome.ToString());
        Assert.True(outcome.Successes > 100, outcome.ToString());
        Assert.Contains(DiskErrorCodes.InvalidMbr, outcome.Codes.Keys);
        Assert.Contains(DiskErrorCodes.Truncated, outcome.Codes.Keys);
    }

    [Fact]
    public async Task Inspect_MutatedGptImage_OnlySucceedsOrThrowsDiskFormatException()
    {
        byte[] image = (byte[])fixture.Gpt.Clone();
        // The first 34 and last 33 sectors, weighted towards the headers and the used entries.
        int backup = image.Length - Sector;
        var regions = new List<(int Start, int Length)>
        {
            (0, 34 * Sector), (image.Length - (33 * Sector), 33 * Sector),
            (Table, TableBytes), (Sector, 92), (Sector, 92), (2 * Sector, 3 * 128), (backup, 92), (backup - (32 * Sector), 3 * 128),
        };

        Outcome outcome = await Task.Run(() => Fuzz(image, image.Length, regions, iterations: 3000, truncations: 500, seed: 2002, repair: RepairGpt))
            .WaitAsync(Limit);

        output.WriteLine(outcome.ToString());
        Assert.True(outcome.Successes > 100, outcome.ToString());
        Assert.Contains(DiskErrorCodes.InvalidGpt, outcome.Codes.Keys);
        Assert.Contains(DiskErrorCodes.Truncated, outcome.Codes.Keys);
    }

    [Theory]
    [InlineData("ext4", 3003)]
    [InlineData("xfs", 3004)]
    [InlineData("ntfs", 3005)]
    [InlineData("fat12", 3006)]
    [InlineData("fat16", 3007)]
    [InlineData("fat32", 3008)]
    [InlineData("swap", 3009)]
    [InlineData("lvm2", 3010)]
    public async Task Inspect_MutatedWholeDiskFileSystem_OnlySucceedsOrThrowsDiskFormatException(string name, int seed)
    {
        byte[] image = fixture.FileSystemImage(name, out long length);
        // The first 64 KiB, weighted towards the metadata each detector reads.
        var regions = new List<(int Start, int Length)> { (0, Math.Min(image.Length, 64 * 1024)) };
        switch (name)
        {
            case "ext4":
                regions.AddRange([(1024, 1024), (1024, 128), (1024 + 0x150, 16)]);
                break;
            case "xfs":
                regions.AddRange([(0, 256), (0, 16), (144, 8)]);
                break;
            case "ntfs":
                // Boot sector, then MFT records 0 ($MFT), 3 ($Volume) and 6 ($Bitmap): fixups, attributes and data runs.
                long clusterSize = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(0x0B)) * image[0x0D];
                int mft = (int)(BinaryPrimitives.ReadInt64LittleEndian(image.AsSpan(0x30)) * clusterSize);
                regions.AddRange([(0, 0x50), (mft, 1024), (mft + (3 * 1024), 1024), (mft + (6 * 1024), 1024), (mft + (6 * 1024), 1024)]);
                break;
            case "swap":
                regions.AddRange([(1024, 44), (4086, 10)]);
                break;
            case "lvm2":
                regions.AddRange([(512, 72), (512, 72)]);
                break;
            default: // FAT: boot sector, start of the first FAT
                int fat = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(14)) * 512;
                regions.AddRange([(0, 90), (0, 90), (fat, 64)]);
                break;
        }

        Outcome outcome = await Task.Run(() => Fuzz(image, length, regions, iterations: 1000, truncations: 200, seed, repair: null))
            .WaitAsync(Limit);

        output.WriteLine(outcome.ToString());
        Assert.True(outcome.Successes > 100, outcome.ToString());
    }

    [Fact]
    public async Task UsedExtents_MutatedExt4GroupMetadata_OnlyNullExtentsOrDiskFormatException()
    {
        byte[] image = fixture.FileSystemImage("ext4-groups", out long length);
        const int BlockSize = 4096;
        int bitmaps = (int)BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(BlockSize)) * BlockSize; // group 0's block bitmap; flex_bg puts all 8 there
        var regions = new List<(int Start, int Length)>
        {
            (1024, 1024), (1024, 0x110), (1024 + 0x14, 0x20), (1024 + 0xCE, 0x40), (1024 + 0x24C, 8), // superblock geometry
            (BlockSize, 8 * 64), (BlockSize, 8 * 64), (BlockSize, 8 * 64), (BlockSize + 0x12, 2), // descriptors: locations, flags
            (bitmaps, 8 * BlockSize), // block bitmaps
        };

        Outcome outcome = await Task.Run(() => Fuzz(image, length, regions, iterations: 2000, truncations: 200, seed: 4001, repair: RepairExt, check: MapExt))
            .WaitAsync(Limit);

        output.WriteLine(outcome.ToString());
        Assert.True(outcome.FileSystems.GetValueOrDefault("extents") > 200, outcome.ToString());
        Assert.True(outcome.FileSystems.GetValueOrDefault("null") > 200, outcome.ToString());
    }

    [Fact]
    public async Task Plan_MutatedGptImage_OnlyPlansThatReadBackOrDiskFormatException()
    {
        byte[] image = (byte[])fixture.Gpt.Clone();
        int backup = image.Length - Sector;
        var regions = new List<(int Start, int Length)>
        {
            (Table, TableBytes), (Sector, 92), (Sector, 92), (2 * Sector, 3 * 128), (2 * Sector, 3 * 128), (backup, 92), (backup - (32 * Sector), 3 * 128),
        };

        Outcome outcome = await Task.Run(() => Fuzz(image, image.Length, regions, iterations: 2000, truncations: 200, seed: 5001, repair: RepairGpt, check: PlanAndReadBack))
            .WaitAsync(Limit);

        output.WriteLine(outcome.ToString());
        Assert.True(outcome.Successes > 200, outcome.ToString());
        Assert.Contains(DiskErrorCodes.InvalidGpt, outcome.Codes.Keys);
    }

    [Fact]
    public async Task Plan_MutatedMbrImage_OnlyPlansThatReadBackOrDiskFormatException()
    {
        byte[] image = (byte[])fixture.MbrPrimary.Clone();
        var regions = new List<(int Start, int Length)> { (Table, TableBytes), (Table, 16), (Table + 16, 16), (Table + 32, 16) };

        Outcome outcome = await Task.Run(() => Fuzz(image, image.Length, regions, iterations: 2000, truncations: 200, seed: 5002, repair: null, check: PlanAndReadBack))
            .WaitAsync(Limit);

        output.WriteLine(outcome.ToString());
        Assert.True(outcome.Successes > 100, outcome.ToString());
        Assert.Contains(DiskErrorCodes.LayoutUnsupported, outcome.Codes.Keys);
    }

    private static Outcome Fuzz(byte[] image, long length, List<(int Start, int Length)> regions, int iterations, int truncations, int seed, Action<byte[], Random, List<(int, byte)>>? repair, Check? check = null)
    {
        check ??= Inspect;
        var random = new Random(seed);
        var outcome = new Outcome();
        var undo = new List<(int Offset, byte Value)>();
        for (int i = 0; i < iterations; i++)
        {
            int mutations = random.Next(1, 4);
            for (int m = 0; m < mutations; m++)
            {
                (int start, int size) = regions[random.Next(regions.Count)];
                Mutate(image, start, size, random, undo);
            }

            repair?.Invoke(image, random, undo);
            check(image, length, outcome, $"seed {seed} iteration {i}");
            for (int u = undo.Count - 1; u >= 0; u--)
            {
                image[undo[u].Offset] = undo[u].Value;
            }

            undo.Clear();
        }

        for (int t = 0; t < truncations; t++)
        {
            long cut = random.Next(4) == 0 ? random.NextInt64(0, (length / Sector) + 1) * Sector : random.NextInt64(0, length + 1);
            check(image, cut, outcome, $"seed {seed} truncation to {cut} bytes");
        }

        return outcome;
    }

    private static void Mutate(byte[] image, int start, int size, Random random, List<(int, byte)> undo)
    {
        int at = start + random.Next(size);
        switch (random.Next(4))
        {
            case 0: // flip one bit
                Poke(image, at, (byte)(image[at] ^ (1 << random.Next(8))), undo);
                break;
            case 1: // random byte
                Poke(image, at, (byte)random.Next(256), undo);
                break;
            case 2: // an interesting little-endian integer of 2, 4 or 8 bytes
                long value = Interesting[random.Next(Interesting.Length)];
                int width = 2 << random.Next(3);
                for (int b = 0; b < width && at + b < start + size; b++)
                {
                    Poke(image, at + b, (byte)(value >> (8 * b)), undo);
                }

                break;
            default: // a burst of random bytes
                int burst = random.Next(2, 32);
                for (int b = 0; b < burst && at + b < start + size; b++)
                {
                    Poke(image, at + b, (byte)random.Next(256), undo);
                }

                break;
        }
    }

    /// <summary>Half of the time, recompute the entry-array and header CRCs of the primary (and maybe backup) GPT header so validation goes past the CRC checks.</summary>
    private static void RepairGpt(byte[] image, Random random, List<(int, byte)> undo)
    {
        if (random.Next(2) == 0)
        {
            return;
        }

        RepairGptHeader(image, Sector, undo);
        if (random.Next(2) == 0)
        {
            RepairGptHeader(image, image.Length - Sector, undo);
        }
    }

    private static void RepairGptHeader(byte[] image, int header, List<(int, byte)> undo)
    {
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(header + 12));
        ulong entriesLba = BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(header + 72));
        long arrayBytes = (long)BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(header + 80)) * BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(header + 84));
        if (arrayBytes is > 0 and <= 1024 * 1024 && entriesLba < (ulong)image.Length / Sector && (long)entriesLba * Sector + arrayBytes <= image.Length)
        {
            PokeUInt32(image, header + 88, Crc32.Compute(image.AsSpan((int)entriesLba * Sector, (int)arrayBytes)), undo);
        }

        if (headerSize is >= 92 and <= Sector)
        {
            PokeUInt32(image, header + 16, 0, undo);
            PokeUInt32(image, header + 16, Crc32.Compute(image.AsSpan(header, (int)headerSize)), undo);
        }
    }

    private static void PokeUInt32(byte[] image, int offset, uint value, List<(int, byte)> undo)
    {
        for (int b = 0; b < 4; b++)
        {
            Poke(image, offset + b, (byte)(value >> (8 * b)), undo);
        }
    }

    private static void Poke(byte[] image, int offset, byte value, List<(int, byte)> undo)
    {
        undo.Add((offset, image[offset]));
        image[offset] = value;
    }

    private static void Inspect(byte[] image, long length, Outcome outcome, string where)
    {
        Stream stream = length <= image.Length
            ? new MemoryStream(image, 0, (int)length, writable: false)
            : new ZeroTailStream(image, length);
        using var reader = new DiskReader(stream);
        try
        {
            DiskInfo info = DiskInspector.Inspect(reader, "fuzz");
            foreach (PartitionInfo part in info.Parts)
            {
                if (part.StartBytes < 0 || part.SizeBytes < 0 || part.StartBytes + part.SizeBytes > length
                    || part.UsedBytes < 0 || part.UsedBytes > part.SizeBytes)
                {
                    throw new InvalidOperationException(
                        $"{where}: partition {part.Number} at {part.StartBytes}+{part.SizeBytes} used {part.UsedBytes} does not fit a {length}-byte disk.");
                }
            }

            outcome.Successes++;
            foreach (PartitionInfo part in info.Parts)
            {
                IReadOnlyList<ByteExtent>? extents = MapChecked(reader, part.StartBytes, part.SizeBytes, part.FileSystem, where);
                string key = $"{part.FileSystem ?? "none"}{(part.UsedBytes is null ? "" : "+used")}{(extents is null ? "" : "+extents")}";
                outcome.FileSystems[key] = outcome.FileSystems.GetValueOrDefault(key) + 1;
            }
        }
        catch (DiskFormatException e)
        {
            outcome.Codes[e.Code] = outcome.Codes.GetValueOrDefault(e.Code) + 1;
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            throw new InvalidOperationException($"{where}: unexpected {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>
    /// <see cref="AllocationMaps.UsedExtents"/> for one partition: null, or extents that are sorted, merged, positive and inside
    /// the partition (anything else fails the test). A <see cref="DiskFormatException"/> propagates to the caller's count.
    /// </summary>
    private static IReadOnlyList<ByteExtent>? MapChecked(DiskReader reader, long start, long size, string? fileSystem, string where)
    {
        IReadOnlyList<ByteExtent>? extents = AllocationMaps.UsedExtents(reader, start, size, fileSystem);
        for (int i = 0; extents is not null && i < extents.Count; i++)
        {
            ByteExtent e = extents[i];
            if (e.Length <= 0 || e.Start < 0 || e.End > size || (i > 0 && e.Start <= extents[i - 1].End))
            {
                throw new InvalidOperationException($"{where}: {fileSystem} extent {i} {e} is not sorted, merged and inside the {size}-byte partition.");
            }
        }

        return extents;
    }

    /// <summary>Allocation maps of a whole-disk ext4 image: null, well-formed extents or <see cref="DiskFormatException"/>.</summary>
    private static void MapExt(byte[] image, long length, Outcome outcome, string where)
    {
        using var reader = new DiskReader(new MemoryStream(image, 0, (int)Math.Min(length, image.Length), writable: false));
        try
        {
            IReadOnlyList<ByteExtent>? extents = MapChecked(reader, 0, reader.Length, "ext4", where);
            outcome.Successes++;
            string key = extents is null ? "null" : "extents";
            outcome.FileSystems[key] = outcome.FileSystems.GetValueOrDefault(key) + 1;
        }
        catch (DiskFormatException e)
        {
            outcome.Codes[e.Code] = outcome.Codes.GetValueOrDefault(e.Code) + 1;
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            throw new InvalidOperationException($"{where}: unexpected {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>
    /// <see cref="DestinationLayout.Plan"/> from the head and tail of the image onto a disk twice its size: a
    /// <see cref="DiskFormatException"/>, or a plan whose table writes, applied to an empty destination, read back as the
    /// planned partitions.
    /// </summary>
    private static void PlanAndReadBack(byte[] image, long length, Outcome outcome, string where)
    {
        int head = (int)Math.Min(length, 34 * Sector);
        int tail = (int)Math.Min(length, 33 * Sector);
        long destinationSize = 2 * length;
        try
        {
            LayoutPlan plan = DestinationLayout.Plan(image.AsSpan(0, head), image.AsSpan((int)length - tail, tail), length, destinationSize, new Dictionary<int, long>());
            // The destination: zeros with the table writes, held as a head (writes in the first half) and a tail (the rest).
            long half = destinationSize / 2;
            long headLength = plan.TableWrites.Where(w => w.Offset < half).Select(w => w.Offset + w.Bytes.Length).DefaultIfEmpty(0).Max();
            long tailStart = plan.TableWrites.Where(w => w.Offset >= half).Select(w => w.Offset).DefaultIfEmpty(destinationSize).Min();
            var destinationHead = new byte[headLength];
            var destinationTail = new byte[destinationSize - tailStart];
            foreach ((long offset, byte[] bytes) in plan.TableWrites)
            {
                bytes.CopyTo(offset < half ? destinationHead : destinationTail, offset < half ? offset : offset - tailStart);
            }

            using var reader = new DiskReader(new HeadTailStream(destinationHead, destinationTail, destinationSize));
            DiskLayout layout = DiskInspector.ReadLayout(reader);
            if (layout.Kind != plan.Kind
                || !layout.Partitions.Select(p => (p.Number, p.StartBytes, p.SizeBytes)).SequenceEqual(plan.Partitions.Where(p => p.Number > 0).Select(p => (p.Number, p.DestinationStart, p.DestinationSize)))
                || layout.GptBackupHeaderUsed)
            {
                throw new InvalidOperationException($"{where}: the planned tables read back as {layout.KindName} with {layout.Partitions.Count} partitions, not as planned.");
            }

            outcome.Successes++;
            string key = $"{plan.Kind}:{plan.Partitions.Count}";
            outcome.FileSystems[key] = outcome.FileSystems.GetValueOrDefault(key) + 1;
        }
        catch (DiskFormatException e)
        {
            outcome.Codes[e.Code] = outcome.Codes.GetValueOrDefault(e.Code) + 1;
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            throw new InvalidOperationException($"{where}: unexpected {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Half of the time, recompute what metadata_csum protects — block bitmap checksums, group descriptor checksums and the
    /// superblock checksum — so mutated values reach the geometry and range checks instead of failing a checksum.
    /// </summary>
    private static void RepairExt(byte[] image, Random random, List<(int, byte)> undo)
    {
        if (random.Next(2) == 0)
        {
            return;
        }

        const int Sb = 1024;
        const int BlockSize = 4096;
        const int DescSize = 64;
        uint seed = Crc32C.Update(uint.MaxValue, image.AsSpan(Sb + 0x68, 16));
        uint groups = (BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(Sb + 4)) + 1023) / 1024;
        for (uint g = 0; g < Math.Min(groups, 8u); g++)
        {
            int desc = BlockSize + ((int)g * DescSize);
            ulong bitmap = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(desc));
            if ((image[desc + 0x12] & 0x02) == 0 && bitmap < (ulong)(image.Length / BlockSize))
            {
                uint crc = Crc32C.Update(seed, image.AsSpan((int)bitmap * BlockSize, 1024 / 8));
                PokeUInt16(image, desc + 0x18, (ushort)crc, undo);
                PokeUInt16(image, desc + 0x38, (ushort)(crc >> 16), undo);
            }

            PokeUInt16(image, desc + 0x1E, 0, undo);
            uint c = Crc32C.Update(Crc32C.Update(seed, g), image.AsSpan(desc, DescSize));
            PokeUInt16(image, desc + 0x1E, (ushort)c, undo);
        }

        PokeUInt32(image, Sb + 0x3FC, Crc32C.Update(uint.MaxValue, image.AsSpan(Sb, 0x3FC)), undo);
    }

    private static void PokeUInt16(byte[] image, int offset, ushort value, List<(int, byte)> undo)
    {
        Poke(image, offset, (byte)value, undo);
        Poke(image, offset + 1, (byte)(value >> 8), undo);
    }

    private delegate void Check(byte[] image, long length, Outcome outcome, string where);

    private sealed class Outcome
    {
        public int Successes { get; set; }

        public Dictionary<string, int> Codes { get; } = [];

        /// <summary>Partitions seen in successful results, by file system (and whether used bytes were known).</summary>
        public Dictionary<string, int> FileSystems { get; } = [];

        public override string ToString() =>
            $"{Successes} successes; errors: " + string.Join(", ", Codes.Select(kv => $"{kv.Key}: {kv.Value}"))
            + "; partitions: " + string.Join(", ", FileSystems.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value}"));
    }
}
