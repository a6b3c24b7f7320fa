namespace Smc.Core.Domain;

/// <summary>Replication job statuses, as SMC names them (docs/api.md, "States").</summary>
public static class JobStatus
{
    public const string Ready = "Ready";
    public const string Running = "Running";
    public const string Stopped = "Stopped";
    public const string InError = "InError";
    public const string Finished = "Finished";
    public const string Waiting = "Waiting";
    public const string Expired = "Expired";
    public const string Deleting = "Deleting";

    public static readonly IReadOnlyList<string> All = [Ready, Running, Stopped, InError, Finished, Waiting, Expired, Deleting];

    /// <summary>Statuses in which a job still counts as the source's one unfinished job.</summary>
    public static bool IsUnfinished(string status) => status is Ready or Running or Stopped or InError or Waiting;
}
