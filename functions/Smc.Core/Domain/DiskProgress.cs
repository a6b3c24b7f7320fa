namespace Smc.Core.Domain;

public sealed class DiskProgress
{
    public int Index { get; init; }

    public long TotalBytes { get; set; }

    public long ScannedBytes { get; set; }

    public long UploadedBytes { get; set; }

    public long SkippedBytes { get; set; }
}
