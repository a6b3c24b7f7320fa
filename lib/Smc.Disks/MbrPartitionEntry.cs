using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>One 16-byte partition entry of an MBR or EBR.</summary>
public sealed class MbrPartitionEntry
{
    /// <summary>Size of an entry on disk.</summary>
    public const int Size = 16;

    /// <summary>Status byte of the active (bootable) partition.</summary>
    public const byte ActiveStatus = 0x80;

    /// <summary>Status byte of an inactive partition.</summary>
    public const byte InactiveStatus = 0x00;

    public const byte TypeEmpty = 0x00;
    public const byte TypeExtendedChs = 0x05;
    public const byte TypeExtendedLba = 0x0F;
    public const byte TypeLinuxExtended = 0x85;
    public const byte TypeGptProtective = 0xEE;

    /// <summary>The packed CHS value written for addresses beyond cylinder 1023 (C/H/S = 1023/254/63).</summary>
    public const int ChsOverflow = 0xFFFFFE;

    private const int StatusOffset = 0;
    private const int FirstChsOffset = 1;
    private const int TypeOffset = 4;
    private const int LastChsOffset = 5;
    private const int FirstLbaOffset = 8;
    private const int SectorCountOffset = 12;
    private const int Heads = 255;
    private const int SectorsPerTrack = 63;
    private const int MaxCylinder = 1023;

    /// <summary>0x80 active, 0x00 inactive; anything else is invalid.</summary>
    public byte Status { get; init; }

    /// <summary>The 3 CHS bytes of the first sector, packed little-endian (head, sector | cylinder high bits, cylinder low bits).</summary>
    public int FirstChs { get; init; }

    public byte PartitionType { get; init; }

    /// <summary>The 3 CHS bytes of the last sector, packed like <see cref="FirstChs"/>.</summary>
    public int LastChs { get; init; }

    /// <summary>First sector; relative to the disk (MBR), the extended partition (EBR link) or the EBR (logical partition).</summary>
    public uint FirstLba { get; init; }

    public uint SectorCount { get; init; }

    public bool IsActive => Status == ActiveStatus;

    /// <summary>True for an unused slot (type 0 or no sectors).</summary>
    public bool IsEmpty => PartitionType == TypeEmpty || SectorCount == 0;

    public bool IsExtended => IsExtendedType(PartitionType);

    /// <summary>True for 0x05, 0x0F and 0x85, the container types whose EBR chain holds logical partitions.</summary>
    public static bool IsExtendedType(byte partitionType) =>
        partitionType is TypeExtendedChs or TypeExtendedLba or TypeLinuxExtended;

    /// <summary>A new entry with CHS values computed from the LBAs (255 heads, 63 sectors per track).</summary>
    public static MbrPartitionEntry Create(byte partitionType, uint firstLba, uint sectorCount, bool active = false)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sectorCount);
        return new MbrPartitionEntry
        {
            Status = active ? ActiveStatus : InactiveStatus,
            PartitionType = partitionType,
            FirstLba = firstLba,
            SectorCount = sectorCount,
            FirstChs = LbaToChs(firstLba),
            LastChs = LbaToChs((long)firstLba + sectorCount - 1),
        };
    }

    /// <summary>Packs an LBA as the 3 on-disk CHS bytes for a 255-head, 63-sector geometry, saturating at <see cref="ChsOverflow"/>.</summary>
    public static int LbaToChs(long lba)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lba);
        long cylinder = lba / (Heads * SectorsPerTrack);
        if (cylinder > MaxCylinder)
        {
            return ChsOverflow;
        }

        int head = (int)(lba / SectorsPerTrack % Heads);
        int sector = (int)(lba % SectorsPerTrack) + 1;
        int c = (int)cylinder;
        return head | ((sector | ((c >> 8) << 6)) << 8) | ((c & 0xFF) << 16);
    }

    /// <summary>Parses the first <see cref="Size"/> bytes of <paramref name="data"/>. Any bit pattern is accepted; validation is the reader's job.</summary>
    public static MbrPartitionEntry ReadFrom(ReadOnlySpan<byte> data)
    {
        if (data.Length < Size)
        {
            throw new ArgumentException($"An MBR partition entry needs {Size} bytes.", nameof(data));
        }

        return new MbrPartitionEntry
        {
            Status = data[StatusOffset],
            FirstChs = Read24(data[FirstChsOffset..]),
            PartitionType = data[TypeOffset],
            LastChs = Read24(data[LastChsOffset..]),
            FirstLba = BinaryPrimitives.ReadUInt32LittleEndian(data[FirstLbaOffset..]),
            SectorCount = BinaryPrimitives.ReadUInt32LittleEndian(data[SectorCountOffset..]),
        };
    }

    /// <summary>Writes the entry into the first <see cref="Size"/> bytes of <paramref name="data"/>.</summary>
    public void WriteTo(Span<byte> data)
    {
        if (data.Length < Size)
        {
            throw new ArgumentException($"An MBR partition entry needs {Size} bytes.", nameof(data));
        }

        data[StatusOffset] = Status;
        Write24(data[FirstChsOffset..], FirstChs);
        data[TypeOffset] = PartitionType;
        Write24(data[LastChsOffset..], LastChs);
        BinaryPrimitives.WriteUInt32LittleEndian(data[FirstLbaOffset..], FirstLba);
        BinaryPrimitives.WriteUInt32LittleEndian(data[SectorCountOffset..], SectorCount);
    }

    private static int Read24(ReadOnlySpan<byte> data) => data[0] | (data[1] << 8) | (data[2] << 16);

    private static void Write24(Span<byte> data, int value)
    {
        data[0] = (byte)value;
        data[1] = (byte)(value >> 8);
        data[2] = (byte)(value >> 16);
    }
}
