namespace Smc.Core.Domain;

/// <summary>
/// A round's image exported to the cloud (provider <c>alibaba</c>): its disks uploaded to OSS, then imported as an ECS
/// image. Kept on the run, so an interrupted export resumes (the multipart uploadIds) and retention finds its image.
/// </summary>
public sealed class CloudExport
{
    public string RegionId { get; init; } = "";

    /// <summary><c>Uploading → Importing → Available</c>, or <c>Failed</c>; <c>Deleted</c> once retention removed the image.</summary>
    public string Status { get; set; } = CloudExportStatus.Uploading;

    public List<CloudExportDisk> Disks { get; set; } = [];

    /// <summary>The ECS image (<c>m-…</c> in the region), once the import started.</summary>
    public string? ImageId { get; set; }

    public string? TaskId { get; set; }

    /// <summary>The import's progress as ECS reports it (percent).</summary>
    public int ImportProgress { get; set; }

    /// <summary>Counts imports of this round: each attempt has its own ClientToken, a retried call the same one.</summary>
    public int ImportAttempt { get; set; }

    public DateTimeOffset? AvailableAt { get; set; }
}

public sealed class CloudExportDisk
{
    public int Index { get; init; }

    public string Bucket { get; init; } = "";

    public string Key { get; init; } = "";

    public long SizeBytes { get; init; }

    public long PartSize { get; init; }

    /// <summary>The multipart upload under way (null before it starts and once it completed or was aborted).</summary>
    public string? UploadId { get; set; }

    public bool Uploaded { get; set; }

    /// <summary>Bytes of the disk OSS has (parts uploaded or found already there).</summary>
    public long UploadedBytes { get; set; }
}

public static class CloudExportStatus
{
    public const string Uploading = "Uploading";
    public const string Importing = "Importing";
    public const string Available = "Available";
    public const string Failed = "Failed";
    public const string Deleted = "Deleted";
}
