using System.Text;
using Smc.Core.Ports;

namespace Smc.Alibaba;

/// <summary>
/// Alibaba Cloud's rules an export follows, kept here rather than in the export's sequence (Smc.Core's OssUploadSteps and EcsImportSteps ask
/// for them through <see cref="ICloudImages"/>): OSS multipart part sizes, ECS image names and architectures, and the
/// fix-it text for the cloud's refusals.
/// </summary>
public static class AlibabaRules
{
    /// <summary>OSS allows 10,000 parts of 100 KiB – 5 GiB; 8 MiB parts keep a retried part cheap and a disk ≤ 78 GiB in one part size.</summary>
    public const int MinPartSize = 8 << 20;

    public const int MaxParts = 10_000;

    /// <summary>OSS's largest part.</summary>
    public const long MaxPartSize = 5L << 30;

    /// <summary>
    /// Parts of at least <see cref="MinPartSize"/>, whole MiB, few enough for OSS's 10,000 (in <c>long</c>: a disk past
    /// 20 TiB needs parts past 2 GiB); null for a disk OSS can't hold in one object (past 10,000 × 5 GiB).
    /// </summary>
    public static long? PartSizeFor(long diskBytes)
    {
        long needed = (diskBytes + MaxParts - 1) / MaxParts;
        const long mib = 1 << 20;
        long size = Math.Max(MinPartSize, (needed + mib - 1) / mib * mib);
        return size <= MaxPartSize ? size : null;
    }

    /// <summary>An ECS image (or instance) name: 2–128 characters of [A-Za-z0-9.:_-], starting with a letter, not acs:/aliyun; the suffix kept whole.</summary>
    public static string ImageName(string name, string suffix)
    {
        var text = new StringBuilder();
        foreach (char c in name)
        {
            text.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or ':' or '_' or '-' ? c : '-');
        }

        string result = text.ToString();
        if (result.Length == 0 || !char.IsAsciiLetter(result[0]) || result.StartsWith("acs:", StringComparison.OrdinalIgnoreCase) || result.StartsWith("aliyun", StringComparison.OrdinalIgnoreCase))
        {
            result = "smc-" + result;
        }

        return (result.Length + suffix.Length > 128 ? result[..(128 - suffix.Length)] : result) + suffix;
    }

    /// <summary>ECS's architecture name for what an agent reported (uname -m style).</summary>
    public static string Architecture(string? architecture) => architecture?.ToLowerInvariant() switch
    {
        "aarch64" or "arm64" => "arm64",
        "i386" or "i686" or "x86" => "i386",
        _ => "x86_64",
    };

    /// <summary>The fix-it text for a refusal: what is wrong and what to change, with the cloud's own words and request id.</summary>
    public static string Explain(CloudRequestException e, string regionId, string bucket)
    {
        string cloudSaid = $" (Alibaba Cloud: {e.Code}: {e.Message}{(e.RequestId is null ? "" : $"; RequestId {e.RequestId}")})";
        string what = e.Code switch
        {
            "NotConfigured" => e.Message,
            "InvalidAccessKeyId" or "InvalidAccessKeyId.NotFound" or "InvalidAccessKeyId.Inactive" or "SignatureDoesNotMatch" or "IncompleteSignature" or "InvalidSecurityToken.Expired" =>
                "Alibaba Cloud refused the control plane's access key: check SMC_ALIBABA__ACCESSKEYID and SMC_ALIBABA__ACCESSKEYSECRET (and SMC_ALIBABA__SECURITYTOKEN for STS), then start the job again.",
            "Forbidden.RAM" or "AccessDenied" or "Forbidden" =>
                "The access key may not do this: grant its RAM user ECS image import (ImportImage, DescribeImages, DeleteImage) and OSS write on the bucket, then start the job again.",
            "NoSuchBucket" or "InvalidOSSBucket.NotFound" =>
                $"The OSS bucket '{bucket}' does not exist in region {regionId}: create it there, or set SMC_ALIBABA__OSSBUCKET to a bucket in {regionId} (ImportImage reads only buckets of the image's region), then start the job again.",
            "NoSetRoletoECSServiceAcount" =>
                "ECS is not authorized to read your OSS: create the RAM role AliyunECSImageImportDefaultRole with the policy AliyunECSImageImportRolePolicy (RAM console, or the one-click authorization of ECS image import), then start the job again. The disks stay in OSS, so only the import is retried.",
            "QuotaExceed.Image" =>
                $"The custom image quota of region {regionId} is used up: delete unused images there or ask for a higher quota (lowering maxNumberOfImageToKeep keeps fewer per job), then start the job again. The disks stay in OSS.",
            "InvalidImageName.Duplicated" =>
                "An image with this job's image name exists already in the region: delete it or PATCH a new imageName, then start the job again.",
            _ => "Alibaba Cloud refused the request: fix what it says, then start the job again.",
        };
        return e.Code == "NotConfigured" ? what : what + cloudSaid;
    }
}
