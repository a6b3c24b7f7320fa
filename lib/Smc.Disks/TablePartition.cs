namespace Smc.Disks;

/// <summary>One partition as the partition table describes it (no file system information).</summary>
public sealed class TablePartition
{
    /// <summary>MBR: 1–4 primary, 5+ logical in EBR chain order. GPT: entry index + 1.</summary>
    public required int Number { get; init; }

    /// <summary>First sector in units of <see cref="DiskReader.SectorSize"/>.</summary>
    public required long FirstLba { get; init; }

    public required long SectorCount { get; init; }

    public required long StartBytes { get; init; }

    public required long SizeBytes { get; init; }

    /// <summary>GPT type GUID in lower case, or the MBR type byte as two lower-case hex digits.</summary>
    public required string TypeId { get; init; }

    /// <summary>MBR active flag, or the GPT legacy-BIOS-bootable attribute.</summary>
    public bool Bootable { get; init; }

    /// <summary>True for an MBR extended partition (0x05, 0x0F, 0x85): a container, not data.</summary>
    public bool IsExtendedContainer { get; init; }

    /// <summary>GPT partition name (null for MBR or an empty name).</summary>
    public string? Name { get; init; }

    /// <summary>The raw MBR or EBR entry (its LBA is relative for logical partitions), when MBR.</summary>
    public MbrPartitionEntry? MbrEntry { get; init; }

    /// <summary>The raw GPT entry, when GPT.</summary>
    public GptPartitionEntry? GptEntry { get; init; }
}
