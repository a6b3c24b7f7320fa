using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Security;

namespace Smc.Core.Services;

/// <summary>
/// Request validation for replication jobs, pure (no I/O): a create request becomes a checked <see cref="ReplicationJob"/>
/// or a 400 with its code. The state rules (what each action allows when) are <see cref="ReplicationJobService"/>'s.
/// </summary>
internal static class JobRequests
{
    private static readonly JsonSerializerOptions HashJson = new(JsonSerializerDefaults.Web);

    /// <summary>The job a create request describes, every field checked (SMC's rules, then ours); throws 400/403 with a code.</summary>
    internal static ReplicationJob Build(CreateReplicationJobRequest r, string jobId, DateTimeOffset now, TimeSpan? minInterval = null)
    {
        if (string.IsNullOrWhiteSpace(r.SourceId))
        {
            throw SmcException.BadRequest(ErrorCodes.MissingParameter, "sourceId is required: the id (s-…) of a registered source server.");
        }

        if (!Ids.IsWellFormed(r.SourceId, Ids.SourcePrefix))
        {
            throw SmcException.NotFound(ErrorCodes.SourceNotFound, $"'{r.SourceId}' is not a source server id (s- followed by 16 characters).");
        }

        string name = Validate.Name(r.Name);
        string targetType = r.TargetType ?? TargetType.Image;
        if (targetType is not (TargetType.Image or TargetType.ContainerImage))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidTargetType, "targetType must be Image or ContainerImage.");
        }

        string provider = r.ImageProvider ?? ImageProvider.Local;
        if (provider is not (ImageProvider.Local or ImageProvider.Alibaba))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidImageProvider, "imageProvider must be local (the embedded default) or alibaba.");
        }

        if (provider == ImageProvider.Alibaba && targetType == TargetType.Image && string.IsNullOrWhiteSpace(r.RegionId))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidRegionId, "regionId is required for imageProvider alibaba, e.g. cn-hangzhou.");
        }

        if (r.RegionId is not null && (r.RegionId.Length > 64 || !r.RegionId.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidRegionId, "regionId must be a region id such as cn-hangzhou.");
        }

        if (r.ImageName is not null)
        {
            _ = Validate.Name(r.ImageName, ErrorCodes.InvalidImageName, "imageName");
        }

        CheckLaunch(r, provider, targetType);
        CheckRuntime(r, targetType);

        if (r.SystemDiskSize is { } gib && gib is < 1 or > 32768)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidSystemDiskSize, "systemDiskSize is in GiB and must be from 1 to 32768.");
        }

        if (r.SystemDiskParts is { } parts && (parts.Count > 128 || parts.Any(p => p.SizeBytes <= 0 || string.IsNullOrWhiteSpace(p.Device))))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidSystemDiskParts, "systemDiskParts: each needs a device and a sizeBytes greater than 0.");
        }

        if (r.DataDisks is { } disks && (disks.Count > 16 || disks.Any(d => d.Index < 1 || d.Size is < 1 or > 32768 || d.Parts.Any(p => p.SizeBytes <= 0 || string.IsNullOrWhiteSpace(p.Device)))
            || disks.Select(d => d.Index).Distinct().Count() != disks.Count))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidDataDisks, "dataDisks: at most 16, distinct index ≥ 1, size 1–32768 GiB, parts with a device and sizeBytes > 0.");
        }

        bool runOnce = r.RunOnce ?? true;
        if (!runOnce && r.SyncInterval is null)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidFrequency, "syncInterval is required when runOnce is false, e.g. PT1H.");
        }

        if (r.SyncInterval is not null)
        {
            if (runOnce)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidFrequency, "syncInterval applies to incremental jobs only: set runOnce to false or leave syncInterval out.");
            }

            _ = SyncInterval.Parse(r.SyncInterval, minInterval);
        }

        int keep = Validate.Range(r.MaxNumberOfImageToKeep, 1, 10, 1, ErrorCodes.InvalidMaxNumberOfImageToKeep, "maxNumberOfImageToKeep");
        if (r.ScheduledStartTime is { } at && (at < now.AddMinutes(-1) || at > now.AddDays(30)))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidScheduledStartTime, "scheduledStartTime must be in the next 30 days (ISO-8601 with a time zone, e.g. 2026-12-01T02:00:00Z).");
        }

        if (r.ValidTime is { } until)
        {
            if (runOnce)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidValidTime, "validTime applies to incremental jobs only: set runOnce to false or leave validTime out.");
            }

            // Sooner than one interval after the start would expire the job before its first incremental round.
            DateTimeOffset earliest = (r.ScheduledStartTime > now ? r.ScheduledStartTime.Value : now) + (minInterval ?? SyncInterval.Min);
            if (until < earliest || until > now.AddDays(90))
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidValidTime,
                    $"validTime must be at least one syncInterval floor ({(minInterval ?? SyncInterval.Min).TotalSeconds:0} s) after the start and at most 90 days from now (ISO-8601 with a time zone).");
            }
        }

        ReplicationParameters rp = r.ReplicationParameters ?? new ReplicationParameters();
        _ = BandwidthSchedule.Check(rp.BandwidthSchedule, ErrorCodes.InvalidReplicationParameters, "replicationParameters.bandwidthSchedule");
        if (rp.Threads is < 1 or > 64 || rp.BandwidthLimitKBps is < 0 or > 10_000_000 || rp.CompressLevel is < 0 or > 22)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidReplicationParameters, "replicationParameters: threads 1–64, bandwidthLimitKBps 0 (unlimited)–10000000, compressLevel 0 (off)–22.");
        }

        if (rp.FreezeWindowSeconds is < 1 or > 60 || rp.HookTimeoutSeconds is < 1 or > 3600 || rp.PreFreezeCommand?.Length > 4096 || rp.PostThawCommand?.Length > 4096
            || rp.PreFreezeCommand?.Contains('\0', StringComparison.Ordinal) == true || rp.PostThawCommand?.Contains('\0', StringComparison.Ordinal) == true)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidReplicationParameters, "replicationParameters: freezeWindowSeconds 1–60, hookTimeoutSeconds 1–3600, preFreezeCommand and postThawCommand at most 4096 characters.");
        }

        if (targetType == TargetType.ContainerImage
            && (string.IsNullOrWhiteSpace(r.ContainerNamespace) || string.IsNullOrWhiteSpace(r.ContainerRepository) || string.IsNullOrWhiteSpace(r.ContainerTag)))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidContainer, "targetType ContainerImage needs containerNamespace, containerRepository and containerTag.");
        }

        string? registry = null;
        if (r.ContainerRegistry is not null)
        {
            registry = RegistryHost.Normalize(r.ContainerRegistry, out string? registryError)
                ?? throw SmcException.BadRequest(ErrorCodes.InvalidContainerRegistry, $"containerRegistry: {registryError}, e.g. registry.cn-hangzhou.aliyuncs.com or 10.0.0.5:5000.");
        }

        if (r.ClientToken is not null && (r.ClientToken.Length is 0 or > 64 || !r.ClientToken.All(char.IsAsciiLetterOrDigit) && r.ClientToken.Any(c => c < 0x21 || c > 0x7e)))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidClientToken, "clientToken must be 1–64 printable ASCII characters.");
        }

        return new ReplicationJob
        {
            JobId = jobId,
            SourceId = r.SourceId,
            Name = name,
            Description = Validate.Description(r.Description),
            TargetType = targetType,
            ImageProvider = provider,
            RegionId = r.RegionId,
            ImageName = r.ImageName?.Trim(),
            TemplateId = r.TemplateId,
            Tags = Tags.Check(r.Tags) ?? [],
            WaveId = r.WaveId,
            SystemDiskSize = r.SystemDiskSize,
            SystemDiskParts = r.SystemDiskParts ?? [],
            DataDisks = r.DataDisks ?? [],
            RunOnce = runOnce,
            SyncInterval = r.SyncInterval,
            MaxNumberOfImageToKeep = keep,
            ScheduledStartTime = r.ScheduledStartTime,
            ValidTime = r.ValidTime,
            ReplicationParameters = rp,
            ContainerNamespace = r.ContainerNamespace,
            ContainerRepository = r.ContainerRepository,
            ContainerTag = r.ContainerTag,
            ContainerRegistry = registry,
            Entrypoint = r.Entrypoint ?? [],
            Cmd = r.Cmd ?? [],
            Env = r.Env ?? [],
            WorkingDir = r.WorkingDir,
            ExposedPorts = r.ExposedPorts ?? [],
            ExcludePaths = r.ExcludePaths ?? [],
            IncludePaths = r.IncludePaths ?? [],
            LaunchTemplateId = r.LaunchTemplateId,
            LaunchTemplateVersion = r.LaunchTemplateVersion,
            InstanceType = r.InstanceType,
            VSwitchId = r.VSwitchId,
            SecurityGroupId = r.SecurityGroupId,
            ClientToken = r.ClientToken,
            Status = JobStatus.Ready,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    /// <summary>ContainerImage only: entrypoint/cmd/env (at most 64 items of 4096 characters), working dir, ports (1–65535[/tcp|/udp]).</summary>
    private static void CheckRuntime(CreateReplicationJobRequest r, string targetType)
    {
        List<string>?[] lists = [r.Entrypoint, r.Cmd, r.Env, r.ExposedPorts, r.ExcludePaths, r.IncludePaths];
        if (lists.All(l => l is null) && r.WorkingDir is null)
        {
            return;
        }

        static bool PathOk(string p) =>
            p.StartsWith('/') && p.TrimEnd('/').Length > 0 && !p.Contains('\0', StringComparison.Ordinal)
            && p.Split('/', StringSplitOptions.RemoveEmptyEntries).All(part => part is not ("." or ".."));

        bool PortOk(string p)
        {
            string[] parts = p.Split('/');
            return parts.Length <= 2 && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 65535
                && (parts.Length == 1 || parts[1] is "tcp" or "udp");
        }

        if (targetType != TargetType.ContainerImage
            || lists.Any(l => l is not null && (l.Count > 64 || l.Any(x => string.IsNullOrEmpty(x) || x.Length > 4096)))
            || (r.Env?.Any(e => !e.Contains('=', StringComparison.Ordinal)) ?? false)
            || (r.ExposedPorts?.Any(p => !PortOk(p)) ?? false)
            || (r.WorkingDir is not null && (!r.WorkingDir.StartsWith('/') || r.WorkingDir.Length > 4096))
            || new[] { r.ExcludePaths, r.IncludePaths }.Any(l => l?.Any(p => !PathOk(p)) ?? false))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidContainer,
                "entrypoint, cmd, env (NAME=value), workingDir (absolute), exposedPorts (e.g. 8080 or 53/udp), excludePaths and includePaths (absolute, no '.' or '..' parts, not '/') apply to targetType ContainerImage; at most 64 items each.");
        }
    }

    /// <summary>A test launch (provider alibaba only): a launch template, or instance type + vSwitch + security group; ids as ECS writes them.</summary>
    private static void CheckLaunch(CreateReplicationJobRequest r, string provider, string targetType)
    {
        string?[] fields = [r.LaunchTemplateId, r.LaunchTemplateVersion, r.InstanceType, r.VSwitchId, r.SecurityGroupId];
        if (fields.All(f => f is null))
        {
            return;
        }

        const string Shape = "A test launch takes launchTemplateId (and optionally launchTemplateVersion), or instanceType, vSwitchId and securityGroupId, with imageProvider alibaba.";
        if (provider != ImageProvider.Alibaba || targetType != TargetType.Image
            || fields.Any(f => f is not null && (f.Length is 0 or > 128 || !f.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')))
            || (r.LaunchTemplateId is null && (r.LaunchTemplateVersion is not null || r.InstanceType is null || r.VSwitchId is null || r.SecurityGroupId is null)))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidLaunch, Shape);
        }
    }

    /// <summary>The request's fingerprint for clientToken replays (same token, same parameters).</summary>
    internal static string HashOf(CreateReplicationJobRequest r) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(r, HashJson))))[..32];

    /// <summary>A PATCH field that must be a string or null.</summary>
    internal static string? StringOf(JsonProperty p) =>
        p.Value.ValueKind switch
        {
            JsonValueKind.String => p.Value.GetString(),
            JsonValueKind.Null => null,
            _ => throw SmcException.BadRequest(ErrorCodes.MalformedJson, $"'{p.Name}' must be a string."),
        };
}
