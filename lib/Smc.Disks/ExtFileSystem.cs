using System.Buffers.Binary;
using System.Text;

namespace Smc.Disks;

/// <summary>
/// A read-only reader of an ext2/3/4 file system in a disk image, through <see cref="DiskReader"/>: inodes, files
/// (extent trees of any depth, ext2/3 block maps with indirect blocks, inline data), directories (linear and htree,
/// whose leaves are linear blocks; inline directories) and symbolic links, and paths resolved through them. No mount,
/// no root: the control plane reads an image's boot files with it. Every number read is bounded against the file
/// system before it is used, and what it reads is bounded by the caller: a corrupt or hostile image ends in a
/// <see cref="DiskFormatException"/> (<see cref="DiskErrorCodes.CorruptFileSystem"/>), never a hang or a huge buffer.
/// Hand-written: no served package reads ext4 (the project's README says which parts are).
/// <para>Over 400 lines on purpose: one on-disk format read in one place — inodes, the two block-mapping schemes,
/// inline data, directories and links all follow from the same inode layout and bounds.</para>
/// </summary>
public sealed class ExtFileSystem
{
    /// <summary>The root directory's inode number.</summary>
    public const uint RootInode = 2;

    /// <summary>Symbolic links followed while resolving one path (as the kernel's MAXSYMLINKS).</summary>
    public const int MaxSymlinks = 40;

    /// <summary>Largest directory read (64 MiB: hundreds of thousands of entries).</summary>
    public const long MaxDirectoryBytes = 64L << 20;

    private const int InodeModeOffset = 0x00, InodeSizeLoOffset = 0x04, InodeLinksOffset = 0x1A, InodeBlocksLoOffset = 0x1C, InodeFlagsOffset = 0x20;
    private const int InodeBlockOffset = 0x28, InodeBlockBytes = 60, InodeFileAclLoOffset = 0x68, InodeSizeHighOffset = 0x6C, InodeExtraIsizeOffset = 0x80;
    private const uint FlagExtents = 0x80000, FlagInlineData = 0x10000000;
    private const ushort ExtentMagic = 0xF30A;
    private const int MaxExtentDepth = 5;
    private const uint XattrMagic = 0xEA020000;
    private const int XattrIndexSystem = 7;

    private readonly DiskReader _reader;
    private readonly long _offset;
    private readonly ExtSuperblock _sb;
    private readonly ExtAllocation.Geometry _g;
    private readonly ExtGroupDescriptor[] _groups;

    private ExtFileSystem(DiskReader reader, long offset, ExtSuperblock sb, ExtAllocation.Geometry g, ExtGroupDescriptor[] groups)
    {
        _reader = reader;
        _offset = offset;
        _sb = sb;
        _g = g;
        _groups = groups;
    }

    /// <summary>The file system's UUID (as <c>blkid</c> prints it).</summary>
    public string? Uuid => _sb.Uuid;

    /// <summary>The file system's label, if it has one.</summary>
    public string? Label => _sb.Label;

    public int BlockSize => _g.BlockSize;

    /// <summary>Opens the ext2/3/4 file system of <paramref name="size"/> bytes at <paramref name="offset"/> of the disk.</summary>
    /// <exception cref="DiskFormatException">Not an ext file system, or its superblock or group descriptors are corrupt.</exception>
    public static ExtFileSystem Open(DiskReader reader, long offset, long size)
    {
        var raw = new byte[ExtSuperblock.Size];
        if (offset < 0 || size < ExtSuperblock.Offset + ExtSuperblock.Size || offset + size > reader.Length)
        {
            throw Corrupt("the file system does not fit the disk.");
        }

        reader.ReadAt(offset + ExtSuperblock.Offset, raw);
        ExtSuperblock sb = ExtSuperblock.ReadFrom(raw) ?? throw new DiskFormatException(DiskErrorCodes.CorruptFileSystem, "not an ext2/3/4 file system.");
        ExtAllocation.Geometry g = ExtAllocation.Geometry.From(sb, size, raw) ?? throw Corrupt("too many block groups to read.");
        if (sb.InodesPerGroup == 0 || sb.InodeSize < 128 || sb.InodeSize > g.BlockSize || (sb.InodeSize & (sb.InodeSize - 1)) != 0)
        {
            throw Corrupt($"inode size {sb.InodeSize} or {sb.InodesPerGroup} inodes per group is not valid.");
        }

        return new ExtFileSystem(reader, offset, sb, g, ExtAllocation.ReadDescriptors(reader, offset, g));
    }

    /// <summary>Reads inode <paramref name="number"/>.</summary>
    public ExtInode ReadInode(uint number)
    {
        long group = (number - 1L) / _sb.InodesPerGroup;
        if (number == 0 || group >= _groups.Length)
        {
            throw Corrupt($"inode {number} does not exist.");
        }

        long index = (number - 1L) % _sb.InodesPerGroup;
        long block = (long)_groups[group].InodeTable;
        var raw = new byte[_sb.InodeSize];
        ReadFs((block * BlockSize) + (index * _sb.InodeSize), raw);
        long size = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(InodeSizeLoOffset))
            | ((long)BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(InodeSizeHighOffset)) << 32);
        if (size < 0)
        {
            throw Corrupt($"inode {number} claims {(ulong)size} bytes.");
        }

        return new ExtInode(
            number,
            BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(InodeModeOffset)),
            size,
            BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(InodeLinksOffset)),
            BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(InodeFlagsOffset)),
            raw);
    }

    /// <summary>A file's content, at most <paramref name="maxBytes"/> (a larger file is refused before anything is allocated).</summary>
    public byte[] ReadFile(ExtInode inode, long maxBytes)
    {
        if (inode.Size > maxBytes)
        {
            throw new DiskFormatException(DiskErrorCodes.CorruptFileSystem, $"inode {inode.Number} holds {inode.Size} bytes, more than the {maxBytes} read here.");
        }

        var content = new byte[inode.Size];
        if (inode.Size == 0)
        {
            return content;
        }

        if ((inode.Flags & FlagInlineData) != 0)
        {
            ReadInline(inode, content);
            return content;
        }

        long blocks = (inode.Size + BlockSize - 1) / BlockSize;
        foreach ((long logical, long physical, long count) in Map(inode, blocks))
        {
            for (long i = 0; i < count; i++)
            {
                long at = (logical + i) * BlockSize;
                int length = (int)Math.Min(BlockSize, inode.Size - at);
                if (physical != 0 && length > 0)
                {
                    ReadFs((physical + i) * BlockSize, content.AsSpan((int)at, length));
                }
            }
        }

        return content;
    }

    /// <summary>A directory's entries (not <c>.</c> and <c>..</c>).</summary>
    public IReadOnlyList<ExtDirectoryEntry> ReadDirectory(ExtInode directory) => Entries(directory, withDots: false);

    private List<ExtDirectoryEntry> Entries(ExtInode directory, bool withDots)
    {
        if (!directory.IsDirectory)
        {
            throw new DiskFormatException(DiskErrorCodes.CorruptFileSystem, $"inode {directory.Number} is not a directory.");
        }

        byte[] content = ReadFile(directory, MaxDirectoryBytes);
        var entries = new List<ExtDirectoryEntry>();
        if ((directory.Flags & FlagInlineData) != 0)
        {
            // An inline directory: its parent's inode number, then entries (in i_block, then in system.data).
            if (withDots && content.Length >= 4)
            {
                entries.Add(new ExtDirectoryEntry(".", directory.Number, 2));
                entries.Add(new ExtDirectoryEntry("..", BinaryPrimitives.ReadUInt32LittleEndian(content), 2));
            }

            ParseEntries(content.AsSpan(Math.Min(4, content.Length)), entries, blockSize: content.Length, withDots);
        }
        else
        {
            for (int at = 0; at < content.Length; at += BlockSize)
            {
                ParseEntries(content.AsSpan(at, Math.Min(BlockSize, content.Length - at)), entries, BlockSize, withDots);
            }
        }

        return entries;
    }

    /// <summary>Where a symbolic link points.</summary>
    public string ReadLink(ExtInode link)
    {
        if (!link.IsSymlink)
        {
            throw new DiskFormatException(DiskErrorCodes.CorruptFileSystem, $"inode {link.Number} is not a symbolic link.");
        }

        if (link.Size >= 4096)
        {
            throw Corrupt($"symbolic link {link.Number} is {link.Size} bytes long.");
        }

        // A fast link (shorter than i_block) holds its target in i_block; longer ones are in a block, or inline.
        byte[] target = link.Size < InodeBlockBytes && (link.Flags & (FlagInlineData | FlagExtents)) == 0
            ? link.Raw.AsSpan(InodeBlockOffset, (int)link.Size).ToArray()
            : ReadFile(link, link.Size);
        return Encoding.UTF8.GetString(target);
    }

    /// <summary>
    /// The inode at <paramref name="path"/> (absolute, from this file system's root), following symbolic links in every
    /// component (absolute targets resolve from this root too, as in a chroot; <c>..</c> is the directory's own parent,
    /// as the kernel takes it) and in the last one when <paramref name="followLast"/>; null when a component doesn't exist.
    /// </summary>
    public ExtInode? Lookup(string path, bool followLast = true)
    {
        int links = 0;
        ExtInode root = ReadInode(RootInode);
        return Resolve(root, path, followLast, ref links);
    }

    /// <param name="from">The directory a relative <paramref name="path"/> starts from.</param>
    private ExtInode? Resolve(ExtInode from, string path, bool followLast, ref int links)
    {
        ExtInode current = path.StartsWith('/') ? ReadInode(RootInode) : from;
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length > 4096)
        {
            throw Corrupt("a path of more than 4096 components.");
        }

        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i] == ".")
            {
                continue;
            }

            if (!current.IsDirectory)
            {
                return null;
            }

            ExtDirectoryEntry? entry = Entries(current, withDots: true).FirstOrDefault(e => e.Name == parts[i]);
            if (entry is null)
            {
                return null;
            }

            ExtInode next = ReadInode(entry.Inode);
            if (next.IsSymlink && (i < parts.Length - 1 || followLast))
            {
                if (++links > MaxSymlinks)
                {
                    throw Corrupt($"more than {MaxSymlinks} symbolic links in a path.");
                }

                ExtInode? resolved = Resolve(current, ReadLink(next), followLast: true, ref links);
                if (resolved is null)
                {
                    return null;
                }

                next = resolved;
            }

            current = next;
        }

        return current;
    }

    private static void ParseEntries(ReadOnlySpan<byte> block, List<ExtDirectoryEntry> entries, int blockSize, bool withDots)
    {
        int at = 0;
        while (at + 8 <= block.Length)
        {
            uint inode = BinaryPrimitives.ReadUInt32LittleEndian(block[at..]);
            int recordLength = BinaryPrimitives.ReadUInt16LittleEndian(block[(at + 4)..]);
            int nameLength = block[at + 6];
            byte type = block[at + 7];
            if (recordLength == 0 && blockSize >= 65536)
            {
                recordLength = 65536; // rec_len 0 means 64 KiB in a 64 KiB block
            }

            if (recordLength < 8 || at + recordLength > block.Length || 8 + nameLength > recordLength)
            {
                throw Corrupt($"a directory entry at byte {at} of its block has record length {recordLength}.");
            }

            if (inode != 0 && nameLength > 0)
            {
                string name = Encoding.UTF8.GetString(block.Slice(at + 8, nameLength));
                if (withDots || name is not ("." or ".."))
                {
                    entries.Add(new ExtDirectoryEntry(name, inode, type));
                }
            }

            at += recordLength;
        }
    }

    /// <summary>The runs (logical block, physical block, count) of a file's first <paramref name="blocks"/> blocks; physical 0 is a hole or unwritten.</summary>
    private List<(long Logical, long Physical, long Count)> Map(ExtInode inode, long blocks)
    {
        var runs = new List<(long, long, long)>();
        if ((inode.Flags & FlagExtents) != 0)
        {
            WalkExtents(inode.Raw.AsSpan(InodeBlockOffset, InodeBlockBytes), MaxExtentDepth, blocks, runs, inode.Number);
        }
        else
        {
            ReadOnlySpan<byte> map = inode.Raw.AsSpan(InodeBlockOffset, InodeBlockBytes);
            long logical = 0;
            for (int i = 0; i < 12 && logical < blocks; i++, logical++)
            {
                AddBlock(runs, logical, BinaryPrimitives.ReadUInt32LittleEndian(map[(i * 4)..]), inode.Number);
            }

            for (int level = 1; level <= 3 && logical < blocks; level++)
            {
                WalkIndirect(BinaryPrimitives.ReadUInt32LittleEndian(map[((11 + level) * 4)..]), level, ref logical, blocks, runs, inode.Number);
            }
        }

        return runs;
    }

    private void WalkIndirect(uint block, int level, ref long logical, long blocks, List<(long, long, long)> runs, uint inode)
    {
        long perBlock = BlockSize / 4;
        long span = level == 1 ? perBlock : level == 2 ? perBlock * perBlock : perBlock * perBlock * perBlock;
        if (block == 0)
        {
            logical += span; // a hole as large as the whole subtree
            return;
        }

        CheckBlock(block, inode);
        var pointers = new byte[BlockSize];
        ReadFs((long)block * BlockSize, pointers);
        for (int i = 0; i < perBlock && logical < blocks; i++)
        {
            uint next = BinaryPrimitives.ReadUInt32LittleEndian(pointers.AsSpan(i * 4));
            if (level == 1)
            {
                AddBlock(runs, logical++, next, inode);
            }
            else
            {
                WalkIndirect(next, level - 1, ref logical, blocks, runs, inode);
            }
        }
    }

    private void AddBlock(List<(long Logical, long Physical, long Count)> runs, long logical, uint physical, uint inode)
    {
        if (physical == 0)
        {
            return;
        }

        CheckBlock(physical, inode);
        if (runs.Count > 0 && runs[^1] is var last && last.Logical + last.Count == logical && last.Physical + last.Count == physical)
        {
            runs[^1] = (last.Logical, last.Physical, last.Count + 1);
        }
        else
        {
            runs.Add((logical, physical, 1));
        }
    }

    private void WalkExtents(ReadOnlySpan<byte> node, int depthLeft, long blocks, List<(long, long, long)> runs, uint inode)
    {
        if (BinaryPrimitives.ReadUInt16LittleEndian(node) != ExtentMagic)
        {
            throw Corrupt($"inode {inode}'s extent tree has a node without its magic.");
        }

        int count = BinaryPrimitives.ReadUInt16LittleEndian(node[2..]);
        int depth = BinaryPrimitives.ReadUInt16LittleEndian(node[6..]);
        if (12 + (count * 12) > node.Length || depth >= depthLeft)
        {
            throw Corrupt($"inode {inode}'s extent tree node claims {count} entries at depth {depth}.");
        }

        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> e = node.Slice(12 + (i * 12), 12);
            if (depth == 0)
            {
                long logical = BinaryPrimitives.ReadUInt32LittleEndian(e);
                int length = BinaryPrimitives.ReadUInt16LittleEndian(e[4..]);
                bool unwritten = length > 32768;
                length = unwritten ? length - 32768 : length;
                long physical = ((long)BinaryPrimitives.ReadUInt16LittleEndian(e[6..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
                if (logical >= blocks || unwritten || length == 0)
                {
                    continue; // beyond the size, or allocated but never written (reads as zeros)
                }

                CheckBlock(physical, inode);
                CheckBlock(physical + length - 1, inode);
                runs.Add((logical, physical, Math.Min(length, blocks - logical)));
            }
            else
            {
                long child = ((long)BinaryPrimitives.ReadUInt16LittleEndian(e[8..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
                CheckBlock(child, inode);
                var block = new byte[BlockSize];
                ReadFs(child * BlockSize, block);
                WalkExtents(block, depth, blocks, runs, inode);
            }
        }
    }

    /// <summary>Inline data: the first 60 bytes in i_block, the rest in the in-inode extended attribute <c>system.data</c>.</summary>
    private static void ReadInline(ExtInode inode, byte[] content)
    {
        int first = (int)Math.Min(InodeBlockBytes, content.Length);
        inode.Raw.AsSpan(InodeBlockOffset, first).CopyTo(content);
        if (content.Length == first)
        {
            return;
        }

        ReadOnlySpan<byte> raw = inode.Raw;
        int extra = raw.Length > InodeExtraIsizeOffset + 2 ? BinaryPrimitives.ReadUInt16LittleEndian(raw[InodeExtraIsizeOffset..]) : 0;
        int header = 128 + extra;
        if (header + 4 > raw.Length || BinaryPrimitives.ReadUInt32LittleEndian(raw[header..]) != XattrMagic)
        {
            throw Corrupt($"inode {inode.Number} has inline data beyond i_block but no system.data attribute.");
        }

        ReadOnlySpan<byte> area = raw[(header + 4)..];
        int at = 0;
        while (at + 16 <= area.Length && BinaryPrimitives.ReadUInt32LittleEndian(area[at..]) != 0)
        {
            int nameLength = area[at];
            int index = area[at + 1];
            int valueOffset = BinaryPrimitives.ReadUInt16LittleEndian(area[(at + 2)..]);
            int valueSize = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(area[(at + 8)..]));
            if (at + 16 + nameLength > area.Length)
            {
                break;
            }

            if (index == XattrIndexSystem && area.Slice(at + 16, nameLength).SequenceEqual("data"u8))
            {
                if (valueOffset + (long)valueSize > area.Length || first + (long)valueSize < content.Length)
                {
                    throw Corrupt($"inode {inode.Number}'s system.data attribute does not hold its {content.Length} bytes.");
                }

                area.Slice(valueOffset, content.Length - first).CopyTo(content.AsSpan(first));
                return;
            }

            at += (16 + nameLength + 3) & ~3;
        }

        throw Corrupt($"inode {inode.Number} has inline data beyond i_block but no system.data attribute.");
    }

    private void CheckBlock(long block, uint inode)
    {
        if (block <= 0 || block >= _g.BlocksCount)
        {
            throw Corrupt($"inode {inode} points at block {block}, outside the file system's {_g.BlocksCount}.");
        }
    }

    private void ReadFs(long offset, Span<byte> buffer) => _reader.ReadAt(_offset + offset, buffer);

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "ext: " + message);
}

/// <summary>An ext2/3/4 inode as read: its number, mode, size, link count, flags and raw bytes.</summary>
public sealed record ExtInode(uint Number, ushort Mode, long Size, ushort Links, uint Flags, byte[] Raw)
{
    public bool IsDirectory => (Mode & 0xF000) == 0x4000;

    public bool IsRegular => (Mode & 0xF000) == 0x8000;

    public bool IsSymlink => (Mode & 0xF000) == 0xA000;
}

/// <summary>A directory entry: a name, its inode, and the type the directory records (1 file, 2 directory, 7 link…).</summary>
public sealed record ExtDirectoryEntry(string Name, uint Inode, byte Type);
