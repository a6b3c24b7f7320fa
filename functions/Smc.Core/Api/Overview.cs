namespace Smc.Core.Api;

/// <summary><c>GET /api/v1/overview</c>: the fleet at a glance.</summary>
public sealed class Overview
{
    public int TotalJobs { get; init; }

    /// <summary>Jobs per status (every status listed, zero included).</summary>
    public required Dictionary<string, int> JobsByStatus { get; init; }

    /// <summary>Running jobs per stage (Preparing, Syncing, Processing, Cleaning).</summary>
    public required Dictionary<string, int> JobsByBusinessStatus { get; init; }

    public int TotalSources { get; init; }

    public required Dictionary<string, int> SourcesByState { get; init; }

    /// <summary>Bytes uploaded by every round of every job (stored size), the running rounds' uploads so far included.</summary>
    public long BytesMoved { get; init; }

    /// <summary>Sum of the running rounds' upload throughput, bytes per second.</summary>
    public double Throughput { get; init; }

    /// <summary>
    /// Spare job key pairs made ahead (SMC_SECURITY__JOBKEYSPARES): that many new jobs start without waiting ~0.8 s of
    /// a core each for their RSA-3072 pair.
    /// </summary>
    public int JobKeySpares { get; init; }

    /// <summary>Jobs in error, with the code and the message that says what to do.</summary>
    public required List<OverviewJob> Errors { get; init; }

    /// <summary>Jobs whose newest tested image failed its boot test (a warning: the job went on), with what the console showed.</summary>
    public required List<OverviewJob> BootWarnings { get; init; }

    /// <summary>Unfinished incremental jobs with their lag (age of the newest image), ETA, round and next round.</summary>
    public required List<OverviewJob> Incremental { get; init; }
}
