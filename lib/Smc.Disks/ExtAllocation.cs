using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>
/// The used blocks of an ext2/3/4 file system, from its block group descriptors and block bitmaps.
/// </summary>
/// <remarks>
/// <para>
/// Every group's block bitmap is read where its descriptor says (with flex_bg it usually lies in another group), except
/// for a group flagged <c>BLOCK_UNINIT</c> (honoured only with gdt_csum or metadata_csum, as the kernel does): its bitmap
/// was never written, and its used blocks are its metadata — exactly what the kernel's <c>ext4_init_block_bitmap</c>
/// reconstructs: the superblock backup, the group descriptor blocks and the reserved GDT blocks when the group has a
/// backup (sparse_super / sparse_super2 rules; meta_bg descriptor blocks in the first, second and last group of each
/// meta group), plus any block bitmap, inode bitmap or inode table located in the group. These metadata blocks are added
/// for every group, initialised or not, so the result never depends on a bitmap alone for them.
/// </para>
/// <para>
/// Descriptor checksums (crc16 for gdt_csum, crc32c for metadata_csum), the superblock checksum and the block bitmap
/// checksums are verified; a mismatch, a block number outside the file system or an impossible geometry is corrupt.
/// </para>
/// </remarks>
internal static class ExtAllocation
{
    /// <summary>Most block groups mapped (1 Mi groups: 128 TiB with 4 KiB blocks); larger file systems are copied whole.</summary>
    public const long MaxGroups = 1 << 20;

    /// <summary>The boot block and the primary superblock: bytes 0 to 2047 are always used.</summary>
    public const int SuperblockAreaEnd = ExtSuperblock.Offset + ExtSuperblock.Size;

    private const int MinBlocksPerGroup = 8;
    private const int MinInodeSize = 128;
    private const int SparseBase3 = 3;
    private const int SparseBase5 = 5;
    private const int SparseBase7 = 7;

    /// <summary>
    /// Used byte extents of the file system in a partition of <paramref name="size"/> bytes at <paramref name="offset"/>,
    /// or null when it is valid but cannot be mapped safely: bigalloc, a journal that needs recovery (mounted, or not
    /// cleanly unmounted: the on-disk bitmaps may lag behind the journal), a state other than clean, or more than
    /// <see cref="MaxGroups"/> groups.
    /// </summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.CorruptFileSystem"/> for corrupt metadata.</exception>
    public static IReadOnlyList<ByteExtent>? UsedExtents(DiskReader reader, long offset, long size, ReadOnlySpan<byte> superblock, ExtSuperblock sb)
    {
        if (sb.HasRoCompat(ExtSuperblock.RoCompatBigalloc)
            || sb.HasIncompat(ExtSuperblock.IncompatRecover)
            || (sb.State & ExtSuperblock.StateValid) == 0
            || (sb.State & ExtSuperblock.StateErrors) != 0)
        {
            return null;
        }

        var geometry = Geometry.From(sb, size, superblock);
        if (geometry is null)
        {
            return null;
        }

        ExtGroupDescriptor[] descriptors = ReadDescriptors(reader, offset, geometry);
        List<ByteExtent> metadata = MetadataBlocks(geometry, descriptors);
        var used = new ExtentBuilder(size);
        used.Add(0, Math.Max(SuperblockAreaEnd, geometry.BlockSize));
        AddGroups(reader, offset, geometry, descriptors, metadata, used);
        return used.Build();
    }

    /// <summary>Reads and verifies all group descriptors (primary copy).</summary>
    internal static ExtGroupDescriptor[] ReadDescriptors(DiskReader reader, long offset, Geometry g)
    {
        var descriptors = new ExtGroupDescriptor[g.GroupCount];
        var block = new byte[g.BlockSize];
        for (long i = 0; i < g.DescriptorBlocks; i++)
        {
            long location = g.DescriptorBlockLocation(i);
            if (location < 0 || location >= g.BlocksCount)
            {
                throw Corrupt($"group descriptor block {i} at block {location} is outside the file system.");
            }

            reader.ReadAt(offset + (location * g.BlockSize), block);
            for (int j = 0; j < g.DescriptorsPerBlock; j++)
            {
                long group = (i * g.DescriptorsPerBlock) + j;
                if (group >= g.GroupCount)
                {
                    break;
                }

                ReadOnlySpan<byte> raw = block.AsSpan(j * g.DescriptorSize, g.DescriptorSize);
                ExtGroupDescriptor desc = ExtGroupDescriptor.ReadFrom(raw);
                if (g.ChecksumKind != DescriptorChecksum.None && desc.Checksum != g.DescriptorChecksumOf((uint)group, raw))
                {
                    throw Corrupt($"group {group}'s descriptor checksum does not match.");
                }

                CheckRange(group, "block bitmap", desc.BlockBitmap, 1, g);
                CheckRange(group, "inode bitmap", desc.InodeBitmap, 1, g);
                CheckRange(group, "inode table", desc.InodeTable, g.InodeTableBlocks, g);
                descriptors[group] = desc;
            }
        }

        return descriptors;
    }

    /// <summary>All metadata blocks (in block units, sorted and merged): superblock/GDT backups, bitmaps and inode tables of every group.</summary>
    private static List<ByteExtent> MetadataBlocks(Geometry g, ExtGroupDescriptor[] descriptors)
    {
        // Each kind is added in group order, so each builder mostly appends and merges (flex_bg packs them together).
        var backups = new ExtentBuilder(g.BlocksCount);
        var blockBitmaps = new ExtentBuilder(g.BlocksCount);
        var inodeBitmaps = new ExtentBuilder(g.BlocksCount);
        var inodeTables = new ExtentBuilder(g.BlocksCount);
        for (long group = 0; group < g.GroupCount; group++)
        {
            backups.Add(g.GroupFirstBlock(group), g.SuperAndDescriptorBlocks(group));
            blockBitmaps.Add((long)descriptors[group].BlockBitmap, 1);
            inodeBitmaps.Add((long)descriptors[group].InodeBitmap, 1);
            inodeTables.Add((long)descriptors[group].InodeTable, g.InodeTableBlocks);
        }

        var all = new ExtentBuilder(g.BlocksCount);
        foreach (ExtentBuilder kind in new[] { backups, blockBitmaps, inodeBitmaps, inodeTables })
        {
            foreach (ByteExtent e in kind.Build())
            {
                all.Add(e.Start, e.Length);
            }
        }

        return [.. all.Build()];
    }

    /// <summary>Reads (or, for BLOCK_UNINIT, synthesises) each group's bitmap, adds the metadata in it, and reports the used runs.</summary>
    private static void AddGroups(DiskReader reader, long offset, Geometry g, ExtGroupDescriptor[] descriptors, List<ByteExtent> metadata, ExtentBuilder used)
    {
        var block = new byte[g.BlockSize];
        Span<byte> bits = block.AsSpan(0, g.BlocksPerGroup / 8);
        int meta = 0;
        long blockSize = g.BlockSize;
        for (long group = 0; group < g.GroupCount; group++)
        {
            ExtGroupDescriptor desc = descriptors[group];
            long first = g.GroupFirstBlock(group);
            long count = Math.Min(g.BlocksPerGroup, g.BlocksCount - first);
            long end = first + count;
            if (g.ChecksumKind != DescriptorChecksum.None && desc.IsBlockUninit)
            {
                bits.Clear();
            }
            else
            {
                reader.ReadAt(offset + ((long)desc.BlockBitmap * blockSize), block);
                if (g.ChecksumKind == DescriptorChecksum.Crc32C && !g.BlockBitmapChecksumMatches(bits, desc.BlockBitmapChecksum))
                {
                    throw Corrupt($"group {group}'s block bitmap checksum does not match.");
                }
            }

            while (meta < metadata.Count && metadata[meta].End <= first)
            {
                meta++;
            }

            for (int k = meta; k < metadata.Count && metadata[k].Start < end; k++)
            {
                long from = Math.Max(metadata[k].Start, first) - first;
                long to = Math.Min(metadata[k].End, end) - first;
                for (long bit = from; bit < to; bit++)
                {
                    bits[(int)(bit >> 3)] |= (byte)(1 << (int)(bit & 7));
                }
            }

            BitRuns.ForEach(bits, count, (firstBit, bitCount) => used.Add((first + firstBit) * blockSize, bitCount * blockSize));
        }
    }

    private static void CheckRange(long group, string what, ulong start, long count, Geometry g)
    {
        if (start < (ulong)g.FirstDataBlock || start >= (ulong)g.BlocksCount || (ulong)count > (ulong)g.BlocksCount - start)
        {
            throw Corrupt($"group {group}'s {what} at block {start} ({count} blocks) is outside the file system.");
        }
    }

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "ext: " + message);

    internal enum DescriptorChecksum
    {
        None,
        Crc16,
        Crc32C,
    }

    /// <summary>The validated layout of the block groups.</summary>
    internal sealed class Geometry
    {
        public required int BlockSize { get; init; }

        public required long BlocksCount { get; init; }

        public required long FirstDataBlock { get; init; }

        public required int BlocksPerGroup { get; init; }

        public required long GroupCount { get; init; }

        public required int DescriptorSize { get; init; }

        public required int DescriptorsPerBlock { get; init; }

        public required long DescriptorBlocks { get; init; }

        public required long InodeTableBlocks { get; init; }

        public required bool MetaBg { get; init; }

        public required long FirstMetaBg { get; init; }

        public required long ReservedGdtBlocks { get; init; }

        public required bool SparseSuper { get; init; }

        public required bool SparseSuper2 { get; init; }

        public required (uint First, uint Second) BackupGroups { get; init; }

        public required DescriptorChecksum ChecksumKind { get; init; }

        public required uint ChecksumSeed { get; init; }

        public required byte[] Uuid { get; init; }

        /// <summary>The validated geometry, or null when there are more than <see cref="MaxGroups"/> groups.</summary>
        public static Geometry? From(ExtSuperblock sb, long partitionSize, ReadOnlySpan<byte> raw)
        {
            int blockSize = sb.BlockSize;
            if (sb.BlocksCount > (ulong)(partitionSize / blockSize))
            {
                throw Corrupt($"{sb.BlocksCount} blocks of {blockSize} bytes do not fit the {partitionSize}-byte partition.");
            }

            long blocks = (long)sb.BlocksCount;
            long firstData = sb.FirstDataBlock;
            if (firstData != (blockSize == 1024 ? 1 : 0) || firstData >= blocks)
            {
                throw Corrupt($"s_first_data_block {firstData} is wrong for {blockSize}-byte blocks.");
            }

            long perGroup = sb.BlocksPerGroup;
            if (perGroup < MinBlocksPerGroup || perGroup > 8L * blockSize || perGroup % 8 != 0)
            {
                throw Corrupt($"{perGroup} blocks per group is invalid for {blockSize}-byte blocks.");
            }

            if (sb.InodesPerGroup == 0 || sb.InodesPerGroup > 8L * blockSize)
            {
                throw Corrupt($"{sb.InodesPerGroup} inodes per group is invalid.");
            }

            int inodeSize = sb.InodeSize;
            if (inodeSize < MinInodeSize || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) != 0)
            {
                throw Corrupt($"inode size {inodeSize} is invalid.");
            }

            bool wide = sb.HasIncompat(ExtSuperblock.Incompat64Bit);
            int descSize = wide ? sb.RawDescSize : ExtGroupDescriptor.Size32;
            if (wide && (descSize < ExtGroupDescriptor.MinSize64 || descSize > ExtGroupDescriptor.MaxSize || (descSize & (descSize - 1)) != 0))
            {
                throw Corrupt($"s_desc_size {descSize} is invalid.");
            }

            long groups = (blocks - firstData + perGroup - 1) / perGroup;
            if (groups > MaxGroups)
            {
                return null;
            }

            int perBlock = blockSize / descSize;
            long descBlocks = (groups + perBlock - 1) / perBlock;
            bool metaBg = sb.HasIncompat(ExtSuperblock.IncompatMetaBg);
            if (metaBg && sb.FirstMetaBg > descBlocks)
            {
                throw Corrupt($"s_first_meta_bg {sb.FirstMetaBg} is beyond the {descBlocks} descriptor blocks.");
            }

            if (!metaBg && 1 + descBlocks + sb.ReservedGdtBlocks > perGroup)
            {
                throw Corrupt($"{descBlocks} descriptor blocks and {sb.ReservedGdtBlocks} reserved ones do not fit a group.");
            }

            DescriptorChecksum kind = sb.HasRoCompat(ExtSuperblock.RoCompatMetadataCsum) ? DescriptorChecksum.Crc32C
                : sb.HasRoCompat(ExtSuperblock.RoCompatGdtCsum) ? DescriptorChecksum.Crc16
                : DescriptorChecksum.None;
            if (kind == DescriptorChecksum.Crc32C)
            {
                uint stored = BinaryPrimitives.ReadUInt32LittleEndian(raw[ExtSuperblock.ChecksumOffset..]);
                if (Crc32C.Update(uint.MaxValue, raw[..ExtSuperblock.ChecksumOffset]) != stored)
                {
                    throw Corrupt("the superblock checksum does not match.");
                }
            }

            return new Geometry
            {
                BlockSize = blockSize,
                BlocksCount = blocks,
                FirstDataBlock = firstData,
                BlocksPerGroup = (int)perGroup,
                GroupCount = groups,
                DescriptorSize = descSize,
                DescriptorsPerBlock = perBlock,
                DescriptorBlocks = descBlocks,
                InodeTableBlocks = (((long)sb.InodesPerGroup * inodeSize) + blockSize - 1) / blockSize,
                MetaBg = metaBg,
                FirstMetaBg = sb.FirstMetaBg,
                ReservedGdtBlocks = sb.ReservedGdtBlocks,
                SparseSuper = sb.HasRoCompat(ExtSuperblock.RoCompatSparseSuper),
                SparseSuper2 = sb.HasCompat(ExtSuperblock.CompatSparseSuper2),
                BackupGroups = sb.BackupGroups,
                ChecksumKind = kind,
                ChecksumSeed = sb.HasIncompat(ExtSuperblock.IncompatCsumSeed) ? sb.ChecksumSeed : Crc32C.Update(uint.MaxValue, sb.UuidBytes),
                Uuid = sb.UuidBytes,
            };
        }

        public long GroupFirstBlock(long group) => FirstDataBlock + (group * BlocksPerGroup);

        /// <summary>Whether <paramref name="group"/> holds a superblock backup (e2fsprogs' <c>ext2fs_bg_has_super</c>).</summary>
        public bool HasSuper(long group)
        {
            if (group == 0)
            {
                return true;
            }

            if (SparseSuper2)
            {
                return group == BackupGroups.First || group == BackupGroups.Second;
            }

            if (group <= 1 || !SparseSuper)
            {
                return true;
            }

            return (group & 1) != 0 && (IsPowerOf(group, SparseBase3) || IsPowerOf(group, SparseBase5) || IsPowerOf(group, SparseBase7));
        }

        /// <summary>Blocks at the start of <paramref name="group"/> taken by its superblock copy and descriptor blocks (e2fsprogs' <c>ext2fs_super_and_bgd_loc2</c>).</summary>
        public long SuperAndDescriptorBlocks(long group)
        {
            bool hasSuper = HasSuper(group);
            long count = hasSuper ? 1 : 0;
            if (!MetaBg || group / DescriptorsPerBlock < FirstMetaBg)
            {
                if (hasSuper)
                {
                    count += MetaBg ? FirstMetaBg : DescriptorBlocks + ReservedGdtBlocks;
                }
            }
            else
            {
                long index = group % DescriptorsPerBlock;
                if (index == 0 || index == 1 || index == DescriptorsPerBlock - 1)
                {
                    count++;
                }
            }

            return count;
        }

        /// <summary>Where descriptor block <paramref name="index"/> lives (e2fsprogs' <c>ext2fs_descriptor_block_loc2</c>).</summary>
        public long DescriptorBlockLocation(long index)
        {
            if (!MetaBg || index < FirstMetaBg)
            {
                return FirstDataBlock + 1 + index;
            }

            long group = index * DescriptorsPerBlock;
            return GroupFirstBlock(group) + (HasSuper(group) ? 1 : 0);
        }

        public ushort DescriptorChecksumOf(uint group, ReadOnlySpan<byte> desc)
        {
            Span<byte> zero = stackalloc byte[2];
            zero.Clear();
            ReadOnlySpan<byte> before = desc[..ExtGroupDescriptor.ChecksumOffset];
            ReadOnlySpan<byte> after = desc[(ExtGroupDescriptor.ChecksumOffset + 2)..];
            if (ChecksumKind == DescriptorChecksum.Crc32C)
            {
                uint crc = Crc32C.Update(ChecksumSeed, group);
                crc = Crc32C.Update(crc, before);
                crc = Crc32C.Update(crc, zero);
                return (ushort)Crc32C.Update(crc, after);
            }

            Span<byte> groupBytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(groupBytes, group);
            ushort crc16 = Crc16.Update(ushort.MaxValue, Uuid);
            crc16 = Crc16.Update(crc16, groupBytes);
            crc16 = Crc16.Update(crc16, before);
            return Crc16.Update(crc16, after);
        }

        public bool BlockBitmapChecksumMatches(ReadOnlySpan<byte> bitmap, uint stored)
        {
            uint crc = Crc32C.Update(ChecksumSeed, bitmap);
            return DescriptorSize >= ExtGroupDescriptor.BlockBitmapChecksumHiEnd ? crc == stored : (crc & 0xFFFF) == stored;
        }

        private static bool IsPowerOf(long value, int root)
        {
            while (value >= root)
            {
                if (value == root)
                {
                    return true;
                }

                if (value % root != 0)
                {
                    return false;
                }

                value /= root;
            }

            return false;
        }
    }
}
