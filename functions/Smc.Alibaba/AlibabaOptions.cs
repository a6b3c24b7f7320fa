namespace Smc.Alibaba;

/// <summary>Alibaba Cloud access (configuration section <c>SMC_ALIBABA__*</c>).</summary>
public sealed class AlibabaOptions
{
    public string AccessKeyId { get; set; } = "";

    /// <summary>Never logged; <see cref="ToString"/> leaves it out.</summary>
    public string AccessKeySecret { get; set; } = "";

    /// <summary>An STS security token, when the key pair is temporary.</summary>
    public string? SecurityToken { get; set; }

    /// <summary>ECS endpoint override (e.g. the emulator's <c>http://127.0.0.1:PORT</c>); null = the region's endpoint.</summary>
    public Uri? EcsEndpoint { get; set; }

    /// <summary>OSS endpoint override, path-style (the emulator); null = <c>{bucket}.oss-{region}.aliyuncs.com</c>.</summary>
    public Uri? OssEndpoint { get; set; }

    /// <summary>The VPC endpoint (<c>ecs-vpc.{region}</c>, <c>oss-{region}-internal</c>) instead of the public ones, from inside Alibaba's network.</summary>
    public bool UseVpcEndpoint { get; set; }

    /// <summary><c>V3</c> (ACS3-HMAC-SHA256, the default) or <c>RPC</c> (HMAC-SHA1, for old endpoints).</summary>
    public string Signature { get; set; } = "V3";

    /// <summary>Attempts per call, the first included, for errors that may be retried.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>First retry delay; doubled on each retry (with jitter), unless the service says when (<c>x-acs-retry-after</c>).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The OSS bucket disks are uploaded to; it must be in the job's region (ImportImage reads only that region's buckets).</summary>
    public string OssBucket { get; set; } = "";

    /// <summary>Key prefix of uploaded disks: <c>{prefix}/{jobId}/r{round}/disk{i}.raw</c>.</summary>
    public string OssPrefix { get; set; } = "smc-serverless";

    /// <summary>Keep the uploaded disk objects after their image is Available (default: delete them, they cost storage).</summary>
    public bool KeepOssObjects { get; set; }

    /// <summary>Seconds between two polls of an import (imports take minutes to hours).</summary>
    public int ImportPollSeconds { get; set; } = 15;

    /// <summary>Container Registry API endpoint override (the emulator); null = <c>https://cr.{region}.aliyuncs.com</c>.</summary>
    public Uri? CrEndpoint { get; set; }

    /// <summary>The Enterprise Edition instance (<c>cri-…</c>) whose registries (<c>{name}-registry.{region}.cr.aliyuncs.com</c>) get temporary logins.</summary>
    public string? AcrInstanceId { get; set; }

    /// <summary>
    /// ACR registries under other names (custom domains): <c>host=personal:{region}</c> or
    /// <c>host=enterprise:{region}:{instanceId}</c>, separated by <c>;</c>. ACR's own host names are recognised without it.
    /// </summary>
    public string AcrRegistries { get; set; } = "";

    /// <summary>An access key pair is set (enough for ACR logins; ECS export also needs the bucket).</summary>
    public bool HasKeys => !string.IsNullOrWhiteSpace(AccessKeyId) && !string.IsNullOrWhiteSpace(AccessKeySecret);

    /// <summary>Whether an account is configured at all (keys and bucket); without one, jobs with provider alibaba are refused.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(AccessKeyId) && !string.IsNullOrWhiteSpace(AccessKeySecret) && !string.IsNullOrWhiteSpace(OssBucket);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(AccessKeyId) || string.IsNullOrWhiteSpace(AccessKeySecret))
        {
            throw new InvalidOperationException("SMC_ALIBABA__ACCESSKEYID and SMC_ALIBABA__ACCESSKEYSECRET are required for imageProvider alibaba.");
        }

        if (Signature is not ("V3" or "RPC"))
        {
            throw new InvalidOperationException("SMC_ALIBABA__SIGNATURE must be V3 or RPC.");
        }

        if (ImportPollSeconds is < 1 or > 3600)
        {
            throw new InvalidOperationException("SMC_ALIBABA__IMPORTPOLLSECONDS must be 1–3600.");
        }

        if (MaxAttempts is < 1 or > 20)
        {
            throw new InvalidOperationException("SMC_ALIBABA__MAXATTEMPTS must be 1–20.");
        }
    }

    public override string ToString() => $"AccessKeyId={AccessKeyId}, Signature={Signature}, Endpoint={EcsEndpoint?.ToString() ?? "regional"}, OssBucket={OssBucket}";
}
