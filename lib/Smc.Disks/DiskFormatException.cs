namespace Smc.Disks;

/// <summary>
/// A disk or image could not be read, or its partition table is corrupt or truncated.
/// <see cref="Code"/> is one of the <see cref="DiskErrorCodes"/> constants.
/// </summary>
public sealed class DiskFormatException : Exception
{
    public DiskFormatException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    public DiskFormatException(string code, string message, Exception? innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>A stable machine-readable code, e.g. <c>InvalidPartitionTable.Gpt</c>.</summary>
    public string Code { get; }
}
