using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>The XFS primary superblock at byte 0 of the partition (big-endian).</summary>
internal sealed class XfsSuperblock
{
    /// <summary>"XFSB" as a big-endian 32-bit value.</summary>
    public const uint MagicValue = 0x58465342;

    public const int Size = 512;

    private const int BlockSizeOffset = 4;
    private const int DataBlocksOffset = 8;
    private const int UuidOffset = 32;
    private const int SectorSizeOffset = 102;
    private const int NameOffset = 108;
    private const int NameSize = 12;
    private const int FreeDataBlocksOffset = 144;

    public required uint BlockSize { get; init; }

    public required ulong DataBlocks { get; init; }

    public required ulong FreeDataBlocks { get; init; }

    public string? Uuid { get; init; }

    public string? Label { get; init; }

    /// <summary>(sb_dblocks − sb_fdblocks) × sb_blocksize; the internal log counts as used.</summary>
    public long UsedBytes => (long)(DataBlocks - FreeDataBlocks) * BlockSize;

    /// <summary>Parses the superblock; null without the "XFSB" magic.</summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.CorruptFileSystem"/> for impossible field values.</exception>
    public static XfsSuperblock? ReadFrom(ReadOnlySpan<byte> sb)
    {
        if (sb.Length < Size || BinaryPrimitives.ReadUInt32BigEndian(sb) != MagicValue)
        {
            return null;
        }

        uint blockSize = BinaryPrimitives.ReadUInt32BigEndian(sb[BlockSizeOffset..]);
        ushort sectorSize = BinaryPrimitives.ReadUInt16BigEndian(sb[SectorSizeOffset..]);
        ulong blocks = BinaryPrimitives.ReadUInt64BigEndian(sb[DataBlocksOffset..]);
        ulong free = BinaryPrimitives.ReadUInt64BigEndian(sb[FreeDataBlocksOffset..]);
        if (blockSize is < 512 or > 65536 || (blockSize & (blockSize - 1)) != 0
            || sectorSize is < 512 or > 32768 || (sectorSize & (sectorSize - 1)) != 0)
        {
            throw Corrupt($"block size {blockSize} or sector size {sectorSize} is invalid.");
        }

        if (blocks == 0 || free > blocks || blocks > (ulong)(long.MaxValue / blockSize))
        {
            throw Corrupt($"{blocks} blocks with {free} free is impossible.");
        }

        return new XfsSuperblock
        {
            BlockSize = blockSize,
            DataBlocks = blocks,
            FreeDataBlocks = free,
            Uuid = IdFormat.Uuid(sb.Slice(UuidOffset, 16)),
            Label = IdFormat.CString(sb.Slice(NameOffset, NameSize)),
        };
    }

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "XFS superblock: " + message);
}
