namespace Smc.Core.Ports;

/// <summary>An object in the cloud's object storage (Alibaba OSS): its region, bucket and key.</summary>
public sealed record CloudObject(string RegionId, string Bucket, string Key);

/// <summary>A part of a multipart upload the object storage has: number (1-based), ETag, size.</summary>
public sealed record CloudPart(int Number, string ETag, long Size);

/// <summary>A disk to import: its object, format (<c>RAW</c>) and size.</summary>
public sealed record CloudImportDisk(CloudObject Object, string Format, long SizeBytes);

/// <summary>What an image import needs; <see cref="Disks"/>[0] is the system disk.</summary>
public sealed record CloudImportRequest(
    string RegionId,
    string ImageName,
    IReadOnlyList<CloudImportDisk> Disks,
    string ClientToken,
    string OSType,
    string Platform,
    string Architecture,
    string BootMode,
    string? Description,
    IReadOnlyDictionary<string, string>? Tags = null);

/// <summary>A started import: the cloud image and its task.</summary>
public sealed record CloudImport(string ImageId, string TaskId);

/// <summary>A cloud image as the cloud shows it: <c>Creating</c> (with progress), <c>Available</c>, <c>CreateFailed</c>…</summary>
public sealed record CloudImageState(string ImageId, string Status, int ProgressPercent);

/// <summary>An import task: <c>Processing</c>, <c>Finished</c>, <c>Failed</c>…, with the failed operation's code and message.</summary>
public sealed record CloudTaskState(string TaskId, string Status, int ProgressPercent, string? ErrorCode, string? ErrorMessage);

/// <summary>A test launch: a launch template, or an instance type in a vSwitch with a security group.</summary>
public sealed record CloudLaunchRequest(
    string RegionId,
    string ImageId,
    string ClientToken,
    string? InstanceName,
    string? InstanceType,
    string? VSwitchId,
    string? SecurityGroupId,
    string? LaunchTemplateId,
    string? LaunchTemplateVersion);

/// <summary>
/// The cloud side of provider <c>alibaba</c>: multipart upload of assembled disks to object storage, image import,
/// polling, deletion. Calls retry what is worth retrying themselves (throttling, server errors where safe); what they
/// throw as <see cref="CloudRequestException"/> with <see cref="CloudRequestException.UserError"/> set needs the
/// operator (credentials, bucket, role, quota) and must not be retried.
/// </summary>
public interface ICloudImages
{
    /// <summary>Whether credentials and a bucket are configured; a job with provider <c>alibaba</c> needs them.</summary>
    bool IsConfigured { get; }

    /// <summary>The bucket disks are uploaded to.</summary>
    string Bucket { get; }

    /// <summary>The key prefix under which disks are uploaded (<c>{prefix}/{jobId}/r{round}/disk{i}.raw</c>).</summary>
    string KeyPrefix { get; }

    /// <summary>Seconds between two polls of an import.</summary>
    int PollSeconds { get; }

    /// <summary>Whether uploaded disk objects stay in the bucket after their image is Available.</summary>
    bool KeepObjects { get; }

    /// <summary>The part size of a disk's multipart upload (the provider's rules), or null when one object can't be that large.</summary>
    long? PartSizeFor(long diskBytes);

    /// <summary>A name the provider accepts for an image or instance, from a job's name and a suffix kept whole.</summary>
    string ImageName(string name, string suffix);

    /// <summary>The provider's name for an architecture an agent reported.</summary>
    string Architecture(string? architecture);

    /// <summary>What a refusal of the provider means and what to change, with its own words and request id.</summary>
    string Explain(CloudRequestException refusal, string regionId, string bucket);

    Task<string> StartUploadAsync(CloudObject target, CancellationToken cancellationToken = default);

    /// <summary>The parts numbered [<paramref name="firstPart"/>, <paramref name="lastPart"/>] the upload has (all pages).</summary>
    Task<IReadOnlyList<CloudPart>> ListPartsAsync(CloudObject target, string uploadId, int firstPart = 1, int lastPart = int.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>
    /// Uploads (or replaces) one part, the <paramref name="length"/> bytes of <paramref name="source"/> (seekable) at
    /// <paramref name="offset"/>, streamed: memory stays bounded whatever the part size. Returns its ETag.
    /// </summary>
    Task<string> UploadPartAsync(CloudObject target, string uploadId, int number, Stream source, long offset, long length, CancellationToken cancellationToken = default);

    Task CompleteUploadAsync(CloudObject target, string uploadId, IReadOnlyList<CloudPart> parts, CancellationToken cancellationToken = default);

    /// <summary>Aborts an upload (its parts are deleted); an upload already gone is not an error.</summary>
    Task AbortUploadAsync(CloudObject target, string uploadId, CancellationToken cancellationToken = default);

    /// <summary>The object's size, or null when there is no such object.</summary>
    Task<long?> GetObjectSizeAsync(CloudObject target, CancellationToken cancellationToken = default);

    Task DeleteObjectAsync(CloudObject target, CancellationToken cancellationToken = default);

    Task<CloudImport> ImportAsync(CloudImportRequest request, CancellationToken cancellationToken = default);

    /// <summary>The image in any status, or null when the region has none with that id.</summary>
    Task<CloudImageState?> GetImageAsync(string regionId, string imageId, CancellationToken cancellationToken = default);

    /// <summary>Deletes an image; one already gone is not an error.</summary>
    Task DeleteImageAsync(string regionId, string imageId, CancellationToken cancellationToken = default);

    /// <summary>The region ids the cloud offers (asked through <paramref name="regionId"/>'s endpoint).</summary>
    Task<IReadOnlyList<string>> ListRegionsAsync(string regionId, CancellationToken cancellationToken = default);

    Task<CloudTaskState> GetImportTaskAsync(string regionId, string taskId, CancellationToken cancellationToken = default);

    /// <summary>Cancels an import under way; one that ended already is not an error.</summary>
    Task CancelImportAsync(string regionId, string taskId, CancellationToken cancellationToken = default);

    /// <summary>Starts one instance from an image (the ClientToken makes a retried call the same instance); returns its id.</summary>
    Task<string> LaunchInstanceAsync(CloudLaunchRequest request, CancellationToken cancellationToken = default);
}

/// <summary>A cloud call that failed for good: the cloud's code and message, and whether the operator must fix something.</summary>
public sealed class CloudRequestException : Exception
{
    public CloudRequestException(string code, string message, bool userError, string? requestId = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        UserError = userError;
        RequestId = requestId;
    }

    public CloudRequestException()
        : this("Unknown", "The cloud call failed.", false)
    {
    }

    public CloudRequestException(string message)
        : this("Unknown", message, false)
    {
    }

    public CloudRequestException(string message, Exception inner)
        : this("Unknown", message, false, null, inner)
    {
    }

    public string Code { get; }

    public bool UserError { get; }

    public string? RequestId { get; }
}

/// <summary>No cloud account configured: <see cref="IsConfigured"/> is false and every call says what to set.</summary>
public sealed class UnconfiguredCloudImages : ICloudImages
{
    public bool IsConfigured => false;

    public string Bucket => "";

    public string KeyPrefix => "";

    public int PollSeconds => 15;

    public bool KeepObjects => false;

    public long? PartSizeFor(long diskBytes) => throw NotConfigured();

    public string ImageName(string name, string suffix) => throw NotConfigured();

    public string Architecture(string? architecture) => throw NotConfigured();

    public string Explain(CloudRequestException refusal, string regionId, string bucket) => refusal.Message;

    public Task<string> StartUploadAsync(CloudObject target, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task<IReadOnlyList<CloudPart>> ListPartsAsync(CloudObject target, string uploadId, int firstPart = 1, int lastPart = int.MaxValue, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task<string> UploadPartAsync(CloudObject target, string uploadId, int number, Stream source, long offset, long length, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task CompleteUploadAsync(CloudObject target, string uploadId, IReadOnlyList<CloudPart> parts, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task AbortUploadAsync(CloudObject target, string uploadId, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task<long?> GetObjectSizeAsync(CloudObject target, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task DeleteObjectAsync(CloudObject target, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task<CloudImport> ImportAsync(CloudImportRequest request, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task<CloudImageState?> GetImageAsync(string regionId, string imageId, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task DeleteImageAsync(string regionId, string imageId, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task<IReadOnlyList<string>> ListRegionsAsync(string regionId, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task<CloudTaskState> GetImportTaskAsync(string regionId, string taskId, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task CancelImportAsync(string regionId, string taskId, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task<string> LaunchInstanceAsync(CloudLaunchRequest request, CancellationToken cancellationToken = default) => throw NotConfigured();

    internal static CloudRequestException NotConfigured() => new(
        "NotConfigured",
        "No Alibaba Cloud account is configured: set SMC_ALIBABA__ACCESSKEYID, SMC_ALIBABA__ACCESSKEYSECRET and SMC_ALIBABA__OSSBUCKET on the control plane.",
        userError: true);
}
