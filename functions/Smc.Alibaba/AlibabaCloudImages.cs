using Smc.Core.Ports;

namespace Smc.Alibaba;

/// <summary>
/// <see cref="ICloudImages"/> on Alibaba Cloud: OSS multipart upload (<see cref="OssClient"/>) and ECS image import
/// (<see cref="EcsImageApi"/>). The clients retry throttling and server errors themselves; what still fails leaves here
/// as <see cref="CloudRequestException"/>, a user error when the operator must fix something (never retried above).
/// </summary>
public sealed class AlibabaCloudImages(HttpClient http, AlibabaOptions options, TimeProvider clock) : ICloudImages
{
    private readonly EcsImageApi _ecs = new(new EcsClient(http, options, clock));

    public bool IsConfigured => options.IsConfigured;

    public string Bucket => options.OssBucket;

    public string KeyPrefix => options.OssPrefix;

    public int PollSeconds => options.ImportPollSeconds;

    public bool KeepObjects => options.KeepOssObjects;

    public long? PartSizeFor(long diskBytes) => AlibabaRules.PartSizeFor(diskBytes);

    public string ImageName(string name, string suffix) => AlibabaRules.ImageName(name, suffix);

    public string Architecture(string? architecture) => AlibabaRules.Architecture(architecture);

    public string Explain(CloudRequestException refusal, string regionId, string bucket) => AlibabaRules.Explain(refusal, regionId, bucket);

    public Task<string> StartUploadAsync(CloudObject target, CancellationToken cancellationToken = default) =>
        Call(() => Oss(target).InitiateAsync(target.Bucket, target.Key, cancellationToken));

    public Task<IReadOnlyList<CloudPart>> ListPartsAsync(CloudObject target, string uploadId, int firstPart = 1, int lastPart = int.MaxValue, CancellationToken cancellationToken = default) =>
        Call<IReadOnlyList<CloudPart>>(async () =>
            [.. (await Oss(target).ListPartsAsync(target.Bucket, target.Key, uploadId, firstPart, lastPart, cancellationToken)).Select(p => new CloudPart(p.Number, p.ETag, p.Size))]);

    public Task<string> UploadPartAsync(CloudObject target, string uploadId, int number, Stream source, long offset, long length, CancellationToken cancellationToken = default) =>
        Call(() => Oss(target).UploadPartAsync(target.Bucket, target.Key, uploadId, number, source, offset, length, cancellationToken));

    public Task CompleteUploadAsync(CloudObject target, string uploadId, IReadOnlyList<CloudPart> parts, CancellationToken cancellationToken = default) =>
        Call(async () =>
        {
            await Oss(target).CompleteAsync(target.Bucket, target.Key, uploadId, parts.Select(p => new OssPart(p.Number, p.ETag, p.Size)), cancellationToken);
            return true;
        });

    public Task AbortUploadAsync(CloudObject target, string uploadId, CancellationToken cancellationToken = default) =>
        Call(async () =>
        {
            try
            {
                await Oss(target).AbortAsync(target.Bucket, target.Key, uploadId, cancellationToken);
            }
            catch (AlibabaException e) when (e.Code == "NoSuchUpload")
            {
                // Gone already (completed, aborted, or expired by a lifecycle rule): nothing half-made is left.
            }

            return true;
        });

    public Task<long?> GetObjectSizeAsync(CloudObject target, CancellationToken cancellationToken = default) =>
        Call(() => Oss(target).GetObjectSizeAsync(target.Bucket, target.Key, cancellationToken));

    public Task DeleteObjectAsync(CloudObject target, CancellationToken cancellationToken = default) =>
        Call(async () =>
        {
            await Oss(target).DeleteObjectAsync(target.Bucket, target.Key, cancellationToken);
            return true;
        });

    public Task<CloudImport> ImportAsync(CloudImportRequest request, CancellationToken cancellationToken = default) =>
        Call(async () =>
        {
            ImportedImage started = await _ecs.ImportAsync(new ImportImageRequest(
                request.RegionId,
                request.ImageName,
                [.. request.Disks.Select(d => new ImportDisk(d.Object.Bucket, d.Object.Key, d.Format, (int)((d.SizeBytes + (1L << 30) - 1) >> 30)))],
                request.ClientToken,
                request.OSType,
                request.Platform,
                request.Architecture,
                request.BootMode,
                request.Description,
                request.Tags), cancellationToken);
            return new CloudImport(started.ImageId, started.TaskId);
        });

    public Task<CloudImageState?> GetImageAsync(string regionId, string imageId, CancellationToken cancellationToken = default) =>
        Call(() => _ecs.GetAsync(regionId, imageId, cancellationToken));

    public Task DeleteImageAsync(string regionId, string imageId, CancellationToken cancellationToken = default) =>
        Call(async () =>
        {
            try
            {
                await _ecs.DeleteAsync(regionId, imageId, cancellationToken);
            }
            catch (AlibabaException e) when (e.Code == "InvalidImageId.NotFound")
            {
                // Deleted already (by a previous attempt, or by hand).
            }

            return true;
        });

    public Task<IReadOnlyList<string>> ListRegionsAsync(string regionId, CancellationToken cancellationToken = default) =>
        Call<IReadOnlyList<string>>(async () => await _ecs.ListRegionsAsync(regionId, cancellationToken));

    public Task<CloudTaskState> GetImportTaskAsync(string regionId, string taskId, CancellationToken cancellationToken = default) =>
        Call(() => _ecs.GetTaskAsync(regionId, taskId, cancellationToken));

    public Task CancelImportAsync(string regionId, string taskId, CancellationToken cancellationToken = default) =>
        Call(async () =>
        {
            try
            {
                await _ecs.CancelImportAsync(regionId, taskId, cancellationToken);
            }
            catch (AlibabaException e) when (e.Code is "InvalidTaskId.NotFound" or "InvalidTaskStatus" or "IncorrectTaskStatus")
            {
                // Ended or gone already.
            }

            return true;
        });

    public Task<string> LaunchInstanceAsync(CloudLaunchRequest request, CancellationToken cancellationToken = default) =>
        Call(() => _ecs.RunInstanceAsync(request, cancellationToken));

    private OssClient Oss(CloudObject target) => new(http, options, target.RegionId, clock);

    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (AlibabaException e)
        {
            throw new CloudRequestException(e.Code, e.Message, e.Kind == AlibabaErrorKind.UserError, e.RequestId, e);
        }
    }
}
