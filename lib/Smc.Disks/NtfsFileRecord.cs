using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>An MFT file record ("FILE"), with its update sequence (fixup) array applied, and its attributes.</summary>
internal sealed class NtfsFileRecord
{
    /// <summary>Fixups protect the last two bytes of every 512-byte stride, whatever the sector size.</summary>
    public const int FixupStride = 512;

    /// <summary>"FILE" as a little-endian 32-bit value.</summary>
    public const uint MagicValue = 0x454C4946;

    private const int UsaOffsetOffset = 4;
    private const int UsaCountOffset = 6;
    private const int FirstAttributeOffset = 0x14;
    private const int FlagsOffset = 0x16;
    private const int BytesInUseOffset = 0x18;
    private const ushort FlagInUse = 0x0001;

    // Attribute header fields.
    private const int AttrLengthOffset = 4;
    private const int AttrNonResidentOffset = 8;
    private const int AttrNameLengthOffset = 9;
    private const int AttrResidentMinLength = 0x18;
    private const int AttrValueLengthOffset = 0x10;
    private const int AttrValueOffsetOffset = 0x14;
    private const int AttrNonResidentMinLength = 0x40;
    private const int AttrStartVcnOffset = 0x10;
    private const int AttrMappingPairsOffset = 0x20;
    private const int AttrDataSizeOffset = 0x30;

    public required IReadOnlyList<NtfsAttribute> Attributes { get; init; }

    /// <summary>The first unnamed attribute of <paramref name="type"/>, or null.</summary>
    public NtfsAttribute? Find(uint type) => Attributes.FirstOrDefault(a => a.Type == type);

    /// <summary>
    /// Applies the fixups to <paramref name="record"/> (in place) and parses its unnamed attributes.
    /// </summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.CorruptFileSystem"/> for a bad magic, fixup mismatch or malformed attribute.</exception>
    public static NtfsFileRecord ReadFrom(Span<byte> record)
    {
        if (record.Length < FixupStride || record.Length % FixupStride != 0 || BinaryPrimitives.ReadUInt32LittleEndian(record) != MagicValue)
        {
            throw Corrupt("no FILE signature.");
        }

        ApplyFixups(record);
        if ((BinaryPrimitives.ReadUInt16LittleEndian(record[FlagsOffset..]) & FlagInUse) == 0)
        {
            throw Corrupt("the record is not in use.");
        }

        int bytesInUse = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(record[BytesInUseOffset..]), (uint)record.Length);
        int pos = BinaryPrimitives.ReadUInt16LittleEndian(record[FirstAttributeOffset..]);
        var attributes = new List<NtfsAttribute>();
        while (true)
        {
            if (pos < 0 || pos > bytesInUse - 4)
            {
                throw Corrupt("the attribute list runs past the record without an end marker.");
            }

            uint type = BinaryPrimitives.ReadUInt32LittleEndian(record[pos..]);
            if (type == NtfsAttribute.TypeEnd)
            {
                break;
            }

            if (pos > bytesInUse - 16)
            {
                throw Corrupt("an attribute header runs past the record.");
            }

            uint length = BinaryPrimitives.ReadUInt32LittleEndian(record[(pos + AttrLengthOffset)..]);
            if (length < AttrResidentMinLength || length % 8 != 0 || length > (uint)(bytesInUse - pos))
            {
                throw Corrupt($"attribute 0x{type:x} has an invalid length {length}.");
            }

            ReadOnlySpan<byte> attr = record.Slice(pos, (int)length);
            if (attr[AttrNameLengthOffset] == 0)
            {
                attributes.Add(ParseAttribute(type, attr));
            }

            pos += (int)length;
        }

        return new NtfsFileRecord { Attributes = attributes };
    }

    private static void ApplyFixups(Span<byte> record)
    {
        int usaOffset = BinaryPrimitives.ReadUInt16LittleEndian(record[UsaOffsetOffset..]);
        int usaCount = BinaryPrimitives.ReadUInt16LittleEndian(record[UsaCountOffset..]);
        if (usaCount - 1 != record.Length / FixupStride || usaOffset % 2 != 0 || usaOffset + (usaCount * 2) > FixupStride - 2)
        {
            throw Corrupt($"update sequence array (offset {usaOffset}, count {usaCount}) does not fit a {record.Length}-byte record.");
        }

        ushort usn = BinaryPrimitives.ReadUInt16LittleEndian(record[usaOffset..]);
        for (int i = 1; i < usaCount; i++)
        {
            int end = (i * FixupStride) - 2;
            if (BinaryPrimitives.ReadUInt16LittleEndian(record[end..]) != usn)
            {
                throw Corrupt($"update sequence number mismatch in stride {i} (torn write).");
            }

            record.Slice(usaOffset + (i * 2), 2).CopyTo(record[end..]);
        }
    }

    private static NtfsAttribute ParseAttribute(uint type, ReadOnlySpan<byte> attr)
    {
        if (attr[AttrNonResidentOffset] == 0)
        {
            uint valueLength = BinaryPrimitives.ReadUInt32LittleEndian(attr[AttrValueLengthOffset..]);
            int valueOffset = BinaryPrimitives.ReadUInt16LittleEndian(attr[AttrValueOffsetOffset..]);
            if (valueOffset > attr.Length || valueLength > (uint)(attr.Length - valueOffset))
            {
                throw Corrupt($"resident attribute 0x{type:x} has its value outside the attribute.");
            }

            return new NtfsAttribute
            {
                Type = type,
                IsNonResident = false,
                ResidentValue = attr.Slice(valueOffset, (int)valueLength).ToArray(),
                DataSize = valueLength,
            };
        }

        if (attr.Length < AttrNonResidentMinLength)
        {
            throw Corrupt($"non-resident attribute 0x{type:x} is shorter than its header.");
        }

        int pairsOffset = BinaryPrimitives.ReadUInt16LittleEndian(attr[AttrMappingPairsOffset..]);
        long dataSize = BinaryPrimitives.ReadInt64LittleEndian(attr[AttrDataSizeOffset..]);
        long startVcn = BinaryPrimitives.ReadInt64LittleEndian(attr[AttrStartVcnOffset..]);
        if (pairsOffset < AttrNonResidentMinLength || pairsOffset > attr.Length || dataSize < 0 || startVcn < 0)
        {
            throw Corrupt($"non-resident attribute 0x{type:x} has an invalid header.");
        }

        return new NtfsAttribute
        {
            Type = type,
            IsNonResident = true,
            StartVcn = startVcn,
            DataSize = dataSize,
            MappingPairs = attr[pairsOffset..].ToArray(),
        };
    }

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "NTFS file record: " + message);
}
