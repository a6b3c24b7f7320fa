using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>
/// A GPT header (UEFI 2.x, 5.3.2): the primary one in LBA 1, the backup one in the disk's last LBA.
/// All multi-byte fields are little-endian; GUIDs use the mixed-endian UEFI layout that <see cref="Guid"/> reads natively.
/// </summary>
public sealed class GptHeader
{
    /// <summary>"EFI PART" read as a little-endian 64-bit value.</summary>
    public const ulong SignatureValue = 0x5452415020494645UL;

    /// <summary>Revision 1.0.</summary>
    public const uint Revision10 = 0x00010000;

    /// <summary>Size of the header fields defined by the specification.</summary>
    public const int MinHeaderSize = 92;

    public const int SignatureOffset = 0;
    public const int RevisionOffset = 8;
    public const int HeaderSizeOffset = 12;
    public const int HeaderCrcOffset = 16;
    public const int MyLbaOffset = 24;
    public const int AlternateLbaOffset = 32;
    public const int FirstUsableLbaOffset = 40;
    public const int LastUsableLbaOffset = 48;
    public const int DiskGuidOffset = 56;
    public const int PartitionEntryLbaOffset = 72;
    public const int PartitionEntryCountOffset = 80;
    public const int PartitionEntrySizeOffset = 84;
    public const int PartitionEntryArrayCrcOffset = 88;

    public uint Revision { get; init; } = Revision10;

    /// <summary>Bytes covered by <see cref="HeaderCrc32"/>: at least <see cref="MinHeaderSize"/>, at most one sector.</summary>
    public uint HeaderSize { get; init; } = MinHeaderSize;

    /// <summary>The CRC32 stored on disk (verified by <see cref="ReadFrom"/>; recomputed by <see cref="WriteTo"/>).</summary>
    public uint HeaderCrc32 { get; init; }

    /// <summary>The LBA that holds this header.</summary>
    public ulong MyLba { get; init; }

    /// <summary>The LBA of the other header (primary ↔ backup).</summary>
    public ulong AlternateLba { get; init; }

    public ulong FirstUsableLba { get; init; }

    public ulong LastUsableLba { get; init; }

    public Guid DiskGuid { get; init; }

    /// <summary>First LBA of this header's partition entry array.</summary>
    public ulong PartitionEntryLba { get; init; }

    public uint PartitionEntryCount { get; init; } = 128;

    public uint PartitionEntrySize { get; init; } = GptPartitionEntry.DefaultSize;

    /// <summary>CRC32 of the entry array (<see cref="PartitionEntryCount"/> × <see cref="PartitionEntrySize"/> bytes).</summary>
    public uint PartitionEntryArrayCrc32 { get; init; }

    /// <summary>Parses and verifies a header sector: signature, header size and header CRC32.</summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.InvalidGpt"/> when any of these is wrong.</exception>
    public static GptHeader ReadFrom(ReadOnlySpan<byte> sector)
    {
        if (sector.Length < MinHeaderSize)
        {
            throw new ArgumentException($"A GPT header needs at least {MinHeaderSize} bytes.", nameof(sector));
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(sector[SignatureOffset..]) != SignatureValue)
        {
            throw new DiskFormatException(DiskErrorCodes.InvalidGpt, "The GPT header has no \"EFI PART\" signature.");
        }

        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(sector[HeaderSizeOffset..]);
        if (headerSize < MinHeaderSize || headerSize > sector.Length)
        {
            throw new DiskFormatException(DiskErrorCodes.InvalidGpt, $"The GPT header size {headerSize} is outside {MinHeaderSize}..{sector.Length}.");
        }

        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(sector[HeaderCrcOffset..]);
        uint actualCrc = ComputeHeaderCrc32(sector[..(int)headerSize]);
        if (storedCrc != actualCrc)
        {
            throw new DiskFormatException(DiskErrorCodes.InvalidGpt, $"The GPT header CRC32 is 0x{storedCrc:x8} but the header hashes to 0x{actualCrc:x8}.");
        }

        return new GptHeader
        {
            Revision = BinaryPrimitives.ReadUInt32LittleEndian(sector[RevisionOffset..]),
            HeaderSize = headerSize,
            HeaderCrc32 = storedCrc,
            MyLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[MyLbaOffset..]),
            AlternateLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[AlternateLbaOffset..]),
            FirstUsableLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[FirstUsableLbaOffset..]),
            LastUsableLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[LastUsableLbaOffset..]),
            DiskGuid = new Guid(sector.Slice(DiskGuidOffset, 16)),
            PartitionEntryLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[PartitionEntryLbaOffset..]),
            PartitionEntryCount = BinaryPrimitives.ReadUInt32LittleEndian(sector[PartitionEntryCountOffset..]),
            PartitionEntrySize = BinaryPrimitives.ReadUInt32LittleEndian(sector[PartitionEntrySizeOffset..]),
            PartitionEntryArrayCrc32 = BinaryPrimitives.ReadUInt32LittleEndian(sector[PartitionEntryArrayCrcOffset..]),
        };
    }

    /// <summary>CRC32 of a partition entry array, for <see cref="PartitionEntryArrayCrc32"/>.</summary>
    public static uint ComputeEntryArrayCrc32(ReadOnlySpan<byte> entries) => Crc32.Compute(entries);

    /// <summary>
    /// Writes the header into <paramref name="sector"/> (which is cleared first; pass one whole sector) with a freshly
    /// computed <see cref="HeaderCrc32"/>. <see cref="PartitionEntryArrayCrc32"/> is written as set.
    /// </summary>
    public void WriteTo(Span<byte> sector)
    {
        if (HeaderSize < MinHeaderSize || HeaderSize > sector.Length)
        {
            throw new ArgumentException($"The header size {HeaderSize} does not fit in {sector.Length} bytes.", nameof(sector));
        }

        sector.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(sector[SignatureOffset..], SignatureValue);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[RevisionOffset..], Revision);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[HeaderSizeOffset..], HeaderSize);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[MyLbaOffset..], MyLba);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[AlternateLbaOffset..], AlternateLba);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[FirstUsableLbaOffset..], FirstUsableLba);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[LastUsableLbaOffset..], LastUsableLba);
        DiskGuid.TryWriteBytes(sector.Slice(DiskGuidOffset, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(sector[PartitionEntryLbaOffset..], PartitionEntryLba);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[PartitionEntryCountOffset..], PartitionEntryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[PartitionEntrySizeOffset..], PartitionEntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[PartitionEntryArrayCrcOffset..], PartitionEntryArrayCrc32);
        uint crc = ComputeHeaderCrc32(sector[..(int)HeaderSize]);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[HeaderCrcOffset..], crc);
    }

    /// <summary>The matching backup header: <see cref="MyLba"/> and <see cref="AlternateLba"/> swapped, entries at <paramref name="backupEntriesLba"/>.</summary>
    public GptHeader ToBackup(ulong backupEntriesLba) => new()
    {
        Revision = Revision,
        HeaderSize = HeaderSize,
        MyLba = AlternateLba,
        AlternateLba = MyLba,
        FirstUsableLba = FirstUsableLba,
        LastUsableLba = LastUsableLba,
        DiskGuid = DiskGuid,
        PartitionEntryLba = backupEntriesLba,
        PartitionEntryCount = PartitionEntryCount,
        PartitionEntrySize = PartitionEntrySize,
        PartitionEntryArrayCrc32 = PartitionEntryArrayCrc32,
    };

    /// <summary>CRC32 of the header bytes with the CRC field taken as zero.</summary>
    private static uint ComputeHeaderCrc32(ReadOnlySpan<byte> header)
    {
        Span<byte> zero = stackalloc byte[4];
        zero.Clear();
        uint crc = Crc32.Update(0xFFFFFFFFu, header[..HeaderCrcOffset]);
        crc = Crc32.Update(crc, zero);
        crc = Crc32.Update(crc, header[(HeaderCrcOffset + 4)..]);
        return ~crc;
    }
}
