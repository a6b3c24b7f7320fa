using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>The arithmetic and naming an export's steps share: parts of a disk, its OSS object, a refusal's code and text.</summary>
public static class CloudExports
{
    public static int PartCount(CloudExportDisk disk) => checked((int)((disk.SizeBytes + disk.PartSize - 1) / disk.PartSize));

    public static long PartLength(CloudExportDisk disk, int number) => Math.Min(disk.PartSize, disk.SizeBytes - ((number - 1) * disk.PartSize));

    public static CloudObject Target(CloudExport export, CloudExportDisk disk) => new(export.RegionId, disk.Bucket, disk.Key);

    /// <summary>The job-failure code of a cloud refusal (<c>Alibaba.</c> and the cloud's own code).</summary>
    public static string Code(CloudRequestException e) => ErrorCodes.AlibabaPrefix + e.Code;

    /// <summary>What the operator does about a refusal, in the job's region and the disk's bucket.</summary>
    public static string Explain(ICloudImages cloud, CloudRequestException e, ReplicationJob job, CloudExportDisk? disk) =>
        cloud.Explain(e, job.RegionId ?? "", disk?.Bucket ?? cloud.Bucket);
}
