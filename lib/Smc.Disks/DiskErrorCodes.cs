namespace Smc.Disks;

/// <summary>The stable values of <see cref="DiskFormatException.Code"/>.</summary>
public static class DiskErrorCodes
{
    /// <summary>The MBR (or an EBR of its extended partition) is malformed: bad status byte, a partition at LBA 0, an EBR chain that loops, is too long or leaves the extended partition.</summary>
    public const string InvalidMbr = "InvalidPartitionTable.Mbr";

    /// <summary>A protective MBR announces GPT but neither the primary nor the backup GPT header (with its entry array) is valid.</summary>
    public const string InvalidGpt = "InvalidPartitionTable.Gpt";

    /// <summary>The disk or image is shorter than its partition table says (or shorter than one sector).</summary>
    public const string Truncated = "DiskRead.Truncated";

    /// <summary>The disk or image could not be opened or read.</summary>
    public const string Io = "DiskRead.Io";

    /// <summary>A destination layout would make a partition smaller than on the source (shrinking is not supported yet).</summary>
    public const string LayoutShrink = "InvalidLayout.Shrink";

    /// <summary>The destination disk is smaller than the planned layout needs.</summary>
    public const string LayoutDiskTooSmall = "InvalidLayout.DiskTooSmall";

    /// <summary>The source layout cannot be planned yet: MBR extended/logical partitions, or an MBR partition beyond 2^32 sectors.</summary>
    public const string LayoutUnsupported = "InvalidLayout.Unsupported";

    /// <summary>A file system structure is corrupt: from <see cref="ExtFileSystem"/>; never from <see cref="DiskInspector"/> (the partition is then reported without a file system).</summary>
    public const string CorruptFileSystem = "FileSystem.Corrupt";
}
