using System.Buffers.Binary;
using System.Text;

namespace Smc.Disks;

/// <summary>One entry of the GPT partition entry array (UEFI 2.x, 5.3.3).</summary>
public sealed class GptPartitionEntry
{
    /// <summary>The entry size every common tool writes; the header may declare a larger one.</summary>
    public const int DefaultSize = 128;

    /// <summary>Bytes this type reads and writes (the rest of a larger entry is reserved).</summary>
    public const int UsedSize = 128;

    /// <summary>Maximum name length in UTF-16 code units.</summary>
    public const int MaxNameLength = 36;

    public const int TypeGuidOffset = 0;
    public const int UniqueGuidOffset = 16;
    public const int FirstLbaOffset = 32;
    public const int LastLbaOffset = 40;
    public const int AttributesOffset = 48;
    public const int NameOffset = 56;
    public const int NameSize = MaxNameLength * 2;

    /// <summary>Attribute bit 0: required by the platform.</summary>
    public const ulong RequiredPartitionAttribute = 1UL << 0;

    /// <summary>Attribute bit 1: no block I/O protocol.</summary>
    public const ulong NoBlockIoProtocolAttribute = 1UL << 1;

    /// <summary>Attribute bit 2: legacy BIOS bootable.</summary>
    public const ulong LegacyBiosBootableAttribute = 1UL << 2;

    /// <summary>Partition type; <see cref="Guid.Empty"/> marks an unused entry.</summary>
    public Guid TypeGuid { get; init; }

    public Guid UniqueGuid { get; init; }

    public ulong FirstLba { get; init; }

    /// <summary>Last LBA, inclusive.</summary>
    public ulong LastLba { get; init; }

    public ulong Attributes { get; init; }

    /// <summary>The UTF-16LE name up to the first NUL.</summary>
    public string Name { get; init; } = "";

    public bool IsUsed => TypeGuid != Guid.Empty;

    public bool IsLegacyBiosBootable => (Attributes & LegacyBiosBootableAttribute) != 0;

    public static GptPartitionEntry ReadFrom(ReadOnlySpan<byte> entry)
    {
        if (entry.Length < UsedSize)
        {
            throw new ArgumentException($"A GPT partition entry needs {UsedSize} bytes.", nameof(entry));
        }

        ReadOnlySpan<byte> nameBytes = entry.Slice(NameOffset, NameSize);
        int length = 0;
        while (length < MaxNameLength && BinaryPrimitives.ReadUInt16LittleEndian(nameBytes[(length * 2)..]) != 0)
        {
            length++;
        }

        return new GptPartitionEntry
        {
            TypeGuid = new Guid(entry.Slice(TypeGuidOffset, 16)),
            UniqueGuid = new Guid(entry.Slice(UniqueGuidOffset, 16)),
            FirstLba = BinaryPrimitives.ReadUInt64LittleEndian(entry[FirstLbaOffset..]),
            LastLba = BinaryPrimitives.ReadUInt64LittleEndian(entry[LastLbaOffset..]),
            Attributes = BinaryPrimitives.ReadUInt64LittleEndian(entry[AttributesOffset..]),
            Name = Encoding.Unicode.GetString(nameBytes[..(length * 2)]),
        };
    }

    /// <summary>Writes the entry into <paramref name="entry"/>, clearing the whole span first (pass one entry-size slot).</summary>
    public void WriteTo(Span<byte> entry)
    {
        if (entry.Length < UsedSize)
        {
            throw new ArgumentException($"A GPT partition entry needs {UsedSize} bytes.", nameof(entry));
        }

        if (Name.Length > MaxNameLength)
        {
            throw new InvalidOperationException($"A GPT partition name holds at most {MaxNameLength} UTF-16 code units.");
        }

        entry.Clear();
        TypeGuid.TryWriteBytes(entry.Slice(TypeGuidOffset, 16));
        UniqueGuid.TryWriteBytes(entry.Slice(UniqueGuidOffset, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(entry[FirstLbaOffset..], FirstLba);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[LastLbaOffset..], LastLba);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[AttributesOffset..], Attributes);
        Encoding.Unicode.GetBytes(Name, entry.Slice(NameOffset, NameSize));
    }
}
