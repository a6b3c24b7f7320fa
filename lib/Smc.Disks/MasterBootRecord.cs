using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>
/// The master boot record in LBA 0 (also the layout of every EBR in an extended partition's chain):
/// 440 bytes of boot code, the 32-bit disk signature at 440, four 16-byte entries at 446 and 0x55AA at 510.
/// </summary>
public sealed class MasterBootRecord
{
    public const int Size = 512;
    public const int BootCodeSize = 440;
    public const int DiskSignatureOffset = 440;
    public const int ReservedOffset = 444;
    public const int PartitionTableOffset = 446;
    public const int PartitionEntryCount = 4;
    public const int BootSignatureOffset = 510;

    /// <summary>The boot signature read as a little-endian 16-bit value (bytes 0x55, 0xAA).</summary>
    public const ushort BootSignature = 0xAA55;

    /// <summary>The boot code (at most <see cref="BootCodeSize"/> bytes; written zero-padded).</summary>
    public byte[] BootCode { get; init; } = new byte[BootCodeSize];

    /// <summary>The disk signature (Windows disk id; Linux PARTUUID prefix).</summary>
    public uint DiskSignature { get; init; }

    /// <summary>The two bytes after the disk signature (0x5A5A marks a copy-protected disk).</summary>
    public ushort Reserved { get; init; }

    /// <summary>Exactly four entries; unused slots are empty entries.</summary>
    public IReadOnlyList<MbrPartitionEntry> Partitions { get; init; } = EmptyEntries();

    /// <summary>True when any entry has type 0xEE, i.e. the disk is partitioned with GPT.</summary>
    public bool IsGptProtective => Partitions.Any(p => p.PartitionType == MbrPartitionEntry.TypeGptProtective);

    /// <summary>True when <paramref name="sector"/> is at least 512 bytes and ends its first 512 with 0x55 0xAA.</summary>
    public static bool HasBootSignature(ReadOnlySpan<byte> sector) =>
        sector.Length >= Size && BinaryPrimitives.ReadUInt16LittleEndian(sector[BootSignatureOffset..]) == BootSignature;

    /// <summary>Parses an MBR or EBR sector.</summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.InvalidMbr"/> when the 0x55AA signature is missing.</exception>
    public static MasterBootRecord ReadFrom(ReadOnlySpan<byte> sector)
    {
        if (sector.Length < Size)
        {
            throw new ArgumentException($"An MBR needs {Size} bytes.", nameof(sector));
        }

        if (!HasBootSignature(sector))
        {
            throw new DiskFormatException(DiskErrorCodes.InvalidMbr, "The sector has no 0x55AA boot signature.");
        }

        var entries = new MbrPartitionEntry[PartitionEntryCount];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = MbrPartitionEntry.ReadFrom(sector.Slice(PartitionTableOffset + (i * MbrPartitionEntry.Size), MbrPartitionEntry.Size));
        }

        return new MasterBootRecord
        {
            BootCode = sector[..BootCodeSize].ToArray(),
            DiskSignature = BinaryPrimitives.ReadUInt32LittleEndian(sector[DiskSignatureOffset..]),
            Reserved = BinaryPrimitives.ReadUInt16LittleEndian(sector[ReservedOffset..]),
            Partitions = entries,
        };
    }

    /// <summary>Writes the 512-byte sector (boot code, signature, entries, 0x55AA) into <paramref name="sector"/>.</summary>
    public void WriteTo(Span<byte> sector)
    {
        if (sector.Length < Size)
        {
            throw new ArgumentException($"An MBR needs {Size} bytes.", nameof(sector));
        }

        if (BootCode.Length > BootCodeSize)
        {
            throw new InvalidOperationException($"The boot code is longer than {BootCodeSize} bytes.");
        }

        if (Partitions.Count > PartitionEntryCount)
        {
            throw new InvalidOperationException($"An MBR holds at most {PartitionEntryCount} entries.");
        }

        sector[..Size].Clear();
        BootCode.CopyTo(sector);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[DiskSignatureOffset..], DiskSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(sector[ReservedOffset..], Reserved);
        for (int i = 0; i < Partitions.Count; i++)
        {
            Partitions[i].WriteTo(sector.Slice(PartitionTableOffset + (i * MbrPartitionEntry.Size), MbrPartitionEntry.Size));
        }

        BinaryPrimitives.WriteUInt16LittleEndian(sector[BootSignatureOffset..], BootSignature);
    }

    private static MbrPartitionEntry[] EmptyEntries()
    {
        var entries = new MbrPartitionEntry[PartitionEntryCount];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = new MbrPartitionEntry();
        }

        return entries;
    }
}
