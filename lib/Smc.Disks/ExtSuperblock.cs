using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>The ext2/ext3/ext4 superblock, 1024 bytes at byte 1024 of the partition.</summary>
internal sealed class ExtSuperblock
{
    public const int Offset = 1024;
    public const int Size = 1024;
    public const ushort MagicValue = 0xEF53;

    public const uint CompatHasJournal = 0x0004;
    public const uint CompatResizeInode = 0x0010;
    public const uint CompatSparseSuper2 = 0x0200;

    public const uint IncompatFileType = 0x0002;
    public const uint IncompatRecover = 0x0004;
    public const uint IncompatJournalDev = 0x0008;
    public const uint IncompatMetaBg = 0x0010;
    public const uint Incompat64Bit = 0x0080;
    public const uint IncompatCsumSeed = 0x2000;

    public const uint RoCompatSparseSuper = 0x0001;
    public const uint RoCompatLargeFile = 0x0002;
    public const uint RoCompatBtreeDir = 0x0004;
    public const uint RoCompatGdtCsum = 0x0010;
    public const uint RoCompatBigalloc = 0x0200;
    public const uint RoCompatMetadataCsum = 0x0400;

    /// <summary><c>s_state</c>: cleanly unmounted (cleared while an unjournalled file system is mounted).</summary>
    public const ushort StateValid = 0x0001;

    /// <summary><c>s_state</c>: errors were detected.</summary>
    public const ushort StateErrors = 0x0002;

    /// <summary>Byte offset of <c>s_checksum</c>, the CRC32C of everything before it (metadata_csum).</summary>
    public const int ChecksumOffset = 0x3FC;

    /// <summary>Incompatible features ext3 (the kernel's ext3 driver) understands; any other makes the volume ext4.</summary>
    public const uint Ext3Incompat = IncompatFileType | IncompatRecover | IncompatMetaBg;

    /// <summary>Read-only-compatible features ext3 understands; any other makes the volume ext4.</summary>
    public const uint Ext3RoCompat = RoCompatSparseSuper | RoCompatLargeFile | RoCompatBtreeDir;

    private const int BlocksCountLoOffset = 4;
    private const int FreeBlocksCountLoOffset = 12;
    private const int FirstDataBlockOffset = 20;
    private const int LogBlockSizeOffset = 24;
    private const int BlocksPerGroupOffset = 32;
    private const int InodesPerGroupOffset = 40;
    private const int MagicOffset = 56;
    private const int StateOffset = 58;
    private const int RevLevelOffset = 76;
    private const int InodeSizeOffset = 88;
    private const int FeatureCompatOffset = 92;
    private const int FeatureIncompatOffset = 96;
    private const int FeatureRoCompatOffset = 100;
    private const int UuidOffset = 104;
    private const int VolumeNameOffset = 120;
    private const int VolumeNameSize = 16;
    private const int ReservedGdtBlocksOffset = 0xCE;
    private const int DescSizeOffset = 0xFE;
    private const int FirstMetaBgOffset = 0x104;
    private const int BackupBgsOffset = 0x24C;
    private const int ChecksumSeedOffset = 0x270;
    private const int GoodOldInodeSize = 128;
    private const int BlocksCountHiOffset = 0x150;
    private const int FreeBlocksCountHiOffset = 0x158;
    private const int MaxLogBlockSize = 6; // 64 KiB blocks

    public required ulong BlocksCount { get; init; }

    public required ulong FreeBlocksCount { get; init; }

    public required int BlockSize { get; init; }

    public uint FeatureCompat { get; init; }

    public uint FeatureIncompat { get; init; }

    public uint FeatureRoCompat { get; init; }

    public string? Uuid { get; init; }

    public string? Label { get; init; }

    /// <summary><c>s_first_data_block</c>: 1 for 1 KiB blocks (block 0 is the boot block), else 0.</summary>
    public uint FirstDataBlock { get; init; }

    public uint BlocksPerGroup { get; init; }

    public uint InodesPerGroup { get; init; }

    /// <summary><c>s_inode_size</c> (128 for revision 0).</summary>
    public int InodeSize { get; init; } = GoodOldInodeSize;

    public ushort State { get; init; }

    /// <summary><c>s_reserved_gdt_blocks</c>: GDT blocks reserved for online growth after each descriptor table copy.</summary>
    public int ReservedGdtBlocks { get; init; }

    /// <summary><c>s_desc_size</c> as stored (only meaningful with the 64bit feature).</summary>
    public int RawDescSize { get; init; }

    public uint FirstMetaBg { get; init; }

    /// <summary><c>s_backup_bgs</c>: the two groups holding superblock backups with sparse_super2.</summary>
    public (uint First, uint Second) BackupGroups { get; init; }

    /// <summary><c>s_checksum_seed</c> (used instead of the UUID's CRC with the csum_seed feature).</summary>
    public uint ChecksumSeed { get; init; }

    /// <summary>The raw 16-byte UUID (checksums are seeded with it).</summary>
    public byte[] UuidBytes { get; init; } = new byte[16];

    /// <summary>ext4 when any feature beyond ext3's set is on (extents, 64bit, flex_bg, metadata_csum, …), ext3 with a journal, else ext2.</summary>
    public string FileSystemType =>
        (FeatureIncompat & ~Ext3Incompat) != 0 || (FeatureRoCompat & ~Ext3RoCompat) != 0 ? "ext4"
        : (FeatureCompat & CompatHasJournal) != 0 ? "ext3"
        : "ext2";

    public bool HasCompat(uint feature) => (FeatureCompat & feature) != 0;

    public bool HasIncompat(uint feature) => (FeatureIncompat & feature) != 0;

    public bool HasRoCompat(uint feature) => (FeatureRoCompat & feature) != 0;

    /// <summary>(blocks − free blocks) × block size.</summary>
    public long UsedBytes => (long)(BlocksCount - FreeBlocksCount) * BlockSize;

    /// <summary>Parses the 1024-byte superblock; null without the 0xEF53 magic or for an external journal device.</summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.CorruptFileSystem"/> for impossible field values.</exception>
    public static ExtSuperblock? ReadFrom(ReadOnlySpan<byte> sb)
    {
        if (sb.Length < Size || BinaryPrimitives.ReadUInt16LittleEndian(sb[MagicOffset..]) != MagicValue)
        {
            return null;
        }

        uint incompat = BinaryPrimitives.ReadUInt32LittleEndian(sb[FeatureIncompatOffset..]);
        if ((incompat & IncompatJournalDev) != 0)
        {
            return null; // An external journal, not a mountable file system.
        }

        uint logBlockSize = BinaryPrimitives.ReadUInt32LittleEndian(sb[LogBlockSizeOffset..]);
        if (logBlockSize > MaxLogBlockSize)
        {
            throw Corrupt($"s_log_block_size {logBlockSize} is too large.");
        }

        int blockSize = 1024 << (int)logBlockSize;
        ulong blocks = BinaryPrimitives.ReadUInt32LittleEndian(sb[BlocksCountLoOffset..]);
        ulong free = BinaryPrimitives.ReadUInt32LittleEndian(sb[FreeBlocksCountLoOffset..]);
        if ((incompat & Incompat64Bit) != 0)
        {
            blocks |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(sb[BlocksCountHiOffset..]) << 32;
            free |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(sb[FreeBlocksCountHiOffset..]) << 32;
        }

        if (blocks == 0 || free > blocks || blocks > (ulong)(long.MaxValue / blockSize))
        {
            throw Corrupt($"{blocks} blocks with {free} free is impossible.");
        }

        return new ExtSuperblock
        {
            BlocksCount = blocks,
            FreeBlocksCount = free,
            BlockSize = blockSize,
            FeatureCompat = BinaryPrimitives.ReadUInt32LittleEndian(sb[FeatureCompatOffset..]),
            FeatureIncompat = incompat,
            FeatureRoCompat = BinaryPrimitives.ReadUInt32LittleEndian(sb[FeatureRoCompatOffset..]),
            Uuid = IdFormat.Uuid(sb.Slice(UuidOffset, 16)),
            Label = IdFormat.CString(sb.Slice(VolumeNameOffset, VolumeNameSize)),
            FirstDataBlock = BinaryPrimitives.ReadUInt32LittleEndian(sb[FirstDataBlockOffset..]),
            BlocksPerGroup = BinaryPrimitives.ReadUInt32LittleEndian(sb[BlocksPerGroupOffset..]),
            InodesPerGroup = BinaryPrimitives.ReadUInt32LittleEndian(sb[InodesPerGroupOffset..]),
            InodeSize = BinaryPrimitives.ReadUInt32LittleEndian(sb[RevLevelOffset..]) == 0
                ? GoodOldInodeSize
                : BinaryPrimitives.ReadUInt16LittleEndian(sb[InodeSizeOffset..]),
            State = BinaryPrimitives.ReadUInt16LittleEndian(sb[StateOffset..]),
            ReservedGdtBlocks = BinaryPrimitives.ReadUInt16LittleEndian(sb[ReservedGdtBlocksOffset..]),
            RawDescSize = BinaryPrimitives.ReadUInt16LittleEndian(sb[DescSizeOffset..]),
            FirstMetaBg = BinaryPrimitives.ReadUInt32LittleEndian(sb[FirstMetaBgOffset..]),
            BackupGroups = (BinaryPrimitives.ReadUInt32LittleEndian(sb[BackupBgsOffset..]), BinaryPrimitives.ReadUInt32LittleEndian(sb[(BackupBgsOffset + 4)..])),
            ChecksumSeed = BinaryPrimitives.ReadUInt32LittleEndian(sb[ChecksumSeedOffset..]),
            UuidBytes = sb.Slice(UuidOffset, 16).ToArray(),
        };
    }

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "ext superblock: " + message);
}
