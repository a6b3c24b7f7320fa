namespace Smc.Core.Options;

/// <summary>Tunables of the control plane's rules (configuration section <c>SMC_CONTROL__*</c>).</summary>
public sealed class ControlPlaneOptions
{
    /// <summary>Seconds between agent heartbeats, handed to agents at registration and on each heartbeat.</summary>
    public int HeartbeatRateSeconds { get; set; } = 30;

    /// <summary>
    /// A source whose last heartbeat is older than this many heartbeat intervals becomes <c>Unavailable</c>.
    /// With housekeeping every quarter interval, the change lands within 3 × heartbeatRate (product contract).
    /// </summary>
    public double UnavailableAfterHeartbeats { get; set; } = 2.5;

    /// <summary>How often a job waiting for its source re-checks without being signalled.</summary>
    public int SourceRecheckSeconds { get; set; } = 60;

    /// <summary>A syncing job whose agent has been silent this long fails (InError), keeping what was uploaded.</summary>
    public int SyncLostAfterSeconds { get; set; } = 600;

    /// <summary>
    /// The shortest <c>syncInterval</c> accepted, in seconds (<c>SMC_CONTROL__MINSYNCINTERVALSECONDS</c>). The product's
    /// floor is 300 (PT5M); tests and demos lower it to run incremental rounds seconds apart.
    /// </summary>
    public int MinSyncIntervalSeconds { get; set; } = 300;

    public void Validate()
    {
        if (HeartbeatRateSeconds is < 1 or > 3600)
        {
            throw new InvalidOperationException("SMC_CONTROL__HEARTBEATRATESECONDS must be 1–3600.");
        }

        if (UnavailableAfterHeartbeats is < 1.5 or > 10)
        {
            throw new InvalidOperationException("SMC_CONTROL__UNAVAILABLEAFTERHEARTBEATS must be 1.5–10.");
        }

        if (SourceRecheckSeconds is < 1 or > 3600)
        {
            throw new InvalidOperationException("SMC_CONTROL__SOURCERECHECKSECONDS must be 1–3600.");
        }
    }

    public TimeSpan UnavailableAfter => TimeSpan.FromSeconds(HeartbeatRateSeconds * UnavailableAfterHeartbeats);

    /// <summary>Housekeeping period: a quarter heartbeat interval (0.5 s – 30 s), so 2.5 + 0.25 intervals stay under 3.</summary>
    public TimeSpan HousekeepingPeriod => TimeSpan.FromSeconds(Math.Clamp(HeartbeatRateSeconds / 4.0, 0.5, 30));
}
