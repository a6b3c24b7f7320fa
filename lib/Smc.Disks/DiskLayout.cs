namespace Smc.Disks;

/// <summary>What the partition table of a disk says, as read and validated by <see cref="DiskInspector.ReadLayout"/>.</summary>
public sealed class DiskLayout
{
    public required PartitionTableKind Kind { get; init; }

    /// <summary><c>gpt</c>, <c>mbr</c> or <c>none</c>, as in <c>DiskInfo.PartitionTable</c>.</summary>
    public string KindName => Kind switch
    {
        PartitionTableKind.Gpt => "gpt",
        PartitionTableKind.Mbr => "mbr",
        _ => "none",
    };

    /// <summary>The MBR in LBA 0 (the protective MBR for GPT); null when there is none.</summary>
    public MasterBootRecord? Mbr { get; init; }

    /// <summary>The GPT header in use (primary, or backup when <see cref="GptBackupHeaderUsed"/>).</summary>
    public GptHeader? GptHeader { get; init; }

    /// <summary>True when the primary GPT header or its entry array was invalid and the backup at the last LBA was used.</summary>
    public bool GptBackupHeaderUsed { get; init; }

    /// <summary>Partitions in table order (MBR primaries, then logicals; GPT by entry index).</summary>
    public IReadOnlyList<TablePartition> Partitions { get; init; } = [];

    /// <summary>Problems that did not prevent reading the table, e.g. why the primary GPT header was rejected.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>GPT disk GUID in lower case, or the MBR disk signature as 8 lower-case hex digits; null for none.</summary>
    public string? DiskId => Kind switch
    {
        PartitionTableKind.Gpt => GptHeader?.DiskGuid.ToString("D"),
        PartitionTableKind.Mbr => Mbr?.DiskSignature.ToString("x8"),
        _ => null,
    };
}
