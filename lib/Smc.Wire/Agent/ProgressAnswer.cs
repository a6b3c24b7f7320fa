namespace Smc.Wire.Agent;

/// <summary>
/// The answer to a progress report: what the running round must do now. <see cref="BandwidthLimitKBps"/> is the job's
/// upload limit at this moment (its schedule, its wave's, or its own; 0 = unlimited); the agent applies it at once, so
/// a PATCH or a schedule's edge reaches a running round within one report (2 s). Absent (an older control plane): keep
/// the round's limit.
/// </summary>
public sealed class ProgressAnswer
{
    public int? BandwidthLimitKBps { get; init; }
}
