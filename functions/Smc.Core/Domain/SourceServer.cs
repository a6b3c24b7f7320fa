using Smc.Wire.Agent;
using Smc.Wire.Inventory;

namespace Smc.Core.Domain;

/// <summary>A registered source server (docs/api.md). Its agent credential is kept apart, as a hash.</summary>
public sealed class SourceServer : Ports.IDueRecord
{
    public required string SourceId { get; init; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>Tags (<see cref="Domain.Tags"/>): filterable; carried, under its jobs' own, to the images made from it.</summary>
    public Dictionary<string, string> Tags { get; set; } = [];

    public string State { get; set; } = SourceState.Available;

    public string? AgentVersion { get; set; }

    /// <summary>Operating system family and distribution, e.g. <c>Linux</c> / <c>Debian GNU/Linux 12</c>.</summary>
    public string? Platform { get; set; }

    public string? Architecture { get; set; }

    public string? KernelLevel { get; set; }

    /// <summary>Seconds between agent heartbeats.</summary>
    public int HeartbeatRate { get; set; }

    public DateTimeOffset? LastHeartbeat { get; set; }

    /// <summary>
    /// The last heartbeat while heartbeats are expected (<c>Available</c> or <c>InUse</c>), kept beside the record
    /// (<see cref="Ports.IDueRecord"/>) so the sweep for silent sources reads only those heard from longer ago than its
    /// window, not every source at every sweep. Not part of the source's JSON.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset? DueAt => State is SourceState.Available or SourceState.InUse ? LastHeartbeat : null;

    public SystemInfo? SystemInfo { get; set; }

    public List<DiskInfo> Disks { get; set; } = [];

    public StatusInfo StatusInfo { get; set; } = new();

    /// <summary>The job that holds this source (state <c>InUse</c>), if any.</summary>
    public string? JobId { get; set; }

    /// <summary>Commands waiting for the agent (delivered with each heartbeat answer until done or withdrawn).</summary>
    public List<AgentCommand> PendingCommands { get; set; } = [];

    public string? AccessTokenId { get; init; }

    /// <summary>The agent's last pre-flight report (<c>smc-agent check</c>): will this source boot on the target, and the full copy's estimate.</summary>
    public Smc.Wire.Boot.PreflightReport? Preflight { get; set; }

    /// <summary>
    /// Gives the source back from <paramref name="jobId"/>: withdraws its commands and, if the job held the source,
    /// clears the hold (<c>InUse</c> → <c>Available</c>). Returns whether anything changed.
    /// </summary>
    public bool ReleaseFrom(string jobId)
    {
        bool withdrawn = PendingCommands.RemoveAll(c => c.JobId == jobId) > 0;
        if (JobId != jobId)
        {
            return withdrawn;
        }

        JobId = null;
        if (State == SourceState.InUse)
        {
            State = SourceState.Available;
        }

        return true;
    }

    public DateTimeOffset CreatedAt { get; init; }
}
