using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>The ext2/ext3/ext4 superblock, 1024 bytes at byte 1024 of the partition.</summary>
internal sealed class ExtSuperblock
{
    public const int Offset = 1024;
    public const int Size = 1024;
    public const ushort MagicValue = 0xEF53;

    public const uint CompatHasJournal = 0x0004;

    public const uint IncompatFileType = 0x0002;
    public const uint IncompatRecover = 0x0004;
    public const uint IncompatJournalDev = 0x0008;
    public const uint IncompatMetaBg = 0x0010;
    public const uint Incompat64Bit = 0x0080;

    public const uint RoCompatSparseSuper = 0x0001;
    public const uint RoCompatLargeFile = 0x0002;
    public const uint RoCompatBtreeDir = 0x0004;

    /// <summary>Incompatible features ext3 (the kernel's ext3 driver) understands; any other makes the volume ext4.</summary>
    public const uint Ext3Incompat = IncompatFileType | IncompatRecover | IncompatMetaBg;

    /// <summary>Read-only-compatible features ext3 understands; any other makes the volume ext4.</summary>
    public const uint Ext3RoCompat = RoCompatSparseSuper | RoCompatLargeFile | RoCompatBtreeDir;

    private const int BlocksCountLoOffset = 4;
    private const int FreeBlocksCountLoOffset = 12;
    private const int LogBlockSizeOffset = 24;
    private const int MagicOffset = 56;
    private const int FeatureCompatOffset = 92;
    private const int FeatureIncompatOffset = 96;
    private const int FeatureRoCompatOffset = 100;
    private const int UuidOffset = 104;
    private const int VolumeNameOffset = 120;
    private const int VolumeNameSize = 16;
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

    /// <summary>ext4 when any feature beyond ext3's set is on (extents, 64bit, flex_bg, metadata_csum, …), ext3 with a journal, else ext2.</summary>
    public string FileSystemType =>
        (FeatureIncompat & ~Ext3Incompat) != 0 || (FeatureRoCompat & ~Ext3RoCompat) != 0 ? "ext4"
        : (FeatureCompat & CompatHasJournal) != 0 ? "ext3"
        : "ext2";

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
        };
    }

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "ext superblock: " + message);
}
