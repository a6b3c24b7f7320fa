namespace Smc.Wire.Agent;

public sealed class DiskProgressReport
{
    public int Index { get; init; }

    public long TotalBytes { get; init; }

    public long ScannedBytes { get; init; }

    public long UploadedBytes { get; init; }

    public long SkippedBytes { get; init; }
}
