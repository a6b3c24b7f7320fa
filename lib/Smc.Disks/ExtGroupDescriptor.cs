using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>
/// One ext2/3/4 block group descriptor: 32 bytes, or <c>s_desc_size</c> (≥ 64) bytes with the 64bit feature, whose
/// second half holds the high 32 bits of the block numbers.
/// </summary>
internal readonly record struct ExtGroupDescriptor(
    ulong BlockBitmap,
    ulong InodeBitmap,
    ulong InodeTable,
    ushort Flags,
    uint BlockBitmapChecksum,
    ushort Checksum)
{
    /// <summary>Descriptor size without the 64bit feature.</summary>
    public const int Size32 = 32;

    /// <summary>Smallest descriptor size with the 64bit feature.</summary>
    public const int MinSize64 = 64;

    /// <summary>Largest descriptor size (<c>EXT2_MAX_DESC_SIZE</c>).</summary>
    public const int MaxSize = 1024;

    /// <summary><c>bg_flags</c>: the inode bitmap and table are not initialised.</summary>
    public const ushort FlagInodeUninit = 0x0001;

    /// <summary><c>bg_flags</c>: the block bitmap is not initialised; the kernel computes it from the group's metadata.</summary>
    public const ushort FlagBlockUninit = 0x0002;

    /// <summary>Offset of <c>bg_checksum</c>.</summary>
    public const int ChecksumOffset = 0x1E;

    /// <summary>Descriptors at least this large carry <c>bg_block_bitmap_csum_hi</c>.</summary>
    public const int BlockBitmapChecksumHiEnd = 0x3C;

    private const int BlockBitmapLoOffset = 0x00;
    private const int InodeBitmapLoOffset = 0x04;
    private const int InodeTableLoOffset = 0x08;
    private const int FlagsOffset = 0x12;
    private const int BlockBitmapChecksumLoOffset = 0x18;
    private const int BlockBitmapHiOffset = 0x20;
    private const int InodeBitmapHiOffset = 0x24;
    private const int InodeTableHiOffset = 0x28;
    private const int BlockBitmapChecksumHiOffset = 0x38;

    public bool IsBlockUninit => (Flags & FlagBlockUninit) != 0;

    /// <summary>Parses a descriptor of <paramref name="desc"/>.Length bytes (32, or ≥ 64 with the 64bit feature).</summary>
    public static ExtGroupDescriptor ReadFrom(ReadOnlySpan<byte> desc)
    {
        bool wide = desc.Length >= MinSize64;
        ulong blockBitmap = BinaryPrimitives.ReadUInt32LittleEndian(desc[BlockBitmapLoOffset..]);
        ulong inodeBitmap = BinaryPrimitives.ReadUInt32LittleEndian(desc[InodeBitmapLoOffset..]);
        ulong inodeTable = BinaryPrimitives.ReadUInt32LittleEndian(desc[InodeTableLoOffset..]);
        uint bitmapChecksum = BinaryPrimitives.ReadUInt16LittleEndian(desc[BlockBitmapChecksumLoOffset..]);
        if (wide)
        {
            blockBitmap |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(desc[BlockBitmapHiOffset..]) << 32;
            inodeBitmap |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(desc[InodeBitmapHiOffset..]) << 32;
            inodeTable |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(desc[InodeTableHiOffset..]) << 32;
        }

        if (desc.Length >= BlockBitmapChecksumHiEnd)
        {
            bitmapChecksum |= (uint)BinaryPrimitives.ReadUInt16LittleEndian(desc[BlockBitmapChecksumHiOffset..]) << 16;
        }

        return new ExtGroupDescriptor(
            blockBitmap,
            inodeBitmap,
            inodeTable,
            BinaryPrimitives.ReadUInt16LittleEndian(desc[FlagsOffset..]),
            bitmapChecksum,
            BinaryPrimitives.ReadUInt16LittleEndian(desc[ChecksumOffset..]));
    }
}
