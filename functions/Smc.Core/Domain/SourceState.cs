namespace Smc.Core.Domain;

/// <summary>Source server states (docs/api.md, "States").</summary>
public static class SourceState
{
    /// <summary>The agent heartbeats and no job holds the source.</summary>
    public const string Available = "Available";

    /// <summary>A job holds the source (it is being copied).</summary>
    public const string InUse = "InUse";

    /// <summary>The agent stopped heartbeating.</summary>
    public const string Unavailable = "Unavailable";

    public const string Deleting = "Deleting";

    public static readonly IReadOnlyList<string> All = [Available, InUse, Unavailable, Deleting];
}
