using Microsoft.Extensions.Options;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Options;
using Smc.Core.Ports;
using Smc.Core.Security;
using Smc.Wire.Agent;
using Smc.Wire.Boot;
using Smc.Wire.Inventory;

namespace Smc.Core.Services;

/// <summary>Source servers: registration by activation code, heartbeats, liveness, and the operator's view.</summary>
public sealed class SourceServerService(
    IRecordStore<SourceServer> sources,
    IRecordStore<ReplicationJob> jobs,
    IKeyIndex keys,
    IStagingStore staging,
    AccessTokenService tokens,
    IMigrationEngine engine,
    CommandSignals signals,
    IOptions<ControlPlaneOptions> options,
    RecordView<SourceServer> view,
    TimeProvider clock)
{
    /// <summary>Longest hold of an idle agent's heartbeat, and how often a held heartbeat re-reads its source.</summary>
    private const int MaxHoldSeconds = 15, RecheckMilliseconds = 2000;

    public const string HeartbeatLostCode = ErrorCodes.HeartbeatLost;

    private readonly ControlPlaneOptions _options = options.Value;

    public async Task<RegisterResponse> RegisterAsync(string? activationCode, RegisterRequest request, CancellationToken cancellationToken = default)
    {
        CheckAgentInfo(request);
        AccessToken token = await tokens.RedeemAsync(activationCode, cancellationToken);
        try
        {
            DateTimeOffset now = clock.GetUtcNow();
            string id = Ids.New(Ids.SourcePrefix);
            Secret credential = Secret.New(id);
            var source = new SourceServer
            {
                SourceId = id,
                Name = Validate.Name(request.Name ?? request.SystemInfo.Hostname ?? id),
                State = SourceState.Available,
                AgentVersion = request.AgentVersion,
                Platform = request.OsName is null ? request.Platform : $"{request.Platform} ({request.OsName})",
                Architecture = request.Architecture,
                KernelLevel = request.KernelLevel,
                HeartbeatRate = _options.HeartbeatRateSeconds,
                LastHeartbeat = now,
                SystemInfo = request.SystemInfo,
                Disks = request.Disks,
                AccessTokenId = token.AccessTokenId,
                CreatedAt = now,
            };

            await keys.SetAsync(KeyScopes.AgentCredential, id, credential.Hash(), cancellationToken);
            await sources.InsertAsync(id, source, cancellationToken);
            return new RegisterResponse { SourceId = id, Credential = credential.Reveal(), HeartbeatRate = _options.HeartbeatRateSeconds };
        }
        catch
        {
            await tokens.RefundAsync(token.AccessTokenId, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Checks an agent's bearer credential; returns its source id.</summary>
    public async Task<string> AuthenticateAgentAsync(string? presented, CancellationToken cancellationToken = default)
    {
        Secret? credential = Secret.Parse(presented);
        if (credential is null || !Ids.IsWellFormed(credential.OwnerId, Ids.SourcePrefix)
            || !credential.Matches(await keys.GetAsync(KeyScopes.AgentCredential, credential.OwnerId, cancellationToken)))
        {
            throw SmcException.Unauthorized(ErrorCodes.AgentCredentialMissing, "Agent credential missing or not valid. Register the agent again with an activation code (smc-agent register).");
        }

        return credential.OwnerId;
    }

    public async Task<HeartbeatResponse> HeartbeatAsync(string sourceId, HeartbeatRequest request, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(request.AgentVersion) || request.AgentVersion.Length > 64)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidAgentInfo, "agentVersion is required (at most 64 characters).");
        }

        CheckInventory(request.Disks, request.SystemInfo);
        bool cameBack = false;
        Stored<SourceServer> stored = await sources.UpdateAsync(sourceId, s =>
        {
            if (s.State == SourceState.Deleting)
            {
                throw SmcException.Conflict(ErrorCodes.SourceStatusDenied, "This source server is being deleted; uninstall the agent (smc-agent uninstall).");
            }

            s.LastHeartbeat = clock.GetUtcNow();
            s.AgentVersion = request.AgentVersion;
            s.HeartbeatRate = _options.HeartbeatRateSeconds;
            if (request.SystemInfo is not null)
            {
                s.SystemInfo = request.SystemInfo;
            }

            if (request.Disks is not null)
            {
                s.Disks = request.Disks;
            }

            if (s.State == SourceState.Unavailable)
            {
                s.State = s.JobId is null ? SourceState.Available : SourceState.InUse;
                s.StatusInfo = new StatusInfo();
                cameBack = true;
            }

            return true;
        }, cancellationToken) ?? throw SmcException.Unauthorized(ErrorCodes.AgentCredentialMissing, "This source server no longer exists; register the agent again.");

        if (cameBack)
        {
            // Only a source that was Unavailable can unblock a waiting job; the job's own re-check timer covers the rest.
            await SignalWaitingJobAsync(sourceId, cancellationToken);
        }

        int hold = Math.Min(request.WaitSeconds ?? 0, Math.Min(_options.HeartbeatRateSeconds, MaxHoldSeconds));
        if (hold > 0 && stored.Value.PendingCommands.Count == 0 && stored.Value.State != SourceState.Unavailable)
        {
            stored = await HoldForCommandAsync(sourceId, stored, TimeSpan.FromSeconds(hold), cancellationToken);
        }

        return new HeartbeatResponse
        {
            SourceId = sourceId,
            State = stored.Value.State,
            HeartbeatRate = _options.HeartbeatRateSeconds,
            Commands = stored.Value.PendingCommands,
        };
    }

    /// <summary>
    /// An idle agent's long poll: until the source has a command (signalled in this process, or seen when re-read from
    /// storage every 2 s for commands given by another host) or the hold ends. The heartbeat itself was recorded before.
    /// </summary>
    private async Task<Stored<SourceServer>> HoldForCommandAsync(string sourceId, Stored<SourceServer> stored, TimeSpan hold, CancellationToken cancellationToken)
    {
        DateTimeOffset end = clock.GetUtcNow() + hold;
        while (stored.Value.PendingCommands.Count == 0)
        {
            TimeSpan left = end - clock.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            Task signalled = signals.NextAsync(sourceId);
            try
            {
                await signalled.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(RecheckMilliseconds, left.TotalMilliseconds)), clock, cancellationToken);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException)
            {
                break; // the agent hung up: answer with what there is
            }

            stored = await sources.GetAsync(sourceId, CancellationToken.None) ?? stored;
        }

        return stored;
    }

    /// <summary>
    /// Keeps an agent's pre-flight report on its source, in place of the one before. Every field is bounded (at most 64
    /// checks with known statuses, short texts, an in-use estimate no larger than the disks the source reported); the
    /// time is the control plane's own.
    /// </summary>
    public async Task<SourceServer> SavePreflightAsync(string sourceId, PreflightReport report, CancellationToken cancellationToken = default)
    {
        CheckPreflight(report);

        // A measured rate stands only if the probe's bytes are in storage: counted there, then the probe is deleted.
        long landed = await staging.DeleteProbeAsync(sourceId, cancellationToken);
        if (report.Estimate?.UploadBytesPerSecond is not null && landed < StagingProbe.DefaultBytes)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidPreflight, $"estimate.uploadBytesPerSecond was measured, but the staging probe holds {landed} of the {StagingProbe.DefaultBytes} bytes it needs: ask for a probe (POST /api/v1/agent/staging-probe) and upload to it first.");
        }

        Stored<SourceServer> stored = await sources.UpdateAsync(sourceId, s =>
        {
            long diskBytes = s.Disks.Sum(d => d.SizeBytes);
            if (report.Estimate is { } e && s.Disks.Count > 0 && e.InUseBytes > diskBytes)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidPreflight, $"estimate.inUseBytes ({e.InUseBytes}) is more than the {diskBytes} bytes of the disks this source reported.");
            }

            s.Preflight = new PreflightReport { Checks = report.Checks, Estimate = report.Estimate, CheckedAt = clock.GetUtcNow() };
            return true;
        }, cancellationToken) ?? throw SmcException.Unauthorized(ErrorCodes.AgentCredentialMissing, "This source server no longer exists; register the agent again.");
        return stored.Value;
    }

    /// <summary>A throughput probe for the source's pre-flight check: its own container, write-only, for 15 minutes.</summary>
    public async Task<StagingProbe> StagingProbeAsync(string sourceId, CancellationToken cancellationToken = default)
    {
        _ = await GetAsync(sourceId, cancellationToken);
        (Uri url, DateTimeOffset expires) = await staging.GetProbeUrlAsync(sourceId, TimeSpan.FromMinutes(15), cancellationToken);
        return new StagingProbe { ContainerUrl = url.ToString(), ExpiresAt = expires, Bytes = StagingProbe.DefaultBytes };
    }

    private static void CheckPreflight(PreflightReport report)
    {
        if (report.Checks is not { Count: > 0 and <= 64 } || report.Checks.Any(c => c is null
            || c.Id is null || !System.Text.RegularExpressions.Regex.IsMatch(c.Id, "^[a-z][a-z0-9._-]{0,63}$")
            || c.Status is not (BootCheck.Pass or BootCheck.Warn or BootCheck.Fail)
            || string.IsNullOrWhiteSpace(c.Message) || c.Message.Length > 2000 || c.Fix is { Length: > 2000 }))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidPreflight, "checks: 1 to 64, each with an id (a-z, 0-9, '.', '_', '-'; at most 64), a status of pass, warn or fail, a message and an optional fix of at most 2000 characters.");
        }

        if (report.Estimate is { } e && (e.InUseBytes < 0 || e.UploadBytesPerSecond is < 0 or > 1e12 || double.IsNaN(e.UploadBytesPerSecond ?? 0) || e.FullCopySeconds is < 0))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidPreflight, "estimate: inUseBytes, uploadBytesPerSecond and fullCopySeconds are not negative (a rate at most 1 TB/s).");
        }
    }

    public async Task<SourceServer> GetAsync(string sourceId, CancellationToken cancellationToken = default) =>
        (await sources.GetAsync(Check(sourceId), cancellationToken) ?? throw NotFound(sourceId)).Value;

    public async Task<Page<SourceServer>> ListAsync(string? state, string? name, PageRequest page, TagFilter? tags = null, CancellationToken cancellationToken = default) =>
        page.Apply(await FilterAsync(state, name, tags, cancellationToken));

    /// <summary>Every source the filters let through, newest first, from the host's view of the sources (what a page is cut from).</summary>
    public async Task<List<SourceServer>> FilterAsync(string? state, string? name, TagFilter? tags = null, CancellationToken cancellationToken = default)
    {
        if (state is not null && !SourceState.All.Contains(state))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidState, $"state must be one of {string.Join(", ", SourceState.All)}.");
        }

        var all = new List<SourceServer>();
        foreach (Stored<SourceServer> s in await view.ListAsync(cancellationToken))
        {
            if ((state is null || s.Value.State == state)
                && (name is null || s.Value.Name.Contains(name, StringComparison.OrdinalIgnoreCase))
                && (tags is null || tags.Matches(s.Value.Tags)))
            {
                all.Add(s.Value);
            }
        }

        return [.. all.OrderByDescending(s => s.CreatedAt).ThenBy(s => s.SourceId, StringComparer.Ordinal)];
    }

    public async Task<SourceServer> PatchAsync(string sourceId, PatchSourceServerRequest request, CancellationToken cancellationToken = default)
    {
        string? name = request.Name is null ? null : Validate.Name(request.Name);
        string? description = Validate.Description(request.Description);
        Dictionary<string, string>? tags = Tags.Check(request.Tags);
        Stored<SourceServer> stored = await sources.UpdateAsync(Check(sourceId), s =>
        {
            s.Name = name ?? s.Name;
            s.Description = description ?? s.Description;
            s.Tags = tags ?? s.Tags;
            return true;
        }, cancellationToken) ?? throw NotFound(sourceId);
        return stored.Value;
    }

    public async Task DeleteAsync(string sourceId, CancellationToken cancellationToken = default)
    {
        Check(sourceId);
        string? jobId = await keys.GetAsync(KeyScopes.SourceJob, sourceId, cancellationToken);
        if (jobId is not null && await jobs.GetAsync(jobId, cancellationToken) is not null)
        {
            throw SmcException.Conflict(ErrorCodes.SourceInUse, $"Source server '{sourceId}' has the unfinished job '{jobId}'. Delete or finish that job first.");
        }

        _ = await sources.UpdateAsync(sourceId, s =>
        {
            s.State = SourceState.Deleting;
            return true;
        }, cancellationToken) ?? throw NotFound(sourceId);

        // Credential first: from here on the agent can't act for this source any more.
        await keys.ReleaseAsync(KeyScopes.AgentCredential, sourceId, cancellationToken: cancellationToken);
        await staging.DeleteProbeAsync(sourceId, cancellationToken);
        await sources.DeleteAsync(sourceId, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Housekeeping: sources whose heartbeats stopped become <c>Unavailable</c>. Reads only the sources last heard from
    /// before the window (the store's due query on <see cref="SourceServer.DueAt"/>), not every source.
    /// </summary>
    public async Task<int> MarkSilentSourcesAsync(CancellationToken cancellationToken = default)
    {
        DateTimeOffset deadline = clock.GetUtcNow() - _options.UnavailableAfter;
        int changed = 0;
        await foreach (Stored<SourceServer> s in sources.ListDueAsync(deadline, cancellationToken))
        {
            if (s.Value.State is SourceState.Available or SourceState.InUse && s.Value.LastHeartbeat < deadline)
            {
                Stored<SourceServer>? updated = await sources.UpdateAsync(s.Id, x =>
                {
                    if (x.State is not (SourceState.Available or SourceState.InUse) || x.LastHeartbeat >= deadline)
                    {
                        return false;
                    }

                    x.State = SourceState.Unavailable;
                    x.StatusInfo = new StatusInfo
                    {
                        ErrorCode = HeartbeatLostCode,
                        ErrorMessage = $"No heartbeat since {x.LastHeartbeat:u}. Check that the agent runs on the source (systemctl status smc-agent) and can reach the control plane.",
                    };
                    return true;
                }, cancellationToken);
                changed += updated?.Value.State == SourceState.Unavailable ? 1 : 0;
            }
        }

        return changed;
    }

    /// <summary>Lets a job that waits for this source know it may be available now.</summary>
    private async Task SignalWaitingJobAsync(string sourceId, CancellationToken cancellationToken)
    {
        string? jobId = await keys.GetAsync(KeyScopes.SourceJob, sourceId, cancellationToken);
        if (jobId is null)
        {
            return;
        }

        Stored<ReplicationJob>? job = await jobs.GetAsync(jobId, cancellationToken);
        if (job?.Value is { Status: JobStatus.Running, BusinessStatus: BusinessStatus.Preparing })
        {
            await engine.RaiseEventAsync(jobId, MigrationEvents.SourceAvailable, sourceId, cancellationToken);
        }
    }

    private static void CheckAgentInfo(RegisterRequest r)
    {
        if (string.IsNullOrWhiteSpace(r.AgentVersion) || r.AgentVersion.Length > 64)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidAgentInfo, "agentVersion is required (at most 64 characters).");
        }

        if (r.Platform is not ("Linux" or "Windows"))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidPlatform, "platform must be Linux or Windows.");
        }

        if (string.IsNullOrWhiteSpace(r.Architecture) || r.Architecture.Length > 32)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidAgentInfo, "architecture is required, e.g. x86_64 or arm64.");
        }

        CheckInventory(r.Disks, r.SystemInfo);
    }

    /// <summary>What registration and every heartbeat may report: the same bounds for both (a heartbeat replaces the inventory).</summary>
    private static void CheckInventory(List<DiskInfo>? disks, SystemInfo? systemInfo)
    {
        if (disks is not null && (disks.Count > 64 || disks.Any(d => d is null || d.SizeBytes < 0 || string.IsNullOrEmpty(d.Device) || d.Device.Length > 256
            || d.Parts is null || d.Parts.Count > 256 || d.Parts.Any(p => p is null || p.SizeBytes < 0 || p.StartBytes < 0 || p.StartBytes > d.SizeBytes))))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidAgentInfo, "disks: at most 64 disks of 256 partitions each, each with its device, sizes not negative, partitions inside their disk.");
        }

        if (systemInfo is not null && (systemInfo.Hostname is { Length: > 256 } || systemInfo.Addresses is null || systemInfo.Addresses.Count > 64
            || systemInfo.Addresses.Any(a => a is null || a.Length > 64) || systemInfo.Cores < 0 || systemInfo.MemoryBytes < 0))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidAgentInfo, "systemInfo: a hostname of at most 256 characters, at most 64 addresses, counts not negative.");
        }
    }

    private static string Check(string id) => Ids.IsWellFormed(id, Ids.SourcePrefix) ? id : throw NotFound(id);

    private static SmcException NotFound(string id) =>
        SmcException.NotFound(ErrorCodes.SourceNotFound, $"No source server '{id}'. List them with GET /api/v1/source-servers.");
}
