namespace Smc.Disks;

/// <summary>The kind of partition table on a disk.</summary>
public enum PartitionTableKind
{
    /// <summary>No partition table: a whole-disk file system, or nothing recognised.</summary>
    None,

    /// <summary>An MBR (DOS) table, with logical partitions from the EBR chain of an extended partition.</summary>
    Mbr,

    /// <summary>A GUID partition table behind a protective MBR.</summary>
    Gpt,
}
